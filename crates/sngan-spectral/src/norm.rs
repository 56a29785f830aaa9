//! The spectral-normalisation state shared by every SN layer: power-iteration vectors, the
//! variant (SN of Miyato et al., ICLR 2018; BSN/SSN/BSSN of Lin, Sekar and Fanti, NeurIPS 2021;
//! strict operator-norm SN), the constant scale and the learnable gain.

use burn::module::{Flag, Param};
use burn::prelude::*;
use burn::tensor::{Distribution, FloatDType};

use crate::buffer::Buffer;
use crate::power::{LinearOperator, MatrixOperator, normalize, power_iteration, rayleigh_sigma};

/// Which spectral norm divides the weight.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum SigmaMode {
    /// `sigma(W_mat)`, `W_mat` the kernel reshaped to `(out, in*kh*kw)`: the estimate of
    /// `torch.nn.utils.spectral_norm` and of the SNGAN paper.
    Standard,
    /// BSN: `(sigma(W_mat) + sigma(W_mat^T)) / 2`, the second term over the kernel with its in and
    /// out axes swapped, reshaped to `(in, out*kh*kw)`, with its own vector pair. For linear and
    /// embedding layers the two terms are equal, so they fall back to [`SigmaMode::Standard`]
    /// (as the BSN code keeps plain SN on its final linear layer).
    Bidirectional,
    /// The exact operator norm of the convolution at the layer's stride, padding and input size,
    /// by power iteration through the convolution and its transpose; needs the layer's
    /// `input_size`. Linear and embedding layers are their own operator, so this equals
    /// [`SigmaMode::Standard`] for them.
    Strict,
}

/// Settings of the spectral normalisation of one layer.
#[derive(Config, Debug)]
pub struct SpectralNormConfig {
    /// Power iterations per training forward pass (Miyato et al. use 1).
    #[config(default = 1)]
    pub n_power_iterations: usize,
    /// Floor of the vector norm in `x / max(||x||, eps)`: 1e-12 in PyTorch, 1e-8 in BigGAN-PyTorch,
    /// 1e-6 in StudioGAN.
    #[config(default = 1e-12)]
    pub eps: f64,
    /// Which sigma divides the weight.
    #[config(default = "SigmaMode::Standard")]
    pub mode: SigmaMode,
    /// Constant `c` multiplying the normalised weight (SSN and BSSN; 1 is plain SN). The bias is
    /// not scaled, as in the BSN `no_gamma` code.
    #[config(default = 1.0)]
    pub scale: f64,
    /// A trainable scalar `gamma` (init 1) of this layer, multiplying the normalised weight and the
    /// bias (BSN `diff_gamma`). For one `gamma` shared by a whole network (BSN `same_gamma`) leave
    /// this off, hold a [`shared_gamma`] in the network and call the layers' `forward_with_gamma`.
    #[config(default = false)]
    pub learnable_gamma: bool,
}

/// A trainable gain of shape `[1]`, initialised to 1, for [`SpectralNormConfig::learnable_gamma`]
/// or for sharing across a network.
pub fn shared_gamma(device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::ones([1], device))
}

impl SpectralNormConfig {
    /// State for a weight whose matrix is `(rows, cols)`; `transposed` gives the matrix shape of
    /// the in/out-swapped kernel for BSN (ignored in other modes).
    ///
    /// The vectors start as `normalize(N(0, I))`, as in `torch.nn.utils.spectral_norm`.
    pub(crate) fn init_state(
        &self,
        [rows, cols]: [usize; 2],
        transposed: Option<[usize; 2]>,
        device: &Device,
    ) -> SpectralNorm {
        assert!(
            self.eps > 0.0,
            "spectral norm eps must be positive, got {}",
            self.eps
        );
        assert!(
            self.scale > 0.0,
            "spectral norm scale must be positive, got {}",
            self.scale
        );
        let vector = |len: usize| {
            Buffer::new(normalize(
                Tensor::random([len], Distribution::Normal(0.0, 1.0), device),
                self.eps,
            ))
        };
        let (u, v) = (vector(rows), vector(cols));
        let (u2, v2) = match (&self.mode, transposed) {
            (SigmaMode::Bidirectional, Some([rows_t, cols_t])) => {
                (Some(vector(rows_t)), Some(vector(cols_t)))
            }
            _ => (None, None),
        };
        SpectralNorm {
            u,
            v,
            u2,
            v2,
            gamma: self.learnable_gamma.then(|| shared_gamma(device)),
            training: Param::from_bool(true),
            n_power_iterations: self.n_power_iterations,
            eps: self.eps,
            scale: self.scale,
            mode: self.mode.clone(),
        }
    }
}

/// Power-iteration state and gains of one spectrally normalised weight.
///
/// Record keys: `u`, `v` (PyTorch's `weight_u`, `weight_v`), `u2`, `v2` (BSN's second pair),
/// `gamma`.
#[derive(Module, Debug)]
pub struct SpectralNorm {
    /// Left singular vector estimate, `[rows]` (for strict SN, the flattened output image).
    pub u: Buffer<1>,
    /// Right singular vector estimate, `[cols]` (for strict SN, the flattened input image).
    pub v: Buffer<1>,
    /// BSN: left vector of the in/out-swapped kernel.
    pub u2: Option<Buffer<1>>,
    /// BSN: right vector of the in/out-swapped kernel.
    pub v2: Option<Buffer<1>>,
    /// Learnable gain, `[1]`.
    pub gamma: Option<Param<Tensor<1>>>,
    /// Training switch: off after [`Module::valid`], when the vectors stay as they are.
    pub training: Param<Flag>,
    /// Power iterations per training forward pass.
    pub n_power_iterations: usize,
    /// Norm floor of the power iteration.
    pub eps: f64,
    /// Constant scale `c`.
    pub scale: f64,
    /// The sigma variant.
    #[module(skip)]
    pub mode: SigmaMode,
}

/// The sigma a layer divides by, and the terms it came from.
#[derive(Clone, Debug)]
pub struct SigmaParts {
    /// `sigma(W)`, shape `[1]`.
    pub sigma1: Tensor<1>,
    /// BSN: `sigma(W^T)`, shape `[1]`.
    pub sigma2: Option<Tensor<1>>,
}

impl SigmaParts {
    /// The divisor: `sigma1`, or `(sigma1 + sigma2) / 2` for BSN.
    pub fn divisor(&self) -> Tensor<1> {
        match &self.sigma2 {
            Some(sigma2) => (self.sigma1.clone() + sigma2.clone()) / 2.0,
            None => self.sigma1.clone(),
        }
    }
}

/// Current sigma values of a layer, for logging.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigma {
    /// `sigma(W)` from the stored vectors.
    pub sigma1: f32,
    /// BSN: `sigma(W^T)` from the second stored pair.
    pub sigma2: Option<f32>,
}

impl Sigma {
    /// The divisor the layer applies: `sigma1`, or the mean of both for BSN.
    pub fn value(&self) -> f32 {
        self.sigma2
            .map_or(self.sigma1, |s2| (self.sigma1 + s2) / 2.0)
    }
}

/// A layer whose weight may be divided by an estimated spectral norm (`sn: None` makes it the
/// plain layer, in PyTorch's weight layout and key names).
pub trait SpectralLayer {
    /// The layer's spectral-norm state, if it is normalised.
    fn spectral_norm(&self) -> Option<&SpectralNorm>;

    /// Sigma of the current weight; in a training forward (`update`) the vectors first take
    /// `n_power_iterations` steps. `None` for a plain layer.
    fn sigma_parts(&self, update: bool) -> Option<SigmaParts>;

    /// Sigma from the stored vectors, without updating them; `None` for a plain layer.
    fn sigma(&self) -> Option<Sigma> {
        let parts = self.sigma_parts(false)?;
        Some(Sigma {
            sigma1: parts.sigma1.into_scalar::<f32>(),
            sigma2: parts.sigma2.map(|s| s.into_scalar::<f32>()),
        })
    }
}

/// A layer's raw weight in f32, the precision sigma and the power iteration always run in: a
/// low-precision training copy of a network casts its weights, never the vectors `u`, `v`.
pub(crate) fn f32_weight<const D: usize>(weight: &Param<Tensor<D>>) -> Tensor<D> {
    weight.val().cast(FloatDType::F32)
}

/// The weight and bias a layer applies to an input on `input_device`: `c * gamma * W / sigma` and
/// `gamma * b` when normalised, `W` and `b` (times a shared gamma, if given) when plain.
///
/// `W / sigma` is formed in f32 and rounded once to the weight's own precision (the precision
/// of the forward pass), so a bf16 or f16 copy divides by the f32 sigma of its own weights.
pub(crate) fn effective_params<const D: usize, L: SpectralLayer + ?Sized>(
    layer: &L,
    weight: Tensor<D>,
    bias: Option<Tensor<1>>,
    input_device: &Device,
    shared_gamma: Option<Tensor<1>>,
) -> (Tensor<D>, Option<Tensor<1>>) {
    match layer.spectral_norm() {
        Some(sn) => {
            let parts = layer
                .sigma_parts(sn.updates(input_device))
                .expect("a layer with spectral-norm state has a sigma");
            let dtype = weight.dtype();
            let weight = sn
                .normalize_weight(
                    weight.cast(FloatDType::F32),
                    parts.divisor(),
                    shared_gamma.clone(),
                )
                .cast(dtype);
            (weight, bias.map(|b| sn.scale_bias(b, shared_gamma)))
        }
        None => match shared_gamma {
            Some(g) => (weight * g.clone().reshape([1; D]), bias.map(|b| b * g)),
            None => (weight, bias),
        },
    }
}

impl SpectralNorm {
    /// Whether a forward on `input` runs the training path (updates the vectors): the input is on
    /// an autodiff device and the layer is in training mode, the rule of Burn's `BatchNorm`.
    pub fn updates(&self, input_device: &Device) -> bool {
        input_device.is_autodiff() && self.training.is_enabled()
    }

    /// `sigma = u^T A v`, after `n_power_iterations` detached steps when `update` (stored back).
    pub fn estimate<O: LinearOperator>(&self, operator: &O, update: bool) -> Tensor<1> {
        Self::estimate_with(
            operator,
            &self.u,
            &self.v,
            update,
            self.n_power_iterations,
            self.eps,
        )
    }

    fn estimate_with<O: LinearOperator>(
        operator: &O,
        u: &Buffer<1>,
        v: &Buffer<1>,
        update: bool,
        n_iterations: usize,
        eps: f64,
    ) -> Tensor<1> {
        let (mut u_t, mut v_t) = (u.value(), v.value());
        if update && n_iterations > 0 {
            (u_t, v_t) = power_iteration(&operator.detached(), u_t, v_t, n_iterations, eps);
            u.set(u_t.clone());
            v.set(v_t.clone());
        }
        rayleigh_sigma(operator, u_t, v_t)
    }

    /// Sigma of a kernel given as a matrix `w_mat` (`(rows, cols)`); for BSN also of
    /// `w_mat_t()`, the in/out-swapped kernel as a matrix.
    pub fn kernel_sigma(
        &self,
        w_mat: Tensor<2>,
        w_mat_t: impl FnOnce() -> Tensor<2>,
        update: bool,
    ) -> SigmaParts {
        let sigma1 = self.estimate(&MatrixOperator(w_mat), update);
        let sigma2 = match (&self.u2, &self.v2) {
            (Some(u2), Some(v2)) => Some(Self::estimate_with(
                &MatrixOperator(w_mat_t()),
                u2,
                v2,
                update,
                self.n_power_iterations,
                self.eps,
            )),
            _ => None,
        };
        SigmaParts { sigma1, sigma2 }
    }

    /// `W_SN = c * gamma * W / sigma`, with an optional extra shared `gamma`, in the precision of
    /// `weight` (`sigma` and the gains are cast to it).
    pub fn normalize_weight<const D: usize>(
        &self,
        weight: Tensor<D>,
        sigma: Tensor<1>,
        shared_gamma: Option<Tensor<1>>,
    ) -> Tensor<D> {
        let dtype = weight.dtype();
        let mut weight = weight / sigma.cast(dtype).reshape([1; D]);
        if self.scale != 1.0 {
            weight = weight * self.scale;
        }
        match self.gain(shared_gamma) {
            Some(gain) => weight * gain.cast(dtype).reshape([1; D]),
            None => weight,
        }
    }

    /// `gamma * b`: the learnable gains scale the bias too; the constant `c` does not.
    pub fn scale_bias(&self, bias: Tensor<1>, shared_gamma: Option<Tensor<1>>) -> Tensor<1> {
        match self.gain(shared_gamma) {
            Some(gain) => bias * gain,
            None => bias,
        }
    }

    fn gain(&self, shared_gamma: Option<Tensor<1>>) -> Option<Tensor<1>> {
        match (self.gamma.as_ref().map(Param::val), shared_gamma) {
            (Some(own), Some(shared)) => Some(own * shared),
            (own, shared) => own.or(shared),
        }
    }
}
