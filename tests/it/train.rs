//! The WGAN-GP penalty of sngan-train against PyTorch's double backward, from
//! fixtures/train/cases.json (generator: fixtures/train/export.py).

use std::collections::HashMap;

use serde::Deserialize;
use sngan::burn::optim::GradientsParams;
use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::models::std_cnn::StdCnnDiscriminatorConfig;
use sngan::models::{DiscriminatorConfig, assign_tensors};
use sngan::train::GradientPenaltyConfig;

use crate::{assert_close, grads_by_path};

#[derive(Deserialize)]
struct Stored {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Stored {
    fn tensor<const D: usize>(&self, device: &Device) -> Tensor<D> {
        Tensor::from_data(self.data(), device)
    }

    fn data(&self) -> TensorData {
        let values: Vec<f32> = self.data.iter().map(|&x| x as f32).collect();
        TensorData::new(values, self.shape.clone())
    }

    fn values(&self) -> Vec<f32> {
        self.data.iter().map(|&x| x as f32).collect()
    }
}

#[derive(Deserialize)]
struct Case {
    state: HashMap<String, Stored>,
    real: Stored,
    fake: Stored,
    alpha: Stored,
    slopes: Stored,
    penalty: f64,
    grads: HashMap<String, Stored>,
}

#[test]
fn gradient_penalty_matches_torch_double_backward() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/train/cases.json"
    );
    #[derive(Deserialize)]
    struct Fixtures {
        gradient_penalty: Case,
    }
    let text = std::fs::read_to_string(path).expect("train fixtures should be committed");
    let case = serde_json::from_str::<Fixtures>(&text)
        .expect("train fixtures should parse")
        .gradient_penalty;

    let device = Device::flex().autodiff();
    let config = StdCnnDiscriminatorConfig::new(16)
        .with_width(2)
        .with_shared_gamma(true);
    let d = DiscriminatorConfig::StdCnn(config).init(&device);
    let state = case
        .state
        .iter()
        .map(|(k, v)| (k.clone(), v.data()))
        .collect();
    let (d, unused) = assign_tensors(d, &state).expect("fixture shapes match the discriminator");
    assert!(
        unused.is_empty(),
        "fixture tensors without a place: {unused:?}"
    );

    let penalty = GradientPenaltyConfig::new()
        .penalty(
            &d,
            case.real.tensor(&device),
            case.fake.tensor(&device),
            case.alpha.tensor(&device),
            None,
        )
        .expect("the standard CNN is piecewise linear");
    assert_close("slopes", &penalty.slopes, &case.slopes.values(), 1e-4);
    assert_close("penalty", &[penalty.value], &[case.penalty as f32], 1e-4);

    let grads = GradientsParams::from_grads(penalty.surrogate.backward(), &d);
    let by_path = grads_by_path(&d, &grads);
    // Biases move D but not its input gradient: torch's gradients there are exact zeros, ours
    // are rounding noise, judged against the largest gradient.
    let largest = case
        .grads
        .values()
        .flat_map(|g| g.values())
        .fold(0f32, |m, g| m.max(g.abs()));
    for (path, expected) in &case.grads {
        let expected = expected.values();
        let actual = by_path.get(path).cloned().unwrap_or_default();
        if expected.iter().all(|&g| g == 0.0) {
            let noise = actual.iter().fold(0f32, |m, g| m.max(g.abs()));
            assert!(
                noise <= 1e-6 * largest,
                "dP/d {path}: {noise:e} where torch has 0"
            );
        } else {
            assert_close(&format!("dP/d {path}"), &actual, &expected, 1e-5);
        }
    }
}
