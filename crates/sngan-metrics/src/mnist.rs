//! An offline yardstick on real data: a small MNIST classifier (LeNet-style CNN, LeCun et al.
//! 1998) that the project trains itself (`examples/train_mnist_classifier.rs`) and ships in
//! `assets/mnist_classifier.bpk`. It plays the Inception's role for MNIST GANs where the
//! Inception weights are unavailable: classifier-FID on its 128-d hidden layer, classifier-IS on
//! its 10-class softmax, and, for conditional samples, the fraction classified as their intended
//! class. Because FID, IS and class accuracy all reward a generator that draws one good digit per
//! class, it also measures diversity in the same feature space: precision, recall, density and
//! coverage (Naeem et al. 2020, k = 5) against the real digits, and, for conditional samples,
//! intra-FID over the 10 classes (Miyato & Koyama 2018). Every score has a real-data floor: the
//! same measure of real training digits ([`MNIST_FLOOR`]). Scores from it compare runs of this
//! project with each other, not with published FIDs.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::tensor::activation::relu;
use burn::tensor::module::{interpolate, max_pool2d};
use burn::tensor::ops::{InterpolateMode, InterpolateOptions, MaxPoolOptions};

use crate::error::MetricsError;
use crate::features::Features;
use crate::fid::{FidReference, IntraFid};

use crate::inception::to_features;
use crate::inception_score::{InceptionScore, inception_score};
use crate::prdc::{Manifold, Prdc, prdc_against};
use crate::stats::Statistics;
use sngan_core::ImagesRef;

/// Width of the classifier features used for classifier-FID.
pub const MNIST_FEATURE_DIM: usize = 128;
/// Name recorded in statistics files for those features.
pub const MNIST_FEATURES: &str = "mnist-classifier/fc1";
/// The shipped weights (trained by `examples/train_mnist_classifier.rs`).
pub const MNIST_CLASSIFIER_BPK: &[u8] = include_bytes!("../assets/mnist_classifier.bpk");
/// Test-set accuracy of the shipped weights on the 10 000 MNIST test images, as measured by
/// `tests/it/mnist.rs` (which asserts it).
pub const MNIST_TEST_ACCURACY: f64 = 0.9922;

/// conv5x5(1->32) ReLU maxpool2, conv5x5(32->64) ReLU maxpool2, fc 1024->128 (features), ReLU,
/// fc 128->10 (logits). Input: `[b, 1, 28, 28]` with pixels `x / 255` in [0, 1].
#[derive(Module, Debug)]
pub struct MnistClassifier {
    /// 1 -> 32, 5x5: 28 -> 24.
    pub conv1: Conv2d,
    /// 32 -> 64, 5x5: 12 -> 8.
    pub conv2: Conv2d,
    /// 64·4·4 -> 128.
    pub fc1: Linear,
    /// 128 -> 10.
    pub fc2: Linear,
}

/// Configuration of the [`MnistClassifier`] (no options: the weights fix the shape).
#[derive(Config, Debug)]
pub struct MnistClassifierConfig {}

impl MnistClassifierConfig {
    /// Randomly initialised network (Burn's default Kaiming-uniform).
    pub fn init(&self, device: &Device) -> MnistClassifier {
        MnistClassifier {
            conv1: Conv2dConfig::new([1, 32], [5, 5]).init(device),
            conv2: Conv2dConfig::new([32, 64], [5, 5]).init(device),
            fc1: LinearConfig::new(64 * 4 * 4, MNIST_FEATURE_DIM).init(device),
            fc2: LinearConfig::new(MNIST_FEATURE_DIM, 10).init(device),
        }
    }
}

fn pool2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([2, 2]).with_stride([2, 2]))
}

impl MnistClassifier {
    /// Features (fc1 before its ReLU) and logits.
    ///
    /// # Shapes
    /// - `x`: `[batch, 1, 28, 28]`, in [0, 1]
    /// - output: features `[batch, 128]`, logits `[batch, 10]`
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let b = x.dims()[0];
        let x = pool2(relu(self.conv1.forward(x))); // [b, 32, 12, 12]
        let x = pool2(relu(self.conv2.forward(x))); // [b, 64, 4, 4]
        let features = self.fc1.forward(x.reshape([b, 64 * 4 * 4]));
        let logits = self.fc2.forward(relu(features.clone()));
        (features, logits)
    }
}

/// Loads the shipped weights.
pub fn load_mnist_classifier(device: &Device) -> crate::Result<MnistClassifier> {
    let bad = |e: String| MetricsError::Format {
        path: "assets/mnist_classifier.bpk".into(),
        expected: "a burnpack record of MnistClassifier".into(),
        found: e,
    };
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(MNIST_CLASSIFIER_BPK.to_vec()))
        .map_err(|e| bad(e.to_string()))?;
    MnistClassifierConfig::new()
        .init(device)
        .try_load_record(record)
        .map_err(|e| bad(e.to_string()))
}

/// Neighbours of the k-NN balls of precision, recall, density and coverage (Naeem et al.'s and
/// StudioGAN's k).
pub const MNIST_PRDC_K: usize = 5;

/// What the yardstick reports for a set of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MnistReport {
    /// Samples scored.
    pub n: usize,
    /// FID on the classifier's 128-d features against the reference statistics.
    pub fid: f64,
    /// IS on its 10-class softmax (10 splits; at most 10).
    pub inception_score: InceptionScore,
    /// Precision, recall, density and coverage (k = [`MNIST_PRDC_K`], `d < radius`) of the
    /// samples' features against the reference's: recall and coverage fall when a generator
    /// draws few modes.
    pub prdc: Prdc,
    /// Fraction classified as their intended class, for conditional samples.
    pub class_accuracy: Option<f64>,
    /// Mean over the 10 classes of the FID between the samples asked for a class and the real
    /// digits of that class, for conditional samples with at least two of every class: it sees
    /// a class drawn as one digit.
    pub intra_fid: Option<f64>,
}

/// The same measures of real digits: what a perfect generator would score. Computed by
/// `tests/it/scores.rs` (which asserts these values) from the first 10,000 MNIST training digits
/// sent through a 32 px training pipeline's round trip (PIL-bilinear 28 -> 32, then the
/// yardstick's bilinear 32 -> 28), with their true labels as the intended classes, against the
/// reference of the 10,000-digit test split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MnistFloor {
    /// Classifier-FID.
    pub fid: f64,
    /// Classifier-IS.
    pub inception_score: f64,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Density.
    pub density: f64,
    /// Coverage.
    pub coverage: f64,
    /// Fraction classified as their label.
    pub class_accuracy: f64,
    /// Intra-FID.
    pub intra_fid: f64,
}

/// The real-data floor of the MNIST yardstick (see [`MnistFloor`]).
pub const MNIST_FLOOR: MnistFloor = MnistFloor {
    fid: 92.5846,
    inception_score: 9.60006,
    precision: 0.9645,
    recall: 0.6147,
    density: 1.01724,
    coverage: 0.7863,
    class_accuracy: 0.9934,
    intra_fid: 107.1074,
};

impl std::fmt::Display for MnistReport {
    /// Every score beside its real-data floor, then the protocol line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fl = &MNIST_FLOOR;
        let (p, is) = (&self.prdc, &self.inception_score);
        writeln!(
            f,
            "mnist classifier-FID {:.2} (real-data floor {:.2})",
            self.fid, fl.fid
        )?;
        match (self.intra_fid, self.class_accuracy) {
            (Some(v), _) => writeln!(f, "mnist intra-FID {v:.2} (floor {:.2})", fl.intra_fid)?,
            (None, Some(_)) => writeln!(
                f,
                "mnist intra-FID not computed: it needs at least 2 samples of every digit"
            )?,
            (None, None) => {}
        }
        writeln!(
            f,
            "mnist precision {:.4} recall {:.4} density {:.4} coverage {:.4} \
             (floor {:.4} {:.4} {:.4} {:.4})",
            p.precision,
            p.recall,
            p.density,
            p.coverage,
            fl.precision,
            fl.recall,
            fl.density,
            fl.coverage
        )?;
        if let Some(a) = self.class_accuracy {
            writeln!(
                f,
                "mnist intended class {:.2}% (floor {:.2}%)",
                100.0 * a,
                100.0 * fl.class_accuracy
            )?;
        }
        writeln!(
            f,
            "mnist classifier-IS {:.4} ± {:.4} (floor {:.4}; IS rewards one clean digit per class)",
            is.mean, is.std, fl.inception_score
        )?;
        write!(f, "{}", mnist_protocol(self.n))
    }
}

/// The protocol line of the MNIST yardstick for `n` samples.
pub fn mnist_protocol(n: usize) -> String {
    format!(
        "protocol: MNIST yardstick, {n} samples against the 10,000-digit MNIST test split; \
         features: the project's classifier fc1 (128-d, before ReLU), inputs 28x28 \
         (32x32 bilinearly resized to 28); IS over 10 splits; P/R/D/C with k = {MNIST_PRDC_K}, \
         d < radius (Naeem et al. 2020); conditional: intended-class accuracy and intra-FID \
         over 10 classes; floors: 10,000 MNIST training digits through a 32 px round trip"
    )
}

/// The real side of the yardstick: the classifier's features of real digits as a k-NN manifold
/// (for P/R/D/C, its balls found once), the statistics of all of them (for FID) and of each
/// class (for intra-FID).
#[derive(Debug, Clone)]
pub struct MnistReference {
    manifold: Manifold,
    fid: FidReference,
    per_class: Vec<Statistics>,
}

impl MnistReference {
    /// Real features (`[n, 128]`, from [`MnistYardstick::features`]) with one label in 0..10
    /// each; every class needs more digits than [`MNIST_PRDC_K`] and two for a covariance.
    pub fn new(features: Features, labels: &[u8]) -> crate::Result<Self> {
        check_labels(features.n, labels)?;
        let all: Vec<usize> = (0..features.n).collect();
        let fid = FidReference::new(feature_stats(&features, &all)?)?;
        let per_class = (0..10u8)
            .map(|k| {
                let rows: Vec<usize> = all.iter().copied().filter(|&i| labels[i] == k).collect();
                if rows.len() <= MNIST_PRDC_K {
                    return Err(MetricsError::input(
                        "mnist-reference",
                        format!("more than {MNIST_PRDC_K} real digits of each class"),
                        format!("{} of class {k}", rows.len()),
                    ));
                }
                feature_stats(&features, &rows)
            })
            .collect::<crate::Result<_>>()?;
        Ok(Self {
            manifold: Manifold::new(&features, MNIST_PRDC_K)?,
            fid,
            per_class,
        })
    }

    /// Digits in the reference.
    pub fn len(&self) -> usize {
        self.manifold.len()
    }

    /// Whether it holds no digit (never: [`MnistReference::new`] refuses that).
    pub fn is_empty(&self) -> bool {
        self.manifold.is_empty()
    }

    /// Statistics of all its digits.
    pub fn stats(&self) -> &Statistics {
        self.fid.stats()
    }
}

/// The classifier with its device, turning uint8 images into features, statistics and scores.
#[derive(Debug)]
pub struct MnistYardstick {
    model: MnistClassifier,
    device: Device,
    batch_size: usize,
}

impl MnistYardstick {
    /// The shipped classifier on `device`.
    pub fn new(device: &Device) -> crate::Result<Self> {
        Ok(Self::from_model(load_mnist_classifier(device)?, device))
    }

    /// A given classifier (e.g. freshly trained) on `device`.
    pub fn from_model(model: MnistClassifier, device: &Device) -> Self {
        Self {
            model: model.to_device(device),
            device: device.clone(),
            batch_size: 500,
        }
    }

    /// `[n, 1, 28, 28]` in [0, 1] from uint8 NHWC, 3 channels averaged: 28x28 as is; 32x32
    /// (MNIST as the 32 px runs train on it: PIL-bilinear 28 -> 32) bilinearly resized back to
    /// 28 (`F.interpolate(mode="bilinear", align_corners=False)`), so that `sngan eval` on saved
    /// samples and the trainer's periodic scores read the same digits.
    pub fn input(&self, images: ImagesRef<'_>) -> crate::Result<Tensor<4>> {
        let [n, h, w, c] = images.shape();
        if !matches!((h, w), (28, 28) | (32, 32)) {
            return Err(MetricsError::input(
                "mnist-classifier",
                "28x28 images (or 32x32, resized to 28)",
                format!("{h}x{w}"),
            ));
        }
        let x: Vec<f32> = images
            .data()
            .chunks_exact(c)
            .map(|px| px.iter().map(|&v| f32::from(v)).sum::<f32>() / (255.0 * c as f32))
            .collect();
        let x = Tensor::<1>::from_data(TensorData::new(x, [n * h * w]), &self.device)
            .reshape([n, 1, h, w]);
        Ok(match h {
            28 => x,
            _ => interpolate(
                x,
                InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([28, 28]),
            ),
        })
    }

    /// Features `[n, 128]` and logits `[n, 10]`.
    pub fn features(&self, images: ImagesRef<'_>) -> crate::Result<(Features, Features)> {
        let n = images.len();
        let (mut feats, mut logits) = (Vec::new(), Vec::new());
        for lo in (0..n).step_by(self.batch_size) {
            let batch = images.slice(lo, lo + self.batch_size);
            let (f, l) = self.model.forward(self.input(batch)?);
            feats.extend(to_features(f, batch.len())?.data);
            logits.extend(to_features(l, batch.len())?.data);
        }
        Ok((
            Features::new(feats, n, MNIST_FEATURE_DIM)?,
            Features::new(logits, n, 10)?,
        ))
    }

    /// Classifier-feature statistics (the reference side of classifier-FID).
    pub fn stats(&self, images: ImagesRef<'_>) -> crate::Result<Statistics> {
        let (f, _) = self.features(images)?;
        feature_stats(&f, &(0..f.n).collect::<Vec<_>>())
    }

    /// The reference of real `images` with their `labels` (see [`MnistReference::new`]).
    pub fn reference(&self, images: ImagesRef<'_>, labels: &[u8]) -> crate::Result<MnistReference> {
        MnistReference::new(self.features(images)?.0, labels)
    }

    /// Predicted classes.
    pub fn predict(&self, images: ImagesRef<'_>) -> crate::Result<Vec<u8>> {
        let (_, logits) = self.features(images)?;
        Ok(argmax(&logits))
    }

    /// Fraction of `images` classified as `labels` (test accuracy on real data; for conditional
    /// samples, the fraction classified as their intended class).
    pub fn accuracy(&self, images: ImagesRef<'_>, labels: &[u8]) -> crate::Result<f64> {
        check_labels(images.len(), labels)?;
        Ok(hit_rate(&self.predict(images)?, labels))
    }

    /// Every score of `fake` against `reference`: classifier-FID, classifier-IS (10 splits),
    /// precision/recall/density/coverage and, given intended `labels`, the class accuracy and
    /// intra-FID (only when every class has at least two samples).
    pub fn evaluate(
        &self,
        fake: ImagesRef<'_>,
        reference: &MnistReference,
        labels: Option<&[u8]>,
    ) -> crate::Result<MnistReport> {
        let (f, logits) = self.features(fake)?;
        let all: Vec<usize> = (0..f.n).collect();
        let fid = reference.fid.fid(&feature_stats(&f, &all)?)?;
        let inception_score = inception_score(&logits, 10.min(logits.n))?;
        let prdc = prdc_against(&reference.manifold, &f)?;
        let (class_accuracy, intra_fid) = match labels {
            Some(l) => {
                check_labels(fake.len(), l)?;
                let rows: Vec<Vec<usize>> = (0..reference.per_class.len() as u8)
                    .map(|k| all.iter().copied().filter(|&i| l[i] == k).collect())
                    .collect();
                // Samples of a few classes (`sngan sample --class K`) get no intra-FID.
                let intra_fid = match rows.iter().all(|r| r.len() >= 2) {
                    true => {
                        let mut intra = IntraFid::new();
                        for (rows, real) in rows.iter().zip(&reference.per_class) {
                            intra.add_class(&feature_stats(&f, rows)?, real)?;
                        }
                        Some(intra.finish()?.0)
                    }
                    false => None,
                };
                (Some(hit_rate(&argmax(&logits), l)), intra_fid)
            }
            None => (None, None),
        };
        Ok(MnistReport {
            n: fake.len(),
            fid,
            inception_score,
            prdc,
            class_accuracy,
            intra_fid,
        })
    }
}

fn argmax(logits: &Features) -> Vec<u8> {
    (0..logits.n)
        .map(|i| {
            let row = logits.row(i);
            (0..logits.dim).fold(0, |best, k| if row[k] > row[best] { k } else { best }) as u8
        })
        .collect()
}

/// Statistics of feature rows `rows` (two at least), labelled as classifier features.
fn feature_stats(f: &Features, rows: &[usize]) -> crate::Result<Statistics> {
    let mut s = Statistics::from_features(&f.select(rows)?.data, rows.len(), f.dim)?;
    s.features = Some(MNIST_FEATURES.into());
    Ok(s)
}

fn check_labels(n: usize, labels: &[u8]) -> crate::Result<()> {
    if labels.len() != n || labels.is_empty() {
        return Err(MetricsError::input(
            "mnist-classifier",
            format!("one label per image ({n})"),
            format!("{} labels", labels.len()),
        ));
    }
    if let Some(bad) = labels.iter().find(|&&l| l >= 10) {
        return Err(MetricsError::input(
            "mnist-classifier",
            "labels in 0..10",
            format!("{bad}"),
        ));
    }
    Ok(())
}

fn hit_rate(pred: &[u8], labels: &[u8]) -> f64 {
    pred.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len() as f64
}
