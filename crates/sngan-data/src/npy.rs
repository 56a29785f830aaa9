//! `.npy` files of `uint8` images (BSSN's ImageNet layout): a linear-time reader of the header
//! dict and a writer byte-identical to `np.save`. Hand-written because the `npyz` header parser
//! allocates the declared header length (up to 4 GB) and backtracks exponentially on nested
//! braces (both found by `cargo fuzz`, target `npy`). Format: numpy `lib/format.py`.

use crate::error::{DataError, Result};
use crate::image::Image;

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

/// Parses a `.npy` of `uint8` in C order with shape `shape` (or any `(H, W, 1 | 3)` when
/// `None`); returns the shape and the data. `name` labels errors.
pub fn parse_npy_u8(
    bytes: &[u8],
    shape: Option<[usize; 3]>,
    name: &str,
) -> Result<([usize; 3], Vec<u8>)> {
    let bad = |expected: &str, found: String| DataError::Format {
        path: name.into(),
        expected: expected.into(),
        found,
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        let head = &bytes[..bytes.len().min(6)];
        return Err(bad(
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
            return Err(bad("npy format version 1, 2 or 3", format!("version {v}")));
        }
    };
    if header_len > bytes.len() {
        return Err(DataError::Truncated {
            path: name.into(),
            expected: format!("a {header_len}-byte npy header"),
            found: format!("{} bytes in all", bytes.len()),
        });
    }
    let text = &bytes[text_start..header_len];
    let header = parse_header(text).ok_or_else(|| {
        let shown: String = String::from_utf8_lossy(&text[..text.len().min(120)])
            .trim_end()
            .to_string();
        bad(
            "an npy header dict with 'descr', 'fortran_order' and 'shape'",
            format!("'{shown}'"),
        )
    })?;
    let want = shape.map_or_else(
        || "(H, W, 3)".to_string(),
        |s| format!("({}, {}, {})", s[0], s[1], s[2]),
    );
    let dims = &header.shape;
    let ok_dtype = matches!(header.descr.as_str(), "|u1" | "<u1" | ">u1" | "u1");
    let got3 = (dims.len() == 3 && dims.iter().all(|&d| d < 1 << 20))
        .then(|| [dims[0] as usize, dims[1] as usize, dims[2] as usize]);
    let ok_shape = match (got3, shape) {
        (Some(g), Some(s)) => g == s,
        (Some(g), None) => g[2] == 3 || g[2] == 1,
        (None, _) => false,
    };
    if !ok_dtype || !ok_shape || header.fortran_order {
        let order = if header.fortran_order {
            " in Fortran order"
        } else {
            ""
        };
        return Err(bad(
            &format!("npy dtype '|u1' shape {want} in C order"),
            format!("dtype '{}' shape {dims:?}{order}", header.descr),
        ));
    }
    let s = got3.unwrap_or_default();
    let n = s[0] * s[1] * s[2];
    let data = &bytes[header_len..];
    if data.len() != n {
        let expected = format!("{n} data bytes for shape {dims:?}");
        return Err(if data.len() < n {
            DataError::Truncated {
                path: name.into(),
                expected,
                found: format!("{}", data.len()),
            }
        } else {
            DataError::Format {
                path: name.into(),
                expected,
                found: format!("{} (trailing bytes)", data.len()),
            }
        });
    }
    Ok((s, data.to_vec()))
}

/// A `.npy` v1.0 file of `image` (`|u1`, shape `(H, W, C)`), byte-identical to what numpy's
/// `np.save` writes (BSSN's ImageNet preprocessing output), for callers that write caches.
pub fn npy_bytes(image: &Image) -> Vec<u8> {
    let header = format!(
        "{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, {}, {}), }}",
        image.height, image.width, image.channels
    );
    // magic (6) + version (2) + header length (2) + header + padding + '\n' = multiple of 64
    let unpadded = 10 + header.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut out = Vec::with_capacity(total + image.pixels.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out.extend_from_slice(&image.pixels);
    out
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
        assert_eq!(
            parse_header(b"{'shape': (5,), 'descr': 'u1', 'fortran_order': False}")
                .map(|h| h.shape),
            Some(vec![5])
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
}
