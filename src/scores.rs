//! Periodic scores of a training run, as `metrics.csv` columns: the project's MNIST yardstick
//! and Inception IS (Salimans et al., NeurIPS 2016) and FID (Heusel et al., NeurIPS 2017) of
//! samples drawn from the run's sampler (its EMA when it has one).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use burn::prelude::*;

use crate::core::InvalidField;
use crate::data::{DatasetName, ImageSource};
use crate::metrics::{
    ImagesRef, InceptionExtractor, Metric, MnistReference, MnistReport, MnistYardstick, Preprocess,
    Protocol, Reference, StatsBuilder,
};
use crate::train::sample::{SampleSpec, generate};
use crate::train::{Evaluator, Gan, TrainConfig, TrainError};

/// Named scores of a run's current networks.
pub struct Scorer {
    names: Vec<String>,
    #[allow(clippy::type_complexity)]
    score: Box<dyn Fn(&Gan) -> Result<Vec<f64>> + Send + Sync>,
}

impl Scorer {
    /// The MNIST yardstick of a 10-class conditional MNIST run on [`MNIST_SCORE_SAMPLES`]
    /// samples (see [`mnist_report`]), as the [`MNIST_SCORE_NAMES`] columns; each report is
    /// kept in `memo`. Builds the classifier and its reference now, not at the first
    /// evaluation.
    pub fn mnist(memo: MnistMemo, device: &Device) -> Result<Self> {
        mnist_yardstick(device)?;
        let device = device.clone();
        Ok(Self {
            names: MNIST_SCORE_NAMES.map(String::from).to_vec(),
            score: Box::new(move |gan| {
                let report = mnist_report(gan, &device)?;
                let scores = mnist_scores(&report);
                *memo.0.lock().expect("no scorer panics holding the memo") =
                    Some((gan.step, report));
                Ok(scores)
            }),
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
                let images = samples(gan, SampleSpec::new(n, SCORING_SEED), &device)?;
                let report = crate::metrics::evaluate(
                    Some(&extractor),
                    images.view(),
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

/// The newest report of a run's MNIST scorer, with the G step it scored. A run's closing report
/// ([`MnistMemo::report`]) reuses it when training ended on a scored step, instead of scoring
/// the same networks again (4-5 s for the quick-start).
#[derive(Clone, Default)]
pub struct MnistMemo(Arc<Mutex<Option<(usize, MnistReport)>>>);

impl MnistMemo {
    /// The [`mnist_report`] of `gan`: the kept one when it scored `gan`'s step, else a new one.
    pub fn report(&self, gan: &Gan, device: &Device) -> Result<MnistReport> {
        let kept = self
            .0
            .lock()
            .expect("no scorer panics holding the memo")
            .clone();
        match kept {
            Some((step, report)) if step == gan.step => Ok(report),
            _ => mnist_report(gan, device),
        }
    }
}

/// The scores a run gets without being asked: the MNIST yardstick for a 10-class conditional
/// MNIST run (its reports kept in `memo`), nothing otherwise.
pub fn default_scorers(
    config: &TrainConfig,
    memo: &MnistMemo,
    device: &Device,
) -> Result<Vec<Scorer>> {
    match config.data.dataset == DatasetName::Mnist && config.generator.n_classes() == Some(10) {
        true => Ok(vec![Scorer::mnist(memo.clone(), device)?]),
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

/// Inception scores asked of a run (`sngan train --inception`).
#[derive(Clone, Debug)]
pub struct InceptionScores {
    /// FID Inception weights (`sngan fetch inception`).
    pub weights: PathBuf,
    /// Reference statistics for FID; IS only without them.
    pub reference: Option<PathBuf>,
    /// Samples per score (default: the protocol's FID count).
    pub samples: Option<usize>,
    /// The protocol (splits, logits, preprocessing check).
    pub protocol: Protocol,
}

/// The periodic scores of a run of `config`: the MNIST yardstick when it applies (its reports
/// kept in `memo`), plus the Inception scores asked for, every `every` G steps (default: the
/// checkpoint interval) and at the last; `None` when there is nothing to score.
///
/// # Errors
/// `every` given with nothing to score (an [`InvalidField`]), or weights or statistics that
/// do not load.
pub fn periodic_scores(
    config: &TrainConfig,
    inception: Option<&InceptionScores>,
    every: Option<usize>,
    memo: &MnistMemo,
    device: &Device,
) -> Result<Option<Evaluator>> {
    let mut scorers = default_scorers(config, memo, device)?;
    if let Some(i) = inception {
        let reference = i.reference.as_deref().map(Reference::read).transpose()?;
        let n = i.samples.unwrap_or(i.protocol.n_fake);
        let extractor = fid_extractor(&i.weights, device)?;
        scorers.push(Scorer::inception(
            extractor,
            reference,
            n,
            i.protocol.clone(),
            device,
        ));
    }
    if let (true, Some(n)) = (scorers.is_empty(), every) {
        return Err(InvalidField::new(
            "--eval-every",
            n,
            "nothing to score: give Inception weights (or train a 10-class conditional MNIST run)",
        )
        .into());
    }
    Ok(evaluator(scorers, every.unwrap_or(config.checkpoint_every)))
}

/// The FID Inception from `weights` with TF-exact preprocessing.
pub fn fid_extractor(weights: &Path, device: &Device) -> Result<InceptionExtractor> {
    let model = crate::metrics::load_fid_inception(weights, device)?;
    Ok(InceptionExtractor::new(model, Preprocess::TfExact, device))
}

type Yardstick = (MnistYardstick, MnistReference);

/// The shipped MNIST classifier and its reference, the embedded 10,000-digit test split, built
/// once per process.
pub fn mnist_yardstick(device: &Device) -> Result<&'static Yardstick> {
    static CELL: OnceLock<Yardstick> = OnceLock::new();
    if let Some(y) = CELL.get() {
        return Ok(y);
    }
    let yardstick = MnistYardstick::new(device)?;
    let real = crate::embedded_mnist()?;
    let reference = yardstick.reference(real.view(), &digit_labels(real)?)?;
    Ok(CELL.get_or_init(|| (yardstick, reference)))
}

/// Seed of the latents every periodic score draws, so that scores of one run compare.
const SCORING_SEED: u64 = 1;

/// Samples the MNIST scorer draws: as many as its reference holds, so that the k-NN balls of
/// both sides are drawn at one density.
pub const MNIST_SCORE_SAMPLES: usize = 10_000;

/// The `metrics.csv` columns of [`Scorer::mnist`], in the order [`mnist_scores`] gives them.
pub const MNIST_SCORE_NAMES: [&str; 8] = [
    "mnist_class_accuracy",
    "mnist_fid",
    "mnist_intra_fid",
    "mnist_precision",
    "mnist_recall",
    "mnist_density",
    "mnist_coverage",
    "mnist_is",
];

/// The yardstick's report on [`MNIST_SCORE_SAMPLES`] conditional samples (the same number per
/// digit, interleaved so that each of IS's 10 splits holds every digit).
pub fn mnist_report(gan: &Gan, device: &Device) -> Result<MnistReport> {
    let (yardstick, reference) = mnist_yardstick(device)?;
    // 32 px samples: the yardstick resizes them to its 28 px, as it does in `sngan eval`.
    let images = samples(
        gan,
        SampleSpec::new(MNIST_SCORE_SAMPLES, SCORING_SEED),
        device,
    )?;
    let labels = digit_labels(&images)?;
    Ok(yardstick.evaluate(images.view(), reference, Some(&labels))?)
}

/// A [`mnist_report`] as the [`MNIST_SCORE_NAMES`] columns.
pub fn mnist_scores(r: &MnistReport) -> Vec<f64> {
    let p = r.prdc;
    vec![
        r.class_accuracy.unwrap_or(f64::NAN),
        r.fid,
        r.intra_fid.unwrap_or(f64::NAN),
        p.precision,
        p.recall,
        p.density,
        p.coverage,
        r.inception_score.mean,
    ]
}

/// The yardstick's real-data floor ([`crate::metrics::MNIST_FLOOR`]): the first
/// [`MNIST_SCORE_SAMPLES`] training digits of the MNIST at `dir`, sent through a 32 px run's
/// round trip (the data pipeline's PIL-bilinear 28 -> 32, then the yardstick's bilinear
/// 32 -> 28) and scored with their labels as the intended classes.
pub fn mnist_floor(dir: &Path, device: &Device) -> Result<MnistReport> {
    let (yardstick, reference) = mnist_yardstick(device)?;
    let data = crate::data::DataConfig::new(DatasetName::Mnist).with_size(Some(32));
    let train = crate::data::materialize(data.open(dir)?.as_ref())?;
    let n = MNIST_SCORE_SAMPLES;
    let digits = train.view().slice(0, n);
    let labels = digit_labels(&train)?;
    Ok(yardstick.evaluate(digits, reference, Some(&labels[..n]))?)
}

/// The labels of `digits` as classes 0..10.
fn digit_labels(digits: &crate::data::Images) -> Result<Vec<u8>> {
    digits
        .labels
        .iter()
        .map(|l| {
            l.and_then(|k| u8::try_from(k).ok())
                .context("MNIST digits and conditional samples carry labels 0-9")
        })
        .collect()
}

/// `spec` drawn from the run's sampler (its EMA when it has one).
fn samples(gan: &Gan, spec: SampleSpec, device: &Device) -> Result<crate::data::Images> {
    Ok(generate(
        &gan.sampler(),
        &gan.config().generator,
        &spec,
        &gan.config().sample_statistics,
        device,
    )?)
}

/// Images of `source` fed through the Inception in chunks of 500: the reference statistics
/// `sngan stats` writes, with the pool3 features when `keep_features` (for KID, P/R, D/C).
/// `progress` hears `(done, total)` after each chunk.
pub fn reference_stats(
    source: &dyn ImageSource,
    extractor: &InceptionExtractor,
    keep_features: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Reference> {
    let mut builder = StatsBuilder::new(extractor, keep_features);
    let [h, w, c] = source.shape();
    let per = h * w * c;
    for lo in (0..source.len()).step_by(500) {
        let hi = (lo + 500).min(source.len());
        let mut chunk = vec![0u8; (hi - lo) * per];
        for (i, dst) in (lo..hi).zip(chunk.chunks_mut(per)) {
            source.load_into(i, dst)?;
        }
        builder.push(ImagesRef::new(&chunk, [hi - lo, h, w, c])?)?;
        progress(hi, source.len());
    }
    builder
        .finish()
        .context("reference statistics need at least 2 images")
}
