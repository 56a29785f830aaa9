//! MNIST in LeCun's IDX format, raw or gzipped (detected by the `1f 8b` magic, not the name):
//! a big-endian header `00 00 <dtype> <ndim>` + `ndim` u32 dimensions, then the data
//! (research/data.md section 7; `torchvision/datasets/mnist.py read_sn3_pascalvincent_tensor`).
//! Unlike burn's and candle's readers this one checks the magic, dtype, rank, exact file size
//! and that images and labels agree.

use std::path::{Path, PathBuf};

use crate::archive::{gunzip_maybe, read_maybe_gz};
use crate::error::{DataError, Result, show};
use sngan_core::CoreError;
use sngan_core::Images;

/// The two MNIST splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MnistSplit {
    /// 60,000 training images.
    Train,
    /// 10,000 test images (`t10k`).
    Test,
}

impl MnistSplit {
    /// File stem prefix: `train` or `t10k`.
    pub fn prefix(self) -> &'static str {
        match self {
            MnistSplit::Train => "train",
            MnistSplit::Test => "t10k",
        }
    }

    /// Number of images in the published split.
    pub fn published_len(self) -> usize {
        match self {
            MnistSplit::Train => 60_000,
            MnistSplit::Test => 10_000,
        }
    }
}

/// MNIST class names (the digits).
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Parses an IDX buffer of unsigned bytes with `ndim` dimensions; returns the dimensions and
/// the data. `path` names the file in errors.
pub fn parse_idx<'a>(bytes: &'a [u8], ndim: usize, path: &str) -> Result<(Vec<usize>, &'a [u8])> {
    let expected_magic = format!("000008{ndim:02x}");
    if bytes.len() < 4 {
        return Err(DataError::Core(CoreError::Truncated {
            path: path.into(),
            expected: "an IDX header of at least 4 bytes".into(),
            found: format!("{} bytes", bytes.len()),
        }));
    }
    let magic = &bytes[..4];
    let hex: String = magic.iter().map(|b| format!("{b:02x}")).collect();
    if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] as usize != ndim {
        let hint = if magic[..2] == [0x1f, 0x8b] {
            " (gzip inside gzip: gunzip it once)"
        } else if magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 {
            " (u8 data of another rank: images and labels swapped?)"
        } else if magic[0] == 0 && magic[1] == 0 {
            " (not unsigned bytes: MNIST stores u8)"
        } else {
            ""
        };
        return Err(DataError::Core(CoreError::Format {
            path: path.into(),
            expected: format!("IDX magic {expected_magic} (u8, {ndim} dimensions)"),
            found: format!("{hex}{hint}"),
        }));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(DataError::Core(CoreError::Truncated {
            path: path.into(),
            expected: format!("a {header}-byte IDX header"),
            found: format!("{} bytes", bytes.len()),
        }));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let want = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX);
    let have = bytes.len() - header;
    if have != want {
        let dims_txt = format!("{dims:?}");
        let e = if have < want {
            DataError::Core(CoreError::Truncated {
                path: path.into(),
                expected: format!("{want} data bytes (header says {dims_txt})"),
                found: format!("{have}"),
            })
        } else {
            DataError::Core(CoreError::Format {
                path: path.into(),
                expected: format!("{want} data bytes (header says {dims_txt})"),
                found: format!("{have} (trailing bytes)"),
            })
        };
        return Err(e);
    }
    Ok((dims, &bytes[header..]))
}

/// Reads an IDX image file (`[N, rows, cols]` u8), raw or gzipped.
pub fn read_idx_images(path: &Path) -> Result<Images> {
    idx_images(&read_maybe_gz(path)?, &show(path))
}

/// Reads an IDX label file (`[N]` u8 in `0..=9`), raw or gzipped.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    idx_labels(&read_maybe_gz(path)?, &show(path))
}

fn idx_images(bytes: &[u8], name: &str) -> Result<Images> {
    let (dims, data) = parse_idx(bytes, 3, name)?;
    Ok(Images {
        height: dims[1],
        width: dims[2],
        channels: 1,
        pixels: data.to_vec(),
        labels: vec![None; dims[0]],
        num_classes: None,
        class_names: Vec::new(),
    })
}

fn idx_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    let (_, data) = parse_idx(bytes, 1, name)?;
    if let Some(index) = data.iter().position(|&l| l > 9) {
        return Err(DataError::Label {
            path: name.into(),
            index,
            expected: "0..=9".into(),
            found: data[index] as i64,
        });
    }
    Ok(data.to_vec())
}

/// Labels `images` with `labels` (one per image) as MNIST digits; the names label errors.
fn labelled(
    mut images: Images,
    labels: Vec<u8>,
    [images_name, labels_name]: [&str; 2],
) -> Result<Images> {
    if labels.len() != images.len() {
        return Err(DataError::Core(CoreError::Format {
            path: labels_name.into(),
            expected: format!("{} labels, one per image of {images_name}", images.len()),
            found: format!("{}", labels.len()),
        }));
    }
    images.labels = labels.into_iter().map(|l| Some(u32::from(l))).collect();
    images.num_classes = Some(10);
    images.class_names = MNIST_CLASSES.iter().map(|s| s.to_string()).collect();
    Ok(images)
}

/// One MNIST split from the bytes of its image and label IDX files, raw or gzipped (a copy
/// embedded in a binary, for instance); `name` labels errors.
pub fn parse_mnist(images: &[u8], labels: &[u8], name: &str) -> Result<Images> {
    let names = [format!("{name} images"), format!("{name} labels")];
    let pixels = idx_images(&gunzip_maybe(images.to_vec(), &names[0])?, &names[0])?;
    let labels = idx_labels(&gunzip_maybe(labels.to_vec(), &names[1])?, &names[1])?;
    labelled(pixels, labels, [&names[0], &names[1]])
}

/// Finds `<stem>` or `<stem>.gz` in `root` or in torchvision's `root/MNIST/raw`.
fn locate(root: &Path, stem: &str) -> Result<PathBuf> {
    let dirs = [root.to_path_buf(), root.join("MNIST").join("raw")];
    for dir in &dirs {
        for name in [format!("{stem}.gz"), stem.to_string()] {
            let p = dir.join(&name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let found = std::fs::read_dir(root)
        .map(|rd| {
            let mut v: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            if v.is_empty() {
                "nothing".to_string()
            } else {
                v.join(", ")
            }
        })
        .unwrap_or_else(|e| format!("an unreadable folder ({e})"));
    Err(DataError::Missing {
        path: show(root),
        expected: format!("{stem}.gz or {stem}"),
        found,
    })
}

/// Loads one MNIST split from a folder holding the four IDX files (raw or `.gz`).
///
/// Images are `28 x 28 x 1`, labels `0..10`. With `check_counts`, a split whose size differs
/// from the published one (60,000 / 10,000) is an error.
pub fn load_mnist(root: &Path, split: MnistSplit, check_counts: bool) -> Result<Images> {
    let p = split.prefix();
    let images_path = locate(root, &format!("{p}-images-idx3-ubyte"))?;
    let labels_path = locate(root, &format!("{p}-labels-idx1-ubyte"))?;
    let (images_name, labels_name) = (show(&images_path), show(&labels_path));
    let images = labelled(
        read_idx_images(&images_path)?,
        read_idx_labels(&labels_path)?,
        [&images_name, &labels_name],
    )?;
    if check_counts && images.len() != split.published_len() {
        return Err(DataError::Core(CoreError::Format {
            path: images_name,
            expected: format!("{} images (published MNIST {p})", split.published_len()),
            found: format!("{}", images.len()),
        }));
    }
    Ok(images)
}
