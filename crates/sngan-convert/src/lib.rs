//! Checkpoint conversion between sngan and the SNGAN-family peers (research note
//! `checkpoints.md`): import of open-mmlab mmgeneration / mmagic, PyTorch-StudioGAN,
//! BigGAN-PyTorch and Chainer sngan_projection checkpoints into run directories, and export of
//! our networks in StudioGAN's layout (torch zip or safetensors).
//!
//! An import reads the peer's files without running anything from them (a pickle naming a
//! callable outside tensors and plain data is refused), maps every key onto our modules (a key
//! that does not map, a missing key or a wrong shape is an error listing all of them), and
//! converts each spectrally normalised layer so that our `torch.nn.utils.spectral_norm`
//! semantics give the peer's own eval-time sigma: torch-style vectors are kept as stored, and
//! BigGAN-PyTorch's and Chainer's `u` take the one power step their forward takes. Channel
//! order (mmgen's BGR models), BN eps, CBN gain convention and D shortcut semantics come from the
//! source, not from the user.

mod convert;
mod error;
mod export;
mod layout;
mod pickle;
mod read;
mod sources;
mod torch_save;

pub use convert::{Conversion, Imported, convert, import};
pub use error::{ConvertError, LayoutMismatch};
pub use export::{Export, ExportFormat, export};
pub use sources::{Net, Source};
