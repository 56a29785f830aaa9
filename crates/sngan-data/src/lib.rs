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
//! - `--data PATH` for training and statistics: [`DataConfig::open`]`(path)` (the data set, typed
//!   [`Split`], size, filter, crops and flips that training configs embed) gives an
//!   `Arc<dyn ImageSource>` for [`GanLoader`] or [`ImageDataset`].
//!
//! This crate knows nothing of models; its only network access is [`fetch`].

mod archive;
mod batch;
mod celeba;
mod cifar;
mod config;
mod crop;
mod decode;
mod error;
mod fetch;
mod imagenet;
mod inspect;
mod mnist;
mod pipeline;
mod resize;
mod source;
mod stl10;

pub use batch::{
    GanLoader, HostBatch, ImageBatch, ImageBatcher, LoaderConfig, Sampler, Sampling, host_batch,
    hwc_to_chw_pm1, to_unit_range,
};
pub use celeba::{
    CELEBA_FOLDER, CELEBA_LEN, CELEBA_PARTITION, CELEBA_ZIP, CelebA, CelebaSplit, read_partition,
};
pub use cifar::{
    CIFAR10_CLASSES, Cifar100Label, CifarFormat, CifarOptions, CifarSplit, CifarVariant,
    load_cifar, parse_binary as parse_cifar_binary, parse_python as parse_cifar_python,
};
pub use config::{DataConfig, DatasetName, ImageNetStyle, Split};
pub use crop::{CropBox, CropRounding, crop};
pub use decode::{decode_rgb, jpeg_has_eoi};
pub use error::{DataError, Result};
pub use fetch::{FetchOptions, Fetched, Remote, fetch, fetch_remotes, remotes};
pub use imagenet::{
    IMAGE_EXTENSIONS, IMAGENET_CLASSES, IMAGENET_TRAIN_LEN, ImageFolder, NpyFolder, TarImage,
    TarOfTars, stream_tar_of_tars,
};
pub use inspect::{InspectOptions, Report, SplitReport, inspect, inspect_with};
pub use mnist::{
    MNIST_CLASSES, MnistSplit, load_mnist, parse_idx, parse_mnist, read_idx_images, read_idx_labels,
};
pub use pipeline::{CelebaCrop, Crop, Pipeline};
pub use resize::{Filter, Resizer, mean2x2, resize};
pub use sngan_core::{Image, Images};
pub use source::{ImageDataset, ImageItem, ImageSource, materialize};
pub use stl10::{
    STL10_ARCHIVE, STL10_CLASSES, STL10_SIDE, Stl10Options, Stl10Split, column_major_to_hwc,
    load_stl10,
};
