//! A feature matrix (`[n, dim]`, f32 as networks emit them): the input of IS, KID, precision/
//! recall and density/coverage.

use std::path::Path;

use crate::error::{MetricsError, Result};

/// `n` feature rows of width `dim`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Values, `[n, dim]` row-major.
    pub data: Vec<f32>,
    /// Rows.
    pub n: usize,
    /// Columns.
    pub dim: usize,
}

impl Features {
    /// Wraps `data` as `[n, dim]`; rejects a length that does not fit and non-finite values.
    pub fn new(data: Vec<f32>, n: usize, dim: usize) -> Result<Self> {
        if data.len() != n * dim {
            return Err(MetricsError::input(
                "features",
                format!("{n} x {dim} = {} values", n * dim),
                format!("{} values", data.len()),
            ));
        }
        if let Some(bad) = data.iter().find(|v| !v.is_finite()) {
            return Err(MetricsError::input(
                "features",
                "finite values",
                format!("{bad}"),
            ));
        }
        Ok(Self { data, n, dim })
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Rows `idx` in that order.
    pub fn select(&self, idx: &[usize]) -> Result<Self> {
        let mut data = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            if i >= self.n {
                return Err(MetricsError::input(
                    "features",
                    format!("row indices below {}", self.n),
                    format!("{i}"),
                ));
            }
            data.extend_from_slice(self.row(i));
        }
        Ok(Self {
            data,
            n: idx.len(),
            dim: self.dim,
        })
    }

    /// Reads a 2-D float array from `.npy`, or the array `features`/`feats` from `.npz`.
    pub fn read(path: &Path) -> Result<Self> {
        let array = sngan_core::npy::read_array(path, &["features", "feats", "arr_0"])?;
        let (shape, data) = (&array.shape, array.to_f64(&path.display().to_string())?);
        if shape.len() != 2 {
            return Err(MetricsError::Shape {
                path: path.to_path_buf(),
                name: "features".into(),
                expected: "[n, dim]".into(),
                found: shape.iter().map(|&v| v as u64).collect(),
            });
        }
        Self::new(data.iter().map(|&v| v as f32).collect(), shape[0], shape[1])
    }
}
