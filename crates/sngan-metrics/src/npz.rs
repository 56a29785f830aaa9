//! `.npy`/`.npz` input and output in numpy's own format: the `mu`/`sigma` statistics files of
//! pytorch-fid (`np.savez_compressed`, `fid_score.py save_fid_stats`), TTUR and clean-fid, the
//! `mean`/`cov` files of sngan_projection, and uint8 sample arrays.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use npyz::npz::{NpzArchive, NpzWriter};
use npyz::{DType, NpyFile, Order, TypeStr, WriterBuilder};

use crate::error::{MetricsError, Result};

/// One array read back: shape and row-major (C-order) values.
pub(crate) struct Array<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

fn format_err(path: &Path, expected: &str, found: impl std::fmt::Display) -> MetricsError {
    MetricsError::Format {
        path: path.to_path_buf(),
        expected: expected.into(),
        found: found.to_string(),
    }
}

fn dtype_string(dtype: &DType) -> String {
    match dtype {
        DType::Plain(ts) => ts.to_string(),
        other => format!("{other:?}"),
    }
}

/// Reorders a Fortran-order buffer into C order.
fn fortran_to_c<T: Copy>(data: Vec<T>, shape: &[usize]) -> Vec<T> {
    if shape.len() < 2 {
        return data;
    }
    let n = data.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        // Fortran offset of the C-order multi-index `idx`.
        let mut off = 0;
        let mut stride = 1;
        for (d, &i) in idx.iter().enumerate() {
            off += i * stride;
            stride *= shape[d];
        }
        out.push(data[off]);
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

fn read_npy_f64<R: Read>(npy: NpyFile<R>, path: &Path, name: &str) -> Result<Array<f64>> {
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let dtype = dtype_string(&npy.dtype());
    let io = |e: std::io::Error| MetricsError::io(path, e);
    let data: Vec<f64> = match dtype.as_str() {
        "<f8" | ">f8" => npy.into_vec::<f64>().map_err(io)?,
        "<f4" | ">f4" => npy
            .into_vec::<f32>()
            .map_err(io)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => {
            return Err(MetricsError::DType {
                path: path.to_path_buf(),
                name: name.into(),
                expected: "float64 or float32".into(),
                found: dtype,
            });
        }
    };
    let data = match order {
        Order::C => data,
        Order::Fortran => fortran_to_c(data, &shape),
    };
    Ok(Array { shape, data })
}

fn read_npy_u8<R: Read>(npy: NpyFile<R>, path: &Path, name: &str) -> Result<Array<u8>> {
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let dtype = dtype_string(&npy.dtype());
    if dtype != "|u1" {
        return Err(MetricsError::DType {
            path: path.to_path_buf(),
            name: name.into(),
            expected: "uint8".into(),
            found: dtype,
        });
    }
    let data = npy
        .into_vec::<u8>()
        .map_err(|e| MetricsError::io(path, e))?;
    let data = match order {
        Order::C => data,
        Order::Fortran => fortran_to_c(data, &shape),
    };
    Ok(Array { shape, data })
}

/// An opened `.npz` archive with its path, for error messages.
pub(crate) struct Npz {
    path: std::path::PathBuf,
    archive: NpzArchive<BufReader<File>>,
}

impl Npz {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| MetricsError::io(path, e))?;
        let archive = NpzArchive::new(BufReader::new(file))
            .map_err(|e| format_err(path, "a .npz (zip) archive", e))?;
        Ok(Self {
            path: path.to_path_buf(),
            archive,
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.archive.array_names().map(str::to_string).collect()
    }

    fn missing(&self, name: &str) -> MetricsError {
        MetricsError::MissingArray {
            path: self.path.clone(),
            name: name.into(),
            found: self.names().join(", "),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.archive.array_names().any(|n| n == name)
    }

    fn npy(&mut self, name: &str) -> Result<NpyFile<impl Read + '_>> {
        if !self.has(name) {
            return Err(self.missing(name));
        }
        let path = self.path.clone();
        match self.archive.by_name(name) {
            Ok(Some(npy)) => Ok(npy),
            Ok(None) => Err(MetricsError::MissingArray {
                path,
                name: name.into(),
                found: String::new(),
            }),
            Err(e) => Err(format_err(
                &path,
                &format!("a readable `{name}.npy` member"),
                e,
            )),
        }
    }

    pub fn f64_array(&mut self, name: &str) -> Result<Array<f64>> {
        let path = self.path.clone();
        let npy = self.npy(name)?;
        read_npy_f64(npy, &path, name)
    }

    pub fn u8_array(&mut self, name: &str) -> Result<Array<u8>> {
        let path = self.path.clone();
        let npy = self.npy(name)?;
        read_npy_u8(npy, &path, name)
    }

    /// A unicode (`<U`) or byte (`|S`) string array with one element, as numpy writes
    /// `np.savez(key="text")`; `None` when absent or of another dtype.
    pub fn string(&mut self, name: &str) -> Option<String> {
        if !self.has(name) {
            return None;
        }
        let npy = self.npy(name).ok()?;
        let dtype = dtype_string(&npy.dtype());
        if !(dtype.contains('U') || dtype.contains('S')) {
            return None;
        }
        npy.into_vec::<String>().ok()?.into_iter().next()
    }

    /// An integer scalar (any int dtype), `None` when absent or not an integer.
    pub fn integer(&mut self, name: &str) -> Option<i64> {
        if !self.has(name) {
            return None;
        }
        let npy = self.npy(name).ok()?;
        let dtype = dtype_string(&npy.dtype());
        match &dtype[1..] {
            "i8" => npy.into_vec::<i64>().ok()?.first().copied(),
            "i4" => npy.into_vec::<i32>().ok()?.first().map(|&v| i64::from(v)),
            "u8" => npy
                .into_vec::<u64>()
                .ok()?
                .first()
                .and_then(|&v| i64::try_from(v).ok()),
            _ => None,
        }
    }
}

fn is_zip(path: &Path) -> Result<bool> {
    let mut file = File::open(path).map_err(|e| MetricsError::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = file
        .read(&mut magic)
        .map_err(|e| MetricsError::io(path, e))?;
    file.rewind().map_err(|e| MetricsError::io(path, e))?;
    Ok(n == 4 && &magic == b"PK\x03\x04")
}

/// Reads a uint8 array from `.npy`, or from `.npz` by the first of `names` present (or its only
/// array).
pub(crate) fn read_u8_array(path: &Path, names: &[&str]) -> Result<(Vec<usize>, Vec<u8>)> {
    if is_zip(path)? {
        let mut npz = Npz::open(path)?;
        let all = npz.names();
        let name = names
            .iter()
            .find(|n| npz.has(n))
            .map(|s| s.to_string())
            .or_else(|| (all.len() == 1).then(|| all[0].clone()))
            .ok_or_else(|| MetricsError::MissingArray {
                path: path.to_path_buf(),
                name: names.join("` or `"),
                found: all.join(", "),
            })?;
        let a = npz.u8_array(&name)?;
        Ok((a.shape, a.data))
    } else {
        let file = File::open(path).map_err(|e| MetricsError::io(path, e))?;
        let npy = NpyFile::new(BufReader::new(file))
            .map_err(|e| format_err(path, "a .npy file (or a .npz zip archive)", e))?;
        let a = read_npy_u8(npy, path, "array")?;
        Ok((a.shape, a.data))
    }
}

/// Reads a float (f32 or f64) array from `.npy`, or the first of `names` from `.npz`.
pub fn read_f64_array(path: &Path, names: &[&str]) -> Result<(Vec<usize>, Vec<f64>)> {
    if is_zip(path)? {
        let mut npz = Npz::open(path)?;
        let name = names
            .iter()
            .find(|n| npz.has(n))
            .map(|s| s.to_string())
            .ok_or_else(|| MetricsError::MissingArray {
                path: path.to_path_buf(),
                name: names.join("` or `"),
                found: npz.names().join(", "),
            })?;
        let a = npz.f64_array(&name)?;
        Ok((a.shape, a.data))
    } else {
        let file = File::open(path).map_err(|e| MetricsError::io(path, e))?;
        let npy = NpyFile::new(BufReader::new(file))
            .map_err(|e| format_err(path, "a .npy file (or a .npz zip archive)", e))?;
        let a = read_npy_f64(npy, path, "array")?;
        Ok((a.shape, a.data))
    }
}

/// Writes `.npz` members, deflate-compressed like `np.savez_compressed`.
pub(crate) struct NpzOut {
    path: std::path::PathBuf,
    writer: NpzWriter<std::io::BufWriter<File>>,
}

impl NpzOut {
    pub fn create(path: &Path) -> Result<Self> {
        let writer = NpzWriter::create(path).map_err(|e| MetricsError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
        })
    }

    fn options() -> npyz::zip::write::FileOptions {
        npyz::zip::write::FileOptions::default()
            .compression_method(npyz::zip::CompressionMethod::Deflated)
            .large_file(true)
    }

    pub fn f64_array(&mut self, name: &str, shape: &[usize], data: &[f64]) -> Result<()> {
        self.array(name, shape, data)
    }

    pub fn f32_array(&mut self, name: &str, shape: &[usize], data: &[f32]) -> Result<()> {
        self.array(name, shape, data)
    }

    fn array<T: npyz::AutoSerialize + Copy>(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[T],
    ) -> Result<()> {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let io = |e| MetricsError::io(&self.path, e);
        let mut w = self
            .writer
            .array::<T>(name, Self::options())
            .map_err(io)?
            .default_dtype()
            .shape(&shape)
            .begin_nd()
            .map_err(io)?;
        w.extend(data.iter().copied()).map_err(io)?;
        w.finish().map_err(io)
    }

    pub fn i64_scalar(&mut self, name: &str, value: i64) -> Result<()> {
        let io = |e| MetricsError::io(&self.path, e);
        let mut w = self
            .writer
            .array::<i64>(name, Self::options())
            .map_err(io)?
            .default_dtype()
            .shape(&[])
            .begin_nd()
            .map_err(io)?;
        w.push(&value).map_err(io)?;
        w.finish().map_err(io)
    }

    /// A 0-d `<U` string array, what `np.savez(name="text")` writes.
    pub fn string(&mut self, name: &str, value: &str) -> Result<()> {
        let io = |e| MetricsError::io(&self.path, e);
        let width = value.chars().count().max(1);
        let dtype = DType::Plain(
            format!("<U{width}")
                .parse::<TypeStr>()
                .map_err(|e| format_err(&self.path, "a numpy unicode dtype", e))?,
        );
        let mut w = self
            .writer
            .array::<str>(name, Self::options())
            .map_err(io)?
            .dtype(dtype)
            .shape(&[])
            .begin_nd()
            .map_err(io)?;
        w.push(value).map_err(io)?;
        w.finish().map_err(io)
    }

    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let mut writer = self.writer;
        writer
            .zip_writer()
            .finish()
            .map_err(|e| format_err(&path, "a finished zip archive", e))?;
        Ok(())
    }
}
