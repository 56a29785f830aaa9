//! GAN evaluation for Burn: the FID Inception (TensorFlow graph `inception-2015-12-05`, as
//! pytorch-fid and torch-fidelity port it) in Burn, the Inception Score (Salimans et al. 2016),
//! FID (Heusel et al. 2017), KID (Bińkowski et al. 2018), improved precision/recall
//! (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020) and intra-FID (Miyato &
//! Koyama 2018), reference statistics in pytorch-fid's `.npz` format, protocol presets, and an
//! offline MNIST classifier yardstick. Formulas, constants and the test plan follow
//! `research/metrics.md`. This crate knows nothing of models: it takes uint8 images (or
//! features) and a `&Device`.
//!
//! # Numerics
//! Statistics are accumulated in f64 with the 1/(N-1) covariance of `np.cov`; FID's trace term
//! comes from two symmetric eigendecompositions in faer (no `sqrtm`), agreeing with scipy's
//! route to about 1e-11 relative on 2048-d; [`FidReference`] caches the reference's factor.
//!
//! # For the command line
//! - `sngan fetch inception --to DIR`: [`fetch::fetch_inception`]`(dir, None)` returns the path
//!   of `pt_inception-2015-12-05-6726825d.pth` (SHA-256 prefix checked). Then
//!   [`load_fid_inception`]`(path, &device)` and
//!   [`InceptionExtractor::new`]`(model, Preprocess::TfExact, &device)`.
//! - `sngan stats (--config X.json | --dataset NAME) --data PATH --out stats.npz
//!   [--keep-features]`: batches of uint8 NHWC images ([`ImagesRef::new`]) go to
//!   [`eval::StatsBuilder`] (`push`, `finish`; `StatsBuilder::new(&ex, true)` keeps the
//!   features KID and precision/recall need), then [`eval::Reference::write`] (the facade's
//!   `sngan::scores::reference_stats` drives it over a data set). For the MNIST yardstick's
//!   reference, [`mnist::MnistYardstick::reference`] of real digits and their labels.
//! - `sngan eval --samples samples.npz --metrics is,fid,kid,pr --ref stats.npz`:
//!   [`Images::read`], [`eval::Metric::parse_list`], [`eval::Reference::read`],
//!   [`protocol::Protocol::from_name`] (default [`protocol::Protocol::sngan_paper`]), then
//!   [`eval::evaluate`]; print the [`eval::EvalReport`] (its `Display` prints every score, and
//!   the protocol line of each kind of score). `--metrics mnist` needs
//!   `(MnistYardstick::new(&device)?, reference)`.
//! - `sngan eval --stats A.npz --ref B.npz`: [`fid_from_files`]`(a, b)`, printed as
//!   `FID <value>`.

pub mod error;
pub mod eval;
pub mod features;
pub mod fetch;
pub mod fid;
pub mod inception;
pub mod inception_score;
pub mod kid;
pub mod mnist;
pub mod prdc;
pub mod protocol;
pub mod stats;

pub use error::{MetricsError, Result};
pub use eval::{EvalReport, Metric, Reference, StatsBuilder, evaluate, inception_stats};
pub use features::Features;
pub use fetch::fetch_inception;
pub use fid::{FidReference, IntraFid, fid, fid_from_files, intra_fid};
pub use inception::{InceptionExtractor, InceptionFeatures, Preprocess, load_fid_inception};
pub use inception_score::{InceptionScore, inception_score, inception_score_from_probs};
pub use kid::{Kid, KidConfig, kid, kid_with_subsets};
pub use mnist::{MNIST_FLOOR, MnistFloor, MnistReference, MnistReport, MnistYardstick};
pub use prdc::{Manifold, Prdc, PrecisionRecall, prdc, prdc_against, precision_recall};
pub use protocol::Protocol;
pub use sngan_core::{Images, ImagesRef};
pub use stats::{Statistics, StatsAccumulator};
