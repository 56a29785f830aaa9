//! BigGAN presets (Brock et al., "Large Scale GAN Training for High Fidelity Natural
//! Image Synthesis", ICLR 2019): mmgen's and StudioGAN's 32x32 nets and the 128x128 net with a
//! shared class embedding, hierarchical z and attention at 64x64 (BigGAN-PyTorch
//! `launch_BigGAN_bs256x8.sh`, StudioGAN `big_resnet.py`). Truncated latents are drawn by
//! `sngan_core::SplitMix64::truncated_normals`.

use sngan_spectral::SpectralNormConfig;

use crate::blocks::resblock::HiddenChannels;
use crate::init::WeightInit;
use crate::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};

pub use crate::params::orthogonal_regularization;

impl ResNetGeneratorConfig {
    /// BigGAN CIFAR-10 as mmgen (`biggan_32x32.py`): 256 channels, class-embedding CBN with plain
    /// tables (`nn.Embedding`), no shared embedding or hierarchical z, SN (eps 1e-8) on every other
    /// layer of G, N(0, 0.02) init.
    pub fn biggan_cifar32_mmgen() -> Self {
        Self::new(128, 4, vec![256; 4])
            .with_n_classes(Some(10))
            .with_sn(Some(SpectralNormConfig::new().with_eps(1e-8)))
            .with_cbn_sn(false)
            .with_init(WeightInit::Normal02)
    }

    /// BigGAN CIFAR-10 as StudioGAN (`BigGAN.yaml`): 384 channels, z 80 in 4 chunks, shared
    /// embedding 128, attention after block 2, SN (eps 1e-6), orthogonal init; 9,416,196
    /// parameters.
    pub fn biggan_cifar32_studio() -> Self {
        Self::new(80, 4, vec![384; 4])
            .with_n_classes(Some(10))
            .with_shared_dim(Some(128))
            .with_attention_after(Some(2))
            .with_sn(Some(SpectralNormConfig::new().with_eps(1e-6)))
            .with_bn_eps(1e-4)
            .with_init(WeightInit::Orthogonal)
    }

    /// BigGAN ImageNet 128x128: ch 96 (1536-1536-768-384-192-96), z 120 in 6 chunks, shared
    /// embedding 128, attention after block 4 (64x64), SN (eps 1e-6), orthogonal init.
    pub fn biggan_imagenet128() -> Self {
        Self::new(120, 4, vec![1536, 1536, 768, 384, 192, 96])
            .with_n_classes(Some(1000))
            .with_shared_dim(Some(128))
            .with_attention_after(Some(4))
            .with_sn(Some(SpectralNormConfig::new().with_eps(1e-6)))
            .with_bn_eps(1e-4)
            .with_init(WeightInit::Orthogonal)
    }
}

impl ResNetDiscriminatorConfig {
    /// BigGAN CIFAR-10 D as mmgen: four 256-channel blocks (pool, pool, -, -), projection, SN eps
    /// 1e-8, N(0, 0.02) init.
    pub fn biggan_cifar32_mmgen() -> Self {
        Self::new(vec![3, 256, 256, 256, 256], vec![true, true, false, false])
            .with_hidden(HiddenChannels::Output)
            .with_n_classes(Some(10))
            .with_sn(Some(SpectralNormConfig::new().with_eps(1e-8)))
            .with_init(WeightInit::Normal02)
            .with_image_size(Some(32))
    }

    /// BigGAN CIFAR-10 D as StudioGAN: four 192-channel blocks, attention after block 1,
    /// projection, SN eps 1e-6, orthogonal init; 2,415,170 parameters.
    pub fn biggan_cifar32_studio() -> Self {
        Self::new(vec![3, 192, 192, 192, 192], vec![true, true, false, false])
            .with_n_classes(Some(10))
            .with_attention_after(Some(1))
            .with_sn(Some(SpectralNormConfig::new().with_eps(1e-6)))
            .with_init(WeightInit::Orthogonal)
            .with_image_size(Some(32))
    }

    /// BigGAN ImageNet 128x128 D: ch 96 (96-192-384-768-1536-1536, the last block without
    /// pooling), attention after block 1 (64x64), projection, SN eps 1e-6, orthogonal init.
    pub fn biggan_imagenet128() -> Self {
        Self::new(
            vec![3, 96, 192, 384, 768, 1536, 1536],
            vec![true, true, true, true, true, false],
        )
        .with_n_classes(Some(1000))
        .with_attention_after(Some(1))
        .with_sn(Some(SpectralNormConfig::new().with_eps(1e-6)))
        .with_init(WeightInit::Orthogonal)
        .with_image_size(Some(128))
    }
}
