//! Decode-side preprocessing as data: a crop followed by a resize, with the named presets of
//! the reference pipelines for CelebA (BSSN, DCGAN, the "140" crop, mimicry) and ImageNet
//! (BSSN `.npy` preprocessing, BigGAN `CenterCropLongEdge` + `Resize`), research/data.md
//! sections 5.2, 6.2 and 6.3.

use crate::config::{name_of, parse_name};
use crate::crop::{CropBox, CropRounding, crop};
use crate::error::{DataError, Result};
use crate::resize::{Filter, Resizer};
use sngan_core::Image;

/// The crop step of a [`Pipeline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Crop {
    /// Keep the whole image.
    None,
    /// A `height x width` box centred with the given rounding.
    Centre {
        /// Rows kept.
        height: usize,
        /// Columns kept.
        width: usize,
        /// Offset rounding for odd margins.
        rounding: CropRounding,
    },
    /// The centred `min(h, w)` square.
    CentreSquare(CropRounding),
    /// A fixed box.
    Box(CropBox),
}

/// Crop, then resize to a fixed size (or keep the crop's size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pipeline {
    /// Crop step.
    pub crop: Crop,
    /// Output `[height, width]` and filter; `None` keeps the cropped size.
    pub resize: Option<([usize; 2], Filter)>,
}

/// The CelebA crops of the GAN literature (image 178 wide x 218 high).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CelebaCrop {
    /// BSSN: 128x128 at (25, 45) (floor centring), `cv2.resize` to the output
    /// (exact 2x to 64 = 2x2 mean). `fjxmlzn/BSN dataset_preprocess/CelebA/preprocess.py`.
    Bssn128,
    /// DCGAN-tensorflow: 108x108 at (35, 55), PIL bilinear (`scipy.misc.imresize`).
    Dcgan108,
    /// torchvision `CenterCrop(140)` + `Resize`: 140x140 at (19, 39), PIL bilinear.
    Crop140,
    /// mimicry `CenterCrop(178)` + `Resize`: 178x178 at (0, 20), PIL bilinear.
    Mimicry178,
}

impl CelebaCrop {
    /// Every preset with its name.
    pub const ALL: [(CelebaCrop, &'static str); 4] = [
        (CelebaCrop::Bssn128, "bssn128"),
        (CelebaCrop::Dcgan108, "dcgan108"),
        (CelebaCrop::Crop140, "crop140"),
        (CelebaCrop::Mimicry178, "mimicry178"),
    ];

    /// Side of the square crop.
    pub fn side(self) -> usize {
        match self {
            CelebaCrop::Bssn128 => 128,
            CelebaCrop::Dcgan108 => 108,
            CelebaCrop::Crop140 => 140,
            CelebaCrop::Mimicry178 => 178,
        }
    }

    /// Name of the preset.
    pub fn name(self) -> &'static str {
        name_of(&Self::ALL, self)
    }

    /// Crop + resize to `size x size` as the reference code does it.
    pub fn pipeline(self, size: usize) -> Pipeline {
        let (rounding, filter) = match self {
            CelebaCrop::Bssn128 => (CropRounding::Floor, Filter::Cv2Linear),
            _ => (CropRounding::HalfEven, Filter::PilBilinear),
        };
        Pipeline {
            crop: Crop::Centre {
                height: self.side(),
                width: self.side(),
                rounding,
            },
            resize: Some(([size, size], filter)),
        }
    }
}

impl std::str::FromStr for CelebaCrop {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        parse_name(&Self::ALL, s, "CelebA crop")
    }
}

impl Pipeline {
    /// No crop, no resize.
    pub fn identity() -> Self {
        Self {
            crop: Crop::None,
            resize: None,
        }
    }

    /// BSSN ImageNet: centre square with floor offsets, `cv2.resize` INTER_LINEAR to
    /// `size x size` (also upscaling), `fjxmlzn/BSN dataset_preprocess/ImageNet/preprocess.py`.
    pub fn bssn_imagenet(size: usize) -> Self {
        Self {
            crop: Crop::CentreSquare(CropRounding::Floor),
            resize: Some(([size, size], Filter::Cv2Linear)),
        }
    }

    /// BigGAN ImageNet: `CenterCropLongEdge` (torchvision `center_crop`, round half to even)
    /// then `transforms.Resize(size)` = PIL bilinear, `ajbrock/BigGAN-PyTorch utils.py`.
    pub fn biggan_imagenet(size: usize) -> Self {
        Self {
            crop: Crop::CentreSquare(CropRounding::HalfEven),
            resize: Some(([size, size], Filter::PilBilinear)),
        }
    }

    /// The output `[height, width]` when it does not depend on the input size.
    pub fn output_size(&self) -> Option<[usize; 2]> {
        match (self.resize, self.crop) {
            (Some((size, _)), _) => Some(size),
            (None, Crop::Centre { height, width, .. }) => Some([height, width]),
            (None, Crop::Box(b)) => Some([b.height, b.width]),
            (None, Crop::None | Crop::CentreSquare(_)) => None,
        }
    }

    /// Applies the crop and the resize; `name` labels errors (image too small for the crop).
    pub fn apply(&self, image: Image, name: &str) -> Result<Image> {
        let (h, w) = (image.height, image.width);
        let bx = match self.crop {
            Crop::None => None,
            Crop::Centre {
                height,
                width,
                rounding,
            } => Some(
                CropBox::centre(h, w, height, width, rounding).ok_or_else(|| {
                    DataError::TooSmall {
                        path: name.into(),
                        crop: format!("{width}x{height} centre"),
                        expected: format!("{width}x{height}"),
                        found: format!("{w}x{h}"),
                    }
                })?,
            ),
            Crop::CentreSquare(rounding) => Some(CropBox::centre_square(h, w, rounding)),
            Crop::Box(b) => {
                if !b.fits(h, w) {
                    return Err(DataError::TooSmall {
                        path: name.into(),
                        crop: format!("{}x{} at ({}, {})", b.width, b.height, b.left, b.top),
                        expected: format!("{}x{}", b.left + b.width, b.top + b.height),
                        found: format!("{w}x{h}"),
                    });
                }
                Some(b)
            }
        };
        let cropped = match bx {
            Some(b) if !(b.left == 0 && b.top == 0 && b.width == w && b.height == h) => {
                crop(&image, b).ok_or_else(|| DataError::TooSmall {
                    path: name.into(),
                    crop: "centre".into(),
                    expected: format!("{}x{}", b.width, b.height),
                    found: format!("{w}x{h}"),
                })?
            }
            _ => image,
        };
        Ok(match self.resize {
            Some(([dh, dw], filter)) => {
                Resizer::new(cropped.height, cropped.width, dh, dw, filter).resize(&cropped)
            }
            None => cropped,
        })
    }
}
