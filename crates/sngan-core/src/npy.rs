//! numpy's `.npy` and `.npz` formats (numpy `lib/format.py`, `np.savez_compressed`): one array
//! type for every reader and writer of the workspace (samples, reference statistics, features,
//! BSSN's ImageNet `.npy` files). The header dict is parsed by a small linear-time reader
//! rather than `npyz`, whose parser allocates the declared header length (up to 4 GB) and
//! backtracks exponentially on nested braces (both found by `cargo fuzz`, target `npy`).
//! Writes are byte-identical to `np.save` and atomic.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::error::{CoreError, Result, format_error, io, show};
use crate::fs::AtomicFile;

/// The three fields of a `.npy` header dict.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A cursor over the header text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Option<String> {
        self.ws();
        let quote = *self.s.get(self.i)?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let start = self.i + 1;
        let len = self.s[start..].iter().position(|&c| c == quote)?;
        self.i = start + len + 1;
        String::from_utf8(self.s[start..start + len].to_vec()).ok()
    }

    fn word(&mut self) -> &[u8] {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn tuple(&mut self) -> Option<Vec<u64>> {
        if !self.eat(b'(') {
            return None;
        }
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Some(dims);
            }
            let w = self.word();
            dims.push(std::str::from_utf8(w).ok()?.parse().ok()?);
            if !self.eat(b',') {
                return self.eat(b')').then_some(dims);
            }
        }
    }
}

/// Parses `{'descr': .., 'fortran_order': .., 'shape': (..), }` in any key order.
fn parse_header(text: &[u8]) -> Option<Header> {
    let mut c = Cursor { s: text, i: 0 };
    if !c.eat(b'{') {
        return None;
    }
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        if c.eat(b'}') {
            break;
        }
        let key = c.string()?;
        if !c.eat(b':') {
            return None;
        }
        match key.as_str() {
            "descr" => descr = Some(c.string()?),
            "fortran_order" => {
                fortran = Some(match c.word() {
                    b"True" => true,
                    b"False" => false,
                    _ => return None,
                })
            }
            "shape" => shape = Some(c.tuple()?),
            _ => return None,
        }
        if !c.eat(b',') {
            if !c.eat(b'}') {
                return None;
            }
            break;
        }
    }
    c.ws();
    (c.i == text.len()).then_some(())?;
    Some(Header {
        descr: descr?,
        fortran_order: fortran?,
        shape: shape?,
    })
}

/// An element type numpy writes: kind, byte order and size, from a `descr` such as `<f8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dtype {
    kind: u8,
    big_endian: bool,
    size: usize,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        let (order, rest) = match descr.as_bytes().first()? {
            b @ (b'<' | b'>' | b'|' | b'=') => (*b, &descr[1..]),
            _ => (b'|', descr),
        };
        let kind = *rest.as_bytes().first()?;
        let n: usize = rest[1..].parse().ok()?;
        let size = if kind == b'U' { n.checked_mul(4)? } else { n };
        matches!(kind, b'u' | b'i' | b'f' | b'U' | b'S').then_some(Self {
            kind,
            big_endian: order == b'>',
            size,
        })
    }
}

/// One array as stored: `descr` (numpy's dtype string), shape, and the raw element bytes in C
/// order (a Fortran-order file is reordered on reading).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Array {
    /// numpy's dtype string, e.g. `|u1`, `<f8`, `<U12`.
    pub descr: String,
    /// Dimensions (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Element bytes, row-major.
    pub data: Vec<u8>,
}

impl Array {
    /// A `uint8` array (`|u1`).
    ///
    /// # Panics
    /// If `data` does not hold `shape`'s product of bytes (a caller bug).
    pub fn from_u8(shape: &[usize], data: Vec<u8>) -> Self {
        assert_eq!(
            data.len(),
            shape.iter().product::<usize>(),
            "one byte per element"
        );
        Self {
            descr: "|u1".into(),
            shape: shape.to_vec(),
            data,
        }
    }

    /// A little-endian `float64` array.
    pub fn from_f64(shape: &[usize], values: &[f64]) -> Self {
        assert_eq!(
            values.len(),
            shape.iter().product::<usize>(),
            "one value per element"
        );
        Self {
            descr: "<f8".into(),
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A little-endian `float32` array.
    pub fn from_f32(shape: &[usize], values: &[f32]) -> Self {
        assert_eq!(
            values.len(),
            shape.iter().product::<usize>(),
            "one value per element"
        );
        Self {
            descr: "<f4".into(),
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A little-endian `int64` array.
    pub fn from_i64(shape: &[usize], values: &[i64]) -> Self {
        assert_eq!(
            values.len(),
            shape.iter().product::<usize>(),
            "one value per element"
        );
        Self {
            descr: "<i8".into(),
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A 0-d unicode string (`<U<n>`), what `np.savez(name="text")` writes.
    pub fn from_text(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let width = chars.len().max(1);
        let mut data: Vec<u8> = chars
            .iter()
            .flat_map(|&c| (c as u32).to_le_bytes())
            .collect();
        data.resize(4 * width, 0);
        Self {
            descr: format!("<U{width}"),
            shape: Vec::new(),
            data,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn dtype(&self) -> Option<Dtype> {
        Dtype::parse(&self.descr)
    }

    /// The elements as bytes, for a `uint8` array; `name` labels the error.
    pub fn to_u8(&self, name: &str) -> Result<&[u8]> {
        match self.dtype() {
            Some(Dtype {
                kind: b'u',
                size: 1,
                ..
            }) => Ok(&self.data),
            _ => Err(format_error(
                name,
                "a uint8 array",
                format!("dtype '{}'", self.descr),
            )),
        }
    }

    /// The elements as `N`-byte little-endian words (byte-swapped from a big-endian file).
    fn le_words<const N: usize>(&self, big_endian: bool) -> impl Iterator<Item = [u8; N]> + '_ {
        self.data.chunks_exact(N).map(move |b| {
            let mut w: [u8; N] = b.try_into().expect("N-byte chunks");
            if big_endian {
                w.reverse();
            }
            w
        })
    }

    /// The elements as `f64`, for a `float32` or `float64` array; `name` labels the error.
    pub fn to_f64(&self, name: &str) -> Result<Vec<f64>> {
        match self.dtype() {
            Some(d) if (d.kind, d.size) == (b'f', 8) => Ok(self
                .le_words(d.big_endian)
                .map(f64::from_le_bytes)
                .collect()),
            Some(d) if (d.kind, d.size) == (b'f', 4) => Ok(self
                .le_words(d.big_endian)
                .map(|w| f64::from(f32::from_le_bytes(w)))
                .collect()),
            _ => Err(format_error(
                name,
                "a float64 or float32 array",
                format!("dtype '{}'", self.descr),
            )),
        }
    }

    /// The elements as `i64`, for an integer array of any width (unsigned values above
    /// `i64::MAX` are an error); `name` labels the error.
    pub fn to_i64(&self, name: &str) -> Result<Vec<i64>> {
        let bad = || {
            format_error(
                name,
                "an integer array that fits int64",
                format!("dtype '{}'", self.descr),
            )
        };
        let d = self.dtype().filter(|d| matches!(d.kind, b'i' | b'u'));
        let d = d
            .filter(|d| matches!(d.size, 1 | 2 | 4 | 8))
            .ok_or_else(bad)?;
        self.data
            .chunks_exact(d.size)
            .map(|b| {
                let mut wide = [0u8; 8];
                let negative =
                    d.kind == b'i' && (if d.big_endian { b[0] } else { b[d.size - 1] }) & 0x80 != 0;
                if negative {
                    wide = [0xFF; 8];
                }
                for (k, &byte) in b.iter().enumerate() {
                    let pos = if d.big_endian { d.size - 1 - k } else { k };
                    wide[pos] = byte;
                }
                let v = u64::from_le_bytes(wide);
                match d.kind {
                    b'u' => i64::try_from(v).map_err(|_| bad()),
                    _ => Ok(v as i64),
                }
            })
            .collect()
    }

    /// The first element of a unicode (`<U`) or byte-string (`|S`) array, trailing NULs removed;
    /// `None` for another dtype or an empty array.
    pub fn to_text(&self) -> Option<String> {
        let d = self.dtype()?;
        let first = self.data.get(..d.size)?;
        let text = match d.kind {
            b'U' => first
                .chunks_exact(4)
                .map(|b| {
                    let mut w: [u8; 4] = b.try_into().expect("4-byte chunks");
                    if d.big_endian {
                        w.reverse();
                    }
                    char::from_u32(u32::from_le_bytes(w))
                })
                .collect::<Option<String>>()?,
            b'S' => String::from_utf8(first.to_vec()).ok()?,
            _ => return None,
        };
        Some(text.trim_end_matches('\0').to_string())
    }

    /// Parses a `.npy` file's bytes; `name` labels errors.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Self> {
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            let head = &bytes[..bytes.len().min(6)];
            return Err(format_error(
                name,
                "a .npy file (magic \\x93NUMPY)",
                format!("{} bytes starting {head:02x?}", bytes.len()),
            ));
        }
        let (text_start, header_len) = match bytes[6] {
            1 => (10, 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
            2 | 3 if bytes.len() >= 12 => (
                12,
                12 + u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            ),
            v => {
                return Err(format_error(
                    name,
                    "npy format version 1, 2 or 3",
                    format!("version {v}"),
                ));
            }
        };
        if header_len > bytes.len() {
            return Err(CoreError::Truncated {
                path: name.into(),
                expected: format!("a {header_len}-byte npy header"),
                found: format!("{} bytes in all", bytes.len()),
            });
        }
        let text = &bytes[text_start..header_len];
        let header = parse_header(text).ok_or_else(|| {
            let shown = String::from_utf8_lossy(&text[..text.len().min(120)])
                .trim_end()
                .to_string();
            format_error(
                name,
                "an npy header dict with 'descr', 'fortran_order' and 'shape'",
                format!("'{shown}'"),
            )
        })?;
        let dtype = Dtype::parse(&header.descr).ok_or_else(|| {
            format_error(
                name,
                "a numeric or string npy dtype",
                format!("'{}'", header.descr),
            )
        })?;
        let shape: Option<Vec<usize>> = header
            .shape
            .iter()
            .map(|&d| usize::try_from(d).ok())
            .collect();
        let n = shape
            .as_ref()
            .and_then(|s| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d)))
            .and_then(|n| n.checked_mul(dtype.size));
        let (Some(shape), Some(n)) = (shape, n) else {
            return Err(format_error(
                name,
                "a shape whose size fits in memory",
                format!("{:?}", header.shape),
            ));
        };
        let data = &bytes[header_len..];
        if data.len() != n {
            let expected = format!(
                "{n} data bytes for dtype '{}' shape {shape:?}",
                header.descr
            );
            return Err(if data.len() < n {
                CoreError::Truncated {
                    path: name.into(),
                    expected,
                    found: format!("{}", data.len()),
                }
            } else {
                format_error(name, expected, format!("{} (trailing bytes)", data.len()))
            });
        }
        let data = match header.fortran_order {
            false => data.to_vec(),
            true => fortran_to_c(data, &shape, dtype.size),
        };
        Ok(Self {
            descr: header.descr,
            shape,
            data,
        })
    }

    /// The `.npy` v1.0 bytes of the array (v2.0 if the header needs it), byte-identical to
    /// what `np.save` writes.
    pub fn to_npy(&self) -> Vec<u8> {
        let dims: String = match self.shape.as_slice() {
            [d] => format!("{d},"),
            s => s
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let header = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': ({dims}), }}",
            self.descr
        );
        // magic (6) + version (2) + header length (2 or 4) + header + padding + '\n' = k * 64
        let v2 = header.len() + 11 > u16::MAX as usize;
        let prefix = if v2 { 12 } else { 10 };
        let total = (prefix + header.len() + 1).div_ceil(64) * 64;
        let mut out = Vec::with_capacity(total + self.data.len());
        out.extend_from_slice(b"\x93NUMPY");
        if v2 {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&((total - prefix) as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&((total - prefix) as u16).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out.extend_from_slice(&self.data);
        out
    }

    /// Writes the array as a `.npy` file, atomically.
    pub fn write_npy(&self, path: &Path) -> Result<()> {
        crate::fs::write_atomic(path, &self.to_npy())
    }
}

/// Reorders a Fortran-order buffer of `size`-byte elements into C order.
fn fortran_to_c(data: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    if shape.len() < 2 {
        return data.to_vec();
    }
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        // Fortran offset of the C-order multi-index `idx`.
        let (mut off, mut stride) = (0, 1);
        for (d, &i) in idx.iter().enumerate() {
            off += i * stride;
            stride *= shape[d];
        }
        out.extend_from_slice(&data[off * size..(off + 1) * size]);
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Whether `path` starts with the zip magic (an `.npz`), whatever its name.
fn is_zip(path: &Path) -> Result<bool> {
    let mut file = File::open(path).map_err(io(show(path)))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(io(show(path)))?;
    Ok(n == 4 && &magic == b"PK\x03\x04")
}

/// An opened `.npz` archive.
pub struct Npz {
    path: String,
    archive: ZipArchive<BufReader<File>>,
}

impl Npz {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(io(show(path)))?;
        let archive = ZipArchive::new(BufReader::new(file))
            .map_err(|e| format_error(show(path), "a .npz (zip) archive", e.to_string()))?;
        Ok(Self {
            path: show(path),
            archive,
        })
    }

    /// The arrays' names (members without their `.npy`), in archive order.
    pub fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok())
            .map(|n| n.strip_suffix(".npy").unwrap_or(&n).to_string())
            .collect()
    }

    /// Whether the archive holds array `name`.
    pub fn has(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    /// Reads array `name`.
    pub fn array(&mut self, name: &str) -> Result<Array> {
        let label = format!("{}:{name}.npy", self.path);
        if !self.has(name) {
            return Err(format_error(
                &self.path,
                format!("an array named `{name}`"),
                format!("only [{}]", self.names().join(", ")),
            ));
        }
        let mut member = self
            .archive
            .by_name(&format!("{name}.npy"))
            .map_err(|e| format_error(&label, "a readable zip member", e.to_string()))?;
        let mut bytes = Vec::with_capacity(member.size().min(1 << 32) as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| format_error(&label, "a readable zip member", e.to_string()))?;
        Array::parse(&bytes, &label)
    }
}

/// Reads one array from a `.npy` file, or from a `.npz` the first of `names` it holds (or its
/// only array).
pub fn read_array(path: &Path, names: &[&str]) -> Result<Array> {
    if is_zip(path)? {
        let mut npz = Npz::open(path)?;
        let all = npz.names();
        let name = names
            .iter()
            .map(|n| n.to_string())
            .find(|n| all.contains(n))
            .or_else(|| (all.len() == 1).then(|| all[0].clone()))
            .ok_or_else(|| {
                format_error(
                    show(path),
                    format!("an array named `{}`", names.join("` or `")),
                    format!("only [{}]", all.join(", ")),
                )
            })?;
        npz.array(&name)
    } else {
        let bytes = std::fs::read(path).map_err(io(show(path)))?;
        Array::parse(&bytes, &show(path))
    }
}

/// Writes `.npz` archives deflate-compressed like `np.savez_compressed`, atomically: the file
/// appears at its path only when [`finish`](Self::finish) succeeds.
pub struct NpzWriter {
    path: String,
    zip: ZipWriter<AtomicFile>,
}

impl NpzWriter {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self> {
        Ok(Self {
            path: show(path),
            zip: ZipWriter::new(AtomicFile::create(path)?),
        })
    }

    /// Adds `array` as member `name.npy`.
    pub fn add(&mut self, name: &str, array: &Array) -> Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(array.data.len() >= u32::MAX as usize);
        let zip_err =
            |e: zip::result::ZipError| format_error(&self.path, "a writable zip", e.to_string());
        self.zip
            .start_file(format!("{name}.npy"), options)
            .map_err(zip_err)?;
        self.zip
            .write_all(&array.to_npy())
            .map_err(io(self.path.clone()))
    }

    /// Completes the archive and moves it into place.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.zip
            .finish()
            .map_err(|e| format_error(&path, "a writable zip", e.to_string()))?
            .commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_dicts_in_any_key_order_and_spacing() {
        let h = parse_header(
            b"{'descr': '|u1', 'fortran_order': False, 'shape': (128, 128, 3), }   \n",
        );
        assert_eq!(
            h,
            Some(Header {
                descr: "|u1".into(),
                fortran_order: false,
                shape: vec![128, 128, 3]
            })
        );
        let h = parse_header(b"{\"shape\":(2,3,1),\"fortran_order\":True,\"descr\":\"<f4\"}");
        assert_eq!(
            h.map(|h| (h.descr, h.fortran_order, h.shape)),
            Some(("<f4".into(), true, vec![2, 3, 1]))
        );
        assert_eq!(
            parse_header(b"{'shape': (), 'descr': 'u1', 'fortran_order': False}").map(|h| h.shape),
            Some(vec![])
        );
    }

    #[test]
    fn malformed_headers_are_rejected_quickly() {
        for bad in [
            &b"{'descr': '|u1', 'fortran_order': False, 's*hape': (2, 3, 1),{{{{{{{{{{{{{{ }"[..],
            b"{'descr': '|u1'",
            b"{'descr': '|u1', 'fortran_order': Maybe, 'shape': (1,)}",
            b"{'descr': '|u1', 'fortran_order': False, 'shape': (1, x)}",
            b"{'descr': '|u1', 'fortran_order': False}",
            b"{'descr': '|u1', 'fortran_order': False, 'shape': (1,)} trailing",
            b"",
        ] {
            assert_eq!(parse_header(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let deep = [b'{'; 100_000];
        let t = std::time::Instant::now();
        assert_eq!(parse_header(&deep), None);
        assert!(t.elapsed().as_millis() < 100);
    }

    #[test]
    fn arrays_round_trip_and_convert() {
        let a = Array::from_f64(&[2, 2], &[1.0, -2.5, 3.0, 4.0]);
        let back = Array::parse(&a.to_npy(), "a").expect("parse");
        assert_eq!(back, a);
        assert_eq!(back.to_f64("a").expect("f64"), [1.0, -2.5, 3.0, 4.0]);
        let s = Array::from_text("tf-exact");
        assert_eq!(
            Array::parse(&s.to_npy(), "s")
                .expect("s")
                .to_text()
                .as_deref(),
            Some("tf-exact")
        );
        let i = Array::from_i64(&[], &[-7]);
        assert_eq!(
            Array::parse(&i.to_npy(), "i")
                .expect("i")
                .to_i64("i")
                .expect("i"),
            [-7]
        );
        assert!(a.to_u8("a").is_err());
        // A Fortran-order 2x3 int16 array, big-endian: [[1, 2, 3], [4, 5, 6]].
        let mut f = Array::from_u8(&[2, 3], vec![0; 6]).to_npy();
        let header_at = f.windows(5).position(|w| w == b"'|u1'").expect("descr");
        f[header_at..header_at + 5].copy_from_slice(b"'>i2'");
        let order_at = f.windows(5).position(|w| w == b"False").expect("order");
        f[order_at..order_at + 5].copy_from_slice(b"True ");
        f.truncate(f.len() - 6);
        f.extend([0, 1, 0, 4, 0, 2, 0, 5, 0, 3, 0, 6]);
        let g = Array::parse(&f, "f").expect("fortran");
        assert_eq!(g.to_i64("f").expect("ints"), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn npy_header_longer_than_the_file_is_rejected_before_allocating() {
        // Found by `cargo fuzz` (target npy): a v2 header declaring 3.6 GB made npyz allocate it.
        let mut bytes = b"\x93NUMPY\x02\x00\x8a\xff\x84\xd8".to_vec();
        bytes.extend_from_slice(b"{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 1), }");
        let e = Array::parse(&bytes, "f.npy")
            .expect_err("header")
            .to_string();
        assert_eq!(
            e,
            "f.npy: truncated: expected a 3632594838-byte npy header, found 74 bytes in all"
        );
        let e = Array::parse(b"\x93NUMPY\x07\x00\x00\x00", "v.npy")
            .expect_err("version")
            .to_string();
        assert_eq!(
            e,
            "v.npy: expected npy format version 1, 2 or 3, found version 7"
        );
        let e = Array::parse(b"PK\x03\x04", "z.npy")
            .expect_err("zip")
            .to_string();
        assert!(e.starts_with("z.npy: expected a .npy file"), "{e}");
    }
}
