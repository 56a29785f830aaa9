//! The error type of `sngan-metrics`: every message names the file (or input), what was expected
//! and what was found.

use std::path::PathBuf;

/// Everything that can go wrong while reading statistics, weights or images, fetching the
/// Inception weights, or computing a metric from inputs that do not fit it.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An array has the wrong shape.
    #[error("{path}: expected `{name}` of shape {expected}, found {found:?}")]
    Shape {
        /// The file (or a description of an in-memory input).
        path: PathBuf,
        /// The array.
        name: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape found.
        found: Vec<u64>,
    },
    /// A file is not in the format its reader expects (bad zip, bad npy header, bad pickle).
    #[error("{path}: expected {expected}, found {found}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the reader expected.
        expected: String,
        /// What it found.
        found: String,
    },
    /// Loading a state dict into a network left tensors missing or failed to apply some.
    #[error("{path}: expected the {network} state dict ({expected} tensors), found {found}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// The network being loaded.
        network: String,
        /// How many tensors the network needs.
        expected: usize,
        /// What went wrong: missing keys, shape mismatches.
        found: String,
    },
    /// An array file, download or atomic write error from `sngan-core` (each names its file).
    #[error(transparent)]
    Core(#[from] sngan_core::CoreError),
    /// Inputs to a metric do not fit it (too few samples, mismatched dimensions, non-finite values).
    #[error("{metric}: expected {expected}, found {found}")]
    Input {
        /// The metric or function.
        metric: &'static str,
        /// What it needs.
        expected: String,
        /// What it got.
        found: String,
    },
    /// A linear-algebra routine failed (an eigendecomposition that did not converge).
    #[error("{metric}: {what} did not converge")]
    Linalg {
        /// The metric.
        metric: &'static str,
        /// The routine.
        what: &'static str,
    },
}

/// `Result` with [`MetricsError`].
pub type Result<T> = std::result::Result<T, MetricsError>;

impl MetricsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn input(
        metric: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Input {
            metric,
            expected: expected.into(),
            found: found.into(),
        }
    }
}
