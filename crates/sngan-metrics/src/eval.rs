//! The library side of `sngan stats` and `sngan eval`: reference statistics from images (with
//! their features when KID or precision/recall will need them), and every metric of a set of
//! generated images against a reference, reported with the protocol it follows.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::{MetricsError, Result};
use crate::features::Features;
use crate::inception::{InceptionExtractor, POOL3_DIM, POOL3_FEATURES};
use crate::inception_score::{InceptionScore, inception_score};
use crate::kid::{Kid, kid};
use crate::mnist::{MnistReference, MnistReport, MnistYardstick};
use crate::prdc::{Prdc, PrecisionRecall, prdc, precision_recall};
use crate::protocol::{IsLogits, Protocol};
use crate::stats::{Statistics, StatsAccumulator};
use sngan_core::ImagesRef;
use sngan_core::npy::{Array, Npz, NpzWriter};

/// A metric `sngan eval --metrics` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Inception Score.
    Is,
    /// Fréchet Inception Distance.
    Fid,
    /// Kernel Inception Distance (needs reference features).
    Kid,
    /// Improved precision and recall (needs reference features).
    Pr,
    /// Precision, recall, density, coverage (needs reference features).
    Prdc,
    /// The MNIST classifier yardstick (classifier-FID, classifier-IS, class accuracy).
    Mnist,
}

impl FromStr for Metric {
    type Err = MetricsError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "is" => Ok(Self::Is),
            "fid" => Ok(Self::Fid),
            "kid" => Ok(Self::Kid),
            "pr" => Ok(Self::Pr),
            "prdc" | "dc" => Ok(Self::Prdc),
            "mnist" => Ok(Self::Mnist),
            other => Err(MetricsError::input(
                "--metrics",
                "a comma-separated list of is, fid, kid, pr, prdc, mnist",
                format!("`{other}`"),
            )),
        }
    }
}

impl Metric {
    /// Parses `"is,fid,kid,pr"`.
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect()
    }

    fn needs_features(self) -> bool {
        matches!(self, Self::Kid | Self::Pr | Self::Prdc)
    }
}

/// Reference statistics, plus the reference features when KID or P/R/D/C need them.
/// On disk: pytorch-fid's `mu`/`sigma` `.npz` (with `n`, `preprocessing`, `features` records),
/// plus `feats` (`[n, dim]` float32, clean-fid's name) when features are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Mean and covariance.
    pub stats: Statistics,
    /// The features themselves, if kept.
    pub features: Option<Features>,
}

impl Reference {
    /// Reads statistics and, if the file has them, `feats`.
    pub fn read(path: &Path) -> Result<Self> {
        let stats = Statistics::read(path)?;
        let mut npz = Npz::open(path)?;
        let features = match npz.has("feats") {
            true => {
                let a = npz.array("feats")?;
                if a.shape.len() != 2 || a.shape[1] != stats.dim() {
                    return Err(MetricsError::Shape {
                        path: path.to_path_buf(),
                        name: "feats".into(),
                        expected: format!("[n, {}]", stats.dim()),
                        found: a.shape.iter().map(|&v| v as u64).collect(),
                    });
                }
                let values = a.to_f64(&format!("{}:feats", path.display()))?;
                let data = values.iter().map(|&v| v as f32).collect();
                Some(Features::new(data, a.shape[0], a.shape[1])?)
            }
            false => None,
        };
        Ok(Self { stats, features })
    }

    /// Writes the statistics (and `feats` if kept) as a compressed `.npz`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut out = NpzWriter::create(path)?;
        self.stats.write_members(&mut out, path)?;
        if let Some(f) = &self.features {
            out.add("feats", &Array::from_f32(&[f.n, f.dim], &f.data))?;
        }
        Ok(out.finish()?)
    }
}

/// `sngan stats`: streams image batches through the Inception into f64 statistics.
#[derive(Debug)]
pub struct StatsBuilder<'a> {
    extractor: &'a InceptionExtractor,
    acc: StatsAccumulator,
    features: Option<Vec<f32>>,
}

impl<'a> StatsBuilder<'a> {
    /// A builder; `keep_features` also keeps the pool3 features (for KID and P/R/D/C
    /// references: 8 KB per image).
    pub fn new(extractor: &'a InceptionExtractor, keep_features: bool) -> Self {
        Self {
            extractor,
            acc: StatsAccumulator::new(POOL3_DIM),
            features: keep_features.then(Vec::new),
        }
    }

    /// Adds a batch of uint8 NHWC images.
    pub fn push(&mut self, images: ImagesRef<'_>) -> Result<()> {
        let (acc, features) = (&mut self.acc, &mut self.features);
        self.extractor.for_each_batch(images, |out| {
            acc.push(&out.pool3.data, out.pool3.n)?;
            if let Some(f) = features.as_mut() {
                f.extend_from_slice(&out.pool3.data);
            }
            Ok(())
        })
    }

    /// Images seen so far.
    pub fn count(&self) -> usize {
        self.acc.count()
    }

    /// The reference: statistics with `n`, preprocessing and feature name recorded.
    pub fn finish(self) -> Result<Reference> {
        let n = self.acc.count();
        let mut stats = self.acc.finish()?;
        stats.preprocessing = Some(self.extractor.preprocess());
        stats.features = Some(POOL3_FEATURES.into());
        let features = match self.features {
            Some(f) => Some(Features::new(f, n, POOL3_DIM)?),
            None => None,
        };
        Ok(Reference { stats, features })
    }
}

/// Inception statistics of `images` (one call of [`StatsBuilder`]).
pub fn inception_stats(
    extractor: &InceptionExtractor,
    images: ImagesRef<'_>,
) -> Result<Statistics> {
    let mut b = StatsBuilder::new(extractor, false);
    b.push(images)?;
    Ok(b.finish()?.stats)
}

/// Every score `sngan eval` computed, with the protocol and any caveat.
#[derive(Debug, Clone)]
pub struct EvalReport {
    /// The protocol the scores follow.
    pub protocol: Protocol,
    /// Generated images scored.
    pub n_fake: usize,
    /// Inception Score.
    pub is: Option<InceptionScore>,
    /// FID.
    pub fid: Option<f64>,
    /// KID.
    pub kid: Option<Kid>,
    /// Improved precision/recall.
    pub pr: Option<PrecisionRecall>,
    /// Precision/recall/density/coverage.
    pub prdc: Option<Prdc>,
    /// MNIST classifier scores.
    pub mnist: Option<MnistReport>,
    /// Why the scores may not compare with published ones.
    pub notes: Vec<String>,
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(is) = &self.is {
            writeln!(
                f,
                "IS {:.4} ± {:.4} ({} samples, {} splits)",
                is.mean, is.std, is.n, is.splits
            )?;
        }
        if let Some(v) = self.fid {
            writeln!(f, "FID {v:.4}")?;
        }
        if let Some(k) = &self.kid {
            writeln!(
                f,
                "KID {:.6} ± {:.6} ({} subsets)",
                k.mean,
                k.std,
                k.per_subset.len()
            )?;
        }
        if let Some(p) = &self.pr {
            writeln!(
                f,
                "precision {:.4} recall {:.4} (k = {}, d <= radius)",
                p.precision, p.recall, self.protocol.pr_k
            )?;
        }
        if let Some(p) = &self.prdc {
            writeln!(
                f,
                "precision {:.4} recall {:.4} density {:.4} coverage {:.4} (k = {}, d < radius)",
                p.precision, p.recall, p.density, p.coverage, self.protocol.prdc_k
            )?;
        }
        let inception = self.is.is_some()
            || self.fid.is_some()
            || self.kid.is_some()
            || self.pr.is_some()
            || self.prdc.is_some();
        if inception {
            write!(f, "{} ({} fake scored)", self.protocol, self.n_fake)?;
        }
        if let Some(m) = &self.mnist {
            if inception {
                writeln!(f)?;
            }
            // The MNIST scores follow no published protocol: the report says what they are.
            write!(f, "{m}")?;
        }
        for note in &self.notes {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

/// `sngan eval`: scores `fake` (uint8 NHWC) against `reference` with `metrics`, following
/// `protocol` (splits, KID subsets, k). `mnist` (the yardstick and its reference statistics on
/// real MNIST) is needed for [`Metric::Mnist`]; `labels` are the intended classes of
/// conditional samples.
pub fn evaluate(
    extractor: Option<&InceptionExtractor>,
    fake: ImagesRef<'_>,
    reference: Option<&Reference>,
    metrics: &[Metric],
    protocol: &Protocol,
    mnist: Option<(&MnistYardstick, &MnistReference)>,
    labels: Option<&[u8]>,
) -> Result<EvalReport> {
    let mut report = EvalReport {
        protocol: protocol.clone(),
        n_fake: fake.len(),
        is: None,
        fid: None,
        kid: None,
        pr: None,
        prdc: None,
        mnist: None,
        notes: Vec::new(),
    };
    let inception_metrics: Vec<Metric> = metrics
        .iter()
        .copied()
        .filter(|m| *m != Metric::Mnist)
        .collect();
    if !inception_metrics.is_empty() {
        let extractor = extractor.ok_or_else(|| {
            MetricsError::input(
                "eval",
                "the FID Inception weights for is/fid/kid/pr",
                "none loaded",
            )
        })?;
        if extractor.preprocess() != protocol.preprocess {
            report.notes.push(format!(
                "preprocessing {} differs from the protocol's {}",
                extractor.preprocess(),
                protocol.preprocess
            ));
        }
        let feats = extractor.extract(fake)?;
        if inception_metrics.contains(&Metric::Is) {
            let logits = match protocol.is_logits {
                IsLogits::Unbiased => &feats.logits_unbiased,
                IsLogits::Biased => &feats.logits,
            };
            report.is = Some(inception_score(logits, protocol.is_splits)?);
            if fake.len() != protocol.n_fake_is {
                report.notes.push(format!(
                    "IS on {} samples, the protocol uses {}",
                    fake.len(),
                    protocol.n_fake_is
                ));
            }
        }
        let needs_ref = inception_metrics.iter().any(|m| *m != Metric::Is);
        if needs_ref {
            let reference = reference.ok_or_else(|| {
                MetricsError::input("eval", "reference statistics (--ref)", "none given")
            })?;
            if fake.len() != protocol.n_fake {
                report.notes.push(format!(
                    "FID on {} samples, the protocol uses {} (FID is biased upward about 1/N)",
                    fake.len(),
                    protocol.n_fake
                ));
            }
            if let (Some(n), Some(want)) = (reference.stats.n, protocol.n_real)
                && n != want
            {
                report
                    .notes
                    .push(format!("reference of {n} images, the protocol uses {want}"));
            }
            if inception_metrics.contains(&Metric::Fid) {
                let mut stats =
                    Statistics::from_features(&feats.pool3.data, feats.pool3.n, POOL3_DIM)?;
                stats.preprocessing = Some(extractor.preprocess());
                if stats.rank_deficient() || reference.stats.rank_deficient() {
                    report.notes.push(
                        "fewer samples than feature dimensions: FID is defined only to about 1e-5"
                            .into(),
                    );
                }
                report.fid = Some(crate::fid::fid(&stats, &reference.stats)?);
            }
            if inception_metrics.iter().any(|m| m.needs_features()) {
                let real = reference.features.as_ref().ok_or_else(|| {
                    MetricsError::input(
                        "eval",
                        "reference features (`feats`, from `sngan stats --keep-features`) for kid/pr/prdc",
                        "statistics only",
                    )
                })?;
                if inception_metrics.contains(&Metric::Kid) {
                    report.kid = Some(kid(real, &feats.pool3, &protocol.kid)?);
                }
                if inception_metrics.contains(&Metric::Pr) {
                    report.pr = Some(precision_recall(real, &feats.pool3, protocol.pr_k)?);
                }
                if inception_metrics.contains(&Metric::Prdc) {
                    report.prdc = Some(prdc(real, &feats.pool3, protocol.prdc_k)?);
                }
            }
        }
    }
    if metrics.contains(&Metric::Mnist) {
        let (yard, reference) = mnist.ok_or_else(|| {
            MetricsError::input(
                "eval",
                "the MNIST yardstick and its reference",
                "none given",
            )
        })?;
        report.mnist = Some(yard.evaluate(fake, reference, labels)?);
    }
    Ok(report)
}
