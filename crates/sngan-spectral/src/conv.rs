//! Spectrally normalised 2-D convolution and transposed convolution (Miyato et al., ICLR 2018),
//! with the semantics of `torch.nn.utils.spectral_norm` on `nn.Conv2d` / `nn.ConvTranspose2d`.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

use crate::norm::{
    SigmaMode, SigmaParts, SpectralLayer, SpectralNorm, SpectralNormConfig, effective_params,
    f32_weight,
};
use crate::power::{Adjoint, ConvOperator};

/// PyTorch's default for conv and linear layers: `kaiming_uniform_(a = sqrt(5))`, i.e. bound
/// `1/sqrt(fan_in)`; the bias draws from the same bound.
pub(crate) const TORCH_DEFAULT_INIT: Initializer = Initializer::KaimingUniform {
    gain: 0.577_350_269_189_625_8, // 1/sqrt(3)
    fan_out_only: false,
};

/// A parameter drawn from `initializer` with the given fans (Burn's `init_with`).
pub(crate) fn init_param<const D: usize>(
    initializer: &Initializer,
    shape: [usize; D],
    [fan_in, fan_out]: [usize; 2],
    device: &Device,
) -> Param<Tensor<D>> {
    initializer.init_with(shape, Some(fan_in), Some(fan_out), device)
}

/// Configuration of a [`SnConv2d`].
#[derive(Config, Debug)]
pub struct SnConv2dConfig {
    /// `[channels_in, channels_out]`.
    pub channels: [usize; 2],
    /// `[kh, kw]`.
    pub kernel_size: [usize; 2],
    /// Stride.
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Symmetric zero padding, as `nn.Conv2d(padding=...)`.
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Input `[height, width]`; needed by [`SigmaMode::Strict`] only.
    #[config(default = "None")]
    pub input_size: Option<[usize; 2]>,
    /// Spectral-norm settings; `None` makes a plain layer.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight (and bias) initialisation; PyTorch's default unless set.
    #[config(default = "TORCH_DEFAULT_INIT")]
    pub initializer: Initializer,
}

/// A convolution whose kernel is divided by its spectral norm on every forward pass.
///
/// Record keys `weight`, `bias`, `sn.u`, `sn.v` correspond to PyTorch's `weight_orig`, `bias`,
/// `weight_u`, `weight_v`.
#[derive(Module, Debug)]
pub struct SnConv2d {
    /// Raw kernel `[channels_out, channels_in, kh, kw]` (PyTorch's `weight_orig`).
    pub weight: Param<Tensor<4>>,
    /// `[channels_out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Spectral-norm state; `None` for a plain layer.
    pub sn: Option<SpectralNorm>,
    /// Stride.
    pub stride: [usize; 2],
    /// Symmetric padding.
    pub padding: [usize; 2],
    /// Input size for strict SN.
    pub input_size: Option<[usize; 2]>,
}

impl SnConv2dConfig {
    /// Build the layer.
    ///
    /// # Panics
    /// If a size is zero, or strict SN is asked for without `input_size`.
    pub fn init(&self, device: &Device) -> SnConv2d {
        let [c_in, c_out] = self.channels;
        let [kh, kw] = self.kernel_size;
        assert!(
            c_in > 0 && c_out > 0 && kh > 0 && kw > 0,
            "SnConv2d needs non-zero channels and kernel, got {self:?}"
        );
        let (fan_in, fan_out) = (c_in * kh * kw, c_out * kh * kw);
        let fans = [fan_in, fan_out];
        let weight = init_param(&self.initializer, [c_out, c_in, kh, kw], fans, device);
        let bias = self
            .bias
            .then(|| init_param(&self.initializer, [c_out], fans, device));
        let sn = self.sn.as_ref().map(|sn| {
            if sn.mode == SigmaMode::Strict {
                let input_size = self
                    .input_size
                    .expect("strict spectral norm needs the layer's input_size");
                let operator = ConvOperator {
                    weight: Tensor::zeros([c_out, c_in, kh, kw], device),
                    stride: self.stride,
                    padding: self.padding,
                    input_size,
                };
                sn.init_state([operator.output_len(), operator.input_len()], None, device)
            } else {
                sn.init_state([c_out, fan_in], Some([c_in, fan_out]), device)
            }
        });
        SnConv2d {
            weight,
            bias,
            sn,
            stride: self.stride,
            padding: self.padding,
            input_size: self.input_size,
        }
    }
}

impl SnConv2d {
    /// # Shapes
    /// - `input`: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, height_out, width_out]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.forward_gamma(input, None)
    }

    /// [`forward`](Self::forward) with a network-wide gain (BSN `same_gamma`), shape `[1]`,
    /// multiplying the normalised kernel and the bias.
    pub fn forward_with_gamma(&self, input: Tensor<4>, gamma: Tensor<1>) -> Tensor<4> {
        self.forward_gamma(input, Some(gamma))
    }

    fn forward_gamma(&self, input: Tensor<4>, gamma: Option<Tensor<1>>) -> Tensor<4> {
        let bias = self.bias.as_ref().map(Param::val);
        let (weight, bias) =
            effective_params(self, self.weight.val(), bias, &input.device(), gamma);
        let options = ConvOptions::new(self.stride, self.padding, [1, 1], 1);
        conv2d(input, weight, bias, options)
    }
}

impl SpectralLayer for SnConv2d {
    fn spectral_norm(&self) -> Option<&SpectralNorm> {
        self.sn.as_ref()
    }

    fn sigma_parts(&self, update: bool) -> Option<SigmaParts> {
        let sn = self.sn.as_ref()?;
        let weight = f32_weight(&self.weight);
        let [c_out, c_in, kh, kw] = weight.dims();
        if sn.mode == SigmaMode::Strict {
            let operator = ConvOperator {
                weight,
                stride: self.stride,
                padding: self.padding,
                input_size: self
                    .input_size
                    .expect("strict spectral norm needs input_size"),
            };
            let sigma1 = sn.estimate(&operator, update);
            return Some(SigmaParts {
                sigma1,
                sigma2: None,
            });
        }
        let w_mat = weight.clone().reshape([c_out, c_in * kh * kw]); // [out, in*kh*kw]
        let w_mat_t = || weight.swap_dims(0, 1).reshape([c_in, c_out * kh * kw]); // [in, out*kh*kw]
        Some(sn.kernel_sigma(w_mat, w_mat_t, update))
    }
}

/// Configuration of a [`SnConvTranspose2d`].
#[derive(Config, Debug)]
pub struct SnConvTranspose2dConfig {
    /// `[channels_in, channels_out]`.
    pub channels: [usize; 2],
    /// `[kh, kw]`.
    pub kernel_size: [usize; 2],
    /// Stride.
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Symmetric padding, as `nn.ConvTranspose2d(padding=...)`.
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
    /// Extra rows/columns on the far edge, as `nn.ConvTranspose2d(output_padding=...)`.
    #[config(default = "[0, 0]")]
    pub padding_out: [usize; 2],
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Input `[height, width]`; needed by [`SigmaMode::Strict`] only.
    #[config(default = "None")]
    pub input_size: Option<[usize; 2]>,
    /// Spectral-norm settings; `None` makes a plain layer.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight (and bias) initialisation; PyTorch's default unless set.
    #[config(default = "TORCH_DEFAULT_INIT")]
    pub initializer: Initializer,
}

/// A transposed convolution whose kernel is divided by its spectral norm, normalised over its
/// output channels (`torch.nn.utils.spectral_norm(..., dim=1)`, the default for ConvTranspose).
#[derive(Module, Debug)]
pub struct SnConvTranspose2d {
    /// Raw kernel `[channels_in, channels_out, kh, kw]` (PyTorch layout).
    pub weight: Param<Tensor<4>>,
    /// `[channels_out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Spectral-norm state; `None` for a plain layer.
    pub sn: Option<SpectralNorm>,
    /// Stride.
    pub stride: [usize; 2],
    /// Symmetric padding.
    pub padding: [usize; 2],
    /// Output padding.
    pub padding_out: [usize; 2],
    /// Input size for strict SN.
    pub input_size: Option<[usize; 2]>,
}

impl SnConvTranspose2dConfig {
    /// Build the layer.
    ///
    /// # Panics
    /// If a size is zero, or strict SN is asked for without `input_size`.
    pub fn init(&self, device: &Device) -> SnConvTranspose2d {
        let [c_in, c_out] = self.channels;
        let [kh, kw] = self.kernel_size;
        assert!(
            c_in > 0 && c_out > 0 && kh > 0 && kw > 0,
            "SnConvTranspose2d needs non-zero channels and kernel, got {self:?}"
        );
        // PyTorch computes fans from the weight's dims 1 and 0: fan_in = out*k, fan_out = in*k.
        let (fan_in, fan_out) = (c_out * kh * kw, c_in * kh * kw);
        let fans = [fan_in, fan_out];
        let weight = init_param(&self.initializer, [c_in, c_out, kh, kw], fans, device);
        let bias = self
            .bias
            .then(|| init_param(&self.initializer, [c_out], fans, device));
        let sn = self.sn.as_ref().map(|sn| {
            if sn.mode == SigmaMode::Strict {
                let kernel = Tensor::zeros([c_in, c_out, kh, kw], device);
                let adjoint = transpose_adjoint(
                    kernel,
                    self.stride,
                    self.padding,
                    self.padding_out,
                    self.input_size,
                );
                // u lives in this layer's output space, which is the adjoint conv's input space.
                sn.init_state([adjoint.input_len(), adjoint.output_len()], None, device)
            } else {
                sn.init_state([c_out, fan_out], Some([c_in, fan_in]), device)
            }
        });
        SnConvTranspose2d {
            weight,
            bias,
            sn,
            stride: self.stride,
            padding: self.padding,
            padding_out: self.padding_out,
            input_size: self.input_size,
        }
    }
}

/// The convolution whose adjoint a transposed convolution is: it maps the transposed
/// convolution's output image (`input_size` pushed through it) back to its input image.
fn transpose_adjoint(
    weight: Tensor<4>,
    stride: [usize; 2],
    padding: [usize; 2],
    padding_out: [usize; 2],
    input_size: Option<[usize; 2]>,
) -> ConvOperator {
    let [_, _, kh, kw] = weight.dims();
    let [h, w] = input_size.expect("strict spectral norm needs the layer's input_size");
    let out =
        |n: usize, k: usize, i: usize| (n - 1) * stride[i] + k + padding_out[i] - 2 * padding[i];
    ConvOperator {
        weight,
        stride,
        padding,
        input_size: [out(h, kh, 0), out(w, kw, 1)],
    }
}

impl SnConvTranspose2d {
    /// # Shapes
    /// - `input`: `[batch, channels_in, height, width]`
    /// - output: `[batch, channels_out, (height - 1) * stride - 2 * padding + kh + padding_out, ...]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.forward_gamma(input, None)
    }

    /// [`forward`](Self::forward) with a network-wide gain (BSN `same_gamma`), shape `[1]`.
    pub fn forward_with_gamma(&self, input: Tensor<4>, gamma: Tensor<1>) -> Tensor<4> {
        self.forward_gamma(input, Some(gamma))
    }

    fn forward_gamma(&self, input: Tensor<4>, gamma: Option<Tensor<1>>) -> Tensor<4> {
        let bias = self.bias.as_ref().map(Param::val);
        let (weight, bias) =
            effective_params(self, self.weight.val(), bias, &input.device(), gamma);
        let options =
            ConvTransposeOptions::new(self.stride, self.padding, self.padding_out, [1, 1], 1);
        conv_transpose2d(input, weight, bias, options)
    }
}

impl SpectralLayer for SnConvTranspose2d {
    fn spectral_norm(&self) -> Option<&SpectralNorm> {
        self.sn.as_ref()
    }

    fn sigma_parts(&self, update: bool) -> Option<SigmaParts> {
        let sn = self.sn.as_ref()?;
        let weight = f32_weight(&self.weight);
        let [c_in, c_out, kh, kw] = weight.dims();
        if sn.mode == SigmaMode::Strict {
            let operator = Adjoint(transpose_adjoint(
                weight,
                self.stride,
                self.padding,
                self.padding_out,
                self.input_size,
            ));
            let sigma1 = sn.estimate(&operator, update);
            return Some(SigmaParts {
                sigma1,
                sigma2: None,
            });
        }
        // dim = 1: the output channels index the rows.
        let w_mat = weight
            .clone()
            .swap_dims(0, 1)
            .reshape([c_out, c_in * kh * kw]);
        let w_mat_t = || weight.reshape([c_in, c_out * kh * kw]);
        Some(sn.kernel_sigma(w_mat, w_mat_t, update))
    }
}
