//! Residual blocks of the SNGAN ResNets (Miyato et al., ICLR 2018, appendix; Gulrajani et al.,
//! 2017), reused by SAGAN and BigGAN: the up-sampling generator block and the down-sampling
//! discriminator block, laid out and named as StudioGAN's `GenBlock`, `DiscOptBlock`, `DiscBlock`.

use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{avg_pool2d, interpolate};
use burn::tensor::ops::{AvgPoolOptions, InterpolateMode, InterpolateOptions};
use sngan_spectral::{SnConv2d, SnConv2dConfig, SpectralNormConfig};

use crate::blocks::batch_norm::{Condition, Conditioning, GenNorm};
use crate::blocks::tangent::Pass;
use crate::init::{LayerKind, WeightInit};

/// Nearest-neighbour 2x up-sampling (`F.interpolate(scale_factor=2, mode="nearest")`).
pub fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let options = InterpolateOptions::new(InterpolateMode::Nearest).with_scale_factor([2.0, 2.0]);
    interpolate(x, options)
}

/// 2x2 average pooling, stride 2 (`nn.AvgPool2d(2)`).
pub fn downsample2(x: Tensor<4>) -> Tensor<4> {
    avg_pool2d(x, AvgPoolOptions::new([2, 2]))
}

/// A `kernel x kernel` conv with "same" padding on a `side x side` input (strict SN needs it).
fn conv(
    [c_in, c_out]: [usize; 2],
    kernel: usize,
    side: Option<usize>,
    sn: &Option<SpectralNormConfig>,
    init: &WeightInit,
    device: &Device,
) -> SnConv2d {
    let config = SnConv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_padding([kernel / 2, kernel / 2])
        .with_input_size(side.map(|s| [s, s]))
        .with_sn(sn.clone());
    let kind = if kernel == 1 {
        LayerKind::Conv1x1
    } else {
        LayerKind::Conv
    };
    init.conv(config, kind, device)
}

/// Configuration of a [`GenBlock`].
#[derive(Config, Debug)]
pub struct GenBlockConfig {
    /// `[in, out]` channels.
    pub channels: [usize; 2],
    /// Class or vector conditioning of the two BNs; `None` for plain BN.
    #[config(default = "None")]
    pub conditioning: Option<Conditioning>,
    /// BN variance floor.
    #[config(default = 1e-5)]
    pub bn_eps: f64,
    /// Spectral norm on the convs (and conditional-BN maps): SAGAN and BigGAN.
    #[config(default = "None")]
    pub sn: Option<SpectralNormConfig>,
    /// Whether `sn` also normalises the conditional-BN maps (mmgen's
    /// `with_embedding_spectral_norm`; its BigGAN-32 keeps its class tables plain).
    #[config(default = true)]
    pub cbn_sn: bool,
    /// Weight initialisation.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
    /// Side of the block's input maps; needed by strict spectral norm only.
    #[config(default = "None")]
    pub input_side: Option<usize>,
}

/// Pre-activation up-block: `BN-ReLU-up-conv3x3-BN-ReLU-conv3x3`, plus `up-conv1x1` shortcut.
#[derive(Module, Debug)]
pub struct GenBlock {
    /// First normalisation, over the input channels.
    pub bn1: GenNorm,
    /// `in -> out`, 3x3.
    pub conv2d1: SnConv2d,
    /// Second normalisation, over the output channels.
    pub bn2: GenNorm,
    /// `out -> out`, 3x3.
    pub conv2d2: SnConv2d,
    /// Shortcut `in -> out`, 1x1 (always learnable: the block up-samples).
    pub conv2d0: SnConv2d,
}

impl GenBlockConfig {
    /// Build the block.
    pub fn init(&self, device: &Device) -> GenBlock {
        let [c_in, c_out] = self.channels;
        let norm_sn = self.sn.as_ref().filter(|_| self.cbn_sn);
        let up = self.input_side.map(|s| 2 * s);
        let norm = |c: usize| {
            GenNorm::new(
                c,
                self.conditioning.as_ref(),
                self.bn_eps,
                norm_sn,
                &self.init,
                device,
            )
        };
        GenBlock {
            bn1: norm(c_in),
            // Every conv runs after the 2x up-sampling.
            conv2d1: conv([c_in, c_out], 3, up, &self.sn, &self.init, device),
            bn2: norm(c_out),
            conv2d2: conv([c_out, c_out], 3, up, &self.sn, &self.init, device),
            conv2d0: conv([c_in, c_out], 1, up, &self.sn, &self.init, device),
        }
    }
}

impl GenBlock {
    /// # Shapes
    /// - `input`: `[batch, in, H, W]`
    /// - output: `[batch, out, 2H, 2W]`
    pub fn forward(&self, input: Tensor<4>, condition: Option<&Condition>) -> Tensor<4> {
        let x = relu(self.bn1.forward(input.clone(), condition));
        let x = self.conv2d1.forward(upsample2(x));
        let x = relu(self.bn2.forward(x, condition));
        let x = self.conv2d2.forward(x);
        x + self.conv2d0.forward(upsample2(input))
    }
}

/// Width of a discriminator block's inner conv.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum HiddenChannels {
    /// `hidden = in` (official Chainer SNGAN, mimicry).
    Input,
    /// `hidden = out` (StudioGAN, mmgen, BigGAN).
    Output,
}

/// What the shortcut of a pre-activation discriminator block reads.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum ShortcutInput {
    /// The block's input `x` (the SNGAN Chainer code, BigGAN-PyTorch, mmgen's `woReLUinplace`).
    Input,
    /// `ReLU(x)`: StudioGAN's `DiscBlock` and mmgen's `wReLUinplace` blocks apply an in-place ReLU
    /// to `x`, which the shortcut then reads (identity shortcuts included).
    Activated,
}

/// Configuration of a [`DiscBlock`].
#[derive(Config, Debug)]
pub struct DiscBlockConfig {
    /// `[in, out]` channels.
    pub channels: [usize; 2],
    /// Halve the resolution (2x2 average pool) at the end.
    #[config(default = true)]
    pub downsample: bool,
    /// The first block: no pre-activation, shortcut pools before its 1x1 conv (SNGAN's
    /// `OptimizedBlock`, StudioGAN's `DiscOptBlock`); always down-samples.
    #[config(default = false)]
    pub optimized: bool,
    /// Inner width convention (ignored by the first block, whose inner width is `out`).
    #[config(default = "HiddenChannels::Output")]
    pub hidden: HiddenChannels,
    /// What the shortcut reads (ignored by the first block, which has no pre-activation).
    #[config(default = "ShortcutInput::Input")]
    pub shortcut: ShortcutInput,
    /// Spectral norm on the convs.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight initialisation.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
    /// Side of the block's input maps; needed by strict spectral norm only.
    #[config(default = "None")]
    pub input_side: Option<usize>,
}

/// Down-block: `ReLU-conv3x3-ReLU-conv3x3-[pool]` plus `conv1x1-[pool]` shortcut when the
/// channels change or the block pools; the first block is `conv3x3-ReLU-conv3x3-pool` plus
/// `pool-conv1x1`.
#[derive(Module, Debug)]
pub struct DiscBlock {
    /// `in -> hidden`, 3x3.
    pub conv2d1: SnConv2d,
    /// `hidden -> out`, 3x3.
    pub conv2d2: SnConv2d,
    /// Shortcut `in -> out`, 1x1.
    pub conv2d0: Option<SnConv2d>,
    /// Whether the block pools.
    pub downsample: bool,
    /// Whether this is the first (optimized) block.
    pub optimized: bool,
    /// What the shortcut reads.
    #[module(skip)]
    pub shortcut: ShortcutInput,
}

impl DiscBlockConfig {
    /// Build the block.
    pub fn init(&self, device: &Device) -> DiscBlock {
        let [c_in, c_out] = self.channels;
        let downsample = self.downsample || self.optimized;
        let hidden = match (&self.hidden, self.optimized) {
            (HiddenChannels::Input, false) => c_in,
            _ => c_out,
        };
        let shortcut = self.optimized || downsample || c_in != c_out;
        let side = self.input_side;
        DiscBlock {
            conv2d1: conv([c_in, hidden], 3, side, &self.sn, &self.init, device),
            conv2d2: conv([hidden, c_out], 3, side, &self.sn, &self.init, device),
            // The first block pools before its shortcut conv, the others after it.
            conv2d0: shortcut.then(|| {
                let side = side.map(|s| if self.optimized { s / 2 } else { s });
                conv([c_in, c_out], 1, side, &self.sn, &self.init, device)
            }),
            downsample,
            optimized: self.optimized,
            shortcut: self.shortcut.clone(),
        }
    }
}

impl DiscBlock {
    /// # Shapes
    /// - `input`: `[batch, in, H, W]`
    /// - output: `[batch, out, H/2, W/2]` when down-sampling, else `[batch, out, H, W]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.forward_pass(input, Pass::Plain)
    }

    /// [`forward`](Self::forward), or a tangent pass on a pair (see [`Pass`]).
    pub fn forward_pass(&self, input: Tensor<4>, pass: Pass) -> Tensor<4> {
        let pool = |x: Tensor<4>| if self.downsample { downsample2(x) } else { x };
        let x = if self.optimized {
            input.clone()
        } else {
            pass.relu(input.clone())
        };
        let input = match (&self.shortcut, self.optimized) {
            (ShortcutInput::Activated, false) => x.clone(),
            _ => input,
        };
        let x = self.conv2d2.forward(pass.relu(self.conv2d1.forward(x)));
        let x = pool(x);
        let shortcut = match (&self.conv2d0, self.optimized) {
            (Some(c), true) => c.forward(pool(input)),
            (Some(c), false) => pool(c.forward(input)),
            (None, _) => input,
        };
        x + shortcut
    }
}
