//! In-memory images: one `u8` HWC image ([`Image`]) and a labelled set of equally sized ones
//! ([`Images`]), the form every reader produces before the batcher turns pixels into tensors
//! (research/data.md section 2).

use rayon::prelude::*;

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
    /// Number of classes of the data set (labels are `0..num_classes`), `None` when unlabelled.
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
}
