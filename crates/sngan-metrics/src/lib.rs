//! GAN evaluation metrics for Burn: the FID Inception (TF `inception-2015-12-05`) ported to
//! Burn, IS, FID, KID, improved precision/recall, density/coverage, intra-FID, reference
//! statistics in pytorch-fid's `.npz` format, and an MNIST classifier yardstick.

pub mod error;
pub mod features;
pub mod fid;
pub mod images;
pub mod inception;
pub mod inception_score;
pub mod kid;
mod npz;
pub mod prdc;
pub mod stats;

pub use error::{MetricsError, Result};
pub use features::Features;
pub use fid::{FidReference, fid, fid_from_files, intra_fid};
pub use images::{Images, ImagesRef};
pub use inception::{InceptionExtractor, InceptionFeatures, Preprocess, load_fid_inception};
pub use inception_score::{InceptionScore, inception_score, inception_score_from_probs};
pub use kid::{Kid, KidConfig, kid, kid_with_subsets};
pub use prdc::{Prdc, PrecisionRecall, prdc, precision_recall};
pub use stats::{Statistics, StatsAccumulator};
