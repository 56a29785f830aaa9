//! Power iteration for the largest singular value of a linear operator (Miyato et al., ICLR
//! 2018, Algorithm 1), over explicit matrices and over convolutions applied as operators.

use burn::prelude::*;
use burn::tensor::module::{conv_transpose2d, conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

/// A linear map `A` between flattened vector spaces, given by how it and its adjoint act.
pub trait LinearOperator {
    /// `A v`, with `v` in the input space.
    fn apply(&self, v: Tensor<1>) -> Tensor<1>;
    /// `A^T u`, with `u` in the output space.
    fn apply_transpose(&self, u: Tensor<1>) -> Tensor<1>;
    /// The same operator cut from the autodiff graph, for the power-iteration update.
    fn detached(&self) -> Self;
}

/// `x / max(||x||_2, eps)`: `torch.nn.functional.normalize` on a vector.
pub fn normalize(x: Tensor<1>, eps: f64) -> Tensor<1> {
    let norm = x.clone().square().sum().sqrt().clamp_min(eps);
    x / norm
}

/// `n_iterations` steps of `v = normalize(A^T u)`, `u = normalize(A v)` (the order of
/// `torch.nn.utils.spectral_norm`); returns the new `(u, v)`. Zero steps return the inputs.
pub fn power_iteration<O: LinearOperator>(
    operator: &O,
    mut u: Tensor<1>,
    mut v: Tensor<1>,
    n_iterations: usize,
    eps: f64,
) -> (Tensor<1>, Tensor<1>) {
    for _ in 0..n_iterations {
        v = normalize(operator.apply_transpose(u), eps);
        u = normalize(operator.apply(v.clone()), eps);
    }
    (u, v)
}

/// `sigma = u^T A v`, shape `[1]`, differentiable through the operator's weight only.
pub fn rayleigh_sigma<O: LinearOperator>(operator: &O, u: Tensor<1>, v: Tensor<1>) -> Tensor<1> {
    (u.detach() * operator.apply(v.detach())).sum()
}

/// A dense matrix `W`, shape `[rows, cols]`: maps `cols`-vectors to `rows`-vectors.
#[derive(Clone, Debug)]
pub struct MatrixOperator(pub Tensor<2>);

impl LinearOperator for MatrixOperator {
    fn apply(&self, v: Tensor<1>) -> Tensor<1> {
        let [rows, cols] = self.0.dims();
        self.0.clone().matmul(v.reshape([cols, 1])).reshape([rows])
    }

    fn apply_transpose(&self, u: Tensor<1>) -> Tensor<1> {
        let [rows, cols] = self.0.dims();
        u.reshape([1, rows]).matmul(self.0.clone()).reshape([cols])
    }

    fn detached(&self) -> Self {
        Self(self.0.clone().detach())
    }
}

/// A bias-free 2-D convolution on one image of a fixed size, as the linear map it is:
/// `[c_in * h * w] -> [c_out * h_out * w_out]`. Its adjoint is the transposed convolution
/// with the same weight, stride and padding, plus the output padding that restores `h, w`.
#[derive(Clone, Debug)]
pub struct ConvOperator {
    /// Kernel `[c_out, c_in, kh, kw]`.
    pub weight: Tensor<4>,
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Symmetric zero padding `[ph, pw]`.
    pub padding: [usize; 2],
    /// Input height and width.
    pub input_size: [usize; 2],
}

impl ConvOperator {
    /// Output height and width: `(h + 2p - k) / s + 1`.
    pub fn output_size(&self) -> [usize; 2] {
        let [_, _, kh, kw] = self.weight.dims();
        let out = |n: usize, k: usize, p: usize, s: usize| (n + 2 * p - k) / s + 1;
        [
            out(self.input_size[0], kh, self.padding[0], self.stride[0]),
            out(self.input_size[1], kw, self.padding[1], self.stride[1]),
        ]
    }

    /// Length of the input vector, `c_in * h * w`.
    pub fn input_len(&self) -> usize {
        self.weight.dims()[1] * self.input_size[0] * self.input_size[1]
    }

    /// Length of the output vector, `c_out * h_out * w_out`.
    pub fn output_len(&self) -> usize {
        let [h, w] = self.output_size();
        self.weight.dims()[0] * h * w
    }
}

impl LinearOperator for ConvOperator {
    fn apply(&self, v: Tensor<1>) -> Tensor<1> {
        let [_, c_in, _, _] = self.weight.dims();
        let [h, w] = self.input_size;
        let options = ConvOptions::new(self.stride, self.padding, [1, 1], 1);
        let out = conv2d(
            v.reshape([1, c_in, h, w]),
            self.weight.clone(),
            None,
            options,
        );
        out.reshape([self.output_len()])
    }

    fn apply_transpose(&self, u: Tensor<1>) -> Tensor<1> {
        let [c_out, _, kh, kw] = self.weight.dims();
        let [h_out, w_out] = self.output_size();
        // conv_transpose2d yields (h_out - 1) s - 2p + k rows; the rows a strided conv skipped
        // at the far edge come back as output padding.
        let rest =
            |n: usize, n_out: usize, k: usize, p: usize, s: usize| n + 2 * p - k - (n_out - 1) * s;
        let padding_out = [
            rest(
                self.input_size[0],
                h_out,
                kh,
                self.padding[0],
                self.stride[0],
            ),
            rest(
                self.input_size[1],
                w_out,
                kw,
                self.padding[1],
                self.stride[1],
            ),
        ];
        let options = ConvTransposeOptions::new(self.stride, self.padding, padding_out, [1, 1], 1);
        let input = u.reshape([1, c_out, h_out, w_out]);
        conv_transpose2d(input, self.weight.clone(), None, options).reshape([self.input_len()])
    }

    fn detached(&self) -> Self {
        Self {
            weight: self.weight.clone().detach(),
            ..self.clone()
        }
    }
}

/// The adjoint `A^T` of an operator: a transposed convolution is the adjoint of the convolution
/// with the same kernel.
#[derive(Clone, Debug)]
pub struct Adjoint<O>(pub O);

impl<O: LinearOperator> LinearOperator for Adjoint<O> {
    fn apply(&self, v: Tensor<1>) -> Tensor<1> {
        self.0.apply_transpose(v)
    }

    fn apply_transpose(&self, u: Tensor<1>) -> Tensor<1> {
        self.0.apply(u)
    }

    fn detached(&self) -> Self {
        Self(self.0.detached())
    }
}
