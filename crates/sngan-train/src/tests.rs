//! Run-level tests: exact resume (also past a damaged checkpoint and a log written after the
//! last checkpoint, and of bf16 and f16 runs), the NaN guard, bad configs refused before the run
//! directory exists, the run directory's contents, low-precision iterations against f32, and
//! data parallel against one device running the shards in turn, mode seeking's pairs and term.

use std::path::PathBuf;
use std::sync::Arc;

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use sngan_core::SplitMix64;
use sngan_data::{ImageBatch, ImageSource, Images};
use sngan_models::{Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, named_tensors};

use crate::experiments::{mnist_quickstart, sngan_cifar10_resnet};
use crate::gan::{Draw, mode_seeking};
use crate::parallel::shard;
use crate::precision::rescaled;
use crate::{
    DataParallel, EmaConfig, Gan, GradientSync, LossScaleConfig, Precision, Run, RunOptions,
    TrainConfig, TrainError, train,
};

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
    assert_eq!(a.loss_scales, b.loss_scales, "f16 loss scales");
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
fn batch_statistics_sample_as_training_mode_does_and_leave_the_running_averages() {
    use crate::sample::{BnStatistics, SampleSpec, generate, to_images};

    let config = tiny();
    let device = Device::flex();
    device.seed(3);
    let g = config.generator.init(&device);
    let spec = SampleSpec::new(6, 9);
    let draw = |statistics| generate(&g, &config.generator, &spec, &statistics, &device).unwrap();
    let running = draw(BnStatistics::Running);
    let batch = draw(BnStatistics::Batch);
    // G in training mode on the same latents and classes, on an autodiff device.
    let autodiff = device.clone().autodiff();
    let (z, classes) = spec.inputs(&config.generator);
    let z = Tensor::from_data(TensorData::new(z, [6, config.generator.z_dim()]), &autodiff);
    let y = classes.map(|c| Tensor::from_data(TensorData::new(c, [6]), &autodiff));
    let trained = to_images(g.clone().train().forward(z, y)).unwrap();
    assert_eq!(batch.pixels, trained.pixels);
    // Fresh running averages are 0 and 1.
    assert_ne!(batch.pixels, running.pixels);
    // Neither draw moved G's running averages.
    assert_eq!(draw(BnStatistics::Running), running);
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

/// Resuming a bf16 run, an f16 run whose loss scales grow within it, and a data-parallel run
/// over two flex replicas gives what an uninterrupted run gives, bit for bit (the scales come
/// back from the checkpoint; the replicas are rebuilt from rank 0).
#[test]
fn resumed_bf16_f16_and_data_parallel_runs_are_bit_identical() {
    let device = Device::flex().autodiff();
    let f16 = LossScaleConfig::new()
        .with_init_scale(1024.0)
        .with_growth_interval(2);
    let two_ranks = DataParallel {
        replicas: vec![Device::flex().autodiff()],
        sync: GradientSync::Gather,
    };
    let cases = [
        ("bf16", Precision::Bf16, None),
        ("f16", Precision::F16(f16), None),
        ("data-parallel", Precision::F32, Some(two_ranks)),
    ];
    for (name, precision, data_parallel) in cases {
        let config = tiny().with_precision(precision);
        let run = |dir: &std::path::Path, stop: Option<usize>, resume: bool| {
            let options = RunOptions {
                data_parallel: data_parallel.clone(),
                ..options(dir, stop, resume)
            };
            train(&config, images(), &device, &options).expect(name)
        };
        let straight_dir = run_dir(&format!("straight-{name}"));
        let straight = run(&straight_dir, None, false);
        let split_dir = run_dir(&format!("split-{name}"));
        assert_eq!(run(&split_dir, Some(3), false).step, 3);
        let resumed = run(&split_dir, None, true);
        assert_same_run(&straight.gan, &resumed.gan, [&straight_dir, &split_dir]);
        if let Some(scales) = resumed.gan.loss_scales {
            assert!(
                scales.d.scale > 1024.0 && scales.g.scale > 1024.0,
                "the scales grew every 2 clean steps: {scales:?}"
            );
        }
        for dir in [&straight_dir, &split_dir] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `n` random images `[n, channels, 32, 32]` in `[-1, 1]` with labels `i % 10`.
fn random_batch(n: usize, channels: usize, seed: u64, device: &Device) -> ImageBatch {
    let mut rng = SplitMix64::new(seed);
    let pixels: Vec<f32> = (0..n * channels * 32 * 32)
        .map(|_| rng.uniform() as f32 * 2.0 - 1.0)
        .collect();
    let labels: Vec<i64> = (0..n as i64).map(|i| i % 10).collect();
    ImageBatch {
        images: Tensor::from_data(TensorData::new(pixels, [n, channels, 32, 32]), device),
        labels: Tensor::from_data(TensorData::new(labels, [n]), device),
    }
}

/// G's and D's trained parameters, flattened in path order.
fn weights(gan: &Gan) -> Vec<f32> {
    let tensors = named_tensors(&gan.g)
        .into_iter()
        .chain(named_tensors(&gan.d));
    tensors
        .filter(|t| !t.is_buffer())
        .flat_map(|t| {
            let data = t.matrix.into_data().convert::<f32>();
            data.try_to_vec::<f32>().expect("f32 weights")
        })
        .collect()
}

/// `|a - b| / |b|` over whole vectors.
fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let diff = norm(&mut a.iter().zip(b).map(|(x, y)| f64::from(x - y)));
    diff / norm(&mut b.iter().map(|&y| f64::from(y)))
}

/// SNGAN's ResNet-32 (CIFAR-10) at 16 channels, one D step per G step, batches of 8.
fn narrow_resnet() -> TrainConfig {
    let mut config = sngan_cifar10_resnet()
        .with_n_dis(1)
        .with_batch_size(8)
        .with_g_batch_size(8);
    if let GeneratorConfig::ResNet(g) = &mut config.generator {
        g.channels = vec![16; g.channels.len()];
    }
    if let DiscriminatorConfig::ResNet(d) = &mut config.discriminator {
        d.channels = [3]
            .into_iter()
            .chain(vec![16; d.channels.len() - 1])
            .collect();
    }
    config
}

/// One bf16 and one f16 iteration of the quick-start and of ResNet-32 at reduced width, from
/// the same weights and draws as the f32 iteration: the losses and the update of every G and D
/// weight stay near f32's. Adam's eps is raised to 1 here, which makes its first update
/// `lr * g / (|g| + 1)`, about `lr * g`: with PyTorch's 1e-8 the first update is `lr * sign(g)`
/// and turns rounding noise in tiny gradients into whole-size updates. f16 starts at a loss
/// scale of 2^8: at the default 2^16 the first step overflows, is skipped and halves the scale,
/// as in PyTorch (checked at the end). The bounds hold the values measured (in the comments)
/// with a margin of about 2x.
#[test]
fn bf16_and_f16_iterations_track_the_f32_iteration() {
    let device = Device::flex().autodiff();
    let linear_adam = |mut config: TrainConfig| {
        config.adam_d.eps = 1.0;
        config.adam_g.eps = 1.0;
        config
    };
    let f16 = || Precision::F16(LossScaleConfig::new().with_init_scale(256.0));
    // (name, config, image channels, bounds on |loss - f32 loss| and on the relative update
    // error, for bf16 then f16).
    let cases = [
        // Measured: bf16 (3.4e-4, 0.120), f16 (1.4e-5, 0.054).
        (
            "quick-start",
            tiny().with_n_dis(1),
            1,
            [(1e-3, 0.25), (5e-5, 0.1)],
        ),
        // Measured: bf16 (0.021, 0.024), f16 (0.0097, 0.011); the D loss is about 15.
        (
            "ResNet-32",
            narrow_resnet(),
            3,
            [(0.05, 0.05), (0.02, 0.025)],
        ),
    ];
    for (name, config, channels, bounds) in cases {
        let config = linear_adam(config);
        let batch = random_batch(config.batch_size, channels, 1, &device);
        let iteration = |precision: Precision| {
            let mut gan = Gan::new(&config.clone().with_precision(precision), &device);
            let before = weights(&gan);
            let stats = gan.iteration(|| Ok(batch.clone())).expect(name);
            let update: Vec<f32> = weights(&gan)
                .iter()
                .zip(&before)
                .map(|(a, b)| a - b)
                .collect();
            (stats, update)
        };
        let (f32_stats, f32_update) = iteration(Precision::F32);
        for ((stats, update), (loss_bound, update_bound), precision) in [
            (iteration(Precision::Bf16), bounds[0], "bf16"),
            (iteration(f16()), bounds[1], "f16"),
        ] {
            let losses = [
                (stats.loss_d - f32_stats.loss_d).abs(),
                (stats.loss_g - f32_stats.loss_g).abs(),
            ];
            let error = relative_error(&update, &f32_update);
            assert!(
                losses.iter().all(|&l| l <= loss_bound),
                "{name} in {precision}: {stats:?}, f32 {f32_stats:?}"
            );
            assert!(
                error <= update_bound,
                "{name} in {precision}: update error {error}"
            );
        }
    }
    // At 2^16 the ResNet's first f16 step overflows in both networks: nothing moves, both
    // scales halve.
    let config = narrow_resnet().with_precision(Precision::F16(LossScaleConfig::new()));
    let mut gan = Gan::new(&config, &device);
    let before = weights(&gan);
    let batch = random_batch(config.batch_size, 3, 1, &device);
    let stats = gan
        .iteration(|| Ok(batch.clone()))
        .expect("a skipped step is no error");
    let scales = stats.loss_scales.expect("f16 has scales");
    assert_eq!((scales.d.scale, scales.g.scale), (32768.0, 32768.0));
    assert_eq!(
        weights(&gan),
        before,
        "skipped steps leave the weights as they were"
    );
}

/// The networks each of `ranks` shards runs on: the first on `gan`'s own (whose buffers it
/// advances), the others on copies taken now, before any shard has moved a buffer.
fn shard_nets(gan: &Gan, ranks: usize, device: &Device) -> Vec<(Generator, Discriminator)> {
    let copies = (1..ranks).map(|_| (gan.g.clone().fork(device), gan.d.clone().fork(device)));
    std::iter::once((gan.g.clone(), gan.d.clone()))
        .chain(copies)
        .collect()
}

/// One device running data parallel's shards one after another: for each D step and the G
/// step, each shard's mean loss is differentiated on its own copy of the networks taken before
/// the step (the first shard on the networks themselves, so their SN vectors and BN statistics
/// move as rank 0's do), the gradients averaged and one Adam step taken.
fn iteration_in_turn(gan: &mut Gan, batches: &mut impl Iterator<Item = ImageBatch>, ranks: usize) {
    let config = gan.config().clone();
    let (z_dim, n_classes) = (config.generator.z_dim(), config.generator.n_classes());
    let device = gan.devices()[0].clone();
    let lr = config.lr_factor(gan.step);
    for _ in 0..config.n_dis {
        let batch = batches.next().expect("a batch");
        let b = batch.images.dims()[0];
        let draw = Draw::new(&mut gan.rng, b, z_dim, n_classes, false, false);
        let mut sum = GradientsAccumulator::new();
        for (rank, (g, d)) in shard_nets(gan, ranks, &device).into_iter().enumerate() {
            let (start, len) = shard(b, rank, ranks);
            let (z, y, _) = draw.shard(start, len, z_dim, &device);
            let labels = n_classes.map(|_| batch.labels.clone().narrow(0, start, len));
            let fake = g.no_grad().forward(z, y.clone());
            let real = d.forward(batch.images.clone().narrow(0, start, len), labels);
            let loss = config.loss.discriminator(real, d.forward(fake, y));
            sum.accumulate(&gan.d, GradientsParams::from_grads(loss.backward(), &d));
        }
        let mean = rescaled(&sum.grads(), &gan.d, 1.0 / ranks as f64, false).0;
        gan.d = gan.opt_d.step(config.adam_d.lr * lr, gan.d.clone(), mean);
        gan.batches += 1;
    }
    let b = config.g_batch_size;
    let pairs = config.mode_seeking.is_some();
    let draw = Draw::new(&mut gan.rng, b, z_dim, n_classes, false, pairs);
    let mut sum = GradientsAccumulator::new();
    for (rank, (g, d)) in shard_nets(gan, ranks, &device).into_iter().enumerate() {
        let (start, len) = shard(b, rank, ranks);
        let (z, y, _) = draw.shard(start, len, z_dim, &device);
        let fake = g.forward(z.clone(), y.clone());
        let loss = config.loss.generator(d.no_grad().forward(fake.clone(), y));
        let loss = match config.mode_seeking {
            Some(weight) => loss + mode_seeking(fake, z, weight),
            None => loss,
        };
        sum.accumulate(&gan.g, GradientsParams::from_grads(loss.backward(), &g));
    }
    let mean = rescaled(&sum.grads(), &gan.g, 1.0 / ranks as f64, false).0;
    gan.g = gan.opt_g.step(config.adam_g.lr * lr, gan.g.clone(), mean);
    gan.step += 1;
}

/// Data parallel over two `flex` replicas through Burn's non-collective path (host exchange,
/// `GradientsParams::to_device`, `MultiGradientsParams`, `step_multi`; flex has one device id,
/// so the two ranks are two threads on the same CPU device) gives, to rounding, the weights,
/// SN vectors and BN statistics of one device running the same shards in turn and averaging
/// their gradients (measured: bit for bit); the two replicas stay identical. Mode seeking is on,
/// so its pairs of rows are shared out whole.
#[test]
fn two_flex_replicas_match_one_device_running_the_shards_in_turn() {
    let device = Device::flex().autodiff();
    let config = tiny().with_ema(None).with_mode_seeking(Some(0.05));
    let batches: Vec<ImageBatch> = (0..4)
        .map(|i| random_batch(config.batch_size, 1, i, &device))
        .collect();
    let mut parallel = Gan::new(&config, &device);
    parallel
        .replicate(&DataParallel {
            replicas: vec![Device::flex().autodiff()],
            sync: GradientSync::Gather,
        })
        .expect("two ranks share batches of 8 and 16");
    let mut reference = Gan::new(&config, &device);
    let (mut next, mut in_turn) = (batches.iter().cloned(), batches.iter().cloned());
    for _ in 0..2 {
        parallel
            .iteration(|| Ok(next.next().expect("a batch")))
            .expect("parallel iteration");
        iteration_in_turn(&mut reference, &mut in_turn, 2);
    }
    parallel
        .check_replicas()
        .expect("rank 1 holds rank 0's weights and SN vectors");
    for (net, a, b) in [
        ("G", state(&parallel.g), state(&reference.g)),
        ("D", state(&parallel.d), state(&reference.d)),
    ] {
        for ((path, x), (_, y)) in a.iter().zip(&b) {
            for (x, y) in x.iter().zip(y) {
                let diff = (x - y).abs();
                assert!(diff <= 1e-6 * y.abs().max(1.0), "{net} {path}: {x} vs {y}");
            }
        }
    }
    assert_eq!(parallel.rng.state(), reference.rng.state());
}

#[test]
fn mode_seeking_pairs_share_a_class_and_its_term_is_msgans_ratio() {
    let mut rng = SplitMix64::new(3);
    let draw = Draw::new(&mut rng, 1000, 2, Some(10), false, true);
    let device = Device::flex();
    let (_, y, _) = draw.shard(0, 1000, 2, &device);
    let y: Vec<i64> = y
        .expect("conditional")
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .expect("i64");
    assert!(y.chunks(2).all(|pair| pair[0] == pair[1]), "{y:?}");
    let mut seen = [0usize; 10];
    y.iter().for_each(|&c| seen[c as usize] += 1);
    assert!(seen.iter().all(|&n| n > 60), "classes drawn {seen:?}");

    // Pairs (r0, r1) and (r2, r3): image gaps [1, 3] and [0, 2] (mean 1.5), latent gaps [1, 1]
    // and [0, 2] (mean 1): 3 / (1.5 / 1 + 1e-5).
    let fake = Tensor::<2>::from_floats([[0.0, 0.0], [1.0, 3.0], [2.0, 2.0], [2.0, 0.0]], &device)
        .reshape([4, 1, 1, 2]);
    let z = Tensor::<2>::from_floats([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 2.0]], &device);
    let term = mode_seeking(fake, z, 3.0).into_scalar::<f32>();
    let want = 3.0 / (1.5 + 1e-5);
    assert!((term as f64 - want).abs() < 1e-6, "{term} vs {want}");
}

#[test]
fn a_run_with_mode_seeking_resumes_bit_identically_and_refuses_odd_batches() {
    let device = Device::flex().autodiff();
    let config = tiny().with_mode_seeking(Some(1.0));
    let run = |dir: &std::path::Path, stop: Option<usize>, resume: bool| {
        train(&config, images(), &device, &options(dir, stop, resume)).expect("run")
    };
    let dirs = [run_dir("ms_straight"), run_dir("ms_split")];
    let straight = run(&dirs[0], None, false);
    assert_eq!(run(&dirs[1], Some(4), false).step, 4);
    let resumed = run(&dirs[1], None, true);
    assert_same_run(&straight.gan, &resumed.gan, [&dirs[0], &dirs[1]]);
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }

    let odd = tiny().with_mode_seeking(Some(1.0)).with_g_batch_size(15);
    let err = odd.validate().expect_err("odd G batch").to_string();
    assert!(err.contains("g_batch_size = 15: an even size"), "{err}");
}
