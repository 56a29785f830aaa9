//! The FID Inception (TF `inception-2015-12-05`) in Burn: network, weights, preprocessing, and
//! an extractor that turns uint8 images into pool3 features and logits in batches.

mod model;
mod preprocess;
mod weights;

pub use model::{
    BN_EPS, BasicConv2d, BasicConv2dConfig, FidInception, FidInceptionConfig, INPUT_SIZE,
    InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, InceptionOutput, NUM_CLASSES,
    POOL3_DIM,
};
pub use preprocess::{Preprocess, resize_pil_bicubic, resize_tf1_bilinear, resize_torch_bilinear};
pub use weights::{
    FID_WEIGHTS_FILE, FID_WEIGHTS_SHA256_PREFIX, FID_WEIGHTS_URL, STATE_DICT_TENSORS,
    burn_to_torch_key, fnv1a64, hash_init, hash_init_tensor, hash_uniform, load_fid_inception,
    state_dict_layout, torch_to_burn_key,
};

use burn::prelude::*;

use crate::error::{MetricsError, Result};
use crate::features::Features;
use sngan_core::ImagesRef;

/// Name recorded in statistics files for pool3 features of this network.
pub const POOL3_FEATURES: &str = "inception-2015-12-05/pool3";

/// pool3 features and bias-free logits of a set of images.
#[derive(Debug, Clone)]
pub struct InceptionFeatures {
    /// `[n, 2048]`.
    pub pool3: Features,
    /// `[n, 1008]`, `pool3 · Wᵀ` without the fc bias (the original IS input).
    pub logits_unbiased: Features,
    /// `[n, 1008]`, with the bias (StudioGAN's IS input).
    pub logits: Features,
}

/// Network + preprocessing + device + batch size: uint8 NHWC images in, features out.
#[derive(Debug)]
pub struct InceptionExtractor {
    model: FidInception,
    preprocess: Preprocess,
    device: Device,
    batch_size: usize,
}

impl InceptionExtractor {
    /// Wraps a loaded network (moved to `device`); batch size 16.
    pub fn new(model: FidInception, preprocess: Preprocess, device: &Device) -> Self {
        Self {
            model: model.to_device(device),
            preprocess,
            device: device.clone(),
            batch_size: 16,
        }
    }

    /// Images per forward pass (activation memory grows linearly with it).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The preprocessing mode.
    pub fn preprocess(&self) -> Preprocess {
        self.preprocess
    }

    /// The network.
    pub fn model(&self) -> &FidInception {
        &self.model
    }

    /// The normalised `[n, 3, 299, 299]` input tensor of a batch.
    pub fn input(&self, images: ImagesRef<'_>) -> Result<Tensor<4>> {
        let n = images.len();
        let x = self.preprocess.apply(images, INPUT_SIZE)?;
        Ok(Tensor::<1>::from_data(
            TensorData::new(x, [n * 3 * INPUT_SIZE * INPUT_SIZE]),
            &self.device,
        )
        .reshape([n, 3, INPUT_SIZE, INPUT_SIZE]))
    }

    /// Runs `f` on each batch's outputs, in order.
    pub fn for_each_batch(
        &self,
        images: ImagesRef<'_>,
        mut f: impl FnMut(InceptionFeatures) -> Result<()>,
    ) -> Result<()> {
        for lo in (0..images.len()).step_by(self.batch_size) {
            let batch = images.slice(lo, lo + self.batch_size);
            let n = batch.len();
            let (pool3, unbiased, logits) = self.model.forward(self.input(batch)?);
            f(InceptionFeatures {
                pool3: to_features(pool3, n)?,
                logits_unbiased: to_features(unbiased, n)?,
                logits: to_features(logits, n)?,
            })?;
        }
        Ok(())
    }

    /// pool3 features and logits of all `images`.
    pub fn extract(&self, images: ImagesRef<'_>) -> Result<InceptionFeatures> {
        let n = images.len();
        let mut pool3 = Vec::with_capacity(n * POOL3_DIM);
        let mut unbiased = Vec::with_capacity(n * NUM_CLASSES);
        let mut logits = Vec::with_capacity(n * NUM_CLASSES);
        self.for_each_batch(images, |out| {
            pool3.extend(out.pool3.data);
            unbiased.extend(out.logits_unbiased.data);
            logits.extend(out.logits.data);
            Ok(())
        })?;
        Ok(InceptionFeatures {
            pool3: Features::new(pool3, n, POOL3_DIM)?,
            logits_unbiased: Features::new(unbiased, n, NUM_CLASSES)?,
            logits: Features::new(logits, n, NUM_CLASSES)?,
        })
    }
}

/// Copies a `[n, d]` tensor to the host as [`Features`].
pub(crate) fn to_features(t: Tensor<2>, n: usize) -> Result<Features> {
    let [_, d] = t.dims();
    let data = t
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| MetricsError::input("features", "f32 tensor data", format!("{e:?}")))?;
    Features::new(data, n, d)
}
