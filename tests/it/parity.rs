//! The GPU path against flex: the same module state and inputs on flex (the CPU backend every
//! other test runs on) and on a GPU backend give the same outputs, gradients and buffer updates.
//! Cases: spectrally normalised conv / linear / embedding, BN in training and eval, class-
//! conditional BN, self-attention, two whole `Gan::iteration`s of the quick-start (D step, G
//! step, Adam, EMA), a checkpoint written on one backend and resumed on the other, the FID
//! Inception forward, and data parallel over the one device against a plain run.
//!
//! Every case starts from one state: modules are initialised on flex and their record is loaded
//! into the same module built on the device under test (each backend's own RNG would give other
//! weights). Devices under test: `SNGAN_PARITY_DEVICES` (comma-separated `--device` strings, e.g.
//! `cuda,wgpu`), else every GPU backend built in; `flex` is allowed and checks the harness (the
//! CPU dry run of `bench/gpu/check.sh`). Every comparison prints one line (nextest shows this
//! module's output, `.config/nextest.toml`).
//!
//! Tolerances, fp32 on both sides, as `max |device - flex|` over the largest `|flex|` of the
//! tensor:
//! - [`TIGHT`] for outputs, gradients and buffers of one layer: each value is a sum of at most a
//!   few hundred products, and two backends that add them in different orders (tiled matmul and
//!   conv kernels against flex's) differ by a few units of 2^-24 times the number of terms.
//! - [`DEEP`] for networks 8-95 layers deep (the Inception, the GAN before its first optimiser
//!   step), where those differences grow by the conditioning of every layer they pass through.
//! - After Adam steps, [`DEEP`] or [`SPREAD`] times flex's own spread, whichever is larger. Adam's
//!   first steps move each weight by about `lr * g / (|g| + eps)`, `± lr` for any gradient far
//!   above `eps`: a gradient that is rounding noise (a bias followed by BN has an exact gradient
//!   of 0; a D feature that real and fake batches light equally) moves its weight by `lr` in
//!   whichever direction the noise falls, on any two correct fp32 implementations. Everything
//!   computed from those weights (later losses and logits, SN vectors, BN statistics, the EMA)
//!   inherits that. The spread measures it: flex runs the same iterations three more times on
//!   real batches moved by a few parts in a million (a few ulps), and each value's largest
//!   distance from the plain flex run is how far rounding alone carries it. One nudged run is not
//!   enough: a bias with a handful of channels keeps all its noise signs under one nudge often
//!   enough to fail CI now and then (G's `deconvs.2.bias`).

use sngan::burn::module::{Module, Param};
use sngan::burn::optim::GradientsParams;
use sngan::burn::prelude::*;
use sngan::burn::tensor::TensorData;
use sngan::data::ImageBatch;
use sngan::metrics::inception::hash_init;
use sngan::models::blocks::attention::SelfAttentionConfig;
use sngan::models::blocks::batch_norm::{
    BatchNormConfig, CondBatchNormConfig, Condition, Conditioning,
};
use sngan::models::named_tensors;
use sngan::models::std_cnn::{ClassInput, StdCnnDiscriminatorConfig, StdCnnGeneratorConfig};
use sngan::models::{DiscriminatorConfig, GeneratorConfig};
use sngan::spectral::{SnConv2dConfig, SnEmbeddingConfig, SnLinearConfig, SpectralNormConfig};
use sngan::train::{
    Checkpoint, EmaConfig, Gan, RunOptions, StepStats, TrainConfig, experiments, save_checkpoint,
    train,
};

use crate::{grads_by_path, values};

/// One layer (see the module docs).
const TIGHT: f32 = 1e-5;
/// A deep network.
const DEEP: f32 = 1e-4;
/// Multiple of flex's own spread allowed after optimiser steps.
const SPREAD: f32 = 10.0;
/// The relative moves of the real batches in flex's nudged runs: one run can leave a noise-driven
/// value where flex put it by chance (each of a few rounding-noise gradients keeping its sign),
/// so the spread is the largest over three.
const NUDGES: [f32; 3] = [1e-6, -1e-6, 3e-6];

/// The devices under test, with their names.
fn devices() -> Vec<(String, Device)> {
    let specs: Vec<String> = match std::env::var("SNGAN_PARITY_DEVICES") {
        Ok(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
        Err(_) => sngan::compiled_backends()
            .into_iter()
            .filter(|b| matches!(b, sngan::Backend::Wgpu | sngan::Backend::Cuda))
            .map(|b| b.name().to_string())
            .collect(),
    };
    specs
        .into_iter()
        .map(|spec| {
            let device =
                sngan::device(&spec).unwrap_or_else(|e| panic!("SNGAN_PARITY_DEVICES: {e}"));
            (spec, device)
        })
        .collect()
}

fn flex() -> Device {
    Device::flex()
}

/// Named values one side of a case produced, in the order it produced them.
#[derive(Default)]
struct Trace(Vec<(String, Vec<f32>)>);

impl Trace {
    fn tensor<const D: usize>(&mut self, name: &str, t: Tensor<D>) {
        self.0.push((name.to_string(), values(t)));
    }

    fn scalar(&mut self, name: &str, x: f32) {
        self.0.push((name.to_string(), vec![x]));
    }

    /// Every tensor of `module` (parameters and buffers) under `prefix`.
    fn state<M: Module>(&mut self, prefix: &str, module: &M) {
        for t in named_tensors(module) {
            self.0
                .push((format!("{prefix}{}", t.path), values(t.matrix)));
        }
    }

    /// The gradient of `loss` for every parameter of `module`.
    fn grads<M: Module>(&mut self, module: &M, loss: Tensor<1>) {
        let grads = GradientsParams::from_grads(loss.backward(), module);
        let mut by_path: Vec<_> = grads_by_path(module, &grads).into_iter().collect();
        by_path.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, g) in by_path {
            self.0.push((format!("grad {path}"), g));
        }
    }

    fn stats(&mut self, prefix: &str, s: StepStats) {
        self.scalar(&format!("{prefix}loss_d"), s.loss_d);
        self.scalar(&format!("{prefix}loss_g"), s.loss_g);
        self.scalar(&format!("{prefix}d_real"), s.d_real);
        self.scalar(&format!("{prefix}d_fake"), s.d_fake);
    }
}

/// Compares the device's trace with flex's, printing one line per value; panics listing every
/// value out of tolerance: `relative` times the value's scale, or [`SPREAD`] times its largest
/// difference between flex and `spreads` (flex's nudged runs) when there are some.
fn compare(case: &str, device: &str, flex: &Trace, gpu: &Trace, relative: f32, spreads: &[Trace]) {
    let names = |t: &Trace| t.0.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(flex),
        names(gpu),
        "{case} on {device}: the two sides produced different values"
    );
    let max_diff =
        |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    let mut failures = Vec::new();
    for (i, ((name, expected), (_, actual))) in flex.0.iter().zip(&gpu.0).enumerate() {
        let scale = expected
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
            .max(f32::MIN_POSITIVE);
        let diff = max_diff(actual, expected);
        let (tol, note) = match spreads {
            [] => (relative * scale, String::new()),
            runs => {
                let own = runs
                    .iter()
                    .fold(0f32, |m, run| m.max(max_diff(&run.0[i].1, expected)));
                let tol = (relative * scale).max(SPREAD * own);
                (tol, format!(" or {SPREAD} x flex's spread {own:.2e}"))
            }
        };
        let ok =
            diff <= tol && actual.len() == expected.len() && actual.iter().all(|x| x.is_finite());
        eprintln!(
            "parity {case} [{device}] {name}: max|diff| {diff:.2e} = {:.2e} x scale {scale:.2e} (tol {relative:.0e}{note}) {}",
            diff / scale,
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            failures.push(name.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "{case} on {device}: out of tolerance: {failures:?}"
    );
}

/// Deterministic inputs in [-1, 1): the golden-ratio sequence, offset by `salt`.
fn input<const D: usize>(shape: [usize; D], salt: usize, device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i + 7919 * salt) as f64 * 0.618_033_988_75).fract() as f32 * 2.0 - 1.0)
        .collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn labels(n: usize, classes: usize, device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = (0..n).map(|i| ((i * 7 + 3) % classes) as i64).collect();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

/// `sum(out * w)` for a fixed `w`: a loss whose gradient reaches every output element.
fn weighted_sum<const D: usize>(out: Tensor<D>, salt: usize) -> Tensor<1> {
    let w = input(out.dims(), salt, &out.device());
    (out * w).sum()
}

/// Runs `body` on a module built by `init` on flex and on each device under test, both from
/// flex's initial state, and compares what the two recorded.
fn layer_case<M: Module>(
    case: &str,
    tolerance: f32,
    init: impl Fn(&Device) -> M,
    body: impl Fn(&M, &Device, &mut Trace),
) {
    let cpu = flex().autodiff();
    for (name, device) in devices() {
        let device = device.autodiff();
        let reference = init(&cpu);
        let twin = init(&device).load_record(reference.clone().into_record());
        let (mut a, mut b) = (Trace::default(), Trace::default());
        body(&reference, &cpu, &mut a);
        body(&twin, &device, &mut b);
        compare(case, &name, &a, &b, tolerance, &[]);
    }
}

#[test]
fn spectral_layers_match_flex() {
    let sn = || Some(SpectralNormConfig::new());
    // Two training forwards (u and v advance twice), then a backward through the second.
    layer_case(
        "sn_conv",
        TIGHT,
        |d| {
            SnConv2dConfig::new([3, 8], [3, 3])
                .with_padding([1, 1])
                .with_sn(sn())
                .init(d)
        },
        |conv, d, t| {
            let x = input([2, 3, 8, 8], 1, d);
            t.tensor("forward 1", conv.forward(x.clone()));
            let y = conv.forward(x);
            t.tensor("forward 2", y.clone());
            t.grads(conv, weighted_sum(y, 2));
            t.state("", conv);
        },
    );
    // Six outputs, and one as every discriminator's head: the backward of the `[1, n]` weight's
    // transpose once fed Burn's fused kernels a layout they misread (see `SnLinear::forward`).
    for (case, d_out) in [("sn_linear", 6), ("sn_linear_to_one", 1)] {
        layer_case(
            case,
            TIGHT,
            |d| SnLinearConfig::new(12, d_out).with_sn(sn()).init(d),
            |linear, d, t| {
                let x = input([2, 12], 3, d);
                t.tensor("forward 1", linear.forward(x.clone()));
                let y = linear.forward(x);
                t.tensor("forward 2", y.clone());
                t.grads(linear, weighted_sum(y, 4));
                t.state("", linear);
            },
        );
    }
    layer_case(
        "sn_embedding",
        TIGHT,
        |d| SnEmbeddingConfig::new(5, 8).with_sn(sn()).init(d),
        |embedding, d, t| {
            let y = labels(4, 5, d);
            t.tensor("forward 1", embedding.forward(y.clone()));
            let out = embedding.forward(y);
            t.tensor("forward 2", out.clone());
            t.grads(embedding, weighted_sum(out, 5));
            t.state("", embedding);
        },
    );
}

#[test]
fn batch_norm_matches_flex_in_training_and_eval() {
    layer_case(
        "batch_norm",
        TIGHT,
        |d| BatchNormConfig::new(4).init(d),
        |bn, d, t| {
            let x = input([2, 4, 4, 4], 6, d);
            let y = bn.forward(x.clone());
            t.tensor("train forward", y.clone());
            t.grads(bn, weighted_sum(y, 7));
            t.state("", bn);
            t.tensor("eval forward", bn.valid().forward(x.inner()));
        },
    );
    layer_case(
        "class_conditional_bn",
        TIGHT,
        |d| CondBatchNormConfig::new(4, Conditioning::ClassEmbedding(3)).init(d),
        |cbn, d, t| {
            let x = input([2, 4, 4, 4], 8, d);
            let y = cbn.forward(x.clone(), &Condition::Class(labels(2, 3, d)));
            t.tensor("train forward", y.clone());
            t.grads(cbn, weighted_sum(y, 9));
            t.state("", cbn);
            let y = labels(2, 3, &d.clone().inner());
            t.tensor(
                "eval forward",
                cbn.valid().forward(x.inner(), &Condition::Class(y)),
            );
        },
    );
}

#[test]
fn self_attention_matches_flex() {
    // DEEP, not TIGHT: the gradient of `sigma` is a sum over all 512 outputs whose terms
    // partly cancel, by an amount that depends on the (unseeded) initial weights. In one CI run
    // it came out at 4.3e-2 while the outputs reached 1.3, and the order of the reduction alone
    // moved it by 6.3e-7, 1.46e-5 of itself, on lavapipe; five reruns: 6e-8 to 1.2e-6 at
    // scales 0.12-1.4. Every other value stays below 2e-6 of its scale.
    layer_case(
        "self_attention",
        DEEP,
        |d| {
            let mut attention = SelfAttentionConfig::new(16)
                .with_sn(Some(SpectralNormConfig::new()))
                .init(d);
            // sigma starts at 0 (the block is then the identity); 0.5 lets the attention through.
            attention.sigma = Param::from_tensor(Tensor::full([1], 0.5, d));
            attention
        },
        |attention, d, t| {
            let x = input([2, 16, 4, 4], 10, d);
            let y = attention.forward(x);
            t.tensor("forward", y.clone());
            t.grads(attention, weighted_sum(y, 11));
            t.state("", attention);
        },
    );
}

/// The quick-start at the smallest size that keeps its layers: width 2, 16x16 images, batches
/// of 2 (every layer, loss and Adam as configured), with an EMA of G (0.99) so that its update
/// is checked too. G keeps class-conditional BN, every other conditional preset's class input
/// (the quick-start's one-hot input is a concatenation before the dense layer), and trains
/// without mode seeking: at width 2 the two images of a pair are nearly equal, the signs in
/// `|G(z_a) - G(z_b)|`'s gradient follow rounding, and Adam's first step turns that into +-lr
/// (wgpu's G weights ended 7.95e-4, twice the rate, from flex's after one step). The term is
/// checked on flex by `sngan-train`'s tests.
fn tiny_quickstart() -> TrainConfig {
    let mut config = experiments::mnist_quickstart()
        .with_ema(Some(EmaConfig::new(0.99, 0)))
        .with_mode_seeking(None);
    if let GeneratorConfig::StdCnn(g) = &config.generator {
        config.generator = GeneratorConfig::StdCnn(StdCnnGeneratorConfig {
            bottom: 2,
            ..g.clone()
                .with_width(2)
                .with_class_input(ClassInput::BatchNorm)
        });
    }
    if let DiscriminatorConfig::StdCnn(d) = &config.discriminator {
        config.discriminator = DiscriminatorConfig::StdCnn(StdCnnDiscriminatorConfig {
            image_size: 16,
            ..d.clone().with_width(2)
        });
    }
    config.batch_size = 2;
    config.g_batch_size = 2;
    config
}

/// A quick-start `Gan` on `device` holding `from`'s networks (or its own fresh ones).
fn gan_on(config: &TrainConfig, device: &Device, from: Option<&Gan>) -> Gan {
    let mut gan = Gan::new(config, &device.clone().autodiff());
    if let Some(from) = from {
        gan.g = gan.g.load_record(from.g.clone().into_record());
        gan.d = gan.d.load_record(from.d.clone().into_record());
        gan.ema = gan
            .ema
            .zip(from.ema.as_ref())
            .map(|(ema, src)| ema.load_record(src.clone().into_record()));
    }
    gan
}

/// One iteration on host-made real batches (the same on every device; scaled by `1 + nudge`);
/// records its numbers.
fn iterate(gan: &mut Gan, round: usize, nudge: f32, t: &mut Trace) {
    let device = gan.g.devices()[0].clone();
    let (c, s, b) = (
        gan.config().generator.image_channels(),
        gan.config().generator.image_size(),
        gan.config().batch_size,
    );
    let mut draws = 0;
    let stats = gan
        .iteration(|| {
            draws += 1;
            Ok(ImageBatch {
                images: input([b, c, s, s], 100 * round + draws, &device) * (1.0 + nudge),
                labels: labels(b, 10, &device),
            })
        })
        .expect("iteration");
    t.stats(&format!("iteration {round} "), stats);
}

/// Runs `rounds` from copies of one state: `flex` and `tested` on the real batches, one flex copy
/// from `on_flex` per nudge in [`NUDGES`] on nudged ones. Compares `tested` with `flex` within
/// flex's spread (see the module docs).
fn iterations_match(
    case: &str,
    device: &str,
    flex: Gan,
    on_flex: impl Fn() -> Gan,
    tested: Gan,
    rounds: std::ops::RangeInclusive<usize>,
) {
    let run = |mut gan: Gan, nudge: f32| {
        let mut t = Trace::default();
        for round in rounds.clone() {
            iterate(&mut gan, round, nudge, &mut t);
        }
        t.state("g ", &gan.g);
        t.state("d ", &gan.d);
        t.state(
            "ema ",
            gan.ema.as_ref().expect("the quick-start has an EMA"),
        );
        t
    };
    let spreads: Vec<Trace> = NUDGES.iter().map(|&n| run(on_flex(), n)).collect();
    let (flex, tested) = (run(flex, 0.0), run(tested, 0.0));
    compare(case, device, &flex, &tested, DEEP, &spreads);
}

#[test]
fn gan_iterations_match_flex() {
    let config = tiny_quickstart();
    for (name, device) in devices() {
        let start = gan_on(&config, &flex(), None);
        let on = |device: &Device| gan_on(&config, device, Some(&start));
        let (reference, tested) = (on(&flex()), on(&device));
        iterations_match(
            "gan_iterations",
            &name,
            reference,
            || on(&flex()),
            tested,
            1..=2,
        );
    }
}

#[test]
fn checkpoints_resume_across_backends() {
    let config = tiny_quickstart();
    for (name, device) in devices() {
        let dir =
            std::env::temp_dir().join(format!("sngan-parity-ckpt-{name}-{}", std::process::id()));
        let mut cpu = gan_on(&config, &flex(), None);
        let mut gpu = gan_on(&config, &device, Some(&cpu));
        let mut scratch = Trace::default();
        iterate(&mut cpu, 1, 0.0, &mut scratch);
        iterate(&mut gpu, 1, 0.0, &mut scratch);
        let written = |gan: &Gan, sub: &str| {
            save_checkpoint(gan, &dir.join(sub)).expect("checkpoint written")
        };
        let resume = |path: &std::path::Path, on: &Device| {
            let mut gan = gan_on(&config, on, None);
            Checkpoint::open(path)
                .and_then(|checkpoint| checkpoint.restore(&mut gan))
                .expect("checkpoint resumed");
            gan
        };
        // Written on the device, resumed on flex: flex's next iteration must be the device's.
        let path = written(&gpu, "device");
        let on_flex = || resume(&path, &flex());
        iterations_match(
            "checkpoint_from_device",
            &name,
            on_flex(),
            on_flex,
            gpu,
            2..=2,
        );
        // Written on flex, resumed on the device.
        let path = written(&cpu, "flex");
        let (on_flex, tested) = (|| resume(&path, &flex()), resume(&path, &device));
        iterations_match("checkpoint_from_flex", &name, cpu, on_flex, tested, 2..=2);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `--devices SPEC` with the one device SPEC trains as `--device SPEC` does: two G steps of the
/// narrowed quick-start from one seed, each run on its own, end with the same networks. On
/// `cuda` this is Burn's NCCL all-reduce over a single rank (parameters marked distributed, the
/// sum inside `backward()`); on `flex` the host path with no other replica (the harness check of
/// the CPU dry run). Skipped on `wgpu`, whose data parallel is the host path flex checks, to keep
/// lavapipe's kernel compilation out of CI's time.
#[test]
fn data_parallel_on_one_device_matches_the_plain_run() {
    let config = experiments::narrow(experiments::mnist_quickstart());
    for (name, device) in devices() {
        if name.starts_with("wgpu") {
            println!(
                "skipped data_parallel_one_device [{name}]: wgpu gathers on the host as flex does"
            );
            continue;
        }
        let run = |parallel: bool| {
            let dir = std::env::temp_dir().join(format!(
                "sngan-parity-dp-{name}-{parallel}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let (device, data_parallel) = match parallel {
                true => {
                    let (rank0, p) = sngan::data_parallel(&name).expect("one-device list");
                    (rank0, Some(p))
                }
                false => (device.clone().autodiff(), None),
            };
            let options = RunOptions {
                quiet: true,
                data_parallel,
                ..RunOptions::new(&dir)
            };
            let source = sngan::embedded_source(&config).expect("embedded MNIST");
            let summary = train(&config, source, &device, &options).expect("two steps");
            let mut t = Trace::default();
            t.state("g ", &summary.gan.g);
            t.state("d ", &summary.gan.d);
            let _ = std::fs::remove_dir_all(&dir);
            t
        };
        let (plain, parallel) = (run(false), run(true));
        compare(
            "data_parallel_one_device",
            &name,
            &plain,
            &parallel,
            TIGHT,
            &[],
        );
    }
}

#[test]
fn fid_inception_forward_matches_flex() {
    // 75x75 is the smallest input the network takes (Mixed_7a leaves 1x1); the weights are the
    // hash-init ones of the metrics tests, made on the host, so both devices hold the same.
    let reference = hash_init(&flex()).expect("hash-init Inception");
    let x = |d: &Device| input([1, 3, 75, 75], 12, d);
    let trace = |out: sngan::metrics::inception::InceptionOutput| {
        let mut t = Trace::default();
        t.tensor("pool_64", out.pool_64);
        t.tensor("pool_192", out.pool_192);
        t.tensor("mixed_768", out.mixed_768);
        t.tensor("pool3", out.pool3);
        t.tensor("logits", out.logits);
        t
    };
    let a = trace(reference.forward_all(x(&flex())));
    for (name, device) in devices() {
        let twin = hash_init(&device).expect("hash-init Inception");
        let b = trace(twin.forward_all(x(&device)));
        compare("fid_inception_75", &name, &a, &b, DEEP, &[]);
    }
}
