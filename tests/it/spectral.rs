//! Parity of sngan-spectral with `torch.nn.utils.spectral_norm`, from the committed
//! fixtures/spectral/cases.json (generator: fixtures/spectral/export.py).

use std::collections::HashMap;

use serde::Deserialize;
use sngan::burn::module::Param;
use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::spectral::{
    SnConv2dConfig, SnConvTranspose2dConfig, SnEmbeddingConfig, SnLinearConfig, SpectralLayer,
    SpectralNorm, SpectralNormConfig,
};

use crate::{assert_close, values};

const TOL: f32 = 1e-5;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    n_power_iterations: usize,
    eps: f64,
    #[serde(default)]
    channels: [usize; 2],
    #[serde(default)]
    kernel_size: [usize; 2],
    #[serde(default)]
    stride: [usize; 2],
    #[serde(default)]
    padding: [usize; 2],
    #[serde(default)]
    d_input: usize,
    #[serde(default)]
    d_output: usize,
    #[serde(default)]
    n_embedding: usize,
    #[serde(default)]
    d_model: usize,
    tensors: HashMap<String, Stored>,
}

#[derive(Deserialize)]
struct Stored {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Case {
    fn get(&self, key: &str) -> &Stored {
        self.tensors
            .get(key)
            .unwrap_or_else(|| panic!("fixture {} lacks tensor {key}", self.name))
    }

    fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    fn float<const D: usize>(&self, key: &str, device: &Device) -> Tensor<D> {
        let s = self.get(key);
        let data: Vec<f32> = s.data.iter().map(|&x| x as f32).collect();
        Tensor::from_data(TensorData::new(data, s.shape.clone()), device)
    }

    fn flat(&self, key: &str, device: &Device) -> Tensor<1> {
        let s = self.get(key);
        let data: Vec<f32> = s.data.iter().map(|&x| x as f32).collect();
        let len = data.len();
        Tensor::from_data(TensorData::new(data, [len]), device)
    }

    fn int(&self, key: &str, device: &Device) -> Tensor<1, Int> {
        let s = self.get(key);
        let data: Vec<i64> = s.data.iter().map(|&x| x as i64).collect();
        Tensor::from_data(TensorData::new(data, s.shape.clone()), device)
    }

    fn expect<const D: usize>(&self, what: &str, actual: Tensor<D>) {
        let expected: Vec<f32> = self.get(what).data.iter().map(|&x| x as f32).collect();
        assert_close(
            &format!("{} {what}", self.name),
            &values(actual),
            &expected,
            TOL,
        );
    }

    fn sn_config(&self) -> SpectralNormConfig {
        SpectralNormConfig::new()
            .with_n_power_iterations(self.n_power_iterations)
            .with_eps(self.eps)
    }

    /// Loads torch's u0, v0 into the layer's state.
    fn load_vectors(&self, sn: &SpectralNorm, device: &Device) {
        sn.u.set(self.float::<1>("u0", device));
        sn.v.set(self.float::<1>("v0", device));
    }
}

fn sn<L: SpectralLayer>(layer: &L) -> &SpectralNorm {
    layer.spectral_norm().expect("layer is normalised")
}

fn fixtures() -> Fixtures {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/spectral/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("spectral fixtures should be committed");
    serde_json::from_str(&text).expect("spectral fixtures should parse")
}

fn case(name: &str) -> Case {
    fixtures()
        .cases
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no fixture case {name}"))
}

fn param<const D: usize>(case: &Case, key: &str, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(case.float(key, device))
}

/// The checks every layer kind shares: a training step with two forwards, one backward, then
/// an eval forward from the initial state. `forward(x_key)` runs the layer on input `x_key`.
fn check_training_step<F, G>(case: &Case, device: &Device, forward: F, after: G)
where
    F: Fn(&str) -> Tensor<2>,
    G: FnOnce(Tensor<1>),
{
    let mut loss = None;
    for i in 1..=2 {
        let out = forward(&format!("x{i}"));
        case.expect(&format!("out{i}"), out.clone());
        let r = case.flat(&format!("r{i}"), device).reshape(out.dims());
        let term = (out * r).sum();
        loss = Some(match loss {
            Some(l) => l + term,
            None => term,
        });
    }
    after(loss.expect("two forwards ran"));
}

/// Flattens any rank to `[batch, rest]` so the generic check can multiply by `r`.
fn flat<const D: usize>(t: Tensor<D>) -> Tensor<2> {
    let dims = t.dims();
    t.reshape([dims[0] as i32, -1])
}

#[test]
fn conv2d_matches_torch() {
    for name in ["conv2d", "conv2d_stride2_3iter_eps1e-6"] {
        let case = case(name);
        let device = Device::flex().autodiff();
        let mut layer = SnConv2dConfig::new(case.channels, case.kernel_size)
            .with_stride(case.stride)
            .with_padding(case.padding)
            .with_bias(case.has("bias"))
            .with_sn(Some(case.sn_config()))
            .init(&device);
        layer.weight = param(&case, "weight", &device);
        layer.bias = case.has("bias").then(|| param(&case, "bias", &device));
        case.load_vectors(sn(&layer), &device);
        let eval = layer.valid();

        let step = |x: &str| {
            let out = flat(layer.forward(case.float::<4>(x, &device)));
            // After each forward the stored vectors are torch's after the same forward.
            let i = &x[1..];
            case.expect(&format!("u{i}"), sn(&layer).u.value());
            case.expect(&format!("v{i}"), sn(&layer).v.value());
            out
        };
        check_training_step(&case, &device, step, |loss| {
            let grads = loss.backward();
            case.expect(
                "grad_weight",
                layer.weight.val().grad(&grads).expect("weight grad"),
            );
            if let Some(bias) = &layer.bias {
                case.expect("grad_bias", bias.val().grad(&grads).expect("bias grad"));
            }
        });

        let u_before = values(sn(&eval).u.value());
        case.expect(
            "out_eval",
            eval.forward(case.float::<4>("x1", &device.clone().inner())),
        );
        assert_eq!(
            values(sn(&eval).u.value()),
            u_before,
            "{name}: eval must leave u bit-identical"
        );
    }
}

#[test]
fn conv2d_normalised_weight_matches_torch() {
    let case = case("conv2d");
    let device = Device::flex().autodiff();
    let mut layer = SnConv2dConfig::new(case.channels, case.kernel_size)
        .with_padding(case.padding)
        .init(&device);
    layer.weight = param(&case, "weight", &device);
    case.load_vectors(sn(&layer), &device);
    for i in 1..=2 {
        let sigma = layer.sigma_parts(true).unwrap().divisor();
        let w_sn = sn(&layer).normalize_weight(layer.weight.val(), sigma, None);
        case.expect(&format!("w_sn{i}"), w_sn);
    }
}

#[test]
fn conv_transpose2d_matches_torch() {
    let case = case("conv_transpose2d");
    let device = Device::flex().autodiff();
    let mut layer = SnConvTranspose2dConfig::new(case.channels, case.kernel_size)
        .with_stride(case.stride)
        .with_padding(case.padding)
        .with_sn(Some(case.sn_config()))
        .init(&device);
    layer.weight = param(&case, "weight", &device);
    layer.bias = Some(param(&case, "bias", &device));
    case.load_vectors(sn(&layer), &device);
    let eval = layer.valid();

    let step = |x: &str| {
        let out = flat(layer.forward(case.float::<4>(x, &device)));
        let i = &x[1..];
        case.expect(&format!("u{i}"), sn(&layer).u.value());
        case.expect(&format!("v{i}"), sn(&layer).v.value());
        out
    };
    check_training_step(&case, &device, step, |loss| {
        let grads = loss.backward();
        case.expect(
            "grad_weight",
            layer.weight.val().grad(&grads).expect("weight grad"),
        );
        case.expect(
            "grad_bias",
            layer
                .bias
                .as_ref()
                .unwrap()
                .val()
                .grad(&grads)
                .expect("bias grad"),
        );
    });
    case.expect(
        "out_eval",
        eval.forward(case.float::<4>("x1", &device.clone().inner())),
    );
}

#[test]
fn linear_matches_torch() {
    let case = case("linear");
    let device = Device::flex().autodiff();
    let mut layer = SnLinearConfig::new(case.d_input, case.d_output)
        .with_sn(Some(case.sn_config()))
        .init(&device);
    layer.weight = param(&case, "weight", &device);
    layer.bias = Some(param(&case, "bias", &device));
    case.load_vectors(sn(&layer), &device);
    let eval = layer.valid();

    let step = |x: &str| {
        let out = layer.forward(case.float::<2>(x, &device));
        let i = &x[1..];
        case.expect(&format!("u{i}"), sn(&layer).u.value());
        case.expect(&format!("v{i}"), sn(&layer).v.value());
        out
    };
    check_training_step(&case, &device, step, |loss| {
        let grads = loss.backward();
        case.expect(
            "grad_weight",
            layer.weight.val().grad(&grads).expect("weight grad"),
        );
        case.expect(
            "grad_bias",
            layer
                .bias
                .as_ref()
                .unwrap()
                .val()
                .grad(&grads)
                .expect("bias grad"),
        );
    });
    case.expect(
        "out_eval",
        eval.forward(case.float::<2>("x1", &device.clone().inner())),
    );
}

#[test]
fn embedding_matches_torch() {
    let case = case("embedding");
    let device = Device::flex().autodiff();
    let mut layer = SnEmbeddingConfig::new(case.n_embedding, case.d_model)
        .with_sn(Some(case.sn_config()))
        .init(&device);
    layer.weight = param(&case, "weight", &device);
    case.load_vectors(sn(&layer), &device);
    let eval = layer.valid();

    let step = |x: &str| {
        let out = layer.forward(case.int(x, &device));
        let i = &x[1..];
        case.expect(&format!("u{i}"), sn(&layer).u.value());
        case.expect(&format!("v{i}"), sn(&layer).v.value());
        out
    };
    check_training_step(&case, &device, step, |loss| {
        let grads = loss.backward();
        case.expect(
            "grad_weight",
            layer.weight.val().grad(&grads).expect("weight grad"),
        );
    });
    case.expect(
        "out_eval",
        eval.forward(case.int("x1", &device.clone().inner())),
    );
}
