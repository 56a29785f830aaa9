//! The preset registry: every seeded experiment's generator and discriminator, with the
//! parameter counts published for them (research notes, anchors section 2), and the unified
//! [`Generator`]/[`Discriminator`] types the trainer drives.

use burn::prelude::*;
use sngan_core::{InvalidField, ensure};
use sngan_spectral::SpectralNormConfig;

use crate::blocks::tangent::Pass;
use crate::init::WeightInit;
use crate::params::count_parameters;
use crate::resnet::{
    ResNetDiscriminator, ResNetDiscriminatorConfig, ResNetGenerator, ResNetGeneratorConfig,
};
use crate::std_cnn::{
    StdCnnDiscriminator, StdCnnDiscriminatorConfig, StdCnnGenerator, StdCnnGeneratorConfig,
    StdCnnLayout,
};

/// Any generator of the zoo.
#[derive(Config, Debug)]
pub enum GeneratorConfig {
    /// SNGAN standard CNN.
    StdCnn(StdCnnGeneratorConfig),
    /// ResNet (SNGAN, SAGAN, BigGAN).
    ResNet(ResNetGeneratorConfig),
}

/// Any discriminator of the zoo.
#[derive(Config, Debug)]
pub enum DiscriminatorConfig {
    /// SNGAN standard CNN.
    StdCnn(StdCnnDiscriminatorConfig),
    /// ResNet (SNGAN, SAGAN, BigGAN), projection when conditional.
    ResNet(ResNetDiscriminatorConfig),
}

/// A generator of the zoo.
// A network is built once and moved rarely; boxing a variant would put `Box` into every
// record path for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Generator {
    /// SNGAN standard CNN.
    StdCnn(StdCnnGenerator),
    /// ResNet (SNGAN, SAGAN, BigGAN).
    ResNet(ResNetGenerator),
}

/// A discriminator of the zoo.
#[allow(clippy::large_enum_variant)] // as for Generator
#[derive(Module, Debug)]
pub enum Discriminator {
    /// SNGAN standard CNN.
    StdCnn(StdCnnDiscriminator),
    /// ResNet (SNGAN, SAGAN, BigGAN).
    ResNet(ResNetDiscriminator),
}

impl GeneratorConfig {
    /// Build the generator.
    pub fn init(&self, device: &Device) -> Generator {
        match self {
            GeneratorConfig::StdCnn(c) => Generator::StdCnn(c.init(device)),
            GeneratorConfig::ResNet(c) => Generator::ResNet(c.init(device)),
        }
    }

    /// Latent size.
    pub fn z_dim(&self) -> usize {
        match self {
            GeneratorConfig::StdCnn(c) => c.z_dim,
            GeneratorConfig::ResNet(c) => c.z_dim,
        }
    }

    /// Number of classes, if conditional.
    pub fn n_classes(&self) -> Option<usize> {
        match self {
            GeneratorConfig::StdCnn(c) => c.n_classes,
            GeneratorConfig::ResNet(c) => c.n_classes,
        }
    }

    /// Side of the generated images.
    pub fn image_size(&self) -> usize {
        match self {
            GeneratorConfig::StdCnn(c) => 8 * c.bottom,
            GeneratorConfig::ResNet(c) => c.image_size(),
        }
    }

    /// Channels of the generated images.
    pub fn image_channels(&self) -> usize {
        match self {
            GeneratorConfig::StdCnn(c) => c.image_channels,
            GeneratorConfig::ResNet(c) => c.image_channels,
        }
    }

    /// The variant's name, as the config file spells it (`StdCnn`, `ResNet`).
    pub fn kind(&self) -> &'static str {
        match self {
            GeneratorConfig::StdCnn(_) => "StdCnn",
            GeneratorConfig::ResNet(_) => "ResNet",
        }
    }

    /// Checks every field; `Err` names the field (`StdCnn.z_dim`), its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            GeneratorConfig::StdCnn(c) => c.validate().map_err(|e| e.within("StdCnn")),
            GeneratorConfig::ResNet(c) => c.validate().map_err(|e| e.within("ResNet")),
        }
    }

    fn with_init(&self, init: WeightInit) -> Self {
        match self {
            GeneratorConfig::StdCnn(c) => GeneratorConfig::StdCnn(c.clone().with_init(init)),
            GeneratorConfig::ResNet(c) => GeneratorConfig::ResNet(c.clone().with_init(init)),
        }
    }
}

impl DiscriminatorConfig {
    /// The variant's name, as the config file spells it (`StdCnn`, `ResNet`).
    pub fn kind(&self) -> &'static str {
        match self {
            DiscriminatorConfig::StdCnn(_) => "StdCnn",
            DiscriminatorConfig::ResNet(_) => "ResNet",
        }
    }

    /// Checks every field; `Err` names the field (`ResNet.channels`), its value and what is
    /// allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            DiscriminatorConfig::StdCnn(c) => c.validate().map_err(|e| e.within("StdCnn")),
            DiscriminatorConfig::ResNet(c) => c.validate().map_err(|e| e.within("ResNet")),
        }
    }

    /// Side of the images it is built for, when fixed (always for the standard CNN).
    pub fn image_size(&self) -> Option<usize> {
        match self {
            DiscriminatorConfig::StdCnn(c) => Some(c.image_size),
            DiscriminatorConfig::ResNet(c) => c.image_size,
        }
    }

    /// Channels of the images it reads.
    pub fn image_channels(&self) -> usize {
        match self {
            DiscriminatorConfig::StdCnn(c) => c.image_channels,
            DiscriminatorConfig::ResNet(c) => c.channels.first().copied().unwrap_or(0),
        }
    }

    /// Number of classes of its projection head, if conditional.
    pub fn n_classes(&self) -> Option<usize> {
        match self {
            DiscriminatorConfig::StdCnn(c) => c.n_classes,
            DiscriminatorConfig::ResNet(c) => c.n_classes,
        }
    }

    /// Whether it has a self-attention block (which has no tangent pass, so no gradient
    /// penalty).
    pub fn has_attention(&self) -> bool {
        matches!(self, DiscriminatorConfig::ResNet(c) if c.attention_after.is_some())
    }

    /// Build the discriminator.
    pub fn init(&self, device: &Device) -> Discriminator {
        match self {
            DiscriminatorConfig::StdCnn(c) => Discriminator::StdCnn(c.init(device)),
            DiscriminatorConfig::ResNet(c) => Discriminator::ResNet(c.init(device)),
        }
    }

    fn with_init(&self, init: WeightInit) -> Self {
        match self {
            DiscriminatorConfig::StdCnn(c) => {
                DiscriminatorConfig::StdCnn(c.clone().with_init(init))
            }
            DiscriminatorConfig::ResNet(c) => {
                DiscriminatorConfig::ResNet(c.clone().with_init(init))
            }
        }
    }
}

impl Generator {
    /// # Shapes
    /// - `z`: `[batch, z_dim]`; `y`: `[batch]` class ids for conditional generators
    /// - output: `[batch, channels, size, size]` in `[-1, 1]`
    pub fn forward(&self, z: Tensor<2>, y: Option<Tensor<1, Int>>) -> Tensor<4> {
        match self {
            Generator::StdCnn(g) => g.forward(z, y),
            Generator::ResNet(g) => g.forward(z, y),
        }
    }
}

impl Discriminator {
    /// # Shapes
    /// - `x`: `[batch, channels, size, size]`; `y`: `[batch]` class ids for projection
    /// - output: `[batch, 1]` logits
    pub fn forward(&self, x: Tensor<4>, y: Option<Tensor<1, Int>>) -> Tensor<2> {
        match self {
            Discriminator::StdCnn(d) => d.forward(x, y),
            Discriminator::ResNet(d) => d.forward(x, y),
        }
    }

    /// Whether D is piecewise linear in its input (no self-attention), so that
    /// [`directional_derivative`](Self::directional_derivative) exists.
    pub fn is_piecewise_linear(&self) -> bool {
        match self {
            Discriminator::StdCnn(_) => true,
            Discriminator::ResNet(d) => d.attention.is_none(),
        }
    }

    /// The directional derivative `t_i . grad_x D(x_i)` of every sample's logit, differentiable
    /// in D's parameters, with each ReLU's slope taken at `x` (see [`Pass`]); `None` for a D
    /// with self-attention, which is not piecewise linear. Advances the spectral-norm vectors
    /// once, like a forward.
    ///
    /// # Shapes
    /// - `x`, `t`: `[batch, channels, size, size]`; `y`: `[batch]` class ids for projection
    /// - output: `[batch, 1]`
    pub fn directional_derivative(
        &self,
        x: Tensor<4>,
        t: Tensor<4>,
        y: Option<Tensor<1, Int>>,
    ) -> Option<Tensor<2>> {
        if !self.is_piecewise_linear() {
            return None;
        }
        let batch = x.dims()[0];
        let pair = Tensor::cat(vec![x.clone(), x + t], 0);
        let y = y.map(|y| Tensor::cat(vec![y.clone(), y], 0));
        let out = match self {
            Discriminator::StdCnn(d) => d.forward_pass(pair, y, Pass::Tangent),
            Discriminator::ResNet(d) => d.forward_pass(pair, y, Pass::Tangent),
        };
        Some(out.clone().narrow(0, batch, batch) - out.narrow(0, 0, batch))
    }
}

/// `sn.*` fields: at least one power iteration, positive finite `eps` and `scale`.
pub(crate) fn check_sn(sn: Option<&SpectralNormConfig>) -> Result<(), InvalidField> {
    let Some(sn) = sn else { return Ok(()) };
    let n = sn.n_power_iterations;
    ensure(
        n > 0,
        "sn.n_power_iterations",
        n,
        "at least 1 (power iteration estimates sigma)",
    )?;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    ensure(
        positive(sn.eps),
        "sn.eps",
        sn.eps,
        "a positive number (1e-12 in PyTorch)",
    )?;
    ensure(
        positive(sn.scale),
        "sn.scale",
        sn.scale,
        "a positive number (1 is plain SN)",
    )
}

/// `image_channels`: 1 (grey) or 3 (RGB), what the data readers and sample files hold.
pub(crate) fn check_channels(channels: usize) -> Result<(), InvalidField> {
    ensure(
        channels == 1 || channels == 3,
        "image_channels",
        channels,
        "1 (grey) or 3 (RGB)",
    )
}

/// `n_classes`: null (unconditional) or at least 1.
pub(crate) fn check_classes(n_classes: Option<usize>) -> Result<(), InvalidField> {
    ensure(
        n_classes != Some(0),
        "n_classes",
        0,
        "null (unconditional) or at least 1",
    )
}

/// `channels`: at least two entries (input and one block), none zero; entry `first` onwards.
pub(crate) fn check_widths(channels: &[usize], first: usize) -> Result<(), InvalidField> {
    ensure(
        channels.len() >= 2 && channels[first..].iter().all(|&c| c > 0),
        "channels",
        format!("{channels:?}"),
        "at least two widths (one block), none of them 0",
    )
}

/// `attention_after`: a block that exists, with a width divisible by 8 (theta and phi map to
/// `C / 8` channels).
pub(crate) fn check_attention(
    after: Option<usize>,
    channels: &[usize],
) -> Result<(), InvalidField> {
    let Some(i) = after else { return Ok(()) };
    let n = channels.len() - 1;
    ensure(
        (1..=n).contains(&i),
        "attention_after",
        i,
        &format!("a block number in 1..={n}, or null"),
    )?;
    ensure(
        channels[i].is_multiple_of(8),
        "attention_after",
        i,
        &format!(
            "a block whose width is a multiple of 8 (block {i} has {})",
            channels[i]
        ),
    )
}

/// A named experiment's networks and their published parameter counts.
#[derive(Clone, Debug)]
pub struct Preset {
    /// Experiment stem, as in `configs/<name>.json`.
    pub name: &'static str,
    /// The generator.
    pub generator: GeneratorConfig,
    /// The discriminator.
    pub discriminator: DiscriminatorConfig,
    /// `(G, D)` parameter counts from the publications or logs, where one exists.
    pub published: Option<(usize, usize)>,
}

impl Preset {
    /// `(G, D)` trainable-parameter counts, from networks built on `device` (the init scheme does
    /// not change a count, so the cheap PyTorch one is used).
    pub fn count(&self, device: &Device) -> (usize, usize) {
        let g = self.generator.with_init(WeightInit::PyTorch).init(device);
        let g_count = count_parameters(&g);
        drop(g);
        let d = self
            .discriminator
            .with_init(WeightInit::PyTorch)
            .init(device);
        (g_count, count_parameters(&d))
    }
}

/// Every preset of the zoo.
pub fn presets() -> Vec<Preset> {
    use DiscriminatorConfig as D;
    use GeneratorConfig as G;
    let std_d = |size, layout| D::StdCnn(StdCnnDiscriminatorConfig::new(size).with_layout(layout));
    vec![
        Preset {
            name: "sngan_cifar10_std_cnn",
            generator: G::StdCnn(StdCnnGeneratorConfig::sngan_cifar32()),
            discriminator: D::StdCnn(StdCnnDiscriminatorConfig::sngan_cifar32()),
            published: Some((3_812_355, 2_935_873)),
        },
        Preset {
            name: "sngan_cifar10_std_cnn_wide",
            generator: G::StdCnn(StdCnnGeneratorConfig::sngan_cifar32()),
            discriminator: std_d(32, StdCnnLayout::Wide),
            published: Some((3_812_355, 5_860_865)),
        },
        Preset {
            name: "sngan_stl10_std_cnn",
            generator: G::StdCnn(StdCnnGeneratorConfig::sngan_stl48()),
            discriminator: D::StdCnn(StdCnnDiscriminatorConfig::sngan_stl48()),
            published: Some((5_133_315, 2_946_113)),
        },
        Preset {
            name: "sngan_celeba64_std_cnn",
            generator: G::StdCnn(StdCnnGeneratorConfig::sngan_celeba64()),
            discriminator: D::StdCnn(StdCnnDiscriminatorConfig::sngan_celeba64()),
            published: Some((6_982_659, 2_960_449)),
        },
        Preset {
            name: "sngan_cifar10_resnet",
            generator: G::ResNet(ResNetGeneratorConfig::sngan_cifar32()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sngan_cifar32()),
            published: Some((4_276_739, 1_053_824)),
        },
        Preset {
            name: "sngan_cifar10_resnet_projection",
            generator: G::ResNet(ResNetGeneratorConfig::sngan_cifar32_conditional()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sngan_cifar32_projection()),
            published: Some((4_304_387, 1_055_105)),
        },
        Preset {
            name: "sngan_stl10_resnet",
            generator: G::ResNet(ResNetGeneratorConfig::sngan_stl48()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sngan_stl48()),
            published: Some((4_878_083, 10_141_441)),
        },
        Preset {
            name: "sngan_celeba64_resnet",
            generator: G::ResNet(ResNetGeneratorConfig::sngan_celeba64()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sngan_celeba64()),
            published: Some((12_220_675, 10_141_441)),
        },
        Preset {
            name: "sngan_imagenet128_projection",
            generator: G::ResNet(ResNetGeneratorConfig::sngan_imagenet128()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sngan_imagenet128()),
            published: Some((41_996_931, 39_443_137)),
        },
        Preset {
            name: "sagan_cifar10",
            generator: G::ResNet(ResNetGeneratorConfig::sagan_cifar32()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sagan_cifar32()),
            published: Some((4_386_308, 1_075_586)),
        },
        Preset {
            name: "sagan_imagenet128",
            generator: G::ResNet(ResNetGeneratorConfig::sagan_imagenet128()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::sagan_imagenet128()),
            published: None,
        },
        Preset {
            name: "biggan_cifar10",
            generator: G::ResNet(ResNetGeneratorConfig::biggan_cifar32_mmgen()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::biggan_cifar32_mmgen()),
            published: Some((4_304_387, 4_207_361)),
        },
        Preset {
            name: "biggan_cifar10_studio",
            generator: G::ResNet(ResNetGeneratorConfig::biggan_cifar32_studio()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::biggan_cifar32_studio()),
            published: Some((9_416_196, 2_415_170)),
        },
        Preset {
            name: "biggan_imagenet128",
            generator: G::ResNet(ResNetGeneratorConfig::biggan_imagenet128()),
            discriminator: D::ResNet(ResNetDiscriminatorConfig::biggan_imagenet128()),
            published: Some((70_433_988, 87_982_370)),
        },
    ]
}
