//! Spectrally normalised linear and embedding layers (Miyato et al., ICLR 2018; the embedding is
//! the class projection of Miyato and Koyama, ICLR 2018), as `torch.nn.utils.spectral_norm` on
//! `nn.Linear` / `nn.Embedding`.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::module::{embedding, linear};

use crate::conv::{TORCH_DEFAULT_INIT, init_param};
use crate::norm::{
    SigmaParts, SpectralLayer, SpectralNorm, SpectralNormConfig, effective_params, f32_weight,
};
use crate::power::MatrixOperator;

/// Configuration of a [`SnLinear`].
#[derive(Config, Debug)]
pub struct SnLinearConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Spectral-norm settings (`Bidirectional` and `Strict` equal `Standard` for a matrix);
    /// `None` makes a plain layer.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight (and bias) initialisation; PyTorch's default unless set.
    #[config(default = "TORCH_DEFAULT_INIT")]
    pub initializer: Initializer,
}

/// A linear layer whose weight is divided by its spectral norm on every forward pass.
///
/// The weight keeps PyTorch's `[d_output, d_input]` layout (Burn's `nn::Linear` stores the
/// transpose), so a `.pth` imports with a key map and no transposition.
#[derive(Module, Debug)]
pub struct SnLinear {
    /// Raw weight `[d_output, d_input]` (PyTorch's `weight_orig`).
    pub weight: Param<Tensor<2>>,
    /// `[d_output]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Spectral-norm state; `None` for a plain layer.
    pub sn: Option<SpectralNorm>,
}

impl SnLinearConfig {
    /// Build the layer.
    ///
    /// # Panics
    /// If a size is zero.
    pub fn init(&self, device: &Device) -> SnLinear {
        let (d_in, d_out) = (self.d_input, self.d_output);
        assert!(
            d_in > 0 && d_out > 0,
            "SnLinear needs non-zero sizes, got {self:?}"
        );
        let fans = [d_in, d_out];
        SnLinear {
            weight: init_param(&self.initializer, [d_out, d_in], fans, device),
            bias: self
                .bias
                .then(|| init_param(&self.initializer, [d_out], fans, device)),
            sn: self
                .sn
                .as_ref()
                .map(|sn| sn.init_state([d_out, d_in], None, device)),
        }
    }
}

impl SnLinear {
    /// # Shapes
    /// - `input`: `[..., d_input]`
    /// - output: `[..., d_output]`
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        self.forward_gamma(input, None)
    }

    /// [`forward`](Self::forward) with a network-wide gain (BSN `same_gamma`), shape `[1]`.
    pub fn forward_with_gamma<const D: usize>(
        &self,
        input: Tensor<D>,
        gamma: Tensor<1>,
    ) -> Tensor<D> {
        self.forward_gamma(input, Some(gamma))
    }

    fn forward_gamma<const D: usize>(
        &self,
        input: Tensor<D>,
        gamma: Option<Tensor<1>>,
    ) -> Tensor<D> {
        let bias = self.bias.as_ref().map(Param::val);
        let (weight, bias) =
            effective_params(self, self.weight.val(), bias, &input.device(), gamma);
        // Burn's linear takes the transpose, [d_input, d_output]. With one output row (every
        // discriminator's head) it is a reshape, which keeps a plain layout: the `[1, n]` view
        // that a transpose of `[n, 1]` gives in the backward is misread by Burn 0.22.1's fused
        // elementwise kernels (wgpu, cuda) when it leads a chain, which made this layer's weight
        // gradient wrong there (tests/it/parity.rs, `sn_linear_to_one`).
        let [d_output, d_input] = weight.dims();
        let weight = match d_output {
            1 => weight.reshape([d_input, 1]),
            _ => weight.transpose(),
        };
        linear(input, weight, bias)
    }
}

impl SpectralLayer for SnLinear {
    fn spectral_norm(&self) -> Option<&SpectralNorm> {
        self.sn.as_ref()
    }

    fn sigma_parts(&self, update: bool) -> Option<SigmaParts> {
        let sigma1 = self
            .sn
            .as_ref()?
            .estimate(&MatrixOperator(f32_weight(&self.weight)), update);
        Some(SigmaParts {
            sigma1,
            sigma2: None,
        })
    }
}

/// Configuration of a [`SnEmbedding`].
#[derive(Config, Debug)]
pub struct SnEmbeddingConfig {
    /// Number of embeddings (classes).
    pub n_embedding: usize,
    /// Size of each embedding.
    pub d_model: usize,
    /// Spectral-norm settings (`Bidirectional` and `Strict` equal `Standard` for a matrix);
    /// `None` makes a plain layer.
    #[config(default = "Some(SpectralNormConfig::new())")]
    pub sn: Option<SpectralNormConfig>,
    /// Weight initialisation; `N(0, 1)` as `nn.Embedding` unless set.
    #[config(default = "Initializer::Normal{mean: 0.0, std: 1.0}")]
    pub initializer: Initializer,
}

/// An embedding table divided by its spectral norm (over the `[n_embedding, d_model]` matrix,
/// `dim = 0`, as PyTorch), used by the projection discriminator.
#[derive(Module, Debug)]
pub struct SnEmbedding {
    /// Raw table `[n_embedding, d_model]` (PyTorch's `weight_orig`).
    pub weight: Param<Tensor<2>>,
    /// Spectral-norm state; `None` for a plain layer.
    pub sn: Option<SpectralNorm>,
}

impl SnEmbeddingConfig {
    /// Build the layer.
    ///
    /// # Panics
    /// If a size is zero.
    pub fn init(&self, device: &Device) -> SnEmbedding {
        let (n, d) = (self.n_embedding, self.d_model);
        assert!(
            n > 0 && d > 0,
            "SnEmbedding needs non-zero sizes, got {self:?}"
        );
        SnEmbedding {
            weight: init_param(&self.initializer, [n, d], [n, d], device),
            sn: self
                .sn
                .as_ref()
                .map(|sn| sn.init_state([n, d], None, device)),
        }
    }
}

impl SnEmbedding {
    /// # Shapes
    /// - `indices`: `[batch]`, class ids
    /// - output: `[batch, d_model]`
    pub fn forward(&self, indices: Tensor<1, Int>) -> Tensor<2> {
        self.forward_gamma(indices, None)
    }

    /// [`forward`](Self::forward) with a network-wide gain (BSN `same_gamma`), shape `[1]`.
    pub fn forward_with_gamma(&self, indices: Tensor<1, Int>, gamma: Tensor<1>) -> Tensor<2> {
        self.forward_gamma(indices, Some(gamma))
    }

    fn forward_gamma(&self, indices: Tensor<1, Int>, gamma: Option<Tensor<1>>) -> Tensor<2> {
        // The table is the trained tensor, so the autodiff device is read off it.
        let device = self.weight.device();
        let (weight, _) = effective_params(self, self.weight.val(), None, &device, gamma);
        let [batch] = indices.dims();
        let [_, d_model] = weight.dims();
        embedding(weight, indices.reshape([batch, 1])).reshape([batch, d_model])
    }
}

impl SpectralLayer for SnEmbedding {
    fn spectral_norm(&self) -> Option<&SpectralNorm> {
        self.sn.as_ref()
    }

    fn sigma_parts(&self, update: bool) -> Option<SigmaParts> {
        let sigma1 = self
            .sn
            .as_ref()?
            .estimate(&MatrixOperator(f32_weight(&self.weight)), update);
        Some(SigmaParts {
            sigma1,
            sigma2: None,
        })
    }
}
