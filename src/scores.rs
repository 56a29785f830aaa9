//! Periodic scores of a training run, as `metrics.csv` columns: the project's MNIST yardstick
//! and Inception IS (Salimans et al., NeurIPS 2016) and FID (Heusel et al., NeurIPS 2017) of
//! samples drawn from the run's sampler (its EMA when it has one).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use crate::metrics::{
    FidReference, ImagesRef, InceptionExtractor, Metric, MnistYardstick, Protocol, Reference,
};
use crate::train::{Dataset, Evaluator, Gan, HostRng, TrainConfig, TrainError};

/// The MNIST copy that ships inside the project (the 10,000-image test split, gzip IDX).
pub fn embedded_mnist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist")
}

/// Named scores of a run's current networks.
pub struct Scorer {
    names: Vec<String>,
    #[allow(clippy::type_complexity)]
    score: Box<dyn Fn(&Gan) -> Result<Vec<f64>> + Send + Sync>,
}

impl Scorer {
    /// The MNIST yardstick of a 10-class conditional MNIST run: `mnist_class_accuracy`,
    /// `mnist_fid` and `mnist_is` of 1,000 samples (see [`mnist_scores`]). Builds the classifier
    /// and its reference statistics now, not at the first evaluation.
    pub fn mnist(device: &Device) -> Result<Self> {
        mnist_yardstick(device)?;
        let device = device.clone();
        Ok(Self {
            names: ["mnist_class_accuracy", "mnist_fid", "mnist_is"]
                .map(String::from)
                .to_vec(),
            score: Box::new(move |gan| mnist_scores(gan, &device)),
        })
    }

    /// `is_mean`, `is_std` and, given `reference` statistics, `fid` of `n` samples under
    /// `protocol` (its IS splits; FID uses all `n`).
    pub fn inception(
        extractor: InceptionExtractor,
        reference: Option<Reference>,
        n: usize,
        protocol: Protocol,
        device: &Device,
    ) -> Self {
        let mut names = vec!["is_mean".to_string(), "is_std".to_string()];
        let mut metrics = vec![Metric::Is];
        if reference.is_some() {
            names.push("fid".into());
            metrics.push(Metric::Fid);
        }
        let device = device.clone();
        Self {
            names,
            score: Box::new(move |gan| {
                let (bytes, shape) = generate(gan, n, None, &device)?;
                let report = crate::metrics::evaluate(
                    Some(&extractor),
                    ImagesRef::new(&bytes, shape)?,
                    reference.as_ref(),
                    &metrics,
                    &protocol,
                    None,
                    None,
                )?;
                let is = report.is.context("the report has no IS")?;
                Ok([is.mean, is.std].into_iter().chain(report.fid).collect())
            }),
        }
    }
}

/// The scores a run gets without being asked: the MNIST yardstick for a 10-class conditional
/// MNIST run, nothing otherwise.
pub fn default_scorers(config: &TrainConfig, device: &Device) -> Result<Vec<Scorer>> {
    match config.data.dataset == Dataset::Mnist && config.generator.n_classes() == Some(10) {
        true => Ok(vec![Scorer::mnist(device)?]),
        false => Ok(Vec::new()),
    }
}

/// One [`Evaluator`] running `scorers` every `every` G steps (and at the last); `None` when
/// there is nothing to score.
pub fn evaluator(scorers: Vec<Scorer>, every: usize) -> Option<Evaluator> {
    if scorers.is_empty() {
        return None;
    }
    let names = scorers.iter().flat_map(|s| s.names.clone()).collect();
    Some(Evaluator {
        every,
        names,
        score: Arc::new(move |gan| {
            let mut scores = Vec::new();
            for scorer in &scorers {
                let values = (scorer.score)(gan).map_err(|e| TrainError::Score {
                    step: gan.step,
                    message: format!("{e:#}"),
                })?;
                scores.extend(values);
            }
            Ok(scores)
        }),
    })
}

type Yardstick = (MnistYardstick, FidReference);

/// The shipped MNIST classifier and its feature statistics of the embedded test split, built
/// once per process.
pub fn mnist_yardstick(device: &Device) -> Result<&'static Yardstick> {
    static CELL: OnceLock<Yardstick> = OnceLock::new();
    if let Some(y) = CELL.get() {
        return Ok(y);
    }
    let yardstick = MnistYardstick::new(device)?;
    let real = crate::data::load_mnist(&embedded_mnist(), crate::data::MnistSplit::Test, true)?;
    let view = ImagesRef::new(&real.pixels, [real.labels.len(), 28, 28, 1])?;
    let reference = FidReference::new(yardstick.stats(view)?)?;
    Ok(CELL.get_or_init(|| (yardstick, reference)))
}

/// 1,000 conditional samples (100 per digit, interleaved so each of IS's 10 splits holds every
/// digit), judged by the project's MNIST classifier: `[fraction classified as the digit asked
/// for, classifier-FID against the test split, classifier-IS]`.
pub fn mnist_scores(gan: &Gan, device: &Device) -> Result<Vec<f64>> {
    let (yardstick, reference) = mnist_yardstick(device)?;
    let labels: Vec<u8> = (0..1000u32).map(|i| (i % 10) as u8).collect();
    // Runs train on MNIST resized to 32x32; the classifier reads 28x28.
    let (bytes, shape) = generate(gan, labels.len(), Some([28, 28]), device)?;
    let report = yardstick.evaluate(ImagesRef::new(&bytes, shape)?, reference, Some(&labels))?;
    Ok(vec![
        report.class_accuracy.unwrap_or(0.0),
        report.fid,
        report.inception_score.mean,
    ])
}

/// `n` samples of the run's sampler as uint8 NHWC, from the fixed scoring seed 1, with classes
/// `i % n_classes` when conditional; bilinearly resized to `size` if given. Drawn 250 at a time
/// to bound memory.
pub fn generate(
    gan: &Gan,
    n: usize,
    size: Option<[usize; 2]>,
    device: &Device,
) -> Result<(Vec<u8>, [usize; 4])> {
    let g = gan.sampler();
    let config = &gan.config().generator;
    let mut rng = HostRng::new(1);
    let mut bytes = Vec::new();
    let mut shape = [0; 4];
    for lo in (0..n).step_by(250) {
        let b = (n - lo).min(250);
        let z = rng.latents(b, config.z_dim(), device);
        let y = config.n_classes().map(|k| {
            let ids: Vec<i64> = (lo..lo + b).map(|i| (i % k) as i64).collect();
            Tensor::<1, Int>::from_data(TensorData::new(ids, [b]), device)
        });
        let mut images = g.forward(z, y);
        if let Some(size) = size {
            let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size(size);
            images = interpolate(images, options);
        }
        let (chunk, [_, h, w, c]) = to_uint8_nhwc(images)?;
        bytes.extend(chunk);
        shape = [n, h, w, c];
    }
    Ok((bytes, shape))
}

/// `[-1, 1]` NCHW floats as uint8 NHWC bytes (`round(x * 127.5 + 127.5)`, torchvision's map).
pub fn to_uint8_nhwc(images: Tensor<4>) -> Result<(Vec<u8>, [usize; 4])> {
    let [n, c, h, w] = images.dims();
    let values: Vec<f32> = images
        .permute([0, 2, 3, 1])
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let bytes = values
        .iter()
        .map(|v| (v * 127.5 + 127.5).round().clamp(0.0, 255.0) as u8)
        .collect();
    Ok((bytes, [n, h, w, c]))
}
