//! The one data configuration of the workspace: which data set, which split (typed), and how its
//! images are prepared (size, resize filter, CelebA crop, ImageNet convention, flips). Training
//! configs embed it, `sngan stats --config` reads it from an experiment, and [`DataConfig::open`]
//! turns it and a path into an [`ImageSource`]. Every unset field keeps the reader's default,
//! which reproduces the BSSN inputs (research/data.md).

use std::path::Path;
use std::sync::Arc;

use burn::config::Config;
use sngan_core::{InvalidField, ensure};

use crate::celeba::{CelebA, CelebaSplit};
use crate::cifar::{CifarOptions, CifarSplit, CifarVariant, load_cifar};
use crate::error::{DataError, Result};
use crate::imagenet::{ImageFolder, NpyFolder, TarOfTars};
use crate::mnist::{MnistSplit, load_mnist};
use crate::pipeline::{CelebaCrop, Pipeline};
use crate::resize::{Filter, Resizer};
use crate::source::ImageSource;
use crate::stl10::{STL10_SIDE, Stl10Options, Stl10Split, load_stl10};
use sngan_core::Images;

/// The data sets this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
        name_of(&Self::ALL, self)
    }

    /// The splits the data set has, the one GAN papers train on first.
    pub fn splits(self) -> &'static [Split] {
        use Split::*;
        match self {
            DatasetName::Mnist | DatasetName::Cifar10 | DatasetName::Cifar100 => &[Train, Test],
            DatasetName::Stl10 => &[Unlabeled, Train, Test, TrainUnlabeled, TrainTest],
            DatasetName::CelebA => &[All, Train, Valid, Test],
            DatasetName::ImageNet | DatasetName::ImageFolder => &[Train],
        }
    }

    /// `[side, side, channels]` of the images before any resize (ImageNet and image folders:
    /// after their default 128 px crop and resize; CelebA: after its default 64 px pipeline).
    pub fn default_shape(self) -> [usize; 3] {
        match self {
            DatasetName::Mnist => [28, 28, 1],
            DatasetName::Cifar10 | DatasetName::Cifar100 => [32, 32, 3],
            DatasetName::Stl10 => [STL10_SIDE, STL10_SIDE, 3],
            DatasetName::CelebA => [64, 64, 3],
            DatasetName::ImageNet | DatasetName::ImageFolder => [128, 128, 3],
        }
    }

    fn unknown_split(self, split: Split) -> DataError {
        DataError::UnknownSplit {
            dataset: self.name().into(),
            expected: self
                .splits()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
            found: split.name().into(),
        }
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
        parse_name(&Self::ALL, &key, "dataset").map_err(|e| match e {
            DataError::Unknown { what, expected, .. } => DataError::Unknown {
                what,
                expected,
                found: s.into(),
            },
            other => other,
        })
    }
}

/// A split of a data set; [`DatasetName::splits`] says which each one has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Split {
    /// The training split.
    Train,
    /// The test split.
    Test,
    /// STL-10's 100,000 unlabelled images.
    Unlabeled,
    /// STL-10 train + unlabelled.
    TrainUnlabeled,
    /// STL-10 train + test.
    TrainTest,
    /// CelebA's validation split.
    Valid,
    /// Every image (CelebA).
    All,
}

impl Split {
    /// Every split with its command-line name.
    pub const ALL: [(Split, &'static str); 7] = [
        (Split::Train, "train"),
        (Split::Test, "test"),
        (Split::Unlabeled, "unlabeled"),
        (Split::TrainUnlabeled, "train+unlabeled"),
        (Split::TrainTest, "train+test"),
        (Split::Valid, "valid"),
        (Split::All, "all"),
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        name_of(&Self::ALL, self)
    }
}

impl std::str::FromStr for Split {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        parse_name(&Self::ALL, s, "split")
    }
}

impl TryFrom<Split> for MnistSplit {
    type Error = DataError;

    fn try_from(split: Split) -> Result<Self> {
        match split {
            Split::Train => Ok(MnistSplit::Train),
            Split::Test => Ok(MnistSplit::Test),
            other => Err(DatasetName::Mnist.unknown_split(other)),
        }
    }
}

impl TryFrom<Split> for CifarSplit {
    type Error = DataError;

    fn try_from(split: Split) -> Result<Self> {
        match split {
            Split::Train => Ok(CifarSplit::Train),
            Split::Test => Ok(CifarSplit::Test),
            other => Err(DatasetName::Cifar10.unknown_split(other)),
        }
    }
}

impl TryFrom<Split> for Stl10Split {
    type Error = DataError;

    fn try_from(split: Split) -> Result<Self> {
        match split {
            Split::Train => Ok(Stl10Split::Train),
            Split::Test => Ok(Stl10Split::Test),
            Split::Unlabeled => Ok(Stl10Split::Unlabeled),
            Split::TrainUnlabeled => Ok(Stl10Split::TrainUnlabeled),
            Split::TrainTest => Ok(Stl10Split::TrainTest),
            other => Err(DatasetName::Stl10.unknown_split(other)),
        }
    }
}

impl TryFrom<Split> for CelebaSplit {
    type Error = DataError;

    fn try_from(split: Split) -> Result<Self> {
        match split {
            Split::All => Ok(CelebaSplit::All),
            Split::Train => Ok(CelebaSplit::Train),
            Split::Valid => Ok(CelebaSplit::Valid),
            Split::Test => Ok(CelebaSplit::Test),
            other => Err(DatasetName::CelebA.unknown_split(other)),
        }
    }
}

/// ImageNet preprocessing conventions.
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

/// Which images a run (or a statistics pass) reads and how they are prepared; the path is given
/// at run time (`--data`). Every `None` keeps the reader's default, which reproduces the BSSN
/// inputs.
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// The data set.
    pub dataset: DatasetName,
    /// Split; `None` is the one GAN papers train on (STL-10 unlabelled, CelebA all, else train).
    #[config(default = "None")]
    pub split: Option<Split>,
    /// Side the images are resized to; `None` keeps the reader's default (MNIST 28, CIFAR 32,
    /// STL-10 96, CelebA 64, ImageNet 128).
    #[config(default = "None")]
    pub size: Option<usize>,
    /// Resize filter; `None`: `Cv2Linear` for STL-10 and the BSSN pipelines, `PilBilinear` for
    /// MNIST/CIFAR resizes and the other crops.
    #[config(default = "None")]
    pub filter: Option<Filter>,
    /// CelebA crop (BSSN 128 by default; mimicry's centre 178, DCGAN's 108, torchvision's 140).
    #[config(default = "None")]
    pub celeba_crop: Option<CelebaCrop>,
    /// ImageNet crop and resize convention (BSSN by default, or BigGAN's).
    #[config(default = "None")]
    pub imagenet_style: Option<ImageNetStyle>,
    /// Random horizontal flips.
    #[config(default = false)]
    pub flip: bool,
}

impl DataConfig {
    /// The split read: the configured one, or the data set's first (the one GAN papers train on).
    pub fn split(&self) -> Split {
        self.split.unwrap_or(self.dataset.splits()[0])
    }

    /// `[height, width, channels]` of the images [`open`](Self::open) yields (a BSSN `.npy`
    /// ImageNet folder keeps the size its files have).
    pub fn image_shape(&self) -> [usize; 3] {
        let [side, _, channels] = self.dataset.default_shape();
        let side = self.size.unwrap_or(side);
        [side, side, channels]
    }

    /// Classes every image of the split is labelled with, when known before reading (STL-10's
    /// unlabelled images and CelebA have none; an image folder's count depends on its folders).
    pub fn num_classes(&self) -> Option<usize> {
        match (self.dataset, self.split()) {
            (DatasetName::Mnist | DatasetName::Cifar10, _) => Some(10),
            (DatasetName::Cifar100, _) => Some(100),
            (DatasetName::Stl10, Split::Train | Split::Test | Split::TrainTest) => Some(10),
            (DatasetName::ImageNet, _) => Some(1000),
            _ => None,
        }
    }

    /// Checks every field against the data set; `Err` names the field, its value and what is
    /// allowed.
    pub fn validate(&self) -> std::result::Result<(), InvalidField> {
        let dataset = self.dataset;
        if let Some(split) = self.split {
            let allowed: Vec<&str> = dataset.splits().iter().map(|s| s.name()).collect();
            ensure(
                dataset.splits().contains(&split),
                "split",
                format!("{split:?}"),
                &format!("{dataset} has the splits {}", allowed.join(", ")),
            )?;
        }
        if let Some(size) = self.size {
            ensure(size > 0, "size", size, "a positive side in pixels")?;
        }
        ensure(
            self.celeba_crop.is_none() || dataset == DatasetName::CelebA,
            "celeba_crop",
            format!("{:?}", self.celeba_crop),
            &format!("null for {dataset} (CelebA only)"),
        )?;
        ensure(
            self.imagenet_style.is_none()
                || matches!(dataset, DatasetName::ImageNet | DatasetName::ImageFolder),
            "imagenet_style",
            format!("{:?}", self.imagenet_style),
            &format!("null for {dataset} (ImageNet and image folders only)"),
        )
    }

    /// Opens the configured data set at `path` (checking the published image counts).
    ///
    /// Packed sets (MNIST, CIFAR, STL-10) are read into memory; CelebA and ImageNet are decoded
    /// on demand. ImageNet at a file path is the train tar of tars, at a folder of `.npy` class
    /// folders the BSSN layout, otherwise an ImageFolder of JPEGs.
    pub fn open(&self, path: &Path) -> Result<Arc<dyn ImageSource>> {
        self.open_checked(path, true)
    }

    /// [`open`](Self::open) without the published-count checks, for a part of a data set.
    pub fn open_partial(&self, path: &Path) -> Result<Arc<dyn ImageSource>> {
        self.open_checked(path, false)
    }

    fn open_checked(&self, path: &Path, check_counts: bool) -> Result<Arc<dyn ImageSource>> {
        let split = self.split();
        let filter = self.filter;
        Ok(match self.dataset {
            DatasetName::Mnist => {
                let images = load_mnist(path, split.try_into()?, check_counts)?;
                self.in_memory(images)
            }
            dataset @ (DatasetName::Cifar10 | DatasetName::Cifar100) => {
                let variant = match dataset {
                    DatasetName::Cifar10 => CifarVariant::Cifar10,
                    _ => CifarVariant::Cifar100,
                };
                let cifar = CifarOptions {
                    check_counts,
                    ..CifarOptions::default()
                };
                let images = load_cifar(path, variant, split.try_into()?, cifar)?;
                self.in_memory(images)
            }
            DatasetName::Stl10 => {
                let stl = Stl10Options {
                    resize: self
                        .size
                        .filter(|&s| s != STL10_SIDE)
                        .map(|s| (s, filter.unwrap_or(Filter::Cv2Linear))),
                    check_counts,
                };
                Arc::new(load_stl10(path, split.try_into()?, stl)?)
            }
            DatasetName::CelebA => {
                let crop = self.celeba_crop.unwrap_or(CelebaCrop::Bssn128);
                let mut pipeline = crop.pipeline(self.image_shape()[0]);
                if let (Some(f), Some((size, _))) = (filter, pipeline.resize) {
                    pipeline.resize = Some((size, f));
                }
                Arc::new(CelebA::open_with(path, split.try_into()?, pipeline)?)
            }
            dataset @ (DatasetName::ImageNet | DatasetName::ImageFolder) => {
                let size = self.image_shape()[0];
                let mut pipeline = match self.imagenet_style.unwrap_or_default() {
                    ImageNetStyle::Bssn => Pipeline::bssn_imagenet(size),
                    ImageNetStyle::BigGan => Pipeline::biggan_imagenet(size),
                };
                if let (Some(f), Some((s, _))) = (filter, pipeline.resize) {
                    pipeline.resize = Some((s, f));
                }
                if split != Split::Train {
                    return Err(dataset.unknown_split(split));
                }
                if path.is_file() {
                    Arc::new(TarOfTars::open(path, pipeline)?)
                } else if dataset == DatasetName::ImageNet && has_npy_classes(path) {
                    Arc::new(NpyFolder::open(path, check_counts)?)
                } else {
                    Arc::new(ImageFolder::open(path, pipeline)?)
                }
            }
        })
    }

    /// In-memory images of a packed data set (MNIST, CIFAR; for instance a copy embedded in a
    /// binary), resized as [`open`](Self::open) resizes them (PIL bilinear unless `filter` says
    /// otherwise).
    pub fn in_memory(&self, images: Images) -> Arc<dyn ImageSource> {
        let filter = self.filter.unwrap_or(Filter::PilBilinear);
        Arc::new(match self.size {
            Some(s) if s != images.height || s != images.width => {
                let rz = Resizer::new(images.height, images.width, s, s, filter);
                let cn = images.channels;
                images.map(s, s, |src| rz.resize_raw(src, cn))
            }
            _ => images,
        })
    }
}

/// `value`'s name in a table of an enum's command-line spellings.
pub(crate) fn name_of<T: PartialEq>(all: &[(T, &'static str)], value: T) -> &'static str {
    all.iter().find(|(v, _)| *v == value).map_or("", |(_, n)| n)
}

/// The value a table of command-line spellings gives `name`; `what` names the kind in errors.
pub(crate) fn parse_name<T: Copy>(
    all: &[(T, &'static str)],
    name: &str,
    what: &'static str,
) -> Result<T> {
    all.iter()
        .find(|(_, n)| *n == name)
        .map(|(v, _)| *v)
        .ok_or_else(|| DataError::Unknown {
            what,
            expected: all.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", "),
            found: name.into(),
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
