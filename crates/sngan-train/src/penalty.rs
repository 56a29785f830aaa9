//! The WGAN-GP gradient penalty (Gulrajani et al., NeurIPS 2017) as the BSN gamma runs train it
//! (Lin, Sekar and Fanti, NeurIPS 2021, `same_gamma-CNN/gan/gan.py`), with its parameter
//! gradient carried by a forward-mode directional derivative, since Burn 0.22 has no double
//! backward (`burn-dispatch` refuses an autodiff device inside an autodiff device).
//!
//! The penalty at `x_i = real_i + alpha_i (fake_i - real_i)`, `alpha_i ~ U(0, 1]`, is
//!
//! `P = lambda / B * sum_i (s_i - 1)^2`, `s_i = sqrt(|g_i|^2 + 1e-8)`, `g_i = grad_x D(x_i)`
//!
//! (the `1e-8` is BSN's `EPS` inside the square root). Its gradient in D's parameters `theta` is
//! `lambda / B * sum_i 2 (s_i - 1) grad_theta (v_i . grad_x D(x_i))` with `v_i = g_i / s_i`
//! held fixed, and `v_i . grad_x D(x_i)` is what [`Discriminator::directional_derivative`]
//! computes, with the slopes of the ReLUs fixed at `x` as autograd's double backward has them.
//! `tests/it/train.rs` checks value and parameter gradients against PyTorch's
//! `autograd.grad(..., create_graph=True)`.

use burn::prelude::*;
use sngan_models::Discriminator;

/// Weight of the gradient penalty.
#[derive(Config, Debug, PartialEq)]
pub struct GradientPenaltyConfig {
    /// `lambda` (10 in WGAN-GP and in BSN's `d_gp_coe`).
    #[config(default = 10.0)]
    pub weight: f64,
}

impl GradientPenaltyConfig {
    /// The error of a penalty asked of a discriminator with self-attention.
    pub(crate) fn through_attention(&self) -> sngan_core::InvalidField {
        sngan_core::InvalidField::new(
            "gradient_penalty",
            format!("{self:?}"),
            "null for a discriminator with self-attention, which has no tangent pass for the penalty's gradient",
        )
    }
}

/// The penalty at one batch.
pub struct GradientPenalty {
    /// `P`, the penalty with its weight.
    pub value: f32,
    /// The input-gradient norms `s_i` (BSN logs them as `slopes`).
    pub slopes: Vec<f32>,
    /// A `[1]` tensor whose gradient in D's parameters is the gradient of `P`; its own value is
    /// not `P`.
    pub surrogate: Tensor<1>,
}

impl GradientPenaltyConfig {
    /// The penalty of `d` between `real` and `fake`, mixed by `alpha`; `y` are the real
    /// classes (conditional D only); `None` for a D with self-attention (see
    /// [`Discriminator::directional_derivative`]). Both D passes here advance its spectral-norm
    /// vectors, as training-mode forwards do in PyTorch.
    ///
    /// # Shapes
    /// - `real`, `fake`: `[batch, channels, height, width]`, `alpha`: `[batch, 1, 1, 1]`
    /// - `y`: `[batch]`
    pub fn penalty(
        &self,
        d: &Discriminator,
        real: Tensor<4>,
        fake: Tensor<4>,
        alpha: Tensor<4>,
        y: Option<Tensor<1, Int>>,
    ) -> Option<GradientPenalty> {
        if !d.is_piecewise_linear() {
            return None;
        }
        let [batch, ..] = real.dims();
        let x = (real.clone() + (fake - real) * alpha).detach();

        // g = grad_x D(x): the input tracked, D's weights not.
        let probe = x.clone().require_grad();
        let grads = d
            .clone()
            .no_grad()
            .forward(probe.clone(), y.clone())
            .sum()
            .backward();
        let g = probe.grad(&grads).expect("D's logits depend on its input");
        let slopes = (g.clone().square().sum_dim(1).sum_dim(2).sum_dim(3) + 1e-8).sqrt(); // [B,1,1,1]
        let slope_values: Vec<f32> = slopes
            .to_data()
            .convert::<f32>()
            .try_to_vec()
            .expect("f32 slopes");
        let value = self.weight as f32 / batch as f32
            * slope_values.iter().map(|s| (s - 1.0).powi(2)).sum::<f32>();

        // Surrogate: sum_i c_i (v_i . grad_x D(x_i)), c_i = 2 lambda (s_i - 1) / B. The direction
        // is scaled to unit RMS per element, so the pair [x; x + v] does not lose v to rounding.
        let [_, c, h, w] = x.dims();
        let scale = ((c * h * w) as f64).sqrt();
        let v = Tensor::from_inner(g / slopes.clone()) * scale;
        let derivative = d.directional_derivative(x, v, y)? / scale; // [B, 1]
        let coefficients = Tensor::<2>::from_inner(
            (slopes.reshape([batch, 1]) - 1.0) * (2.0 * self.weight / batch as f64),
        );
        Some(GradientPenalty {
            value,
            slopes: slope_values,
            surrogate: (derivative * coefficients).sum(),
        })
    }
}
