//! Parity of sngan-models blocks with PyTorch modules written to StudioGAN's semantics, from
//! fixtures/models/cases.json (generator: fixtures/models/export.py).

use std::collections::HashMap;

use serde::Deserialize;
use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::models::assign_tensors;
use sngan::models::blocks::attention::SelfAttentionConfig;
use sngan::models::blocks::batch_norm::{CondBatchNormConfig, Condition, Conditioning};
use sngan::models::blocks::resblock::{GenBlockConfig, HiddenChannels};
use sngan::models::named_tensors;
use sngan::models::resnet::ResNetDiscriminatorConfig;

use crate::{assert_close, values};

#[derive(Deserialize)]
struct Stored {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Stored {
    fn float(&self) -> TensorData {
        TensorData::new(
            self.data.iter().map(|&x| x as f32).collect::<Vec<_>>(),
            self.shape.clone(),
        )
    }

    fn int(&self) -> TensorData {
        TensorData::new(
            self.data.iter().map(|&x| x as i64).collect::<Vec<_>>(),
            self.shape.clone(),
        )
    }

    fn values(&self) -> Vec<f32> {
        self.data.iter().map(|&x| x as f32).collect()
    }
}

#[derive(Deserialize)]
struct Case {
    name: String,
    state: HashMap<String, Stored>,
    inputs: Vec<Stored>,
    output: Stored,
    state_after: HashMap<String, Stored>,
}

fn case(name: &str) -> Case {
    #[derive(Deserialize)]
    struct Fixtures {
        cases: Vec<Case>,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/models/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("model fixtures should be committed");
    let fixtures: Fixtures = serde_json::from_str(&text).expect("model fixtures should parse");
    fixtures
        .cases
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Loads the case's initial state into `module`; every stored tensor must find its place.
fn load<M: Module>(case: &Case, module: M) -> M {
    let tensors = case
        .state
        .iter()
        .map(|(k, v)| (k.clone(), v.float()))
        .collect();
    let (module, unused) =
        assign_tensors(module, &tensors).expect("fixture shapes match the module");
    assert!(
        unused.is_empty(),
        "{}: fixture tensors with no place in the module: {unused:?}",
        case.name
    );
    module
}

/// The output and every piece of state the forward left behind match torch.
fn check<M: Module>(case: &Case, module: &M, output: Tensor<4>) {
    assert_close(
        &format!("{} output", case.name),
        &values(output),
        &case.output.values(),
        1e-5,
    );
    let after: HashMap<String, Vec<f32>> = named_tensors(module)
        .into_iter()
        .map(|t| (t.path, values(t.matrix)))
        .collect();
    for (path, expected) in &case.state_after {
        let actual = after
            .get(path)
            .unwrap_or_else(|| panic!("{}: no tensor {path}", case.name));
        assert_close(
            &format!("{} {path} after the forward", case.name),
            actual,
            &expected.values(),
            1e-5,
        );
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

#[test]
fn gen_block_with_class_conditional_bn_matches_torch() {
    let case = case("gen_block_class_cbn");
    let device = device();
    let block = GenBlockConfig::new([4, 8])
        .with_conditioning(Some(Conditioning::ClassEmbedding(3)))
        .with_bn_eps(1e-4)
        .init(&device);
    let block = load(&case, block);
    let x = Tensor::<4>::from_data(case.inputs[0].float(), &device);
    let y = Tensor::<1, Int>::from_data(case.inputs[1].int(), &device);
    let out = block.forward(x, Some(&Condition::Class(y)));
    check(&case, &block, out);
}

#[test]
fn vector_conditional_bn_matches_torch() {
    let case = case("vector_cbn");
    let device = device();
    let cbn = CondBatchNormConfig::new(4, Conditioning::Vector(5))
        .with_eps(1e-4)
        .init(&device);
    let cbn = load(&case, cbn);
    let x = Tensor::<4>::from_data(case.inputs[0].float(), &device);
    let v = Tensor::<2>::from_data(case.inputs[1].float(), &device);
    let out = cbn.forward(x, &Condition::Vector(v));
    check(&case, &cbn, out);
}

#[test]
fn projection_discriminator_matches_torch_for_both_hidden_widths() {
    for (name, hidden) in [
        ("projection_d_hidden_out", HiddenChannels::Output),
        ("projection_d_hidden_in", HiddenChannels::Input),
    ] {
        let case = case(name);
        let device = device();
        let d = ResNetDiscriminatorConfig::new(vec![3, 8, 16], vec![true, true])
            .with_hidden(hidden)
            .with_n_classes(Some(3))
            .init(&device);
        let d = load(&case, d);
        let x = Tensor::<4>::from_data(case.inputs[0].float(), &device);
        let y = Tensor::<1, Int>::from_data(case.inputs[1].int(), &device);
        let out = d.forward(x, Some(y)).reshape([2, 1, 1, 1]);
        check(&case, &d, out);
    }
}

#[test]
fn self_attention_matches_torch() {
    let case = case("self_attention");
    let device = device();
    let sn = sngan::spectral::SpectralNormConfig::new().with_eps(1e-6);
    let attention = SelfAttentionConfig::new(16).with_sn(Some(sn)).init(&device);
    let attention = load(&case, attention);
    let x = Tensor::<4>::from_data(case.inputs[0].float(), &device);
    let out = attention.forward(x);
    check(&case, &attention, out);
}
