//! Parity of sngan-spectral with `torch.nn.utils.spectral_norm`, from the committed
//! fixtures/spectral/cases.json (generator: fixtures/spectral/export.py).

use std::collections::HashMap;

use serde::Deserialize;
use sngan::burn::module::Param;
use sngan::burn::prelude::*;
use sngan::burn::tensor::{Gradients, TensorData};
use sngan::spectral::{
    SnConv2d, SnConv2dConfig, SnConvTranspose2d, SnConvTranspose2dConfig, SnEmbedding,
    SnEmbeddingConfig, SnLinear, SnLinearConfig, SpectralLayer, SpectralNorm, SpectralNormConfig,
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

/// What every layer kind must do like torch: a training step of two forwards (D(real), D(fake))
/// with u, v checked after each, one backward whose gradients `grads` reads off the layer, and
/// an eval forward of a copy taken before the step, which leaves its u bit-identical.
/// `forward(layer, x_key, device)` runs the layer on input `x_key` and flattens to `[batch, rest]`.
fn check_layer<L, F, G>(case: &Case, layer: L, forward: F, grads: G)
where
    L: SpectralLayer + Module,
    F: Fn(&L, &str, &Device) -> Tensor<2>,
    G: Fn(&L, &Gradients) -> Vec<(&'static str, Tensor<1>)>,
{
    let device = Device::flex().autodiff();
    case.load_vectors(sn(&layer), &device);
    let eval = layer.valid();
    let mut loss: Option<Tensor<1>> = None;
    for i in 1..=2 {
        let out = forward(&layer, &format!("x{i}"), &device);
        case.expect(&format!("out{i}"), out.clone());
        case.expect(&format!("u{i}"), sn(&layer).u.value());
        case.expect(&format!("v{i}"), sn(&layer).v.value());
        let r = case.flat(&format!("r{i}"), &device).reshape(out.dims());
        let term = (out * r).sum();
        loss = Some(loss.map_or(term.clone(), |l| l + term));
    }
    let backward = loss.expect("two forwards ran").backward();
    for (name, grad) in grads(&layer, &backward) {
        case.expect(name, grad);
    }
    let u_before = values(sn(&eval).u.value());
    case.expect("out_eval", forward(&eval, "x1", &device.clone().inner()));
    assert_eq!(
        values(sn(&eval).u.value()),
        u_before,
        "{}: eval must leave u bit-identical",
        case.name
    );
}

/// The gradient of `param`, flattened.
fn grad<const D: usize>(param: &Param<Tensor<D>>, grads: &Gradients) -> Tensor<1> {
    param
        .val()
        .grad(grads)
        .expect("the parameter gets a gradient")
        .reshape([-1])
}

/// Flattens any rank to `[batch, rest]`.
fn flat<const D: usize>(t: Tensor<D>) -> Tensor<2> {
    let dims = t.dims();
    t.reshape([dims[0] as i32, -1])
}

fn device() -> Device {
    Device::flex().autodiff()
}

#[test]
fn conv2d_matches_torch() {
    for name in ["conv2d", "conv2d_stride2_3iter_eps1e-6"] {
        let case = case(name);
        let mut layer = SnConv2dConfig::new(case.channels, case.kernel_size)
            .with_stride(case.stride)
            .with_padding(case.padding)
            .with_bias(case.has("bias"))
            .with_sn(Some(case.sn_config()))
            .init(&device());
        layer.weight = param(&case, "weight", &device());
        layer.bias = case.has("bias").then(|| param(&case, "bias", &device()));
        let forward = |l: &SnConv2d, x: &str, d: &Device| flat(l.forward(case.float::<4>(x, d)));
        check_layer(&case, layer, forward, |l, g| {
            let mut out = vec![("grad_weight", grad(&l.weight, g))];
            out.extend(l.bias.as_ref().map(|b| ("grad_bias", grad(b, g))));
            out
        });
    }
}

#[test]
fn conv2d_normalised_weight_matches_torch() {
    let case = case("conv2d");
    let mut layer = SnConv2dConfig::new(case.channels, case.kernel_size)
        .with_padding(case.padding)
        .init(&device());
    layer.weight = param(&case, "weight", &device());
    case.load_vectors(sn(&layer), &device());
    for i in 1..=2 {
        let sigma = layer.sigma_parts(true).unwrap().divisor();
        let w_sn = sn(&layer).normalize_weight(layer.weight.val(), sigma, None);
        case.expect(&format!("w_sn{i}"), w_sn);
    }
}

#[test]
fn conv_transpose2d_matches_torch() {
    let case = case("conv_transpose2d");
    let mut layer = SnConvTranspose2dConfig::new(case.channels, case.kernel_size)
        .with_stride(case.stride)
        .with_padding(case.padding)
        .with_sn(Some(case.sn_config()))
        .init(&device());
    layer.weight = param(&case, "weight", &device());
    layer.bias = Some(param(&case, "bias", &device()));
    let forward =
        |l: &SnConvTranspose2d, x: &str, d: &Device| flat(l.forward(case.float::<4>(x, d)));
    check_layer(&case, layer, forward, |l, g| {
        vec![
            ("grad_weight", grad(&l.weight, g)),
            ("grad_bias", grad(l.bias.as_ref().unwrap(), g)),
        ]
    });
}

#[test]
fn linear_matches_torch() {
    let case = case("linear");
    let mut layer = SnLinearConfig::new(case.d_input, case.d_output)
        .with_sn(Some(case.sn_config()))
        .init(&device());
    layer.weight = param(&case, "weight", &device());
    layer.bias = Some(param(&case, "bias", &device()));
    let forward = |l: &SnLinear, x: &str, d: &Device| l.forward(case.float::<2>(x, d));
    check_layer(&case, layer, forward, |l, g| {
        vec![
            ("grad_weight", grad(&l.weight, g)),
            ("grad_bias", grad(l.bias.as_ref().unwrap(), g)),
        ]
    });
}

#[test]
fn embedding_matches_torch() {
    let case = case("embedding");
    let mut layer = SnEmbeddingConfig::new(case.n_embedding, case.d_model)
        .with_sn(Some(case.sn_config()))
        .init(&device());
    layer.weight = param(&case, "weight", &device());
    let forward = |l: &SnEmbedding, x: &str, d: &Device| l.forward(case.int(x, d));
    check_layer(&case, layer, forward, |l, g| {
        vec![("grad_weight", grad(&l.weight, g))]
    });
}

/// The README's "Spectral normalisation in a few lines", kept compiling and true.
#[test]
fn readme_snippet_runs() -> Result<(), Box<dyn std::error::Error>> {
    let device = sngan::device("flex")?.autodiff();
    let conv = SnConv2dConfig::new([3, 64], [3, 3])
        .with_padding([1, 1])
        .with_sn(Some(SpectralNormConfig::new().with_eps(1e-6))) // StudioGAN's eps; None = plain conv
        .init(&device);
    let u0 = values(sn(&conv).u.value());
    let y = conv.forward(Tensor::zeros([8, 3, 32, 32], &device)); // training forward: u, v advance
    assert_eq!(y.dims(), [8, 64, 32, 32]);
    assert_ne!(values(sn(&conv).u.value()), u0);
    assert!(conv.sigma().expect("normalised").value() > 0.0);
    let eval = conv.valid(); // eval: u, v stay put
    let u1 = values(sn(&eval).u.value());
    let _ = eval.forward(Tensor::zeros([1, 3, 32, 32], &device.clone().inner()));
    assert_eq!(values(sn(&eval).u.value()), u1);
    Ok(())
}
