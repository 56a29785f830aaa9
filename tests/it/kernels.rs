//! The kernels of the patched flex backend (patches/burn-flex) against their definitions:
//! conv2d forward and both gradients, conv_transpose2d forward and both gradients and the
//! bias gradients against the convolution summed in f64 tap by tap, on random shapes (odd
//! sizes, asymmetric and large padding, strides 1 to 3, dilation, groups, `padding_out`,
//! batch 1, with and without bias, 3x3 stride-1 convolutions wide enough for Winograd); batch
//! norm's training forward and backward against the same formula written as tensor
//! operations. (`SnConv2d` and `SnConvTranspose2d` are also checked against PyTorch in
//! spectral.rs, batch norm's forward in models.rs.)

use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::burn::tensor::module::{batch_norm_train, conv_transpose2d, conv2d};
use sngan::burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

use crate::{assert_close, values};

/// f32 products summed in a different order than f64 taps: scale-relative error bound.
const TOL: f32 = 2e-5;

/// One convolution's geometry, in convolution terms: the image `[batch, channels, in_h, in_w]`,
/// the weight `[out_channels, channels / groups, kh, kw]`, the output `[batch, out_channels,
/// out_h, out_w]`. A transposed convolution is the same taps read backwards (its input is the
/// output side, its output the image side).
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    channels: usize,
    out_channels: usize,
    groups: usize,
    in_size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    /// `(begin, end)` per axis.
    padding: [(usize, usize); 2],
    dilation: [usize; 2],
    out_size: [usize; 2],
}

impl Geometry {
    fn image_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.in_size[0], self.in_size[1]]
    }

    fn weight_shape(&self) -> [usize; 4] {
        let [kh, kw] = self.kernel;
        [self.out_channels, self.channels / self.groups, kh, kw]
    }

    fn out_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_size[0],
            self.out_size[1],
        ]
    }

    /// Calls `f(image index, weight index, output index)` for every product the convolution
    /// sums.
    fn taps(&self, mut f: impl FnMut(usize, usize, usize)) {
        let [in_h, in_w] = self.in_size;
        let [kh, kw] = self.kernel;
        let [out_h, out_w] = self.out_size;
        let cg = self.channels / self.groups;
        let og = self.out_channels / self.groups;
        for b in 0..self.batch {
            for o in 0..self.out_channels {
                let c0 = o / og * cg;
                for oh in 0..out_h {
                    for ow in 0..out_w {
                        let yi = ((b * self.out_channels + o) * out_h + oh) * out_w + ow;
                        for c in 0..cg {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let ih = (oh * self.stride[0] + ki * self.dilation[0])
                                        .checked_sub(self.padding[0].0)
                                        .filter(|&i| i < in_h);
                                    let iw = (ow * self.stride[1] + kj * self.dilation[1])
                                        .checked_sub(self.padding[1].0)
                                        .filter(|&i| i < in_w);
                                    if let (Some(ih), Some(iw)) = (ih, iw) {
                                        let xi =
                                            ((b * self.channels + c0 + c) * in_h + ih) * in_w + iw;
                                        let wi = ((o * cg + c) * kh + ki) * kw + kj;
                                        f(xi, wi, yi);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

impl Geometry {
    /// The convolution's definition summed in f64 tap by tap, for an image `x`, a weight `w`
    /// and an output-side `dy`: the output `[y]`, the input gradient `[dx]` (`dy` through the
    /// transposed convolution) and the weight gradient `[dw]` (`dy` against `x`). A transposed
    /// convolution is the same three read backwards: its output is `dx` with `dy` its input.
    fn definition(&self, x: &[f64], w: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
        let mut y = vec![0f64; self.out_shape().iter().product()];
        let mut dx = vec![0f64; x.len()];
        let mut dw = vec![0f64; w.len()];
        self.taps(|xi, wi, yi| {
            y[yi] += x[xi] * w[wi];
            dx[xi] += dy[yi] * w[wi];
            dw[wi] += dy[yi] * x[xi];
        });
        [y, dx, dw]
    }
}

/// Deterministic values in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn values(&mut self, len: usize) -> Vec<f32> {
        (0..len)
            .map(|_| self.next(1 << 20) as f32 / (1 << 19) as f32 - 1.0)
            .collect()
    }

    fn tensor<const D: usize>(&mut self, shape: [usize; D], device: &Device) -> Tensor<D> {
        let data = self.values(shape.iter().product());
        Tensor::from_data(TensorData::new(data, shape), device)
    }
}

/// A random geometry; `transposed` keeps the padding symmetric (a transposed convolution's
/// options have one padding per axis) and at most half the dilated kernel, so that its output
/// is never empty.
fn random_geometry(rng: &mut Lcg, transposed: bool) -> Geometry {
    let groups = [1, 1, 1, 2, 3][rng.next(5)];
    let channels = groups * (1 + rng.next(4));
    let out_channels = groups * (1 + rng.next(4));
    let kernel = [1 + rng.next(4), 1 + rng.next(4)];
    let stride = [1 + rng.next(3), 1 + rng.next(3)];
    let dilation = [1 + rng.next(2), 1 + rng.next(2)];
    let padding = [0, 1].map(|a| {
        let reach = (kernel[a] - 1) * dilation[a];
        match transposed {
            true => {
                let p = rng.next(reach / 2 + 1);
                (p, p)
            }
            false => (rng.next(reach + 1), rng.next(reach + 2)),
        }
    });
    let in_size = [0, 1].map(|a| (kernel[a] - 1) * dilation[a] + 1 + rng.next(7));
    let out_size = [0, 1].map(|a| {
        (in_size[a] + padding[a].0 + padding[a].1 - (kernel[a] - 1) * dilation[a] - 1) / stride[a]
            + 1
    });
    Geometry {
        batch: [1, 1, 2, 3][rng.next(4)],
        channels,
        out_channels,
        groups,
        in_size,
        kernel,
        stride,
        padding,
        dilation,
        out_size,
    }
}

fn f64s(t: &Tensor<4>) -> Vec<f64> {
    values(t.clone()).into_iter().map(f64::from).collect()
}

fn f32s(v: Vec<f64>) -> Vec<f32> {
    v.into_iter().map(|x| x as f32).collect()
}

/// The gradient of `t` in `grads`, flattened.
fn grad_of<const D: usize>(t: &Tensor<D>, grads: &sngan::burn::tensor::Gradients) -> Vec<f32> {
    values(t.grad(grads).expect("tracked tensor has a gradient"))
}

/// Sums each output element's bias gradient: `dy` summed over all but the channel axis.
fn bias_grad(dy: &[f64], shape: [usize; 4]) -> Vec<f32> {
    let spatial = shape[2] * shape[3];
    let mut db = vec![0f64; shape[1]];
    for (i, v) in dy.iter().enumerate() {
        db[i / spatial % shape[1]] += v;
    }
    f32s(db)
}

/// `v[.., c, h, w] += bias[c]` for `v` of `shape`.
fn add_bias(v: &mut [f64], bias: &Tensor<1>, shape: [usize; 4]) {
    let bias: Vec<f64> = values(bias.clone()).into_iter().map(f64::from).collect();
    let spatial = shape[2] * shape[3];
    for (i, v) in v.iter_mut().enumerate() {
        *v += bias[i / spatial % shape[1]];
    }
}

/// conv2d with geometry `g` on random data, its output and its input, weight (and bias)
/// gradients through `sum(y * r)` for a random `r`, against the definition.
fn check_conv2d(g: Geometry, with_bias: bool, rng: &mut Lcg, what: &str) {
    let device = Device::flex().autodiff();
    let x = rng.tensor(g.image_shape(), &device).require_grad();
    let w = rng.tensor(g.weight_shape(), &device).require_grad();
    let b = rng.tensor([g.out_channels], &device).require_grad();
    let r = rng.tensor(g.out_shape(), &device);
    let options = ConvOptions::new_with_padding(g.stride, g.padding, g.dilation, g.groups);
    let y = conv2d(x.clone(), w.clone(), with_bias.then(|| b.clone()), options);
    let grads = (y.clone() * r.clone()).sum().backward();

    let rv = f64s(&r);
    let [mut ye, dx, dw] = g.definition(&f64s(&x), &f64s(&w), &rv);
    if with_bias {
        add_bias(&mut ye, &b, g.out_shape());
    }
    let what = |t: &str| format!("{what} {t} {g:?}");
    assert_close(&what("y"), &values(y), &f32s(ye), TOL);
    assert_close(&what("dx"), &grad_of(&x, &grads), &f32s(dx), TOL);
    assert_close(&what("dw"), &grad_of(&w, &grads), &f32s(dw), TOL);
    if with_bias {
        let db = bias_grad(&rv, g.out_shape());
        assert_close(&what("db"), &grad_of(&b, &grads), &db, TOL);
    }
}

#[test]
fn conv2d_and_its_gradients_match_the_definition() {
    let mut rng = Lcg(7);
    for case in 0..60 {
        let g = random_geometry(&mut rng, false);
        check_conv2d(g, case % 2 == 0, &mut rng, &format!("case {case}"));
    }
}

/// conv_transpose2d of the convolution `g` reads backwards (its output is `g`'s image side,
/// `padding_out` rows and columns beyond the last tap that only the bias reaches) on random
/// data: output, input, weight (and bias) gradients against the definition.
fn check_conv_transpose2d(
    g: Geometry,
    padding_out: [usize; 2],
    with_bias: bool,
    rng: &mut Lcg,
    what: &str,
) {
    let device = Device::flex().autodiff();
    let z = rng.tensor(g.out_shape(), &device).require_grad();
    let w = rng.tensor(g.weight_shape(), &device).require_grad();
    let b = rng.tensor([g.channels], &device).require_grad();
    let r = rng.tensor(g.image_shape(), &device);
    let options = ConvTransposeOptions::new(
        g.stride,
        g.padding.map(|p| p.0),
        padding_out,
        g.dilation,
        g.groups,
    );
    let y = conv_transpose2d(z.clone(), w.clone(), with_bias.then(|| b.clone()), options);
    let grads = (y.clone() * r.clone()).sum().backward();

    // Read backwards: the convolution of the image-side `r` is z's gradient, `z` through
    // the transposed taps the output, `r` against `z` the weight gradient.
    let rv = f64s(&r);
    let [dz, mut ye, dw] = g.definition(&rv, &f64s(&w), &f64s(&z));
    if with_bias {
        add_bias(&mut ye, &b, g.image_shape());
    }
    let what = |t: &str| format!("{what} {t} {g:?} padding_out {padding_out:?}");
    assert_close(&what("y"), &values(y), &f32s(ye), TOL);
    assert_close(&what("dz"), &grad_of(&z, &grads), &f32s(dz), TOL);
    assert_close(&what("dw"), &grad_of(&w, &grads), &f32s(dw), TOL);
    if with_bias {
        let db = bias_grad(&rv, g.image_shape());
        assert_close(&what("db"), &grad_of(&b, &grads), &db, TOL);
    }
}

#[test]
fn conv_transpose2d_and_its_gradients_match_the_definition() {
    let mut rng = Lcg(11);
    for case in 0..60 {
        let mut g = random_geometry(&mut rng, true);
        let padding_out = [0, 1].map(|a| rng.next(g.stride[a].max(g.dilation[a])));
        g.in_size = [0, 1].map(|a| {
            (g.out_size[a] - 1) * g.stride[a]
                + (g.kernel[a] - 1) * g.dilation[a]
                + 1
                + padding_out[a]
                - 2 * g.padding[a].0
        });
        let with_bias = case % 2 == 1;
        check_conv_transpose2d(g, padding_out, with_bias, &mut rng, &format!("case {case}"));
    }
}

/// Shapes large enough that the kernels split the batch across threads and the positions of
/// one image into several chunks (3x3 at 48x48 with 128 channels: more columns than one chunk
/// holds), checked against the definition.
#[test]
fn chunked_and_threaded_paths_match_the_definition() {
    let mut rng = Lcg(13);
    let g = Geometry {
        batch: 3,
        channels: 128,
        out_channels: 2,
        groups: 1,
        in_size: [48, 48],
        kernel: [3, 3],
        stride: [1, 1],
        padding: [(1, 1), (1, 1)],
        dilation: [1, 1],
        out_size: [48, 48],
    };
    check_conv2d(g, false, &mut rng, "chunked");
}

/// Tensors past the grain (32,768 elements) at which flex's elementwise loops and the
/// convolutions' bias gradient split across threads: the scalar, unary and binary loops
/// (in place and allocating), and the relu-based leaky ReLU of the zoo with its gradient,
/// equal the same f32 expression element by element (bit for bit, since each element is
/// computed alone); the bias gradient of a 16-channel convolution matches the definition.
#[test]
fn elementwise_loops_and_bias_gradients_split_across_threads_match_the_definition() {
    let mut rng = Lcg(19);
    let device = Device::flex().autodiff();
    let shape = [4, 16, 33, 31];
    let (xv, wv) = (
        rng.values(shape.iter().product()),
        rng.values(shape.iter().product()),
    );
    let x = Tensor::<4>::from_data(TensorData::new(xv.clone(), shape), &device).require_grad();
    let w = Tensor::<4>::from_data(TensorData::new(wv.clone(), shape), &device);
    // A view at an offset takes the allocating paths.
    let tail = |v: &[f32]| v[v.len() / 2..].to_vec();
    let exact = |what: &str, actual: Vec<f32>, expected: Vec<f32>| {
        assert_eq!(actual.len(), expected.len(), "{what}: length");
        let differ = actual
            .iter()
            .zip(&expected)
            .filter(|(a, e)| a.to_bits() != e.to_bits());
        assert_eq!(
            differ.count(),
            0,
            "{what}: elements differ from the f32 expression"
        );
    };
    let lrelu = |v: f32| v.max(0.0) * 0.8 + v * 0.2;
    exact(
        "x * 3",
        values(x.clone().inner() * 3.0),
        xv.iter().map(|v| v * 3.0).collect(),
    );
    exact(
        "exp",
        values(x.clone().inner().exp()),
        xv.iter().map(|v| v.exp()).collect(),
    );
    exact(
        "x * w",
        values(x.clone().inner() * w.clone().inner()),
        xv.iter().zip(&wv).map(|(a, b)| a * b).collect(),
    );
    let half = x
        .clone()
        .inner()
        .reshape([2, 2, 16, 33, 31])
        .narrow(0, 1, 1)
        .reshape([2, 16, 33, 31]);
    exact(
        "view * 3",
        values(half.clone() * 3.0),
        tail(&xv).iter().map(|v| v * 3.0).collect(),
    );
    exact(
        "view.abs()",
        values(half.clone().abs()),
        tail(&xv).iter().map(|v| v.abs()).collect(),
    );
    exact(
        "view - view",
        values(half.clone() - half.clone().neg()),
        tail(&xv).iter().map(|v| v - -v).collect(),
    );

    let y = sngan::burn::tensor::activation::relu(x.clone()) * 0.8 + x.clone() * 0.2;
    exact(
        "leaky relu",
        values(y.clone().inner()),
        xv.iter().map(|&v| lrelu(v)).collect(),
    );
    let grads = (y * w).sum().backward();
    let expected: Vec<f32> = xv
        .iter()
        .zip(&wv)
        .map(|(&v, &g)| if v > 0.0 { g * 0.8 } else { 0.0 } + g * 0.2)
        .collect();
    assert_close("leaky relu dx", &grad_of(&x, &grads), &expected, 1e-6);

    let g = Geometry {
        batch: 4,
        channels: 3,
        out_channels: 16,
        groups: 1,
        in_size: [32, 32],
        kernel: [3, 3],
        stride: [1, 1],
        padding: [(1, 1), (1, 1)],
        dilation: [1, 1],
        out_size: [32, 32],
    };
    check_conv2d(g, true, &mut rng, "threaded bias gradient");
}

/// 3x3 stride-1 convolutions with enough channels for the Winograd path, and the transposed
/// convolutions of the same shapes, padding 0 to 2, odd and even sizes, batch 1 to 3: outputs
/// below 8 a side, then 8 and more (where the gradients run F(4x4, 3x3), whose 6x6 patches run
/// 2 past the image and whose last tiles are cut at 1 to 3 rows and columns); the last case
/// (71x129: 36 x 65 tiles an image forward, 18 x 33 for the gradients) is larger than one
/// chunk of tiles, so chunks end inside an image and span two.
#[test]
fn winograd_convolutions_match_the_definition() {
    let mut rng = Lcg(17);
    let cases = [
        (1, [5, 7], 1),
        (3, [8, 8], 0),
        (2, [9, 4], 2),
        (2, [8, 8], 1),
        (1, [10, 13], 0),
        (3, [9, 11], 2),
        (3, [71, 129], 1),
    ];
    for (case, (batch, size, pad)) in cases.into_iter().enumerate() {
        let pad = [(pad, pad); 2];
        let g = Geometry {
            batch,
            channels: 32 + case,
            out_channels: 40 - case,
            groups: 1,
            in_size: size,
            kernel: [3, 3],
            stride: [1, 1],
            padding: pad,
            dilation: [1, 1],
            out_size: [0, 1].map(|a| size[a] + 2 * pad[a].0 - 2),
        };
        let what = format!("winograd case {case}");
        check_conv2d(g, case == 1, &mut rng, &what);
        check_conv_transpose2d(g, [0, 0], case == 2, &mut rng, &what);
    }
}

/// 4x4 stride-2 convolutions with padding 1 (the standard CNN's) at 32+ channels, the size
/// at which a kernel may specialise them, and the transposed convolutions that invert their
/// shapes: even sizes with odd halves, odd sizes, batch 1, 2 and 3, outputs below 8 a side
/// and from 8 (where the weight gradients run by phases too); the last case (33 x 33 tiles
/// an image for the kernels by phases, forward and input gradient) is larger than one chunk
/// of tiles, so an image's input gradient is added up over two chunks.
#[test]
fn stride_two_convolutions_at_the_std_cnns_widths_match_the_definition() {
    let mut rng = Lcg(23);
    for (case, (batch, size, channels, out_channels)) in [
        (1, [8, 8], 32, 40),
        (3, [6, 10], 33, 35),
        (2, [4, 4], 64, 32),
        (1, [7, 9], 32, 32),
        (3, [18, 21], 32, 36),
        (1, [16, 16], 40, 33),
        (2, [130, 130], 32, 33),
    ]
    .into_iter()
    .enumerate()
    {
        let g = Geometry {
            batch,
            channels,
            out_channels,
            groups: 1,
            in_size: size,
            kernel: [4, 4],
            stride: [2, 2],
            padding: [(1, 1); 2],
            dilation: [1, 1],
            out_size: size.map(|s| (s + 2 - 4) / 2 + 1),
        };
        let what = format!("stride-2 case {case}");
        check_conv2d(g, case % 2 == 0, &mut rng, &what);
        let padding_out = size.map(|s| s % 2);
        check_conv_transpose2d(g, padding_out, case % 2 == 1, &mut rng, &what);
    }
}

/// Batch norm in training: Burn's `batch_norm_train` (one fused operation on flex) against
/// `gamma (x - mean) / sqrt(var + eps) + beta` built from tensor operations, output and the
/// gradients of input, gamma and beta, on rank 2 and rank 4 inputs.
#[test]
fn batch_norm_training_matches_the_formula() {
    let device = Device::flex().autodiff();
    let mut rng = Lcg(19);
    let eps = 1e-4;
    for shape in [[3, 5, 4, 7], [1, 2, 3, 3], [16, 8, 1, 1]] {
        let c = shape[1];
        let fresh = |rng: &mut Lcg| {
            let x = rng.tensor(shape, &device).require_grad();
            let gamma = rng.tensor([c], &device).require_grad();
            let beta = rng.tensor([c], &device).require_grad();
            (x, gamma, beta)
        };
        let r = rng.tensor(shape, &device);
        let mut data = Lcg(rng.0);
        let (x, gamma, beta) = fresh(&mut data);
        let fused = batch_norm_train(x.clone(), gamma.clone(), beta.clone(), eps);
        let grads = (fused.output.clone() * r.clone()).sum().backward();

        let mut data = Lcg(rng.0);
        let (xr, gr, br) = fresh(&mut data);
        let n = shape.iter().product::<usize>() / c;
        let flat = xr.clone().swap_dims(0, 1).reshape([c, n]);
        let mean = flat.clone().mean_dim(1);
        let var = (flat - mean.clone()).square().mean_dim(1);
        let chan = |v: Tensor<2>| v.reshape([1, c, 1, 1]);
        let normalized = (xr.clone() - chan(mean.clone())) / chan((var.clone() + eps).sqrt());
        let reference =
            normalized * gr.clone().reshape([1, c, 1, 1]) + br.clone().reshape([1, c, 1, 1]);
        let ref_grads = (reference.clone() * r).sum().backward();

        let what = |t: &str| format!("{shape:?} {t}");
        let close = |t: &str, a: Vec<f32>, b: Vec<f32>| assert_close(&what(t), &a, &b, 1e-5);
        close("output", values(fused.output), values(reference));
        close("mean", values(fused.mean), values(mean.reshape([c])));
        close("variance", values(fused.variance), values(var.reshape([c])));
        close("dx", grad_of(&x, &grads), grad_of(&xr, &ref_grads));
        close("dgamma", grad_of(&gamma, &grads), grad_of(&gr, &ref_grads));
        close("dbeta", grad_of(&beta, &grads), grad_of(&br, &ref_grads));
    }
}
