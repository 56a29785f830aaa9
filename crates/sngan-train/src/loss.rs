//! Adversarial losses as free functions of the discriminator's logits: hinge (Lim and Ye 2017;
//! Miyato et al. 2018), non-saturating (Goodfellow et al. 2014), Wasserstein (Arjovsky et al.
//! 2017) and least squares (Mao et al. 2017).
//!
//! # Shapes
//! `real`, `fake`: `[batch, 1]` logits; every loss is a `[1]` tensor.

use burn::prelude::*;
use burn::tensor::activation::{relu, softplus};

/// Which adversarial loss a run trains with.
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum Loss {
    /// `D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]`, `G: -E[D(G(z))]`.
    Hinge,
    /// `D: E[softplus(-D(x))] + E[softplus(D(G(z)))]`, `G: E[softplus(-D(G(z)))]`.
    NonSaturating,
    /// `D: E[D(G(z))] - E[D(x)]`, `G: -E[D(G(z))]`.
    Wasserstein,
    /// `D: E[(D(x) - 1)^2] / 2 + E[D(G(z))^2] / 2`, `G: E[(D(G(z)) - 1)^2] / 2`.
    LeastSquares,
}

impl Loss {
    /// The discriminator's loss.
    pub fn discriminator(&self, real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
        match self {
            Loss::Hinge => hinge_d(real, fake),
            Loss::NonSaturating => non_saturating_d(real, fake),
            Loss::Wasserstein => wasserstein_d(real, fake),
            Loss::LeastSquares => least_squares_d(real, fake),
        }
    }

    /// The generator's loss.
    pub fn generator(&self, fake: Tensor<2>) -> Tensor<1> {
        match self {
            Loss::Hinge | Loss::Wasserstein => wasserstein_g(fake),
            Loss::NonSaturating => non_saturating_g(fake),
            Loss::LeastSquares => least_squares_g(fake),
        }
    }
}

/// Hinge loss of D: `mean(relu(1 - real)) + mean(relu(1 + fake))`.
pub fn hinge_d(real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    relu(real.neg() + 1.0).mean() + relu(fake + 1.0).mean()
}

/// Non-saturating loss of D: `mean(softplus(-real)) + mean(softplus(fake))`.
pub fn non_saturating_d(real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    softplus(real.neg(), 1.0).mean() + softplus(fake, 1.0).mean()
}

/// Non-saturating loss of G: `mean(softplus(-fake))`.
pub fn non_saturating_g(fake: Tensor<2>) -> Tensor<1> {
    softplus(fake.neg(), 1.0).mean()
}

/// Wasserstein loss of D: `mean(fake) - mean(real)`.
pub fn wasserstein_d(real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    fake.mean() - real.mean()
}

/// The generator loss of hinge and Wasserstein GANs: `-mean(fake)`.
pub fn wasserstein_g(fake: Tensor<2>) -> Tensor<1> {
    fake.mean().neg()
}

/// Least-squares loss of D: `mean((real - 1)^2) / 2 + mean(fake^2) / 2`.
pub fn least_squares_d(real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    ((real - 1.0).square().mean() + fake.square().mean()) / 2.0
}

/// Least-squares loss of G: `mean((fake - 1)^2) / 2`.
pub fn least_squares_g(fake: Tensor<2>) -> Tensor<1> {
    (fake - 1.0).square().mean() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(v: [f32; 4]) -> Tensor<2> {
        Tensor::<1>::from_floats(v, &Device::flex()).reshape([4, 1])
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    /// Values worked by hand from the formulas (softplus(x) = ln(1 + e^x)).
    #[test]
    fn losses_have_their_textbook_values() {
        let real = || logits([2.0, 0.5, -1.0, 0.0]);
        let fake = || logits([-2.0, 0.5, 1.0, 0.0]);
        // relu(1 - r) = [0, .5, 2, 1] -> .875; relu(1 + f) = [0, 1.5, 2, 1] -> 1.125
        assert!((scalar(hinge_d(real(), fake())) - 2.0).abs() < 1e-6);
        assert!((scalar(wasserstein_g(fake())) + (-0.5 / 4.0 + 0.0)).abs() < 1e-6);
        assert!((scalar(wasserstein_d(real(), fake())) - (-0.5 / 4.0 - 1.5 / 4.0)).abs() < 1e-6);
        let sp = |x: f32| (1.0 + x.exp()).ln();
        let ns_d = [2.0f32, 0.5, -1.0, 0.0].iter().map(|r| sp(-r)).sum::<f32>() / 4.0
            + [-2.0f32, 0.5, 1.0, 0.0].iter().map(|f| sp(*f)).sum::<f32>() / 4.0;
        assert!((scalar(non_saturating_d(real(), fake())) - ns_d).abs() < 1e-6);
        let ns_g = [-2.0f32, 0.5, 1.0, 0.0].iter().map(|f| sp(-f)).sum::<f32>() / 4.0;
        assert!((scalar(non_saturating_g(fake())) - ns_g).abs() < 1e-6);
        // (r - 1)^2 = [1, .25, 4, 1] -> 1.5625; f^2 = [4, .25, 1, 0] -> 1.3125; halves sum 1.4375
        assert!((scalar(least_squares_d(real(), fake())) - 1.4375).abs() < 1e-6);
        // (f - 1)^2 = [9, .25, 0, 1] -> 2.5625 / 2
        assert!((scalar(least_squares_g(fake())) - 1.28125).abs() < 1e-6);
        assert_eq!(
            scalar(Loss::Hinge.generator(fake())),
            scalar(wasserstein_g(fake()))
        );
    }
}
