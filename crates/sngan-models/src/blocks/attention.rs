//! The self-attention block of SAGAN (Zhang et al., ICML 2019), as StudioGAN's `SelfAttention`,
//! BigGAN-PyTorch's `Attention` and mmgen's `SelfAttentionBlock` compute it.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use sngan_spectral::{SnConv2d, SnConv2dConfig, SpectralNormConfig};

use crate::init::{LayerKind, WeightInit};

/// Configuration of a [`SelfAttention`].
#[derive(Config, Debug)]
pub struct SelfAttentionConfig {
    /// Channels `C` (a multiple of 8).
    pub channels: usize,
    /// Spectral norm on the four 1x1 convs.
    #[config(default = "None")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight initialisation.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
    /// Side of the input maps; needed by strict spectral norm only.
    #[config(default = "None")]
    pub input_side: Option<usize>,
}

/// `out = x + sigma * o(g(x) softmax(theta(x)^T phi(x))^T)`: bias-free 1x1 convs theta, phi
/// (`C -> C/8`), g (`C -> C/2`), o (`C/2 -> C`); phi and g max-pooled 2x2, so each of the `HW`
/// queries attends over `HW/4` keys; `sigma` starts at 0, so the block starts as the identity.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Query map `C -> C/8`.
    pub conv1x1_theta: SnConv2d,
    /// Key map `C -> C/8`.
    pub conv1x1_phi: SnConv2d,
    /// Value map `C -> C/2`.
    pub conv1x1_g: SnConv2d,
    /// Output map `C/2 -> C`.
    pub conv1x1_attn: SnConv2d,
    /// Residual gain, `[1]`, init 0.
    pub sigma: Param<Tensor<1>>,
}

impl SelfAttentionConfig {
    /// Build the block.
    ///
    /// # Panics
    /// If `channels` is not a positive multiple of 8.
    pub fn init(&self, device: &Device) -> SelfAttention {
        let c = self.channels;
        assert!(
            c > 0 && c.is_multiple_of(8),
            "self-attention needs channels divisible by 8, got {c}"
        );
        // Every 1x1 conv sees the full map: phi and g pool after their conv.
        let conv = |c_in: usize, c_out: usize| {
            let config = SnConv2dConfig::new([c_in, c_out], [1, 1])
                .with_bias(false)
                .with_input_size(self.input_side.map(|s| [s, s]))
                .with_sn(self.sn.clone());
            self.init.conv(config, LayerKind::Conv1x1, device)
        };
        SelfAttention {
            conv1x1_theta: conv(c, c / 8),
            conv1x1_phi: conv(c, c / 8),
            conv1x1_g: conv(c, c / 2),
            conv1x1_attn: conv(c / 2, c),
            sigma: Param::from_tensor(Tensor::zeros([1], device)),
        }
    }
}

impl SelfAttention {
    /// # Shapes
    /// - `input`: `[batch, C, H, W]`, `H` and `W` even
    /// - output: `[batch, C, H, W]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = input.dims();
        let pool = |x: Tensor<4>| max_pool2d(x, MaxPoolOptions::new([2, 2]));
        let theta = self
            .conv1x1_theta
            .forward(input.clone())
            .reshape([b, c / 8, h * w]);
        let phi = pool(self.conv1x1_phi.forward(input.clone())).reshape([b, c / 8, h * w / 4]);
        let attn = softmax(theta.swap_dims(1, 2).matmul(phi), 2); // [b, hw, hw/4]
        let g = pool(self.conv1x1_g.forward(input.clone())).reshape([b, c / 2, h * w / 4]);
        let attn_g = g.matmul(attn.swap_dims(1, 2)).reshape([b, c / 2, h, w]); // [b, c/2, h, w]
        let out = self.conv1x1_attn.forward(attn_g);
        input + out * self.sigma.val().reshape([1, 1, 1, 1])
    }
}
