//! Errors of checkpoint import and export: each names the file, what was expected and what was
//! found.

use std::fmt;
use std::path::PathBuf;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a checkpoint this reader understands, or is damaged (truncated, a length
    /// that points past its end, a corrupt archive).
    #[error("{}: not a readable checkpoint ({message})", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the reader found.
        message: String,
    },
    /// The pickle references a callable outside the data types a checkpoint needs; nothing in it
    /// was run.
    #[error(
        "{}: the pickle references `{global}`, which is not a tensor or a plain data type; \
         refusing to read it (nothing from the file was executed). Re-save only the state dict \
         (torch.save(model.state_dict(), path)) if the file is trusted",
        path.display()
    )]
    ForbiddenGlobal {
        /// The file.
        path: PathBuf,
        /// `module.name` of the callable.
        global: String,
    },
    /// The tensors of one or more networks do not match the layout the model expects.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Layout(Vec<LayoutMismatch>),
    /// The files do not make up the networks a conversion needs.
    #[error("{message}")]
    Files {
        /// What is wrong with the set of files.
        message: String,
    },
    /// The model has no counterpart in the peer's layout.
    #[error("{message}")]
    Unsupported {
        /// What cannot be mapped, and why.
        message: String,
    },
    /// The config given is invalid (checked before any file is read).
    #[error("invalid config: {0}")]
    Config(#[from] sngan_core::InvalidField),
    /// Writing or reopening the run directory, or reading the run to export, failed.
    #[error(transparent)]
    Train(#[from] sngan_train::TrainError),
    /// Writing an exported file, or reading a Chainer archive's arrays, failed.
    #[error(transparent)]
    Core(#[from] sngan_core::CoreError),
    /// Writing a file failed.
    #[error("{}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The failure.
        message: String,
    },
}

impl ConvertError {
    /// Whether the files, config or model given are at fault (the CLI's exit code 2), rather
    /// than a failure while reading or writing (a missing file, a full disk).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ConvertError::Unreadable { .. }
            | ConvertError::ForbiddenGlobal { .. }
            | ConvertError::Layout(_)
            | ConvertError::Files { .. }
            | ConvertError::Unsupported { .. }
            | ConvertError::Config(_) => true,
            ConvertError::Train(e) => matches!(
                e,
                sngan_train::TrainError::Config(_) | sngan_train::TrainError::ConfigFile(_)
            ),
            ConvertError::Io { .. } | ConvertError::Core(_) | ConvertError::Write { .. } => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ConvertError::Io { path, source }
    }

    pub(crate) fn unreadable(path: impl Into<PathBuf>, message: impl fmt::Display) -> Self {
        ConvertError::Unreadable {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// Every key of one network that did not fit: reported together, never skipped.
#[derive(Debug, Default)]
pub struct LayoutMismatch {
    /// The file.
    pub path: PathBuf,
    /// Which network of the file (`generator`, `discriminator`, ...).
    pub network: String,
    /// Keys in the file that no layer of the model reads, each with the nearest expected key.
    pub unmapped: Vec<(String, String)>,
    /// Keys the model needs that the file lacks.
    pub missing: Vec<String>,
    /// `(key, expected shape, found shape)`.
    pub shapes: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl LayoutMismatch {
    pub(crate) fn is_empty(&self) -> bool {
        self.unmapped.is_empty() && self.missing.is_empty() && self.shapes.is_empty()
    }
}

impl fmt::Display for LayoutMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the {} does not match the model's layout",
            self.path.display(),
            self.network
        )?;
        if !self.unmapped.is_empty() {
            write!(f, "\n  keys no layer reads ({}):", self.unmapped.len())?;
            for (key, nearest) in &self.unmapped {
                write!(f, "\n    {key} (nearest expected key: {nearest})")?;
            }
        }
        if !self.missing.is_empty() {
            write!(f, "\n  missing keys ({}):", self.missing.len())?;
            for key in &self.missing {
                write!(f, "\n    {key}")?;
            }
        }
        if !self.shapes.is_empty() {
            write!(f, "\n  wrong shapes ({}):", self.shapes.len())?;
            for (key, expected, found) in &self.shapes {
                write!(f, "\n    {key}: expected {expected:?}, found {found:?}")?;
            }
        }
        Ok(())
    }
}
