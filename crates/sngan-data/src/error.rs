//! The one error type of the crate: every variant names the file (or archive member), what was
//! expected and what was found, so a user can fix the input without reading the code
//! (research/data.md section 13).

use std::path::Path;

/// Everything that can go wrong while reading, checking or fetching a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file the requested split needs is absent.
    #[error("{path}: missing {expected} (found: {found})")]
    Missing {
        /// Directory or archive that was searched.
        path: String,
        /// The file(s) needed.
        expected: String,
        /// What the directory or archive holds instead.
        found: String,
    },
    /// A folder or archive holds nothing usable.
    #[error("{path}: expected {expected}, found none")]
    Empty {
        /// Directory or archive that was searched.
        path: String,
        /// What it should contain.
        expected: String,
    },
    /// A label outside the range of the data set.
    #[error("{path}: record {index} has label {found}, expected {expected}")]
    Label {
        /// File holding the labels.
        path: String,
        /// Record index inside the file.
        index: usize,
        /// Valid range.
        expected: String,
        /// The label found.
        found: i64,
    },
    /// An image that cannot be decoded, or that decodes from a truncated JPEG.
    #[error("{path}: cannot decode image: expected {expected}, found {found}")]
    Image {
        /// File (or `archive:member`).
        path: String,
        /// What a valid image has.
        expected: String,
        /// The decoder's complaint or the defect found.
        found: String,
    },
    /// An image too small for the requested crop.
    #[error("{path}: expected an image of at least {expected} for the {crop} crop, found {found}")]
    TooSmall {
        /// File (or `archive:member`).
        path: String,
        /// Name of the crop.
        crop: String,
        /// Minimum `WxH`.
        expected: String,
        /// Actual `WxH`.
        found: String,
    },
    /// A file that cannot be read or written, or does not have the layout its reader expects
    /// (magic, header, record size, shape, dtype) or ends early; a failed download.
    #[error(transparent)]
    Core(#[from] sngan_core::CoreError),
    /// A name (of a data set, a split, a crop) that this crate does not know.
    #[error("unknown {what} '{found}': expected one of {expected}")]
    Unknown {
        /// What was named.
        what: &'static str,
        /// Accepted names.
        expected: String,
        /// The name given.
        found: String,
    },
    /// A split name that the data set does not have.
    #[error("unknown {dataset} split '{found}': expected one of {expected}")]
    UnknownSplit {
        /// Data set.
        dataset: String,
        /// Accepted names.
        expected: String,
        /// The name given.
        found: String,
    },
    /// An option that cannot work with this data (for example a crop larger than the target).
    #[error("{what}: expected {expected}, found {found}")]
    Invalid {
        /// The option or item concerned.
        what: String,
        /// Valid values.
        expected: String,
        /// The value given.
        found: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// `path` as text for messages.
pub(crate) fn show(path: &Path) -> String {
    path.display().to_string()
}

/// `archive:member` for messages about archive members.
pub(crate) fn member(archive: &Path, member: &str) -> String {
    format!("{}:{member}", archive.display())
}

/// Wraps an I/O error with the file it concerns.
pub(crate) fn io(path: impl Into<String>) -> impl FnOnce(std::io::Error) -> DataError {
    let path = path.into();
    move |source| DataError::Core(sngan_core::CoreError::Io { path, source })
}

impl DataError {
    /// The file (or `archive:member`) the error is about, where there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Missing { path, .. }
            | Self::Empty { path, .. }
            | Self::Label { path, .. }
            | Self::Image { path, .. }
            | Self::TooSmall { path, .. } => Some(path),
            Self::Core(e) => e.path(),
            Self::Unknown { .. } | Self::UnknownSplit { .. } | Self::Invalid { .. } => None,
        }
    }
}
