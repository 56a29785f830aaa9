//! uint8 images: one HWC [`Image`], and [`Images`], `N` of one shape stored `[N, H, W, C]` with
//! optional labels. It is what every data reader yields, what `sngan sample` writes and `sngan
//! eval` reads (the layout pytorch-fid, torch-fidelity and StudioGAN read from `.npz`/`.npy`),
//! and, borrowed as [`ImagesRef`], what every metric takes.

use std::path::Path;

use rayon::prelude::*;

use crate::error::{Result, format_error, show};
use crate::npy::{Array, Npz, NpzWriter, read_array};

/// One 8-bit image, rows top to bottom, pixels left to right, channels interleaved (HWC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels per pixel (1 grey, 3 RGB).
    pub channels: usize,
    /// `height * width * channels` bytes, index `(y * width + x) * channels + c`.
    pub pixels: Vec<u8>,
}

impl Image {
    /// Wraps `pixels` (HWC).
    ///
    /// # Panics
    /// If `pixels.len() != height * width * channels` (a caller bug, not bad data).
    pub fn new(height: usize, width: usize, channels: usize, pixels: Vec<u8>) -> Self {
        assert_eq!(
            pixels.len(),
            height * width * channels,
            "pixel buffer should hold height * width * channels bytes"
        );
        Self {
            height,
            width,
            channels,
            pixels,
        }
    }

    /// `[height, width, channels]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.height, self.width, self.channels]
    }

    /// The value at row `y`, column `x`, channel `c`.
    pub fn get(&self, y: usize, x: usize, c: usize) -> u8 {
        self.pixels[(y * self.width + x) * self.channels + c]
    }

    /// The image as a `(H, W, C)` uint8 array (for `.npy` files such as BSSN's ImageNet cache).
    pub fn to_array(&self) -> Array {
        Array::from_u8(&self.shape(), self.pixels.clone())
    }

    /// An image from the bytes of a `.npy` file of uint8 `(H, W, C)`, C 1 or 3 (BSSN's ImageNet
    /// layout); `name` labels errors.
    pub fn from_npy(bytes: &[u8], name: &str) -> Result<Self> {
        let array = Array::parse(bytes, name)?;
        let pixels = array.to_u8(name)?.to_vec();
        match *array.shape.as_slice() {
            [h, w, c] if c == 1 || c == 3 => Ok(Self::new(h, w, c, pixels)),
            _ => Err(format_error(
                name,
                "a uint8 image of shape (H, W, 1 or 3)",
                format!("shape {:?}", array.shape),
            )),
        }
    }
}

/// `N` images of one shape with optional labels, pixels stored `[N, H, W, C]` in one buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// Rows of every image.
    pub height: usize,
    /// Columns of every image.
    pub width: usize,
    /// Channels of every image.
    pub channels: usize,
    /// `N * H * W * C` bytes.
    pub pixels: Vec<u8>,
    /// One entry per image; `None` for unlabelled images (STL-10 `unlabeled`, CelebA).
    pub labels: Vec<Option<u32>>,
    /// Number of classes of the data set (labels are `0..num_classes`), `None` when unknown.
    pub num_classes: Option<usize>,
    /// Class names in label order, where the data set ships them.
    pub class_names: Vec<String>,
}

impl Images {
    /// An empty set of `height x width x channels` images.
    pub fn empty(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
            pixels: Vec::new(),
            labels: Vec::new(),
            num_classes: None,
            class_names: Vec::new(),
        }
    }

    /// Unlabelled images from NHWC bytes; the length must be `n * h * w * c`.
    pub fn from_nhwc(pixels: Vec<u8>, [n, h, w, c]: [usize; 4]) -> Result<Self> {
        ImagesRef::new(&pixels, [n, h, w, c])?;
        Ok(Self {
            pixels,
            labels: vec![None; n],
            ..Self::empty(h, w, c)
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[H, W, C]` of every image.
    pub fn shape(&self) -> [usize; 3] {
        [self.height, self.width, self.channels]
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The borrowed NHWC view.
    pub fn view(&self) -> ImagesRef<'_> {
        ImagesRef {
            data: &self.pixels,
            shape: [self.len(), self.height, self.width, self.channels],
        }
    }

    /// The HWC bytes of image `index`.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn pixels_of(&self, index: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Image `index` as an owned [`Image`].
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn image(&self, index: usize) -> Image {
        Image::new(
            self.height,
            self.width,
            self.channels,
            self.pixels_of(index).to_vec(),
        )
    }

    /// Count of images per label (`num_classes` entries; empty when unlabelled) and the number of
    /// unlabelled images.
    pub fn histogram(&self) -> (Vec<usize>, usize) {
        let mut counts = vec![0usize; self.num_classes.unwrap_or(0)];
        let mut unlabelled = 0;
        for label in &self.labels {
            match label {
                Some(l) if (*l as usize) < counts.len() => counts[*l as usize] += 1,
                Some(_) | None => unlabelled += 1,
            }
        }
        (counts, unlabelled)
    }

    /// Appends `other` (same shape); labels and class names of `self` win where both have some.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn extend(&mut self, other: Images) {
        assert_eq!(
            self.shape(),
            other.shape(),
            "appended images should have the same shape"
        );
        self.pixels.extend_from_slice(&other.pixels);
        self.labels.extend(other.labels);
        self.num_classes = self.num_classes.or(other.num_classes);
        if self.class_names.is_empty() {
            self.class_names = other.class_names;
        }
    }

    /// Applies `f` to every image in parallel, giving a new set of `height x width` images with
    /// the same labels (used for resizes).
    pub fn map(&self, height: usize, width: usize, f: impl Fn(&[u8]) -> Vec<u8> + Sync) -> Images {
        let n_in = self.image_len();
        let n_out = height * width * self.channels;
        let mut pixels = vec![0u8; self.len() * n_out];
        if n_in > 0 && n_out > 0 {
            pixels
                .par_chunks_mut(n_out)
                .zip(self.pixels.par_chunks(n_in))
                .for_each(|(dst, src)| dst.copy_from_slice(&f(src)));
        }
        Images {
            height,
            width,
            channels: self.channels,
            pixels,
            labels: self.labels.clone(),
            num_classes: self.num_classes,
            class_names: self.class_names.clone(),
        }
    }

    /// Reads images from `.npy`, or from `.npz` (the array `x`, `images`, `samples` or `arr_0`,
    /// or the only array, with labels from `y` when present). Accepts uint8 `[n, h, w, c]` with
    /// c in {1, 3}, `[n, h, w]` (grey) and `[n, c, h, w]` with c in {1, 3} (transposed to NHWC).
    pub fn read(path: &Path) -> Result<Self> {
        let names = ["x", "images", "samples", "arr_0"];
        let array = read_array(path, &names)?;
        let data = array.to_u8(&show(path))?;
        let mut images = match *array.shape.as_slice() {
            [n, h, w] => Self::from_nhwc(data.to_vec(), [n, h, w, 1])?,
            [n, h, w, c] if c == 1 || c == 3 => Self::from_nhwc(data.to_vec(), [n, h, w, c])?,
            [n, c, h, w] if c == 1 || c == 3 => {
                let mut out = vec![0u8; data.len()];
                for i in 0..n {
                    for ch in 0..c {
                        for p in 0..h * w {
                            out[(i * h * w + p) * c + ch] = data[(i * c + ch) * h * w + p];
                        }
                    }
                }
                Self::from_nhwc(out, [n, h, w, c])?
            }
            _ => {
                return Err(format_error(
                    show(path),
                    "uint8 images [n, h, w, c] with c in {1, 3}, [n, c, h, w] or [n, h, w]",
                    format!("shape {:?}", array.shape),
                ));
            }
        };
        if let Ok(mut npz) = Npz::open(path)
            && npz.has("y")
        {
            let labels = npz.array("y")?.to_i64(&format!("{}:y", show(path)))?;
            if labels.len() != images.len() {
                return Err(format_error(
                    format!("{}:y", show(path)),
                    format!("one label per image ({})", images.len()),
                    format!("{} labels", labels.len()),
                ));
            }
            images.labels = labels.iter().map(|&l| u32::try_from(l).ok()).collect();
        }
        Ok(images)
    }

    /// Writes the images atomically as uint8 NHWC: a `.npz` holds them as `x` (and the labels as
    /// int64 `y` when every image has one), a `.npy` the images alone.
    pub fn write(&self, path: &Path) -> Result<()> {
        let x = Array::from_u8(
            &[self.len(), self.height, self.width, self.channels],
            self.pixels.clone(),
        );
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => x.write_npy(path),
            Some("npz") => {
                let mut npz = NpzWriter::create(path)?;
                npz.add("x", &x)?;
                let labels: Option<Vec<i64>> =
                    self.labels.iter().map(|l| l.map(i64::from)).collect();
                if let Some(y) = labels.filter(|y| !y.is_empty()) {
                    npz.add("y", &Array::from_i64(&[y.len()], &y))?;
                }
                npz.finish()
            }
            _ => Err(format_error(
                show(path),
                "a file name ending in .npz or .npy",
                "another extension",
            )),
        }
    }
}

/// A borrowed uint8 batch in NHWC order.
#[derive(Debug, Clone, Copy)]
pub struct ImagesRef<'a> {
    data: &'a [u8],
    shape: [usize; 4],
}

impl<'a> ImagesRef<'a> {
    /// Wraps `data` as `[n, h, w, c]`; the length must be `n*h*w*c`.
    pub fn new(data: &'a [u8], shape: [usize; 4]) -> Result<Self> {
        let expected = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(format_error(
                "images",
                format!("{expected:?} bytes for shape {shape:?} (NHWC)"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_through_npz_with_labels_and_npy_without() {
        let dir = std::env::temp_dir().join(format!("sngan-core-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut images =
            Images::from_nhwc((0..2 * 3 * 2 * 3).map(|i| i as u8).collect(), [2, 3, 2, 3])
                .expect("shape");
        images.labels = vec![Some(4), Some(0)];
        images.write(&dir.join("a.npz")).expect("npz");
        assert_eq!(Images::read(&dir.join("a.npz")).expect("read npz"), images);
        images.write(&dir.join("a.npy")).expect("npy");
        let back = Images::read(&dir.join("a.npy")).expect("read npy");
        assert_eq!(
            (back.pixels, back.labels),
            (images.pixels.clone(), vec![None, None])
        );
        let e = images.write(&dir.join("a.png")).expect_err("extension");
        assert!(e.to_string().contains("a.png"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }
}
