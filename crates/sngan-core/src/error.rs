//! The error type of `sngan-core`: every variant names the file (or address), what was expected
//! and what was found, so that the crates above can pass it on unchanged.

use std::path::Path;

/// What can go wrong reading or writing arrays, downloading, or writing a file atomically.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The operating system refused to open, read, write or rename a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not have the layout its reader expects (magic, header, dtype, shape).
    #[error("{path}: expected {expected}, found {found}")]
    Format {
        /// The file (or `archive:member`).
        path: String,
        /// What a valid file has.
        expected: String,
        /// What this one has.
        found: String,
    },
    /// A file ends before the data its header promises.
    #[error("{path}: truncated: expected {expected}, found {found}")]
    Truncated {
        /// The file (or `archive:member`).
        path: String,
        /// The size the header promises.
        expected: String,
        /// The size present.
        found: String,
    },
    /// A downloaded file whose digest differs from the published one.
    #[error(
        "{path}: {algorithm} {found} does not match the published {expected} (corrupted download)"
    )]
    Checksum {
        /// The file that was hashed.
        path: String,
        /// `md5` or `sha256`.
        algorithm: String,
        /// The published digest (or digest prefix).
        expected: String,
        /// The digest of what arrived.
        found: String,
    },
    /// A transfer that failed or ended early.
    #[error("{url} -> {path}: download failed: expected {expected}, found {found}")]
    Download {
        /// The address requested.
        url: String,
        /// The file it was going to.
        path: String,
        /// What a complete transfer gives.
        expected: String,
        /// What happened instead.
        found: String,
    },
}

impl CoreError {
    /// The file the error is about (the target of a download).
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Io { path, .. }
            | Self::Format { path, .. }
            | Self::Truncated { path, .. }
            | Self::Checksum { path, .. }
            | Self::Download { path, .. } => Some(path),
        }
    }
}

/// `Result` with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// `path` as text for messages.
pub(crate) fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Wraps an I/O error with the file it concerns.
pub(crate) fn io(path: impl Into<String>) -> impl FnOnce(std::io::Error) -> CoreError {
    let path = path.into();
    move |source| CoreError::Io { path, source }
}

/// A [`CoreError::Format`].
pub(crate) fn format_error(
    path: impl Into<String>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> CoreError {
    CoreError::Format {
        path: path.into(),
        expected: expected.into(),
        found: found.into(),
    }
}
