//! SNGAN ResNet generator and discriminator (Miyato et al., ICLR 2018, appendix B) with class-
//! conditional BN and the projection discriminator (Miyato and Koyama, ICLR 2018); the same
//! networks carry SAGAN's attention and BigGAN's shared embedding and hierarchical z.
//! Layout and names follow StudioGAN's `resnet.py`/`big_resnet.py`; presets give the official
//! Chainer widths (pfnet-research/sngan_projection) and mimicry's 48/64 px nets.

use burn::prelude::*;
use burn::tensor::activation::{relu, tanh};
use sngan_core::{InvalidField, ensure};
use sngan_spectral::{
    SigmaMode, SnConv2d, SnConv2dConfig, SnEmbedding, SnEmbeddingConfig, SnLinear, SnLinearConfig,
    SpectralNormConfig,
};

use crate::blocks::attention::{SelfAttention, SelfAttentionConfig};
use crate::blocks::batch_norm::{BatchNorm, BatchNormConfig, Condition, Conditioning};
use crate::blocks::resblock::{
    DiscBlock, DiscBlockConfig, GenBlock, GenBlockConfig, HiddenChannels, ShortcutInput,
};
use crate::blocks::tangent::Pass;
use crate::init::{LayerKind, WeightInit};
use crate::zoo::{check_attention, check_channels, check_classes, check_sn, check_widths};

/// Configuration of a [`ResNetGenerator`].
#[derive(Config, Debug)]
pub struct ResNetGeneratorConfig {
    /// Latent size.
    pub z_dim: usize,
    /// Side of the first feature map (4; 6 for STL-10 48).
    pub bottom: usize,
    /// `[c0, c1, ..., cn]`: the dense layer outputs `c0` maps, block `i` maps `c(i-1) -> c(i)`
    /// and doubles the resolution, so the image side is `bottom * 2^n`.
    pub channels: Vec<usize>,
    /// Classes for conditional BN; `None` is unconditional.
    #[config(default = "None")]
    pub n_classes: Option<usize>,
    /// BigGAN: a shared class embedding of this size, concatenated with one chunk of `z` per
    /// block (hierarchical z); `z` is split into `n_blocks + 1` equal chunks.
    #[config(default = "None")]
    pub shared_dim: Option<usize>,
    /// Self-attention after this block (1-based, StudioGAN's `attn_g_loc`).
    #[config(default = "None")]
    pub attention_after: Option<usize>,
    /// BN variance floor (1e-5 PyTorch/Chainer, 1e-4 StudioGAN).
    #[config(default = 1e-5)]
    pub bn_eps: f64,
    /// Spectral norm in the generator (SAGAN, BigGAN); `None` for SNGAN.
    #[config(default = "None")]
    pub sn: Option<SpectralNormConfig>,
    /// Whether `sn` also normalises the conditional-BN maps (mmgen's
    /// `with_embedding_spectral_norm`; its BigGAN-32 keeps its class tables plain).
    #[config(default = true)]
    pub cbn_sn: bool,
    /// Weight initialisation.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
    /// Output image channels.
    #[config(default = 3)]
    pub image_channels: usize,
}

/// ResNet generator: `z -> dense -> [c0, b, b] -> up-blocks (-> attention) -> BN-ReLU-conv3x3
/// -> tanh`.
#[derive(Module, Debug)]
pub struct ResNetGenerator {
    /// `z` (or its first chunk) `-> c0 * bottom^2`.
    pub linear0: SnLinear,
    /// BigGAN's shared class embedding.
    pub shared: Option<SnEmbedding>,
    /// The up-blocks.
    pub blocks: Vec<GenBlock>,
    /// Self-attention.
    pub attention: Option<SelfAttention>,
    /// Final BN over `cn`.
    pub bn4: BatchNorm,
    /// `cn -> image channels`, 3x3.
    pub conv2d5: SnConv2d,
    /// Block after which attention runs (1-based).
    pub attention_after: usize,
    /// Side of the first feature map.
    pub bottom: usize,
    /// Latent size.
    pub z_dim: usize,
}

impl ResNetGeneratorConfig {
    fn n_blocks(&self) -> usize {
        self.channels.len() - 1
    }

    /// Image side: `bottom * 2^blocks`.
    pub fn image_size(&self) -> usize {
        self.bottom << self.n_blocks()
    }

    /// Checks every field; `Err` names the field, its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        ensure(self.z_dim > 0, "z_dim", self.z_dim, "at least 1")?;
        ensure(self.bottom > 0, "bottom", self.bottom, "at least 1")?;
        check_widths(&self.channels, 0)?;
        let n = self.channels.len() - 1;
        ensure(
            self.bottom << n <= 4096,
            "bottom",
            self.bottom,
            &format!("a first map of at most {} px for {n} up-blocks", 4096 >> n),
        )?;
        check_classes(self.n_classes)?;
        if let Some(shared) = self.shared_dim {
            ensure(shared > 0, "shared_dim", shared, "at least 1, or null")?;
            ensure(
                self.n_classes.is_some(),
                "shared_dim",
                shared,
                "null for an unconditional generator (the shared embedding is of classes)",
            )?;
            ensure(
                self.z_dim.is_multiple_of(n + 1),
                "z_dim",
                self.z_dim,
                &format!(
                    "a multiple of {} (one chunk per block and one for the dense layer)",
                    n + 1
                ),
            )?;
        }
        check_attention(self.attention_after, &self.channels)?;
        ensure(
            self.bn_eps.is_finite() && self.bn_eps > 0.0,
            "bn_eps",
            self.bn_eps,
            "a positive number",
        )?;
        check_channels(self.image_channels)?;
        check_sn(self.sn.as_ref())
    }

    /// Build the generator.
    ///
    /// # Panics
    /// On an inconsistent configuration (no blocks, `shared_dim` without classes, `z_dim` not
    /// divisible into the hierarchical chunks, attention after a missing block).
    pub fn init(&self, device: &Device) -> ResNetGenerator {
        let n = self.n_blocks();
        assert!(
            n >= 1,
            "a ResNet generator needs at least one block: {:?}",
            self.channels
        );
        let (z_in, conditioning) = match (self.shared_dim, self.n_classes) {
            (Some(shared), Some(_)) => {
                assert_eq!(
                    self.z_dim % (n + 1),
                    0,
                    "z_dim {} must split into {} chunks",
                    self.z_dim,
                    n + 1
                );
                let chunk = self.z_dim / (n + 1);
                (chunk, Some(Conditioning::Vector(shared + chunk)))
            }
            (Some(_), None) => panic!("a shared embedding needs n_classes"),
            (None, classes) => (self.z_dim, classes.map(Conditioning::ClassEmbedding)),
        };
        if let Some(i) = self.attention_after {
            assert!(
                (1..=n).contains(&i),
                "attention after block {i}, but there are {n}"
            );
        }
        let c0 = self.channels[0];
        let linear0 =
            SnLinearConfig::new(z_in, c0 * self.bottom * self.bottom).with_sn(self.sn.clone());
        let blocks = self
            .channels
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                GenBlockConfig::new([w[0], w[1]])
                    .with_conditioning(conditioning.clone())
                    .with_bn_eps(self.bn_eps)
                    .with_sn(self.sn.clone())
                    .with_cbn_sn(self.cbn_sn)
                    .with_init(self.init.clone())
                    .with_input_side(Some(self.bottom << i))
                    .init(device)
            })
            .collect();
        let attention = self.attention_after.map(|i| {
            SelfAttentionConfig::new(self.channels[i])
                .with_sn(self.sn.clone())
                .with_init(self.init.clone())
                .with_input_side(Some(self.bottom << i))
                .init(device)
        });
        let c_last = *self.channels.last().expect("channels checked non-empty");
        let side = self.image_size();
        let conv_out = SnConv2dConfig::new([c_last, self.image_channels], [3, 3])
            .with_padding([1, 1])
            .with_input_size(Some([side, side]))
            .with_sn(self.sn.clone());
        ResNetGenerator {
            linear0: self.init.linear(linear0, LayerKind::Linear, device),
            shared: match (self.shared_dim, self.n_classes) {
                (Some(d), Some(classes)) => {
                    let config = SnEmbeddingConfig::new(classes, d).with_sn(None);
                    Some(self.init.embedding(config, device))
                }
                _ => None,
            },
            blocks,
            attention,
            bn4: BatchNormConfig::new(c_last)
                .with_eps(self.bn_eps)
                .init(device),
            conv2d5: self.init.conv(conv_out, LayerKind::Conv, device),
            attention_after: self.attention_after.unwrap_or(0),
            bottom: self.bottom,
            z_dim: self.z_dim,
        }
    }
}

impl ResNetGenerator {
    /// # Shapes
    /// - `z`: `[batch, z_dim]`; `y`: `[batch]` class ids (conditional generators only)
    /// - output: `[batch, image_channels, size, size]` in `[-1, 1]`
    ///
    /// # Panics
    /// If a conditional generator gets no classes.
    pub fn forward(&self, z: Tensor<2>, y: Option<Tensor<1, Int>>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let (z0, conditions): (Tensor<2>, Vec<Option<Condition>>) = match &self.shared {
            Some(shared) => {
                let y = y.expect("a conditional generator needs class ids");
                let chunks = z.chunk(self.blocks.len() + 1, 1);
                let e = shared.forward(y);
                let conds = chunks[1..]
                    .iter()
                    .map(|zi| {
                        Some(Condition::Vector(Tensor::cat(
                            vec![e.clone(), zi.clone()],
                            1,
                        )))
                    })
                    .collect();
                (chunks[0].clone(), conds)
            }
            None => {
                let cond = y.map(Condition::Class);
                (z, vec![cond; self.blocks.len()])
            }
        };
        let c0 = self.linear0.weight.dims()[0] / (self.bottom * self.bottom);
        let mut h = self
            .linear0
            .forward(z0)
            .reshape([batch, c0, self.bottom, self.bottom]);
        for (i, (block, cond)) in self.blocks.iter().zip(&conditions).enumerate() {
            h = block.forward(h, cond.as_ref());
            if i + 1 == self.attention_after
                && let Some(attention) = &self.attention
            {
                h = attention.forward(h);
            }
        }
        tanh(self.conv2d5.forward(relu(self.bn4.forward(h))))
    }
}

/// Configuration of a [`ResNetDiscriminator`].
#[derive(Config, Debug)]
pub struct ResNetDiscriminatorConfig {
    /// `[3, c1, ..., cn]`: block `i` maps `c(i-1) -> c(i)`; the first block is the optimized one.
    pub channels: Vec<usize>,
    /// Which blocks halve the resolution (the first always does).
    pub downsample: Vec<bool>,
    /// Inner width convention of the blocks after the first.
    #[config(default = "HiddenChannels::Output")]
    pub hidden: HiddenChannels,
    /// What the shortcuts of the blocks after the first read.
    #[config(default = "ShortcutInput::Input")]
    pub shortcut: ShortcutInput,
    /// Classes for the projection head; `None` is unconditional.
    #[config(default = "None")]
    pub n_classes: Option<usize>,
    /// Self-attention after this block (1-based, StudioGAN's `attn_d_loc`).
    #[config(default = "None")]
    pub attention_after: Option<usize>,
    /// Bias on the final linear layer (the official 32 px net has none).
    #[config(default = true)]
    pub linear_bias: bool,
    /// Spectral norm of every layer.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight initialisation.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
    /// Side of the input images; needed by strict spectral norm only (the network itself takes
    /// any size its pooling divides).
    #[config(default = "None")]
    pub image_size: Option<usize>,
}

/// ResNet discriminator: down-blocks (-> attention) -> ReLU -> global sum pool -> linear, plus
/// the projection `<embed(y), h>` when conditional.
#[derive(Module, Debug)]
pub struct ResNetDiscriminator {
    /// The down-blocks.
    pub blocks: Vec<DiscBlock>,
    /// Self-attention.
    pub attention: Option<SelfAttention>,
    /// `cn -> 1`.
    pub linear1: SnLinear,
    /// Projection embedding `[n_classes, cn]`.
    pub embedding: Option<SnEmbedding>,
    /// Block after which attention runs (1-based).
    pub attention_after: usize,
}

impl ResNetDiscriminatorConfig {
    /// Side of the maps entering block `block` (0-based; `n_blocks` gives the last block's
    /// output), when `image_size` is set: the first block always halves it, the others when
    /// their `downsample` flag says so.
    fn side_before(&self, block: usize) -> Option<usize> {
        let halvings = (0..block)
            .filter(|&i| i == 0 || self.downsample.get(i).copied().unwrap_or(false))
            .count();
        self.image_size.map(|s| s >> halvings)
    }

    /// Checks every field; `Err` names the field, its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        check_widths(&self.channels, 1)?;
        check_channels(self.channels[0]).map_err(|e| InvalidField {
            field: "channels".into(),
            ..e
        })?;
        let n = self.channels.len() - 1;
        ensure(
            self.downsample.len() == n,
            "downsample",
            format!("{:?}", self.downsample),
            &format!("one flag per block ({n})"),
        )?;
        check_classes(self.n_classes)?;
        check_attention(self.attention_after, &self.channels)?;
        let strict = self
            .sn
            .as_ref()
            .is_some_and(|sn| sn.mode == SigmaMode::Strict);
        match self.image_size {
            Some(size) => {
                ensure(
                    self.side_before(n).is_some_and(|last| last > 0),
                    "image_size",
                    size,
                    "a side that stays at least 1 px through every pooling block",
                )?;
                if let Some(i) = self.attention_after {
                    let side = self.side_before(i).unwrap_or(0);
                    ensure(
                        side.is_multiple_of(2),
                        "attention_after",
                        i,
                        &format!(
                            "a block whose output side is even (after block {i} it is {side})"
                        ),
                    )?;
                }
            }
            None => ensure(
                !strict,
                "image_size",
                "null",
                "the input side, which strict spectral norm needs",
            )?,
        }
        check_sn(self.sn.as_ref())
    }

    /// Build the discriminator.
    ///
    /// # Panics
    /// If `downsample` does not give one flag per block, or attention follows a missing block.
    pub fn init(&self, device: &Device) -> ResNetDiscriminator {
        let n = self.channels.len() - 1;
        assert_eq!(self.downsample.len(), n, "one downsample flag per block");
        if let Some(i) = self.attention_after {
            assert!(
                (1..=n).contains(&i),
                "attention after block {i}, but there are {n}"
            );
        }
        let blocks = (0..n)
            .map(|i| {
                DiscBlockConfig::new([self.channels[i], self.channels[i + 1]])
                    .with_downsample(self.downsample[i])
                    .with_optimized(i == 0)
                    .with_hidden(self.hidden.clone())
                    .with_shortcut(self.shortcut.clone())
                    .with_sn(self.sn.clone())
                    .with_init(self.init.clone())
                    .with_input_side(self.side_before(i))
                    .init(device)
            })
            .collect();
        let c_last = self.channels[n];
        let linear = SnLinearConfig::new(c_last, 1)
            .with_bias(self.linear_bias)
            .with_sn(self.sn.clone());
        ResNetDiscriminator {
            blocks,
            attention: self.attention_after.map(|i| {
                SelfAttentionConfig::new(self.channels[i])
                    .with_sn(self.sn.clone())
                    .with_init(self.init.clone())
                    .with_input_side(self.side_before(i))
                    .init(device)
            }),
            linear1: self.init.linear(linear, LayerKind::Linear, device),
            embedding: self.n_classes.map(|classes| {
                self.init.embedding(
                    SnEmbeddingConfig::new(classes, c_last).with_sn(self.sn.clone()),
                    device,
                )
            }),
            attention_after: self.attention_after.unwrap_or(0),
        }
    }
}

impl ResNetDiscriminator {
    /// # Shapes
    /// - `x`: `[batch, 3, H, W]`; `y`: `[batch]` class ids (projection only)
    /// - output: `[batch, 1]` logits
    pub fn forward(&self, x: Tensor<4>, y: Option<Tensor<1, Int>>) -> Tensor<2> {
        self.forward_pass(x, y, Pass::Plain)
    }

    /// [`forward`](Self::forward), or a tangent pass on a pair (see [`Pass`]).
    ///
    /// # Panics
    /// A tangent pass through self-attention, which is not piecewise linear.
    pub fn forward_pass(&self, x: Tensor<4>, y: Option<Tensor<1, Int>>, pass: Pass) -> Tensor<2> {
        let mut h = x;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward_pass(h, pass);
            if i + 1 == self.attention_after
                && let Some(attention) = &self.attention
            {
                assert_eq!(pass, Pass::Plain, "self-attention has no tangent pass");
                h = attention.forward(h);
            }
        }
        let h = pass.relu(h).sum_dims_squeeze::<2, _>(&[2, 3]); // [batch, c] global sum pool
        let out = self.linear1.forward(h.clone());
        project(out, h, self.embedding.as_ref(), y)
    }
}

/// The projection head: `out + sum(embed(y) * h, 1)` (Miyato and Koyama, eq. 3).
pub(crate) fn project(
    out: Tensor<2>,
    h: Tensor<2>,
    embedding: Option<&SnEmbedding>,
    y: Option<Tensor<1, Int>>,
) -> Tensor<2> {
    match (embedding, y) {
        (Some(embedding), Some(y)) => out + (embedding.forward(y) * h).sum_dim(1),
        (Some(_), None) => panic!("a projection discriminator needs class ids"),
        (None, _) => out,
    }
}

/// The SNGAN ResNet presets (official Chainer widths unless named otherwise).
impl ResNetGeneratorConfig {
    /// CIFAR-10 32x32, unconditional: 256 channels, 3 blocks (sn_cifar10_unconditional.yml).
    pub fn sngan_cifar32() -> Self {
        Self::new(128, 4, vec![256; 4])
    }

    /// CIFAR-10 32x32 with conditional BN over 10 classes (sn_cifar10_conditional.yml).
    pub fn sngan_cifar32_conditional() -> Self {
        Self::sngan_cifar32().with_n_classes(Some(10))
    }

    /// STL-10 48x48 (mimicry `sngan_48`): `z -> 6x6x512`, up 512-256-128-64.
    pub fn sngan_stl48() -> Self {
        Self::new(128, 6, vec![512, 256, 128, 64])
    }

    /// CelebA 64x64 (mimicry `sngan_64`): `z -> 4x4x1024`, up 1024-512-256-128-64.
    pub fn sngan_celeba64() -> Self {
        Self::new(128, 4, vec![1024, 512, 256, 128, 64])
    }

    /// ImageNet 128x128, 1000-class conditional BN (sngan_projection `resnet.py`, ch 64).
    pub fn sngan_imagenet128() -> Self {
        Self::new(128, 4, vec![1024, 1024, 512, 256, 128, 64]).with_n_classes(Some(1000))
    }
}

/// The SNGAN ResNet discriminator presets.
impl ResNetDiscriminatorConfig {
    /// CIFAR-10 32x32, unconditional: four 128-channel blocks, the first two pool; no bias on
    /// the final linear (sn_cifar10_unconditional.yml, `snresnet_32.py`).
    pub fn sngan_cifar32() -> Self {
        Self::new(vec![3, 128, 128, 128, 128], vec![true, true, false, false])
            .with_hidden(HiddenChannels::Input)
            .with_linear_bias(false)
            .with_image_size(Some(32))
    }

    /// CIFAR-10 32x32 projection discriminator, 10 classes, as StudioGAN's SNGAN (linear bias,
    /// hidden = out); 1,055,105 parameters.
    pub fn sngan_cifar32_projection() -> Self {
        Self::new(vec![3, 128, 128, 128, 128], vec![true, true, false, false])
            .with_n_classes(Some(10))
            .with_image_size(Some(32))
    }

    /// STL-10 48x48 (mimicry `sngan_48`): 64-128-256-512-1024, the last block without pooling.
    pub fn sngan_stl48() -> Self {
        Self::new(
            vec![3, 64, 128, 256, 512, 1024],
            vec![true, true, true, true, false],
        )
        .with_hidden(HiddenChannels::Input)
        .with_image_size(Some(48))
    }

    /// CelebA 64x64 (mimicry `sngan_64`): 64-128-256-512-1024, all pooling.
    pub fn sngan_celeba64() -> Self {
        Self::new(vec![3, 64, 128, 256, 512, 1024], vec![true; 5])
            .with_hidden(HiddenChannels::Input)
            .with_image_size(Some(64))
    }

    /// ImageNet 128x128 projection discriminator, 1000 classes, hidden = out as StudioGAN and
    /// mmgen (39,443,137 parameters; `HiddenChannels::Input` gives the official Chainer net).
    pub fn sngan_imagenet128() -> Self {
        Self::new(
            vec![3, 64, 128, 256, 512, 1024, 1024],
            vec![true, true, true, true, true, false],
        )
        .with_n_classes(Some(1000))
        .with_image_size(Some(128))
    }
}
