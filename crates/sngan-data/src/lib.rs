//! Data for GAN training: readers for the real formats of MNIST (IDX), CIFAR-10/100 (binary and
//! python), STL-10 (binary), CelebA (`img_align_celeba.zip` or folder) and ImageNet (BSSN
//! `.npy` folders, ImageFolder, the train tar of tars), the crops and resizes of the reference
//! pipelines reproduced to the pixel (OpenCV INTER_LINEAR, Pillow BOX/BILINEAR/BICUBIC/LANCZOS),
//! Burn `Dataset` + `Batcher` and an endless parallel sampler, checked downloads and a data-set
//! inspector. Formats, crops and error cases follow `research/data.md`.
//!
//! Every reader yields `u8` HWC images ([`Images`] in memory, or any [`ImageSource`] decoded
//! on demand); batches are `[-1, 1]` float NCHW tensors. Bad input is an error naming the file,
//! the expectation and what was found ([`DataError`]), never a panic or a short epoch.
//!
//! # Entry points for the command line
//! - `sngan fetch NAME --to DIR`: [`fetch`]`(`[`DatasetName`]`, dir, `[`FetchOptions`]`)`.
//! - `sngan data inspect --dataset NAME --data PATH`: [`inspect`]`(name, path)` returns a
//!   [`Report`] whose `Display` is the printout; [`Report::is_ok`] for the exit code.
//! - `--dataset NAME --data PATH` for training and statistics: [`open`]`(name, path, &`[`OpenOptions`]`)`
//!   gives an `Arc<dyn ImageSource>` for [`GanLoader`] or [`ImageDataset`].
//!
//! This crate knows nothing of models; its only network access is [`fetch`].

mod archive;
mod batch;
mod celeba;
mod cifar;
mod crop;
mod decode;
mod error;
mod fetch;
mod image;
mod imagenet;
mod inspect;
mod mnist;
mod npy;
mod pipeline;
mod resize;
mod source;
mod stl10;

use std::path::Path;
use std::sync::Arc;

pub use batch::{
    GanLoader, HostBatch, ImageBatch, ImageBatcher, LoaderConfig, Sampler, Sampling, SplitMix64,
    host_batch, hwc_to_chw_pm1, to_unit_range,
};
pub use celeba::{
    CELEBA_FOLDER, CELEBA_LEN, CELEBA_PARTITION, CELEBA_ZIP, CelebA, CelebaSplit, read_partition,
};
pub use cifar::{
    CIFAR10_CLASSES, Cifar100Label, CifarFormat, CifarOptions, CifarSplit, CifarVariant,
    load_cifar, parse_binary as parse_cifar_binary, parse_python as parse_cifar_python,
};
pub use crop::{CropBox, CropRounding, crop};
pub use decode::{decode_rgb, jpeg_has_eoi};
pub use error::{DataError, Result};
pub use fetch::{FetchOptions, Fetched, Remote, fetch, fetch_remotes, remotes};
pub use image::{Image, Images};
pub use imagenet::{
    IMAGE_EXTENSIONS, IMAGENET_CLASSES, IMAGENET_TRAIN_LEN, ImageFolder, NpyFolder, TarImage,
    TarOfTars, stream_tar_of_tars,
};
pub use inspect::{InspectOptions, Report, SplitReport, inspect, inspect_with};
pub use mnist::{
    MNIST_CLASSES, MnistSplit, load_mnist, parse_idx, read_idx_images, read_idx_labels,
};
pub use npy::{npy_bytes, parse_npy_u8};
pub use pipeline::{CelebaCrop, Crop, Pipeline};
pub use resize::{Filter, Resizer, mean2x2, resize};
pub use source::{ImageDataset, ImageItem, ImageSource, materialize};
pub use stl10::{
    STL10_ARCHIVE, STL10_CLASSES, STL10_SIDE, Stl10Options, Stl10Split, column_major_to_hwc,
    load_stl10,
};

/// The data sets this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST, IDX files.
    Mnist,
    /// CIFAR-10, binary or python version.
    Cifar10,
    /// CIFAR-100, binary or python version.
    Cifar100,
    /// STL-10, binary version.
    Stl10,
    /// CelebA aligned and cropped.
    CelebA,
    /// ILSVRC2012 train: BSSN `.npy` folder, ImageFolder of JPEGs, or the tar of tars.
    ImageNet,
    /// Any class-per-folder tree of images.
    ImageFolder,
}

impl DatasetName {
    /// Every data set with its command-line name.
    pub const ALL: [(DatasetName, &'static str); 7] = [
        (DatasetName::Mnist, "mnist"),
        (DatasetName::Cifar10, "cifar10"),
        (DatasetName::Cifar100, "cifar100"),
        (DatasetName::Stl10, "stl10"),
        (DatasetName::CelebA, "celeba"),
        (DatasetName::ImageNet, "imagenet"),
        (DatasetName::ImageFolder, "imagefolder"),
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        DatasetName::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map_or("", |(_, n)| n)
    }
}

impl std::fmt::Display for DatasetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DatasetName {
    type Err = DataError;

    /// Parses a command-line name (case-insensitive; `cifar-10`, `stl-10` also accepted).
    fn from_str(s: &str) -> Result<Self> {
        let key = s.to_ascii_lowercase().replace(['-', '_'], "");
        DatasetName::ALL
            .iter()
            .find(|(_, n)| *n == key)
            .map(|(d, _)| *d)
            .ok_or_else(|| DataError::UnknownDataset {
                expected: DatasetName::ALL.map(|(_, n)| n).join(", "),
                found: s.into(),
            })
    }
}

/// ImageNet preprocessing conventions for [`open`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ImageNetStyle {
    /// BSSN: centre square (floor), `cv2.resize` INTER_LINEAR.
    #[default]
    Bssn,
    /// BigGAN: `CenterCropLongEdge` (round half to even), PIL bilinear.
    BigGan,
}

/// Options of [`open`]; every field has a default that reproduces BSSN's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// Split name (`train`, `test`, STL-10 `unlabeled`, `train+unlabeled`, `train+test`, CelebA
    /// `all`, `valid`). Default: the split GAN papers train on (MNIST/CIFAR `train`, STL-10
    /// `unlabeled`, CelebA `all`).
    pub split: Option<String>,
    /// Output side. Default: native (MNIST 28, CIFAR 32, STL-10 96), CelebA 64, ImageNet 128.
    pub size: Option<usize>,
    /// Resize filter. Default: `Cv2Linear` for STL-10 and BSSN-style sets, `PilBilinear` for
    /// MNIST/CIFAR resizes.
    pub filter: Option<Filter>,
    /// CelebA crop preset. Default: BSSN 128.
    pub celeba_crop: CelebaCrop,
    /// ImageNet / ImageFolder preprocessing. Default: BSSN.
    pub imagenet_style: ImageNetStyle,
    /// Require published counts. Default: true.
    pub check_counts: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            split: None,
            size: None,
            filter: None,
            celeba_crop: CelebaCrop::Bssn128,
            imagenet_style: ImageNetStyle::Bssn,
            check_counts: true,
        }
    }
}

fn resized(images: Images, size: Option<usize>, filter: Filter) -> Images {
    match size {
        Some(s) if s != images.height || s != images.width => {
            let rz = Resizer::new(images.height, images.width, s, s, filter);
            let cn = images.channels;
            images.map(s, s, |src| rz.resize_raw(src, cn))
        }
        _ => images,
    }
}

/// Opens `dataset` at `path` as an image source for training or statistics.
///
/// Packed sets (MNIST, CIFAR, STL-10) are read into memory; CelebA and ImageNet are decoded on
/// demand. ImageNet at a file path is the train tar of tars, at a folder of `.npy` class
/// folders the BSSN layout, otherwise an ImageFolder of JPEGs.
pub fn open(
    dataset: DatasetName,
    path: &Path,
    options: &OpenOptions,
) -> Result<Arc<dyn ImageSource>> {
    let split = options.split.as_deref();
    let filter = options.filter;
    Ok(match dataset {
        DatasetName::Mnist => {
            let split = split.unwrap_or("train").parse::<MnistSplit>()?;
            let images = load_mnist(path, split, options.check_counts)?;
            Arc::new(resized(
                images,
                options.size,
                filter.unwrap_or(Filter::PilBilinear),
            ))
        }
        DatasetName::Cifar10 | DatasetName::Cifar100 => {
            let variant = if dataset == DatasetName::Cifar10 {
                CifarVariant::Cifar10
            } else {
                CifarVariant::Cifar100
            };
            let split = split.unwrap_or("train").parse::<CifarSplit>()?;
            let cifar = CifarOptions {
                check_counts: options.check_counts,
                ..CifarOptions::default()
            };
            let images = load_cifar(path, variant, split, cifar)?;
            Arc::new(resized(
                images,
                options.size,
                filter.unwrap_or(Filter::PilBilinear),
            ))
        }
        DatasetName::Stl10 => {
            let split = split.unwrap_or("unlabeled").parse::<Stl10Split>()?;
            let stl = Stl10Options {
                resize: options
                    .size
                    .filter(|&s| s != STL10_SIDE)
                    .map(|s| (s, filter.unwrap_or(Filter::Cv2Linear))),
                check_counts: options.check_counts,
            };
            Arc::new(load_stl10(path, split, stl)?)
        }
        DatasetName::CelebA => {
            let split = split.unwrap_or("all").parse::<CelebaSplit>()?;
            let mut pipeline = options.celeba_crop.pipeline(options.size.unwrap_or(64));
            if let (Some(f), Some((size, _))) = (filter, pipeline.resize) {
                pipeline.resize = Some((size, f));
            }
            Arc::new(CelebA::open_with(path, split, pipeline)?)
        }
        DatasetName::ImageNet | DatasetName::ImageFolder => {
            let size = options.size.unwrap_or(128);
            let mut pipeline = match options.imagenet_style {
                ImageNetStyle::Bssn => Pipeline::bssn_imagenet(size),
                ImageNetStyle::BigGan => Pipeline::biggan_imagenet(size),
            };
            if let (Some(f), Some((s, _))) = (filter, pipeline.resize) {
                pipeline.resize = Some((s, f));
            }
            if path.is_file() {
                Arc::new(TarOfTars::open(path, pipeline)?)
            } else if dataset == DatasetName::ImageNet && has_npy_classes(path) {
                Arc::new(NpyFolder::open(path, options.check_counts)?)
            } else {
                Arc::new(ImageFolder::open(path, pipeline)?)
            }
        }
    })
}

/// Whether the first class folder of `root` holds `.npy` files.
fn has_npy_classes(root: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(root) else {
        return false;
    };
    let mut dirs: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.first()
        .and_then(|d| std::fs::read_dir(d).ok())
        .is_some_and(|mut rd| {
            rd.any(|e| {
                e.is_ok_and(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .to_ascii_lowercase()
                        .ends_with(".npy")
                })
            })
        })
}
