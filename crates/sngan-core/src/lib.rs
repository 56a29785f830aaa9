//! The floor every sngan crate stands on: plumbing with no model and no tensor in it.
//!
//! - [`SplitMix64`]: the one seeded host RNG (data order, flips, KID subsets, latents, labels;
//!   its state is one `u64` that checkpoints save).
//! - [`Images`] / [`ImagesRef`] / [`Image`]: uint8 NHWC images with labels, and [`npy`]: numpy's
//!   `.npy`/`.npz` for them and for every other array the workspace reads or writes.
//! - [`download`]: the checked download (digests, progress, nothing left behind on failure).
//! - [`write_atomic`] / [`AtomicFile`]: every file the workspace writes appears whole or not at all.
//! - [`config`]: JSON configs that refuse unknown keys, and [`InvalidField`] for value checks.

pub mod config;
mod download;
mod error;
mod fs;
mod images;
pub mod npy;
mod rng;

pub use config::{ConfigError, InvalidField, ensure, read_config};
pub use download::{Cleanup, Digests, download, file_digests, md5_hex, sha256_hex};
pub use error::{CoreError, Result};
pub use fs::{AtomicFile, write_atomic};
pub use images::{Image, Images, ImagesRef};
pub use rng::{SplitMix64, mix};
