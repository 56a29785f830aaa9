//! Forward-mode directional derivatives of the piecewise-linear discriminators (SNGAN's standard
//! CNN and ResNet, Miyato et al., ICLR 2018), for the WGAN-GP penalty's parameter gradient
//! without a double backward.
//!
//! A tangent pass runs the network on the pair `[x; x + t]`. Between nonlinearities every layer
//! is affine per sample, so the two halves keep differing by the layer's linear part applied to
//! `t`; each nonlinearity `f` maps `[p; p + t]` to `[f(p); f(p) + f'(p) t]`. The output halves
//! then differ by `J_x D(x) t` with every slope taken at `x` (the derivative PyTorch's autograd
//! uses almost everywhere), and the difference is differentiable in the parameters. Both halves
//! share one batch, so they see the same spectral norms.

use burn::prelude::*;
use burn::tensor::activation::relu;

/// How a discriminator forward treats its nonlinearities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The plain forward.
    Plain,
    /// The batch is a pair `[x; x + t]`, and each nonlinearity is linearised at `x`.
    Tangent,
}

impl Pass {
    /// `relu`, or its linearisation on a pair.
    pub fn relu(self, h: Tensor<4>) -> Tensor<4> {
        match self {
            Pass::Plain => relu(h),
            Pass::Tangent => self.leaky_relu(h, 0.0),
        }
    }

    /// `leaky_relu` with `slope`, or its linearisation on a pair.
    ///
    /// # Shapes
    /// - `h`: `[2 * batch, ...]` for a tangent pass
    pub fn leaky_relu<const D: usize>(self, h: Tensor<D>, slope: f64) -> Tensor<D> {
        match self {
            Pass::Plain => leaky_relu_fast(h, slope),
            Pass::Tangent => {
                let batch = h.dims()[0] / 2;
                let p = h.clone().narrow(0, 0, batch);
                let t = h.narrow(0, batch, batch) - p.clone();
                // f'(p): 1 where p > 0, else `slope`; a constant, as in autograd.
                let gain =
                    p.clone().greater_elem(0.0).float().cast(p.dtype()) * (1.0 - slope) + slope;
                let f = leaky_relu_fast(p, slope);
                Tensor::cat(vec![f.clone(), f + t * gain], 0)
            }
        }
    }
}

/// `leaky_relu(h, slope) = (1 - slope) relu(h) + slope h`: the same values to within one
/// rounding, but Burn's autodiff lowers `leaky_relu` to masked selects while `relu` and its
/// backward are single vectorised passes on the CPU.
fn leaky_relu_fast<const D: usize>(h: Tensor<D>, slope: f64) -> Tensor<D> {
    relu(h.clone()) * (1.0 - slope) + h * slope
}
