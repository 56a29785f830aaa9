//! Batch normalisation (Ioffe & Szegedy, 2015) in a few passes over the data: the training
//! forward (batch statistics, then the normalised output), its backward, and the forward with
//! given statistics.
//!
//! Burn's `ModuleOps` defaults compose these from reductions and broadcasts, a dozen passes
//! over the input and as many temporaries; here each channel is read twice forward and twice
//! backward, channels in parallel. Sums accumulate in f64.
//!
//! With `x̂ = (x - μ) / σ`, `σ = sqrt(var + eps)` and `n` samples per channel, the backward is
//! `dx = γ / σ · (dy - mean(dy) - x̂ · mean(dy · x̂))`, `dγ = Σ dy · x̂`, `dβ = Σ dy`.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::DType;
use burn_std::{Bytes, Shape, f16};

use super::par::sums;
use crate::{FlexTensor, Layout};

/// An element batch norm runs on natively (f16 and bf16 go through f32).
trait Elem: bytemuck::Pod + Send + Sync + burn_backend::Element + num_traits::Float {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Elem for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Elem for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// `[batch, channels, spatial]` of a `[batch, channels, ...]` shape.
fn layout(shape: &Shape) -> [usize; 3] {
    let (batch, channels) = (shape[0], shape[1]);
    let spatial = shape.iter().skip(2).product();
    [batch, channels, spatial]
}

/// Calls `f(c, planes)` for every channel `c` in parallel, `planes` yielding that channel's
/// `spatial`-long runs of `x`, one per batch item.
fn per_channel<T: Elem, R: Send>(
    x: &[T],
    [batch, channels, spatial]: [usize; 3],
    f: impl Fn(usize, &mut dyn Iterator<Item = &[T]>) -> R + Sync + Send,
) -> Vec<R> {
    let run = |c: usize| {
        let mut planes = (0..batch).map(|b| &x[(b * channels + c) * spatial..][..spatial]);
        f(c, &mut planes)
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..channels).into_par_iter().map(run).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..channels).map(run).collect()
    }
}

/// `out[b, c, s] = f(c, x[b, c, s], y[b, c, s])` (`y` optional), batch items in parallel.
fn map_channels<T: Elem>(
    x: &[T],
    y: Option<&[T]>,
    [batch, channels, spatial]: [usize; 3],
    f: impl Fn(usize, T, T) -> T + Sync + Send,
) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    let image = channels * spatial;
    let run = |(b, out): (usize, &mut [T])| {
        for (c, out) in out.chunks_mut(spatial).enumerate() {
            let at = b * image + c * spatial;
            let xs = &x[at..at + spatial];
            match y {
                Some(y) => {
                    for ((o, &a), &d) in out.iter_mut().zip(xs).zip(&y[at..at + spatial]) {
                        *o = f(c, a, d);
                    }
                }
                None => {
                    for (o, &a) in out.iter_mut().zip(xs) {
                        *o = f(c, a, a);
                    }
                }
            }
        }
    };
    let _ = batch;
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(image.max(1)).enumerate().for_each(run);
    }
    #[cfg(not(feature = "rayon"))]
    out.chunks_mut(image.max(1)).enumerate().for_each(run);
    out
}

/// Per channel: the batch mean and biased variance of `x`.
fn statistics<T: Elem>(x: &[T], dims: [usize; 3]) -> Vec<(f64, f64)> {
    let n = (dims[0] * dims[2]).max(1) as f64;
    per_channel(x, dims, |_, planes| {
        let (mut sum, mut sq) = (0.0f64, 0.0f64);
        for plane in planes {
            let [s, q] = sums(plane, plane, 0.0, |v: T, _| {
                let v = v.to_f64();
                [v, v * v]
            });
            sum += s;
            sq += q;
        }
        let mean = sum / n;
        (mean, (sq / n - mean * mean).max(0.0))
    })
}

fn to_f64s<T: Elem>(t: &[T]) -> Vec<f64> {
    t.iter().map(|&v| v.to_f64()).collect()
}

fn train<T: Elem>(x: &[T], gamma: &[T], beta: &[T], eps: f64, dims: [usize; 3]) -> [Vec<T>; 3] {
    let stats = statistics(x, dims);
    let (gamma, beta) = (to_f64s(gamma), to_f64s(beta));
    // y = x * scale + shift with scale = γ / σ, shift = β - μ · scale.
    let (scale, shift): (Vec<f64>, Vec<f64>) = stats
        .iter()
        .zip(gamma.iter().zip(&beta))
        .map(|(&(mean, var), (&g, &b))| {
            let scale = g / (var + eps).sqrt();
            (scale, b - mean * scale)
        })
        .unzip();
    let (scale_t, shift_t): (Vec<T>, Vec<T>) = scale
        .iter()
        .zip(&shift)
        .map(|(&s, &h)| (T::from_f64(s), T::from_f64(h)))
        .unzip();
    let out = map_channels(x, None, dims, |c, v, _| v * scale_t[c] + shift_t[c]);
    let mean = stats.iter().map(|s| T::from_f64(s.0)).collect();
    let var = stats.iter().map(|s| T::from_f64(s.1)).collect();
    [out, mean, var]
}

#[allow(clippy::too_many_arguments)]
fn train_backward<T: Elem>(
    x: &[T],
    gamma: &[T],
    mean: &[T],
    var: &[T],
    eps: f64,
    dy: &[T],
    dims: [usize; 3],
) -> [Vec<T>; 3] {
    let n = (dims[0] * dims[2]).max(1) as f64;
    let (gamma, mean, var) = (to_f64s(gamma), to_f64s(mean), to_f64s(var));
    let inv_std: Vec<f64> = var.iter().map(|&v| 1.0 / (v + eps).sqrt()).collect();
    // Per channel: Σ dy and Σ dy · (x - μ).
    let sums = per_channel(dy, dims, |c, planes| {
        let (mut sd, mut sdx) = (0.0f64, 0.0f64);
        let [batch, channels, spatial] = dims;
        for (b, plane) in (0..batch).zip(planes) {
            let xs = &x[(b * channels + c) * spatial..][..spatial];
            let [d, dx] = sums(plane, xs, 0.0, |d: T, v: T| {
                let d = d.to_f64();
                [d, d * (v.to_f64() - mean[c])]
            });
            sd += d;
            sdx += dx;
        }
        (sd, sdx)
    });
    // dx = γ/σ · (dy - Σdy/n - (x - μ) · Σ(dy·(x - μ)) / (n σ²)) = a·dy + b·x + c.
    let coef: Vec<[T; 3]> = (0..dims[1])
        .map(|c| {
            let (sd, sdx) = sums[c];
            let a = gamma[c] * inv_std[c];
            let k = sdx / n * inv_std[c] * inv_std[c];
            [a, -a * k, a * (k * mean[c] - sd / n)].map(T::from_f64)
        })
        .collect();
    let dx = map_channels(dy, Some(x), dims, |c, d, v| {
        let [a, b, k] = coef[c];
        a * d + b * v + k
    });
    let dgamma = (0..dims[1])
        .map(|c| T::from_f64(sums[c].1 * inv_std[c]))
        .collect();
    let dbeta = sums.iter().map(|s| T::from_f64(s.0)).collect();
    [dx, dgamma, dbeta]
}

fn eval<T: Elem>(
    x: &[T],
    [gamma, beta, mean, var]: [&[T]; 4],
    eps: f64,
    dims: [usize; 3],
) -> Vec<T> {
    let coef: Vec<[T; 2]> = (0..dims[1])
        .map(|c| {
            let scale = gamma[c].to_f64() / (var[c].to_f64() + eps).sqrt();
            [scale, beta[c].to_f64() - mean[c].to_f64() * scale].map(T::from_f64)
        })
        .collect();
    map_channels(x, None, dims, |c, v, _| v * coef[c][0] + coef[c][1])
}

/// The tensors' data as `T` slices, contiguous.
fn held(tensors: &[&FlexTensor]) -> Vec<FlexTensor> {
    tensors.iter().map(|t| t.to_contiguous()).collect()
}

fn tensor<T: Elem>(data: Vec<T>, shape: Shape) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(shape),
        T::dtype(),
    )
}

/// Runs `f` on the tensors converted to f32 when they are f16 or bf16, converting its outputs
/// back.
fn widened<const N: usize>(
    inputs: &[&FlexTensor],
    f: impl FnOnce(&[&FlexTensor]) -> [FlexTensor; N],
) -> [FlexTensor; N] {
    let dtype = inputs[0].dtype();
    let narrow = |t: FlexTensor| match dtype {
        DType::F16 => super::module::cast_from_f32(t, f16::from_f32),
        DType::BF16 => super::conv_common::convert_f32_to_bf16(&t),
        _ => t,
    };
    match dtype {
        DType::F16 | DType::BF16 => {
            let wide: Vec<FlexTensor> = inputs
                .iter()
                .map(|t| match dtype {
                    DType::F16 => super::module::cast_to_f32((*t).clone(), f16::to_f32),
                    _ => super::conv_common::convert_bf16_to_f32(t),
                })
                .collect();
            let wide: Vec<&FlexTensor> = wide.iter().collect();
            f(&wide).map(narrow)
        }
        _ => f(inputs),
    }
}

/// `batch_norm_train`: the normalised output and the batch mean and biased variance.
pub(crate) fn batch_norm_train(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    eps: f64,
) -> [FlexTensor; 3] {
    widened(&[&x, &gamma, &beta], |t| {
        let shape = t[0].layout().shape().clone();
        let dims = layout(&shape);
        let channels = Shape::from(vec![dims[1]]);
        let t = held(t);
        macro_rules! run {
            ($T:ty) => {{
                let [out, mean, var] =
                    train::<$T>(t[0].storage(), t[1].storage(), t[2].storage(), eps, dims);
                [
                    tensor(out, shape),
                    tensor(mean, channels.clone()),
                    tensor(var, channels),
                ]
            }};
        }
        match t[0].dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => panic!("batch_norm_train: unsupported dtype {other:?}"),
        }
    })
}

/// `batch_norm_train_backward`: the gradients of the input, `gamma` and `beta`.
pub(crate) fn batch_norm_train_backward(
    x: FlexTensor,
    gamma: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    eps: f64,
    output_grad: FlexTensor,
) -> [FlexTensor; 3] {
    widened(&[&x, &gamma, &mean, &variance, &output_grad], |t| {
        let shape = t[0].layout().shape().clone();
        let dims = layout(&shape);
        let channels = Shape::from(vec![dims[1]]);
        let t = held(t);
        macro_rules! run {
            ($T:ty) => {{
                let [dx, dgamma, dbeta] = train_backward::<$T>(
                    t[0].storage(),
                    t[1].storage(),
                    t[2].storage(),
                    t[3].storage(),
                    eps,
                    t[4].storage(),
                    dims,
                );
                [
                    tensor(dx, shape),
                    tensor(dgamma, channels.clone()),
                    tensor(dbeta, channels),
                ]
            }};
        }
        match t[0].dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => panic!("batch_norm_train_backward: unsupported dtype {other:?}"),
        }
    })
}

/// `batch_norm`: normalisation by given statistics.
pub(crate) fn batch_norm(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    eps: f64,
) -> FlexTensor {
    let [out] = widened(&[&x, &gamma, &beta, &mean, &variance], |t| {
        let shape = t[0].layout().shape().clone();
        let dims = layout(&shape);
        let t = held(t);
        macro_rules! run {
            ($T:ty) => {{
                let s = |i: usize| t[i].storage::<$T>();
                [tensor(
                    eval::<$T>(s(0), [s(1), s(2), s(3), s(4)], eps, dims),
                    shape,
                )]
            }};
        }
        match t[0].dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => panic!("batch_norm: unsupported dtype {other:?}"),
        }
    });
    out
}
