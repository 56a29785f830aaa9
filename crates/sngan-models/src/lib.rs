//! The SNGAN model zoo (Miyato et al., ICLR 2018) and its descendants: the standard CNN, the
//! ResNets with conditional BN and the projection discriminator (Miyato and Koyama, ICLR 2018),
//! SAGAN (Zhang et al., ICML 2019) and BigGAN (Brock et al., ICLR 2019), at the published sizes.
//!
//! Every architecture is a `Config` + `Module` pair; presets are typed constructors named after
//! the experiment they serve (`ResNetGeneratorConfig::sngan_cifar32()`), and [`presets`] lists
//! them all. Field names follow StudioGAN's modules so a checkpoint import is a key map.

pub mod biggan;
pub mod blocks;
pub mod init;
mod params;
pub mod resnet;
pub mod sagan;
pub mod std_cnn;
mod zoo;

pub use params::{
    AssignError, NamedTensor, assign_tensors, cast_parameters, count_parameters, named_tensors,
    orthogonal_regularization,
};
pub use zoo::{Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, Preset, presets};

#[cfg(test)]
mod tests;
