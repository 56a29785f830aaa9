//! sngan: spectrally normalised GANs on Burn — SNGAN (Miyato et al., ICLR 2018) and the family
//! that grew from it (projection discriminator, SAGAN, BigGAN, BSN/SSN/BSSN).
//!
//! This facade re-exports the workspace libraries (`core`, `spectral`, `models`, `data`,
//! `metrics`, `train`, `convert`), embeds the quick-start's MNIST, and is the only crate that picks a backend:
//! the features `flex` (CPU, default), `ndarray`, `wgpu` and `cuda` decide which [`Backend`]s
//! a binary contains, and [`device`] turns a `--device` string into a Burn [`Device`].

mod allocator;
mod backend;
mod experiment;
mod quickstart;
pub mod scores;

pub use allocator::tune_allocator;
pub use backend::{Backend, DeviceError, compiled_backends, data_parallel, default_device, device};
pub use burn;
pub use burn::prelude::Device;
pub use experiment::run_experiment;
pub use quickstart::{embedded_mnist, embedded_source};
pub use sngan_convert as convert;
pub use sngan_core as core;
pub use sngan_data as data;
pub use sngan_metrics as metrics;
pub use sngan_models as models;
pub use sngan_spectral as spectral;
pub use sngan_train as train;
