//! The one interface every reader offers to training: [`ImageSource`], random access to
//! equally shaped `u8` HWC images and their labels, with errors instead of panics. In-memory
//! sets ([`Images`]) and lazy ones (CelebA JPEGs, ImageNet files and tars) implement it; the
//! Burn [`Dataset`] wrapper and the batchers in `batch.rs` build on it.

use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use rayon::prelude::*;

use crate::error::{DataError, Result};
use sngan_core::CoreError;
use sngan_core::{Image, Images};

/// Random access to `len()` images of one shape `[H, W, C]`.
pub trait ImageSource: Send + Sync {
    /// Number of images.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[H, W, C]` of every image this source yields.
    fn shape(&self) -> [usize; 3];

    /// Classes (labels are `0..n`); `None` when unlabelled.
    fn num_classes(&self) -> Option<usize>;

    /// Label of image `index` (`None` for unlabelled images).
    fn label(&self, index: usize) -> Option<u32>;

    /// Writes image `index` as HWC bytes into `out` (`H * W * C` long).
    ///
    /// # Panics
    /// If `index >= len()` or `out` has the wrong length (caller bugs).
    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()>;

    /// The file or `archive:member` image `index` comes from, for messages.
    fn describe(&self, index: usize) -> String;

    /// Image `index` as an owned [`Image`].
    fn load(&self, index: usize) -> Result<Image> {
        let [h, w, c] = self.shape();
        let mut pixels = vec![0u8; h * w * c];
        self.load_into(index, &mut pixels)?;
        Ok(Image::new(h, w, c, pixels))
    }
}

impl ImageSource for Images {
    fn len(&self) -> usize {
        Images::len(self)
    }

    fn shape(&self) -> [usize; 3] {
        Images::shape(self)
    }

    fn num_classes(&self) -> Option<usize> {
        self.num_classes
    }

    fn label(&self, index: usize) -> Option<u32> {
        self.labels[index]
    }

    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        out.copy_from_slice(self.pixels_of(index));
        Ok(())
    }

    fn describe(&self, index: usize) -> String {
        format!("image {index}")
    }
}

impl<S: ImageSource + ?Sized> ImageSource for Arc<S> {
    fn len(&self) -> usize {
        self.as_ref().len()
    }
    fn shape(&self) -> [usize; 3] {
        self.as_ref().shape()
    }
    fn num_classes(&self) -> Option<usize> {
        self.as_ref().num_classes()
    }
    fn label(&self, index: usize) -> Option<u32> {
        self.as_ref().label(index)
    }
    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        self.as_ref().load_into(index, out)
    }
    fn describe(&self, index: usize) -> String {
        self.as_ref().describe(index)
    }
}

impl<S: ImageSource + ?Sized> ImageSource for Box<S> {
    fn len(&self) -> usize {
        self.as_ref().len()
    }
    fn shape(&self) -> [usize; 3] {
        self.as_ref().shape()
    }
    fn num_classes(&self) -> Option<usize> {
        self.as_ref().num_classes()
    }
    fn label(&self, index: usize) -> Option<u32> {
        self.as_ref().label(index)
    }
    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        self.as_ref().load_into(index, out)
    }
    fn describe(&self, index: usize) -> String {
        self.as_ref().describe(index)
    }
}

/// Decodes every image of `source` in parallel into memory (a cache that makes later epochs
/// free: CelebA at 64x64 is 2.5 GB). The first failing image stops it with its error.
pub fn materialize(source: &dyn ImageSource) -> Result<Images> {
    let [h, w, c] = source.shape();
    let n = source.len();
    let per = h * w * c;
    let mut pixels = vec![0u8; n * per];
    if per > 0 {
        pixels
            .par_chunks_mut(per)
            .enumerate()
            .try_for_each(|(i, out)| source.load_into(i, out))?;
    }
    Ok(Images {
        height: h,
        width: w,
        channels: c,
        pixels,
        labels: (0..n).map(|i| source.label(i)).collect(),
        num_classes: source.num_classes(),
        class_names: Vec::new(),
    })
}

/// One image with its label and index, the item of [`ImageDataset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageItem {
    /// HWC bytes.
    pub image: Image,
    /// Class, `None` when unlabelled.
    pub label: Option<u32>,
    /// Index in the source.
    pub index: usize,
}

/// Any [`ImageSource`] as a Burn [`Dataset`] of [`ImageItem`]s, for `DataLoaderBuilder`.
///
/// `get` returns an error for an unreadable image (never a panic: a panic in a Burn loader
/// worker silently shortens the epoch, research/data.md section 11) and panics only for an
/// index out of range, as the trait demands.
#[derive(Clone)]
pub struct ImageDataset {
    source: Arc<dyn ImageSource>,
}

impl ImageDataset {
    /// Wraps a source.
    pub fn new(source: Arc<dyn ImageSource>) -> Self {
        Self { source }
    }

    /// The wrapped source.
    pub fn source(&self) -> &Arc<dyn ImageSource> {
        &self.source
    }
}

impl Dataset<ImageItem> for ImageDataset {
    fn get(&self, index: usize) -> std::result::Result<ImageItem, DatasetError> {
        let len = self.source.len();
        assert!(
            index < len,
            "Index out of bounds for dataset: {index} >= {len}"
        );
        let image = self.source.load(index).map_err(DatasetError::new)?;
        Ok(ImageItem {
            image,
            label: self.source.label(index),
            index,
        })
    }

    fn len(&self) -> usize {
        self.source.len()
    }
}

/// Checks that `index < len` for sources that build on other indexable data.
pub(crate) fn check_index(index: usize, len: usize) {
    assert!(
        index < len,
        "image index {index} out of range for {len} images"
    );
}

/// An error for an image whose decoded shape differs from the source's.
pub(crate) fn shape_error(name: String, expected: [usize; 3], found: [usize; 3]) -> DataError {
    DataError::Core(CoreError::Format {
        path: name,
        expected: format!("a {}x{}x{} image", expected[0], expected[1], expected[2]),
        found: format!("{}x{}x{}", found[0], found[1], found[2]),
    })
}
