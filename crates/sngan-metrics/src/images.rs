//! uint8 image batches (N x H x W x C, the layout `sngan sample` writes and pytorch-fid,
//! torch-fidelity and StudioGAN read) and their `.npy`/`.npz` reader.

use std::path::Path;

use crate::error::{MetricsError, Result};
use crate::npz;

/// A borrowed uint8 batch in NHWC order.
#[derive(Debug, Clone, Copy)]
pub struct ImagesRef<'a> {
    data: &'a [u8],
    shape: [usize; 4],
}

impl<'a> ImagesRef<'a> {
    /// Wraps `data` as `[n, h, w, c]`; the length must be `n*h*w*c`.
    pub fn new(data: &'a [u8], shape: [usize; 4]) -> Result<Self> {
        let expected = shape.iter().product::<usize>();
        if data.len() != expected {
            return Err(MetricsError::input(
                "images",
                format!("{expected} bytes for shape {shape:?} (NHWC)"),
                format!("{} bytes", data.len()),
            ));
        }
        Ok(Self { data, shape })
    }

    /// `[n, h, w, c]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// The raw bytes, NHWC.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Images `start..end` (clamped to the batch).
    pub fn slice(&self, start: usize, end: usize) -> ImagesRef<'a> {
        let [n, h, w, c] = self.shape;
        let (start, end) = (start.min(n), end.min(n).max(start.min(n)));
        let per = h * w * c;
        ImagesRef {
            data: &self.data[start * per..end * per],
            shape: [end - start, h, w, c],
        }
    }
}

/// An owned uint8 batch in NHWC order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Bytes, NHWC, row-major.
    pub data: Vec<u8>,
    /// `[n, h, w, c]`.
    pub shape: [usize; 4],
}

impl Images {
    /// Wraps `data` as `[n, h, w, c]`; the length must be `n*h*w*c`.
    pub fn new(data: Vec<u8>, shape: [usize; 4]) -> Result<Self> {
        ImagesRef::new(&data, shape)?;
        Ok(Self { data, shape })
    }

    /// The borrowed view.
    pub fn view(&self) -> ImagesRef<'_> {
        ImagesRef {
            data: &self.data,
            shape: self.shape,
        }
    }

    /// Reads samples from `.npy` or `.npz` (the array named `images`, `samples`, `x` or `arr_0`,
    /// or the only array). Accepts uint8 `[n, h, w, c]` with c in {1, 3}, `[n, h, w]` (grey),
    /// and `[n, c, h, w]` with c in {1, 3} (transposed to NHWC).
    pub fn read(path: &Path) -> Result<Self> {
        let (shape, data) = npz::read_u8_array(path, &["images", "samples", "x", "arr_0"])?;
        let bad = |expected: &str| MetricsError::Shape {
            path: path.to_path_buf(),
            name: "images".into(),
            expected: expected.into(),
            found: shape.iter().map(|&d| d as u64).collect(),
        };
        match *shape.as_slice() {
            [n, h, w] => Self::new(data, [n, h, w, 1]),
            [n, h, w, c] if c == 1 || c == 3 => Self::new(data, [n, h, w, c]),
            [n, c, h, w] if c == 1 || c == 3 => {
                let mut out = vec![0u8; data.len()];
                for i in 0..n {
                    for ch in 0..c {
                        for p in 0..h * w {
                            out[(i * h * w + p) * c + ch] = data[(i * c + ch) * h * w + p];
                        }
                    }
                }
                Self::new(out, [n, h, w, c])
            }
            _ => Err(bad(
                "[n, h, w, c] with c in {1, 3}, [n, c, h, w] or [n, h, w]",
            )),
        }
    }
}
