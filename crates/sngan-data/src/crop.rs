//! Crops used by the reference pipelines: fixed boxes (CelebA presets), centre crops with the
//! two roundings in use (floor `//2` in BSSN, SNGAN-projection and mmgeneration; Python 3
//! `round()` ties-to-even in torchvision `center_crop`), and the long-edge centre square of
//! BigGAN (research/data.md sections 5.2, 6.2, 6.3).

use sngan_core::Image;

/// A crop rectangle in pixels; `left + width <= image width`, `top + height <= image height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CropBox {
    /// First column kept.
    pub left: usize,
    /// First row kept.
    pub top: usize,
    /// Columns kept.
    pub width: usize,
    /// Rows kept.
    pub height: usize,
}

/// How a centre offset `(size - crop) / 2` is rounded when the difference is odd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CropRounding {
    /// `(size - crop) // 2`: the extra pixel goes to the right/bottom margin (BSSN, mmgeneration).
    Floor,
    /// `int(round((size - crop) / 2.0))` in Python 3, ties to even (torchvision `center_crop`).
    HalfEven,
}

fn centre_offset(size: usize, crop: usize, rounding: CropRounding) -> usize {
    let d = size - crop;
    match rounding {
        CropRounding::Floor => d / 2,
        // d / 2 is exact or a tie at .5; ties go to the even neighbour.
        CropRounding::HalfEven => {
            if d.is_multiple_of(2) {
                d / 2
            } else {
                let lo = d / 2;
                if lo.is_multiple_of(2) { lo } else { lo + 1 }
            }
        }
    }
}

impl CropBox {
    /// The `crop_h x crop_w` box centred in a `height x width` image, or `None` if the crop does
    /// not fit.
    pub fn centre(
        height: usize,
        width: usize,
        crop_h: usize,
        crop_w: usize,
        rounding: CropRounding,
    ) -> Option<Self> {
        (crop_h <= height && crop_w <= width).then(|| Self {
            left: centre_offset(width, crop_w, rounding),
            top: centre_offset(height, crop_h, rounding),
            width: crop_w,
            height: crop_h,
        })
    }

    /// The centred `min(h, w)` square (BSSN ImageNet, BigGAN `CenterCropLongEdge`).
    pub fn centre_square(height: usize, width: usize, rounding: CropRounding) -> Self {
        let s = height.min(width);
        Self {
            left: centre_offset(width, s, rounding),
            top: centre_offset(height, s, rounding),
            width: s,
            height: s,
        }
    }

    /// Whether the box lies inside a `height x width` image.
    pub fn fits(&self, height: usize, width: usize) -> bool {
        self.left + self.width <= width && self.top + self.height <= height
    }
}

/// Copies `bx` out of `image`, or `None` if the box does not fit.
pub fn crop(image: &Image, bx: CropBox) -> Option<Image> {
    if !bx.fits(image.height, image.width) {
        return None;
    }
    let cn = image.channels;
    let mut pixels = Vec::with_capacity(bx.width * bx.height * cn);
    for y in bx.top..bx.top + bx.height {
        let start = (y * image.width + bx.left) * cn;
        pixels.extend_from_slice(&image.pixels[start..start + bx.width * cn]);
    }
    Some(Image::new(bx.height, bx.width, cn, pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_offsets_follow_floor_and_python3_round() {
        // (375 - 250) / 2 = 62.5 -> floor 62, round-half-even 62
        assert_eq!(centre_offset(375, 250, CropRounding::Floor), 62);
        assert_eq!(centre_offset(375, 250, CropRounding::HalfEven), 62);
        // (333 - 250) / 2 = 41.5 -> floor 41, round-half-even 42
        assert_eq!(centre_offset(333, 250, CropRounding::Floor), 41);
        assert_eq!(centre_offset(333, 250, CropRounding::HalfEven), 42);
        assert_eq!(centre_offset(218, 128, CropRounding::Floor), 45);
        assert_eq!(centre_offset(178, 128, CropRounding::Floor), 25);
    }

    #[test]
    fn celeba_boxes_of_the_papers() {
        let b = CropBox::centre(218, 178, 108, 108, CropRounding::HalfEven);
        assert_eq!(
            b,
            Some(CropBox {
                left: 35,
                top: 55,
                width: 108,
                height: 108
            })
        );
        let b = CropBox::centre(218, 178, 140, 140, CropRounding::HalfEven);
        assert_eq!(b.map(|b| (b.left, b.top)), Some((19, 39)));
        let b = CropBox::centre_square(218, 178, CropRounding::HalfEven);
        assert_eq!((b.left, b.top, b.width), (0, 20, 178));
        assert_eq!(
            CropBox::centre(100, 90, 128, 128, CropRounding::Floor),
            None
        );
    }

    #[test]
    fn crop_copies_the_box() {
        let pixels: Vec<u8> = (0..4 * 5 * 2).map(|v| v as u8).collect();
        let img = Image::new(4, 5, 2, pixels);
        let bx = CropBox {
            left: 1,
            top: 2,
            width: 3,
            height: 2,
        };
        let out = crop(&img, bx).expect("box fits");
        assert_eq!(out.shape(), [2, 3, 2]);
        assert_eq!(out.get(0, 0, 0), img.get(2, 1, 0));
        assert_eq!(out.get(1, 2, 1), img.get(3, 3, 1));
    }
}
