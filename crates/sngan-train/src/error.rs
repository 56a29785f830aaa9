//! Errors of a training run: each names the file or step and what went wrong.

use std::path::PathBuf;

/// What stopped a run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] sngan_data::DataError),
    /// A loss was NaN or infinite; the last checkpoint written is intact.
    #[error(
        "{what} is {value} at G step {step}: training diverged; the last checkpoint in the run directory is intact"
    )]
    NonFinite {
        /// Which loss.
        what: &'static str,
        /// Its value.
        value: f32,
        /// The G step it happened at.
        step: usize,
    },
    /// A file of the run directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A checkpoint or config did not load.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was expected and found.
        message: String,
    },
    /// A configuration value outside what its field allows (checked before anything runs).
    #[error("invalid config: {0}")]
    Config(#[from] sngan_core::InvalidField),
    /// A configuration file that does not parse, has an unknown key or an invalid value.
    #[error(transparent)]
    ConfigFile(#[from] sngan_core::ConfigError),
    /// Writing a file of the run (a grid, the config) failed.
    #[error(transparent)]
    Core(#[from] sngan_core::CoreError),
    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device: {0}")]
    Tensor(String),
    /// A periodic score could not be computed.
    #[error("periodic scores at G step {step}: {message}")]
    Score {
        /// The G step.
        step: usize,
        /// What failed.
        message: String,
    },
}

/// `map_err` helper for I/O on `path`.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TrainError {
    let path = path.into();
    move |source| TrainError::Io { path, source }
}
