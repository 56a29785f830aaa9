//! SAGAN presets (Zhang et al., "Self-Attention Generative Adversarial Networks", ICML 2019):
//! the SNGAN ResNets with spectral norm in G too and one self-attention block in each network,
//! placed as mmgen (`configs/_base_/models/sagan/`) and StudioGAN (`configs/CIFAR10/SAGAN.yaml`) do.

use sngan_spectral::SpectralNormConfig;

use crate::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};

/// StudioGAN's spectral norm: eps 1e-6.
fn studio_sn() -> Option<SpectralNormConfig> {
    Some(SpectralNormConfig::new().with_eps(1e-6))
}

impl ResNetGeneratorConfig {
    /// SAGAN CIFAR-10 32x32 (StudioGAN): conditional SNGAN-32 G with SN and attention after block 2
    /// (16x16, 256 channels); 4,386,308 parameters.
    pub fn sagan_cifar32() -> Self {
        Self::sngan_cifar32_conditional()
            .with_attention_after(Some(2))
            .with_sn(studio_sn())
            .with_bn_eps(1e-4)
    }

    /// SAGAN ImageNet 128x128 (mmgen `sagan_128x128.py`): SNGAN-128 G with SN and attention after
    /// block 4 (64x64).
    pub fn sagan_imagenet128() -> Self {
        Self::sngan_imagenet128()
            .with_attention_after(Some(4))
            .with_sn(Some(SpectralNormConfig::new()))
    }
}

impl ResNetDiscriminatorConfig {
    /// SAGAN CIFAR-10 32x32 (StudioGAN): the projection D with attention after block 1 (16x16,
    /// 128 channels); 1,075,586 parameters.
    pub fn sagan_cifar32() -> Self {
        Self::sngan_cifar32_projection()
            .with_attention_after(Some(1))
            .with_sn(studio_sn())
    }

    /// SAGAN ImageNet 128x128 (mmgen): the SNGAN-128 projection D with attention after block 1.
    pub fn sagan_imagenet128() -> Self {
        Self::sngan_imagenet128().with_attention_after(Some(1))
    }
}
