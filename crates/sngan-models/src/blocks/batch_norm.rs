//! Batch normalisation with PyTorch's semantics (Ioffe and Szegedy, 2015) and its class-conditional
//! form (de Vries et al., 2017; Miyato and Koyama, ICLR 2018; Brock et al., ICLR 2019).
//!
//! Burn's `BatchNorm` keeps its statistics in `RunningState` (records can lag one update) and
//! updates the running variance with the biased batch variance; this one matches
//! `torch.nn.BatchNorm2d`: normalise with the biased variance, track the unbiased one.

use burn::module::{Flag, Param};
use burn::prelude::*;
use burn::tensor::FloatDType;
use burn::tensor::module::{batch_norm, batch_norm_train};
use sngan_spectral::{
    Buffer, SnEmbedding, SnEmbeddingConfig, SnLinear, SnLinearConfig, SpectralNormConfig,
};

use crate::init::{LayerKind, WeightInit};

/// Configuration of a [`BatchNorm`].
#[derive(Config, Debug)]
pub struct BatchNormConfig {
    /// Number of channels (dim 1).
    pub num_features: usize,
    /// Added to the variance: 1e-5 in PyTorch, 1e-4 in StudioGAN.
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Weight of the new batch in the running statistics.
    #[config(default = 0.1)]
    pub momentum: f64,
    /// Learnable per-channel `weight` and `bias` (off inside conditional BN).
    #[config(default = true)]
    pub affine: bool,
}

/// `torch.nn.BatchNorm{1,2}d`: keys `weight`, `bias`, `running_mean`, `running_var`.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale `[C]`, init 1.
    pub weight: Option<Param<Tensor<1>>>,
    /// Shift `[C]`, init 0.
    pub bias: Option<Param<Tensor<1>>>,
    /// Running mean `[C]`.
    pub running_mean: Buffer<1>,
    /// Running (unbiased) variance `[C]`.
    pub running_var: Buffer<1>,
    /// Training switch, as Burn's `BatchNorm::training`.
    pub training: Param<Flag>,
    /// Variance floor.
    pub eps: f64,
    /// Running-statistics momentum.
    pub momentum: f64,
}

impl BatchNormConfig {
    /// Build the layer.
    pub fn init(&self, device: &Device) -> BatchNorm {
        let c = self.num_features;
        assert!(c > 0, "BatchNorm needs channels");
        BatchNorm {
            weight: self
                .affine
                .then(|| Param::from_tensor(Tensor::ones([c], device))),
            bias: self
                .affine
                .then(|| Param::from_tensor(Tensor::zeros([c], device))),
            running_mean: Buffer::new(Tensor::zeros([c], device)),
            running_var: Buffer::new(Tensor::ones([c], device)),
            training: Param::from_bool(true),
            eps: self.eps,
            momentum: self.momentum,
        }
    }
}

impl BatchNorm {
    /// # Shapes
    /// - `input`: `[batch, channels, ...]` (rank 2 for features, 4 for images)
    /// - output: same
    ///
    /// Computed in f32 whatever the input's precision (statistics, running buffers and the
    /// affine map, as cuDNN's batch norm does under PyTorch's autocast), the output rounded once
    /// to the input's precision.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => self.apply(input, w.val(), b.val()),
            _ => self.normalize(input),
        }
    }

    /// `(x - mean) / sqrt(var + eps)` with batch statistics in training, running ones in eval;
    /// computed in f32, returned in the input's precision.
    pub fn normalize<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let (c, device) = (input.dims()[1], input.device());
        self.apply(
            input,
            Tensor::ones([c], &device),
            Tensor::zeros([c], &device),
        )
    }

    /// `gamma (x - mean) / sqrt(var + eps) + beta`, as one backend operation (Burn's
    /// `batch_norm_train`, differentiated as a whole, or `batch_norm` with the running
    /// statistics), so the backend computes it in a few passes instead of a dozen. The
    /// operation runs in f32 and its output is rounded once to the input's precision.
    fn apply<const D: usize>(
        &self,
        input: Tensor<D>,
        gamma: Tensor<1>,
        beta: Tensor<1>,
    ) -> Tensor<D> {
        let dtype = input.dtype();
        let input = input.cast(FloatDType::F32);
        let (gamma, beta) = (gamma.cast(FloatDType::F32), beta.cast(FloatDType::F32));
        if !(input.device().is_autodiff() && self.training.is_enabled()) {
            let device = input.device();
            return batch_norm(
                input,
                gamma,
                beta,
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.eps,
            )
            .cast(dtype);
        }
        // Statistics over every axis but the channel one, detached; the output's gradient
        // still goes through them.
        let dims = input.dims();
        let n = (dims.iter().product::<usize>() / dims[1]) as f64;
        let out = batch_norm_train(input, gamma, beta, self.eps);
        let unbiased = out.variance * (n / (n - 1.0).max(1.0));
        let m = self.momentum;
        let rm = self.running_mean.value() * (1.0 - m) + out.mean * m;
        let rv = self.running_var.value() * (1.0 - m) + unbiased * m;
        self.running_mean.set(rm);
        self.running_var.set(rv);
        out.output.cast(dtype)
    }
}

/// What a conditional BN takes its gain and bias from.
#[derive(Config, Debug, PartialEq)]
pub enum Conditioning {
    /// One `[n_classes, C]` table each for gain and bias (SNGAN, SAGAN, mmgen BigGAN-32):
    /// StudioGAN's `embed0`/`embed1`, gain `1 + embed0(y)`.
    ClassEmbedding(usize),
    /// Linear maps, without bias, from a conditioning vector of this size (BigGAN's shared class
    /// embedding concatenated with a chunk of z): `gain`/`bias`, gain `1 + gain(v)`.
    Vector(usize),
}

/// Configuration of a [`CondBatchNorm`].
#[derive(Config, Debug)]
pub struct CondBatchNormConfig {
    /// Number of channels.
    pub num_features: usize,
    /// The conditioning input.
    pub conditioning: Conditioning,
    /// Variance floor of the inner BN.
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Spectral norm on the gain/bias maps (SAGAN and BigGAN normalise G too).
    #[config(default = "None")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight initialisation of the gain/bias maps.
    #[config(default = "WeightInit::PyTorch")]
    pub init: WeightInit,
}

/// Class-conditional BN: `BN(x) * (1 + gain(y)) + bias(y)`, the BN without affine parameters.
#[derive(Module, Debug)]
pub struct CondBatchNorm {
    /// The normalisation, `affine = false`.
    pub bn: BatchNorm,
    /// Gain table (class conditioning).
    pub embed0: Option<SnEmbedding>,
    /// Bias table (class conditioning).
    pub embed1: Option<SnEmbedding>,
    /// Gain map (vector conditioning).
    pub gain: Option<SnLinear>,
    /// Bias map (vector conditioning).
    pub bias: Option<SnLinear>,
}

/// The condition a [`CondBatchNorm`] reads.
#[derive(Clone, Debug)]
pub enum Condition {
    /// Class ids `[batch]`.
    Class(Tensor<1, Int>),
    /// Conditioning vectors `[batch, dim]`.
    Vector(Tensor<2>),
}

impl CondBatchNormConfig {
    /// Build the layer.
    pub fn init(&self, device: &Device) -> CondBatchNorm {
        let c = self.num_features;
        let bn = BatchNormConfig::new(c)
            .with_eps(self.eps)
            .with_affine(false)
            .init(device);
        let embed = |n: usize| {
            let config = SnEmbeddingConfig::new(n, c).with_sn(self.sn.clone());
            self.init.embedding(config, device)
        };
        let linear = |d: usize| {
            let config = SnLinearConfig::new(d, c)
                .with_bias(false)
                .with_sn(self.sn.clone());
            self.init.linear(config, LayerKind::Linear, device)
        };
        match self.conditioning {
            Conditioning::ClassEmbedding(n) => CondBatchNorm {
                bn,
                embed0: Some(embed(n)),
                embed1: Some(embed(n)),
                gain: None,
                bias: None,
            },
            Conditioning::Vector(d) => CondBatchNorm {
                bn,
                embed0: None,
                embed1: None,
                gain: Some(linear(d)),
                bias: Some(linear(d)),
            },
        }
    }
}

impl CondBatchNorm {
    /// # Shapes
    /// - `input`: `[batch, C, H, W]`; the condition has `batch` rows
    /// - output: `[batch, C, H, W]`
    ///
    /// # Panics
    /// If the condition kind differs from the configured one.
    pub fn forward(&self, input: Tensor<4>, condition: &Condition) -> Tensor<4> {
        let [b, c, _, _] = input.dims();
        let (gain, bias) = match (
            condition,
            &self.embed0,
            &self.embed1,
            &self.gain,
            &self.bias,
        ) {
            (Condition::Class(y), Some(e0), Some(e1), _, _) => {
                (e0.forward(y.clone()), e1.forward(y.clone()))
            }
            (Condition::Vector(v), _, _, Some(g), Some(bi)) => {
                (g.forward(v.clone()), bi.forward(v.clone()))
            }
            _ => panic!("conditional BN got a condition of the wrong kind"),
        };
        let gain = (gain + 1.0).reshape([b, c, 1, 1]);
        self.bn.normalize(input) * gain + bias.reshape([b, c, 1, 1])
    }
}

/// A generator's normalisation: plain BN, or class-conditional BN.
#[derive(Module, Debug)]
pub struct GenNorm {
    /// Unconditional BN with affine parameters.
    pub bn: Option<BatchNorm>,
    /// Conditional BN.
    pub cbn: Option<CondBatchNorm>,
}

impl GenNorm {
    /// Plain BN when `conditioning` is `None`, conditional BN otherwise.
    pub fn new(
        num_features: usize,
        conditioning: Option<&Conditioning>,
        eps: f64,
        sn: Option<&SpectralNormConfig>,
        init: &WeightInit,
        device: &Device,
    ) -> Self {
        match conditioning {
            None => Self {
                bn: Some(
                    BatchNormConfig::new(num_features)
                        .with_eps(eps)
                        .init(device),
                ),
                cbn: None,
            },
            Some(cond) => Self {
                bn: None,
                cbn: Some(
                    CondBatchNormConfig::new(num_features, cond.clone())
                        .with_eps(eps)
                        .with_sn(sn.cloned())
                        .with_init(init.clone())
                        .init(device),
                ),
            },
        }
    }

    /// # Shapes
    /// `[batch, C, H, W]` in and out.
    pub fn forward(&self, input: Tensor<4>, condition: Option<&Condition>) -> Tensor<4> {
        match (&self.bn, &self.cbn, condition) {
            (Some(bn), _, _) => bn.forward(input),
            (None, Some(cbn), Some(cond)) => cbn.forward(input, cond),
            _ => panic!("conditional BN needs a condition"),
        }
    }
}
