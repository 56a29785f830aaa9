//! Spectral normalisation for Burn (Miyato et al., "Spectral Normalization for Generative
//! Adversarial Networks", ICLR 2018), with the semantics of `torch.nn.utils.spectral_norm`, the
//! BSN/SSN/BSSN variants of Lin, Sekar and Fanti (NeurIPS 2021) and a strict operator-norm mode.
//!
//! Every layer divides its raw weight `W` by `sigma`, estimated as `u^T W v` from persistent
//! vectors `u`, `v` that take `n_power_iterations` detached power-iteration steps on each
//! training forward pass (input on an autodiff device, layer not `valid()`); evaluation reuses
//! the stored vectors and changes nothing. Gradients flow through `W` in both `W` and `sigma`.
//! This crate knows nothing of GANs.

mod buffer;
mod conv;
mod linear;
mod norm;
mod power;

pub use buffer::Buffer;
pub use conv::{SnConv2d, SnConv2dConfig, SnConvTranspose2d, SnConvTranspose2dConfig};
pub use linear::{SnEmbedding, SnEmbeddingConfig, SnLinear, SnLinearConfig};
pub use norm::{
    Sigma, SigmaMode, SigmaParts, SpectralLayer, SpectralNorm, SpectralNormConfig, shared_gamma,
};
pub use power::{
    Adjoint, ConvOperator, LinearOperator, MatrixOperator, normalize, power_iteration,
    rayleigh_sigma,
};

#[cfg(test)]
mod tests;
