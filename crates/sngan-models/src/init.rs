//! Weight initialisation schemes as the reference GAN codebases use them: PyTorch's defaults,
//! N(0, 0.02) (DCGAN/BSN/BigGAN-PyTorch CIFAR), Xavier (SAGAN/BigGAN), orthogonal (StudioGAN) and
//! Chainer's Glorot with gain sqrt(2) on 3x3 convs (the official SNGAN code).

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use sngan_spectral::{
    SnConv2d, SnConv2dConfig, SnConvTranspose2d, SnConvTranspose2dConfig, SnEmbedding,
    SnEmbeddingConfig, SnLinear, SnLinearConfig,
};

/// How weights are drawn; every scheme but `PyTorch` starts biases at zero.
#[derive(Config, Debug, PartialEq)]
pub enum WeightInit {
    /// `nn.Conv2d`/`nn.Linear` defaults (Kaiming-uniform, bound `1/sqrt(fan_in)`), `N(0, 1)` for
    /// embeddings.
    PyTorch,
    /// `N(0, 0.02)` (BSN, DCGAN, BigGAN-PyTorch `--G_init N02`, mmgen BigGAN-32).
    Normal02,
    /// Xavier-uniform, gain 1 (`init.xavier_uniform_`: SAGAN, BigGAN-128).
    Xavier,
    /// Orthogonal, gain 1 (`init.orthogonal_`: StudioGAN's default).
    Orthogonal,
    /// Chainer GlorotUniform: gain sqrt(2) on 3x3 (and larger) kernels, 1 on 1x1 kernels, linear
    /// layers and embeddings (sngan_projection `resblocks.py`).
    ChainerGlorot,
}

/// Which layer a weight belongs to, for the schemes whose gain depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    /// A convolution with a kernel larger than 1x1.
    Conv,
    /// A 1x1 convolution.
    Conv1x1,
    /// A linear layer.
    Linear,
}

impl WeightInit {
    fn weight(&self, kind: LayerKind) -> Option<Initializer> {
        let glorot_gain = match kind {
            LayerKind::Conv => std::f64::consts::SQRT_2,
            LayerKind::Conv1x1 | LayerKind::Linear => 1.0,
        };
        match self {
            WeightInit::PyTorch => None,
            WeightInit::Normal02 => Some(Initializer::Normal {
                mean: 0.0,
                std: 0.02,
            }),
            WeightInit::Xavier => Some(Initializer::XavierUniform { gain: 1.0 }),
            WeightInit::Orthogonal => Some(Initializer::Orthogonal { gain: 1.0 }),
            WeightInit::ChainerGlorot => Some(Initializer::XavierUniform { gain: glorot_gain }),
        }
    }

    /// A conv built from `config` with this scheme's weights (and zero biases).
    pub fn conv(&self, config: SnConv2dConfig, kind: LayerKind, device: &Device) -> SnConv2d {
        let mut layer = config.init(device);
        layer.weight = self.reinit(layer.weight, kind, device);
        layer.bias = self.bias(layer.bias);
        layer
    }

    /// A transposed conv built from `config` with this scheme's weights (and zero biases).
    pub fn conv_transpose(
        &self,
        config: SnConvTranspose2dConfig,
        device: &Device,
    ) -> SnConvTranspose2d {
        let mut layer = config.init(device);
        layer.weight = self.reinit(layer.weight, LayerKind::Conv, device);
        layer.bias = self.bias(layer.bias);
        layer
    }

    /// A linear layer built from `config` with this scheme's weights (and zero biases).
    pub fn linear(&self, config: SnLinearConfig, kind: LayerKind, device: &Device) -> SnLinear {
        let mut layer = config.init(device);
        layer.weight = self.reinit(layer.weight, kind, device);
        layer.bias = self.bias(layer.bias);
        layer
    }

    /// An embedding built from `config` with this scheme's weights.
    pub fn embedding(&self, config: SnEmbeddingConfig, device: &Device) -> SnEmbedding {
        let mut layer = config.init(device);
        layer.weight = self.reinit(layer.weight, LayerKind::Linear, device);
        layer
    }

    /// Redraws a weight in PyTorch layout; fans as `torch.nn.init`: `fan_in = dims[1] * k`,
    /// `fan_out = dims[0] * k`, `k` the product of the remaining dims.
    fn reinit<const D: usize>(
        &self,
        weight: Param<Tensor<D>>,
        kind: LayerKind,
        device: &Device,
    ) -> Param<Tensor<D>> {
        let Some(init) = self.weight(kind) else {
            return weight;
        };
        let dims = weight.val().dims();
        let receptive: usize = dims[2..].iter().product();
        init.init_with(
            dims,
            Some(dims[1] * receptive),
            Some(dims[0] * receptive),
            device,
        )
    }

    fn bias(&self, bias: Option<Param<Tensor<1>>>) -> Option<Param<Tensor<1>>> {
        match self {
            WeightInit::PyTorch => bias,
            _ => bias.map(|b| Param::from_tensor(b.val().zeros_like())),
        }
    }
}
