//! Run-level tests: exact resume (also past a damaged checkpoint and a log written after the
//! last checkpoint), the NaN guard, bad configs refused before the run directory exists, and
//! the run directory's contents.

use std::path::PathBuf;
use std::sync::Arc;

use burn::prelude::*;
use sngan_data::{ImageSource, Images};
use sngan_models::named_tensors;

use crate::experiments::mnist_quickstart;
use crate::{EmaConfig, Run, RunOptions, TrainConfig, TrainError, train};

/// 64 random 32x32 grey images with labels 0..10.
fn images() -> Arc<dyn ImageSource> {
    let n = 64;
    let mut state = 7u64;
    let pixels = (0..n * 32 * 32)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect();
    Arc::new(Images {
        height: 32,
        width: 32,
        channels: 1,
        pixels,
        labels: (0..n).map(|i| Some((i % 10) as u32)).collect(),
        num_classes: Some(10),
        class_names: Vec::new(),
    })
}

fn tiny() -> TrainConfig {
    let mut config = mnist_quickstart()
        .with_n_dis(2)
        .with_batch_size(8)
        .with_g_batch_size(16)
        .with_log_every(1)
        .with_sample_every(3)
        .with_checkpoint_every(3)
        .with_lr_decay_start(Some(2))
        .with_ema(Some(EmaConfig::new(0.9, 2)));
    config.name = "tiny".into();
    config.iterations = 6;
    config
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sngan-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(out: &std::path::Path, stop_at: Option<usize>, resume: bool) -> RunOptions {
    RunOptions {
        stop_at,
        resume,
        quiet: true,
        ..RunOptions::new(out)
    }
}

fn state<M: Module>(module: &M) -> Vec<(String, Vec<f32>)> {
    named_tensors(module)
        .into_iter()
        .map(|t| {
            (
                t.path,
                t.matrix
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .expect("f32"),
            )
        })
        .collect()
}

/// The networks, RNG, data position and `metrics.csv` (timing aside) of two runs are equal.
fn assert_same_run(a: &crate::Gan, b: &crate::Gan, dirs: [&std::path::Path; 2]) {
    assert_eq!(
        state(&a.g),
        state(&b.g),
        "generator (weights, BN statistics)"
    );
    assert_eq!(
        state(&a.d),
        state(&b.d),
        "discriminator (weights, SN vectors)"
    );
    let ema = |gan: &crate::Gan| state(gan.ema.as_ref().expect("EMA"));
    assert_eq!(ema(a), ema(b), "EMA generator");
    assert_eq!((a.rng.state(), a.batches), (b.rng.state(), b.batches));
    let [x, y] = dirs.map(|d| Run::open(d).expect("run").metrics().expect("metrics.csv"));
    assert_eq!(x.rows.len(), 6, "one row per step");
    for name in x.columns(|n| n != "images_per_s") {
        assert_eq!(
            x.series(&name),
            y.series(&name),
            "metrics.csv column {name}"
        );
    }
}

/// Resuming half way, and resuming past a damaged checkpoint after a run that logged steps
/// beyond it (as a kill leaves it), give what an uninterrupted run gives, bit for bit.
#[test]
fn resumed_runs_are_bit_identical_also_past_a_damaged_checkpoint() {
    let device = Device::flex().autodiff();
    let config = tiny();
    let run = |dir: &std::path::Path, stop: Option<usize>, resume: bool| {
        train(&config, images(), &device, &options(dir, stop, resume)).expect("run")
    };
    let straight_dir = run_dir("straight");
    let straight = run(&straight_dir, None, false);

    let split_dir = run_dir("split");
    assert_eq!(run(&split_dir, Some(3), false).step, 3);
    let resumed = run(&split_dir, None, true);
    assert_eq!(resumed.step, 6);
    assert_same_run(&straight.gan, &resumed.gan, [&straight_dir, &split_dir]);
    assert!(split_dir.join("samples/step-00000006.png").exists());

    // A run stopped after logging step 5, its newest checkpoint (step 5) then damaged on disk.
    let dir = run_dir("damaged");
    run(&dir, Some(5), false);
    let g = dir.join("checkpoints/step-00000005/g.bpk");
    let mut bytes = std::fs::read(&g).expect("g.bpk");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&g, bytes).expect("damage");
    let opened = Run::open(&dir).expect("the run opens");
    assert_eq!(
        opened.checkpoint().map(|c| c.step()),
        Some(3),
        "falls back to step 3"
    );
    let warning = &opened.warnings()[0];
    assert!(
        warning.contains("step-00000005/g.bpk") && warning.contains("damaged"),
        "{warning}"
    );
    let resumed = run(&dir, None, true);
    assert_eq!(resumed.warnings.len(), 1);
    assert_same_run(&straight.gan, &resumed.gan, [&straight_dir, &dir]);
    for dir in [&straight_dir, &split_dir, &dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_checkpoint() {
    let device = Device::flex().autodiff();
    let mut config = tiny().with_ema(None);
    config.iterations = 4;
    config.adam_d.lr = 1e30; // D's weights blow up after its first step
    config.adam_g.lr = 1e30;
    let dir = run_dir("diverge");
    let err = match train(&config, images(), &device, &options(&dir, None, false)) {
        Err(e) => e,
        Ok(s) => panic!(
            "a 1e30 learning rate trained {} steps without a NaN",
            s.step
        ),
    };
    assert!(matches!(err, TrainError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("diverged"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mismatched_data_is_refused_with_both_shapes_named() {
    // Data of another size than the config says (a BSSN .npy folder keeps its files' size).
    let device = Device::flex().autodiff();
    let small = Images::from_nhwc(vec![0; 4 * 16 * 16], [4, 16, 16, 1]).expect("images");
    let dir = run_dir("mismatch");
    let err = train(
        &tiny(),
        Arc::new(small),
        &device,
        &options(&dir, None, false),
    )
    .err()
    .expect("refused");
    assert!(
        err.to_string().contains("32x32x1") && err.to_string().contains("16x16x1"),
        "{err}"
    );
    assert!(!dir.exists());
}

#[test]
fn periodic_scores_land_in_their_own_columns() {
    let device = Device::flex().autodiff();
    let mut config = tiny().with_ema(None);
    config.iterations = 3;
    let dir = run_dir("scores");
    let evaluator = crate::Evaluator {
        every: 2,
        names: vec!["steps_seen".into()],
        score: Arc::new(|gan| Ok(vec![gan.step as f64])),
    };
    let options = RunOptions {
        evaluator: Some(evaluator),
        ..options(&dir, None, false)
    };
    train(&config, images(), &device, &options).expect("run");
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).expect("metrics.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",steps_seen"), "{}", lines[0]);
    assert!(lines[1].ends_with(','), "step 1 has no score: {}", lines[1]);
    assert!(
        lines[2].ends_with(",2") && lines[3].ends_with(",3"),
        "{csv}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_configs_are_refused_before_the_run_directory_exists() {
    let device = Device::flex().autodiff();
    let cases: Vec<(TrainConfig, &str)> = vec![
        (tiny().with_batch_size(0), "batch_size = 0: at least 1"),
        (tiny().with_sample_every(0), "sample_every = 0: at least 1"),
        (
            tiny().with_lr_decay_start(Some(6)),
            "lr_decay_start = 6: a G step before the last (6)",
        ),
        (
            tiny().with_ema(Some(EmaConfig::new(1.5, 0))),
            "ema.decay = 1.5: a decay in [0, 1]",
        ),
        (
            {
                let mut c = tiny();
                c.adam_g.beta2 = 1.0;
                c
            },
            "adam_g.beta2 = 1: a decay in [0, 1)",
        ),
        (
            {
                let mut c = tiny();
                c.data.size = Some(30);
                c
            },
            "data.size = Some(30): 32, the side the generator makes",
        ),
        (
            {
                let mut c = tiny();
                c.name = "../x".into();
                c
            },
            "name = \"../x\": a file-name-safe run name",
        ),
    ];
    for (config, want) in cases {
        let dir = run_dir("invalid");
        let err = train(&config, images(), &device, &options(&dir, None, false))
            .err()
            .expect(want);
        assert!(matches!(err, TrainError::Config(_)), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("invalid config: {want}")),
            "{err}"
        );
        assert!(!dir.exists(), "{want}: no run directory is left behind");
    }
}

#[test]
fn an_existing_run_is_not_overwritten_without_resume() {
    let device = Device::flex().autodiff();
    let mut config = tiny().with_lr_decay_start(None);
    config.iterations = 1;
    let dir = run_dir("existing");
    train(&config, images(), &device, &options(&dir, None, false)).expect("first");
    let err = train(&config, images(), &device, &options(&dir, None, false))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("already holds a run"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_penalty_on_a_discriminator_with_attention_is_refused() {
    use sngan_models::DiscriminatorConfig;
    use sngan_models::resnet::ResNetDiscriminatorConfig;

    let d = ResNetDiscriminatorConfig {
        channels: vec![1, 8, 8],
        downsample: vec![true, true],
        ..ResNetDiscriminatorConfig::sngan_cifar32()
    }
    .with_attention_after(Some(1))
    .with_n_classes(Some(10));
    let mut config = tiny();
    config.discriminator = DiscriminatorConfig::ResNet(d);
    config.gradient_penalty = Some(crate::GradientPenaltyConfig::new());
    let dir = run_dir("gp-attention");
    let device = Device::flex().autodiff();
    let err = train(&config, images(), &device, &options(&dir, Some(1), false))
        .err()
        .expect("a penalty through self-attention is refused");
    assert!(
        matches!(&err, TrainError::Config(e) if e.allowed.contains("self-attention")),
        "{err}"
    );
    assert!(!dir.exists());
}
