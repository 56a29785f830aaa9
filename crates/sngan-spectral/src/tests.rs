//! Unit tests: power iteration and strict/BSN sigma against f64 SVDs (faer), the variants'
//! formulas, buffer semantics (eval, clones, optimiser, records).

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use faer::Mat;

use crate::*;

fn device() -> Device {
    Device::flex()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
}

/// Largest singular value, in f64, of the matrix whose column `j` is `column(j)`.
fn top_singular_value(rows: usize, cols: usize, column: impl Fn(usize) -> Vec<f32>) -> f64 {
    let columns: Vec<Vec<f32>> = (0..cols).map(column).collect();
    let m = Mat::<f64>::from_fn(rows, cols, |i, j| columns[j][i] as f64);
    let s = m.as_ref().singular_values().expect("svd converges");
    s.into_iter().fold(0.0, f64::max)
}

fn basis(len: usize, j: usize) -> Tensor<1> {
    let mut e = vec![0f32; len];
    e[j] = 1.0;
    Tensor::from_data(TensorData::new(e, [len]), &device())
}

fn random<const D: usize>(shape: [usize; D]) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device())
}

fn assert_rel(what: &str, actual: f64, expected: f64, tol: f64) {
    let rel = (actual - expected).abs() / expected.abs();
    assert!(
        rel <= tol,
        "{what}: {actual} vs {expected} (relative error {rel:e} > {tol:e})"
    );
}

/// Power iteration gains a factor `(sigma2 / sigma1)^2` per step. Trained weights have a leading
/// direction; a pure Gaussian 16x27 matrix has `sigma2 / sigma1` near 0.97 and needs about 300
/// steps for 1e-4. The matrix here is Gaussian noise plus a rank-one spike (`sigma2 / sigma1`
/// about 0.6), the regime the one-step-per-forward update of SN works in.
#[test]
fn power_iteration_converges_to_the_svd() {
    device().seed(1);
    let (a, b) = (
        normalize(random([16]), 1e-12),
        normalize(random([27]), 1e-12),
    );
    let spike = a.reshape([16, 1]).matmul(b.reshape([1, 27])) * 3.0;
    let w = random([16, 27]) / (27f32).sqrt() + spike;
    let w_cols = values(w.clone().transpose()); // column-major view of w
    let svd = top_singular_value(16, 27, |j| w_cols[j * 16..(j + 1) * 16].to_vec());
    let op = MatrixOperator(w);
    let u0 = normalize(random([16]), 1e-12);
    let v0 = normalize(random([27]), 1e-12);
    let (u, v) = power_iteration(&op, u0, v0, 100, 1e-12);
    let sigma = rayleigh_sigma(&op, u, v).into_scalar::<f32>() as f64;
    assert_rel("sigma after 100 iterations", sigma, svd, 1e-4);
}

/// On a matrix without a gap the estimate still converges, only more slowly.
#[test]
fn power_iteration_converges_without_a_gap() {
    device().seed(1);
    let w = random([16, 27]);
    let w_cols = values(w.clone().transpose());
    let svd = top_singular_value(16, 27, |j| w_cols[j * 16..(j + 1) * 16].to_vec());
    let op = MatrixOperator(w);
    let (u, v) = power_iteration(
        &op,
        normalize(random([16]), 1e-12),
        normalize(random([27]), 1e-12),
        1000,
        1e-12,
    );
    let sigma = rayleigh_sigma(&op, u, v).into_scalar::<f32>() as f64;
    assert_rel("sigma after 1000 iterations", sigma, svd, 1e-4);
}

/// Each training forward takes one step, so 100 forwards land on the top singular value and the
/// normalised weight has spectral norm 1.
#[test]
fn conv_layer_converges_in_training_forwards() {
    let device = device().autodiff();
    device.seed(2);
    let layer = SnConv2dConfig::new([3, 8], [3, 3])
        .with_padding([1, 1])
        .init(&device);
    let x = Tensor::<4>::zeros([1, 3, 4, 4], &device);
    for _ in 0..100 {
        let _ = layer.forward(x.clone());
    }
    let w = layer.weight.val().inner().reshape([8, 27]);
    let w_cols = values(w.transpose());
    let svd = top_singular_value(8, 27, |j| w_cols[j * 8..(j + 1) * 8].to_vec());
    assert_rel(
        "layer sigma",
        layer.sigma().expect("normalised").value() as f64,
        svd,
        1e-4,
    );
}

#[test]
fn strict_sigma_is_the_operator_norm_of_the_convolution() {
    device().seed(3);
    for (stride, padding, size) in [
        ([1, 1], [1, 1], [5, 5]),
        ([2, 2], [1, 1], [6, 5]),
        ([2, 1], [0, 2], [7, 6]),
    ] {
        let config = SnConv2dConfig::new([2, 3], [3, 3])
            .with_stride(stride)
            .with_padding(padding)
            .with_input_size(Some(size))
            .with_sn(Some(SpectralNormConfig::new().with_mode(SigmaMode::Strict)));
        let layer = config.init(&device());
        let op = ConvOperator {
            weight: layer.weight.val(),
            stride,
            padding,
            input_size: size,
        };
        let (n_out, n_in) = (op.output_len(), op.input_len());
        let svd = top_singular_value(n_out, n_in, |j| values(op.apply(basis(n_in, j))));
        // The adjoint really is the transpose: <A e_j, e_i> = <e_j, A^T e_i>.
        let a_t = top_singular_value(n_in, n_out, |i| values(op.apply_transpose(basis(n_out, i))));
        assert_rel("adjoint", a_t, svd, 1e-5);
        for _ in 0..200 {
            let _ = layer.sigma_parts(true);
        }
        assert_rel(
            &format!("strict sigma {stride:?} {padding:?} {size:?}"),
            layer.sigma().expect("normalised").value() as f64,
            svd,
            1e-4,
        );
        // The kernel-matrix sigma of plain SN is a different number (neither bound is exact).
        let plain = top_singular_value(3, 18, |j| {
            let w = values(op.weight.clone().reshape([3, 18]));
            (0..3).map(|i| w[i * 18 + j]).collect()
        });
        assert!(
            (plain - svd).abs() > 1e-3,
            "strict {svd} and plain {plain} should differ"
        );
    }
}

#[test]
fn strict_sigma_of_transposed_convolution() {
    device().seed(4);
    let (stride, padding, padding_out, size) = ([2, 2], [1, 1], [1, 0], [3, 4]);
    let layer = SnConvTranspose2dConfig::new([3, 2], [4, 4])
        .with_stride(stride)
        .with_padding(padding)
        .with_padding_out(padding_out)
        .with_bias(false)
        .with_input_size(Some(size))
        .with_sn(Some(SpectralNormConfig::new().with_mode(SigmaMode::Strict)))
        .init(&device());
    let n_in = 3 * size[0] * size[1];
    let options =
        burn::tensor::ops::ConvTransposeOptions::new(stride, padding, padding_out, [1, 1], 1);
    let forward = |v: Tensor<1>| {
        let x = v.reshape([1, 3, size[0], size[1]]);
        burn::tensor::module::conv_transpose2d(x, layer.weight.val(), None, options.clone())
    };
    let out = forward(basis(n_in, 0));
    let n_out = out.dims().iter().product::<usize>();
    assert_eq!(
        sn(&layer).u.value().dims(),
        [n_out],
        "u lives in the output image"
    );
    let svd = top_singular_value(n_out, n_in, |j| {
        values(forward(basis(n_in, j)).reshape([n_out]))
    });
    for _ in 0..200 {
        let _ = layer.sigma_parts(true);
    }
    assert_rel(
        "strict transposed sigma",
        layer.sigma().expect("normalised").value() as f64,
        svd,
        1e-4,
    );
}

#[test]
fn bsn_second_sigma_is_the_transposed_kernel_svd() {
    device().seed(5);
    // 2 -> 8 channels: the two unfoldings, 8x18 and 2x72, have clearly different norms.
    let layer = SnConv2dConfig::new([2, 8], [3, 3])
        .with_sn(Some(
            SpectralNormConfig::new().with_mode(SigmaMode::Bidirectional),
        ))
        .init(&device());
    for _ in 0..200 {
        let _ = layer.sigma_parts(true);
    }
    let w = values(layer.weight.val()); // [out=8, in=2, 3, 3]
    let at = |o: usize, i: usize, k: usize| w[(o * 2 + i) * 9 + k];
    // sigma1: rows = out, cols = (in, k); sigma2: rows = in, cols = (out, k).
    let s1 = top_singular_value(8, 18, |col| {
        (0..8).map(|o| at(o, col / 9, col % 9)).collect()
    });
    let s2 = top_singular_value(2, 72, |col| {
        (0..2).map(|i| at(col / 9, i, col % 9)).collect()
    });
    let sigma = layer.sigma().expect("normalised");
    assert_rel("bsn sigma1", sigma.sigma1 as f64, s1, 1e-4);
    assert_rel(
        "bsn sigma2",
        sigma.sigma2.expect("BSN has a second sigma") as f64,
        s2,
        1e-4,
    );
    assert!(
        (s1 - s2).abs() > 0.05 * s1,
        "the unfoldings should differ: {s1} vs {s2}"
    );
    assert_rel("bsn divisor", sigma.value() as f64, (s1 + s2) / 2.0, 1e-4);
}

/// SSN/BSSN: `W = c W / sigma`, bias untouched; gamma multiplies weight and bias.
#[test]
fn scale_and_gamma_follow_the_bsn_code() {
    device().seed(6);
    let x = random([2, 5]);
    let base = SnLinearConfig::new(5, 3).init(&device());
    let with = |config: SpectralNormConfig| {
        let mut layer = SnLinearConfig::new(5, 3)
            .with_sn(Some(config))
            .init(&device());
        layer.weight = base.weight.clone();
        layer.bias = base.bias.clone();
        sn(&layer).u.set(sn(&base).u.value());
        sn(&layer).v.set(sn(&base).v.value());
        layer
    };
    let bias = base.bias.as_ref().unwrap().val().reshape([1, 3]);
    let plain = base.forward(x.clone()) - bias.clone();
    let scaled = with(SpectralNormConfig::new().with_scale(1.7)).forward(x.clone()) - bias.clone();
    let close = |a: Tensor<2>, b: Tensor<2>| {
        let (a, b) = (values(a), values(b));
        a.iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs().max(1.0))
    };
    assert!(
        close(scaled, plain.clone() * 1.7),
        "scale multiplies the weight only"
    );

    let mut gamma_layer = with(SpectralNormConfig::new().with_learnable_gamma(true));
    gamma_layer.sn.as_mut().unwrap().gamma = Some(burn::module::Param::from_tensor(
        Tensor::from_floats([0.5], &device()),
    ));
    let out = gamma_layer.forward(x.clone());
    assert!(
        close(out, (plain.clone() + bias.clone()) * 0.5),
        "gamma multiplies weight and bias"
    );

    let shared = Tensor::from_floats([2.0], &device());
    let out = base.forward_with_gamma(x, shared);
    assert!(
        close(out, (plain + bias) * 2.0),
        "a shared gamma acts the same way"
    );
}

#[test]
fn eval_leaves_vectors_untouched_and_clones_share_them_until_moved() {
    let device = device().autodiff();
    device.seed(7);
    let layer = SnConv2dConfig::new([2, 4], [3, 3]).init(&device);
    let x = Tensor::<4>::ones([1, 2, 5, 5], &device);
    let u0 = values(sn(&layer).u.value());

    let eval = layer.valid();
    let _ = eval.forward(x.clone().inner());
    assert_eq!(values(sn(&eval).u.value()), u0, "valid() forward keeps u");
    assert_eq!(values(sn(&layer).u.value()), u0, "valid() is a copy");

    let frozen = layer.clone().no_grad(); // what the generator step does with D
    let _ = frozen.forward(x.clone());
    let u1 = values(sn(&layer).u.value());
    assert_ne!(
        u1, u0,
        "a no_grad clone still advances the shared u, as PyTorch's G step does"
    );

    let off = layer.clone().valid().train();
    assert_eq!(values(sn(&off).u.value()), u1);

    let moved = layer.clone().to_device(&device); // as `fork` onto another device
    let _ = moved.forward(x);
    assert_eq!(
        values(sn(&layer).u.value()),
        u1,
        "to_device gives the copy its own vectors"
    );
}

#[test]
fn optimiser_trains_weight_and_gamma_but_not_the_vectors() {
    let device = device().autodiff();
    device.seed(8);
    let config = SnConv2dConfig::new([2, 3], [3, 3]).with_sn(Some(
        SpectralNormConfig::new()
            .with_mode(SigmaMode::Bidirectional)
            .with_learnable_gamma(true),
    ));
    let mut layer = config.init(&device);
    let mut optim = AdamConfig::new().init();
    let x = Tensor::<4>::ones([2, 2, 5, 5], &device);
    let loss = layer.forward(x).sum();
    let (u, u2) = (
        values(sn(&layer).u.value()),
        values(sn(&layer).u2.as_ref().unwrap().value()),
    );
    let gamma = values(sn(&layer).gamma.as_ref().unwrap().val());
    let weight = values(layer.weight.val());
    let grads = GradientsParams::from_grads(loss.backward(), &layer);
    assert_eq!(
        grads.len(),
        3,
        "weight, bias, gamma get gradients; u, v, u2, v2 do not"
    );
    layer = optim.step(1e-2, layer, grads);
    assert_eq!(values(sn(&layer).u.value()), u);
    assert_eq!(values(sn(&layer).u2.as_ref().unwrap().value()), u2);
    assert_ne!(values(sn(&layer).gamma.as_ref().unwrap().val()), gamma);
    assert_ne!(values(layer.weight.val()), weight);
}

#[test]
fn records_round_trip_vectors_and_gamma_exactly() {
    let device = device().autodiff();
    device.seed(9);
    let config = SpectralNormConfig::new()
        .with_mode(SigmaMode::Bidirectional)
        .with_learnable_gamma(true);
    let layer = SnConv2dConfig::new([2, 3], [3, 3])
        .with_sn(Some(config.clone()))
        .init(&device);
    let x = Tensor::<4>::ones([1, 2, 4, 4], &device);
    for _ in 0..3 {
        let _ = layer.forward(x.clone()); // the last update must be in the record
    }
    let state = |l: &SnConv2d| {
        let sn = sn(l);
        [
            values(sn.u.value()),
            values(sn.v.value()),
            values(sn.u2.as_ref().unwrap().value()),
            values(sn.v2.as_ref().unwrap().value()),
            values(sn.gamma.as_ref().unwrap().val()),
            values(l.weight.val()),
        ]
    };
    let expected = state(&layer);

    let fresh = || {
        SnConv2dConfig::new([2, 3], [3, 3])
            .with_sn(Some(config.clone()))
            .init(&device)
    };
    let loaded = fresh().load_record(layer.clone().into_record());
    assert_eq!(state(&loaded), expected, "in-memory record");

    let path = std::env::temp_dir().join(format!("sngan-spectral-{}.bpk", std::process::id()));
    layer.clone().save_file(&path).expect("record saves");
    let loaded = fresh().load_file(&path);
    // Burn reads a loaded file's tensors lazily, so the file must outlive the first read.
    assert_eq!(state(&loaded), expected, "burnpack file");
    std::fs::remove_file(&path).ok();
}

fn sn<L: SpectralLayer>(layer: &L) -> &SpectralNorm {
    layer.spectral_norm().expect("layer is normalised")
}

#[test]
fn plain_layers_have_no_state_and_keep_torch_keys() {
    let conv = SnConv2dConfig::new([2, 3], [3, 3])
        .with_sn(None)
        .init(&device());
    assert!(conv.sigma().is_none());
    let x = random([1, 2, 5, 5]);
    let expected = burn::tensor::module::conv2d(
        x.clone(),
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        burn::tensor::ops::ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
    );
    assert_eq!(values(conv.forward(x)), values(expected));
    assert_eq!(conv.num_params(), 2 * 3 * 9 + 3);
}
