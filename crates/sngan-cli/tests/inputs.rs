//! Bad input to the `sngan` binary: each bad config value, key or flag is refused with a message
//! naming it and exit code 2 (a failure while running exits with 1), never a panic, and no run
//! directory is left behind; and the inputs that used to fail now work (strict SN in a zoo
//! model, `--seed` with `--truncation`, `eval --metrics mnist` without the Inception protocol),
//! and `--precision` with `--devices` trains.

#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use sngan::core::Images;
use sngan::train::{EmaConfig, experiments};

fn sngan(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sngan"))
        .args(["--device", "flex"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("start sngan")
}

fn mnist() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist");
    path.display().to_string()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sngan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The quick-start config as JSON, at width 2 and 2 G steps (no learning-rate decay, which
/// starts later), with an EMA (so that its fields are there to break).
fn quickstart() -> Value {
    let config = experiments::mnist_quickstart()
        .with_ema(Some(EmaConfig::new(0.99, 0)))
        .with_lr_decay_start(None);
    let mut config = serde_json::to_value(config).expect("json");
    config["generator"]["StdCnn"]["width"] = json!(2);
    config["discriminator"]["StdCnn"]["width"] = json!(2);
    config["iterations"] = json!(2);
    config["batch_size"] = json!(4);
    config["g_batch_size"] = json!(4);
    config
}

/// Sets `value` at the `/`-separated `path` of `config` (`-path` removes the key; a key is
/// added where missing).
fn patched(path: &str, value: Value) -> Value {
    let mut config = quickstart();
    let (remove, path) = match path.strip_prefix('-') {
        Some(p) => (true, p),
        None => (false, path),
    };
    let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
    let slot = match parent {
        "" => &mut config,
        p => config.pointer_mut(&format!("/{p}")).expect(p),
    };
    let object = slot.as_object_mut().expect("an object");
    match remove {
        true => {
            object.remove(key);
        }
        false => {
            object.insert(key.into(), value);
        }
    }
    config
}

#[track_caller]
fn refused(out: &Output, code: i32, want: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{want}: {stderr}");
    assert!(stderr.contains(want), "expected {want:?} in:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_bad_config_value_is_refused_before_a_run_directory_exists() {
    let dir = temp("configs");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "sample_everyy",
            json!(5),
            "unknown key `sample_everyy`; the nearest valid key is `sample_every`",
        ),
        (
            "generator/StdCnn/widht",
            json!(2),
            "unknown key `generator.StdCnn.widht`; the nearest valid key is `generator.StdCnn.width`",
        ),
        (
            "discriminator/StdCnn/image_size",
            json!(30),
            "discriminator.StdCnn.image_size = 30: a positive multiple of 8",
        ),
        ("batch_size", json!(0), "batch_size = 0: at least 1"),
        ("g_batch_size", json!(0), "g_batch_size = 0: at least 1"),
        ("n_dis", json!(0), "n_dis = 0: at least 1"),
        ("iterations", json!(0), "iterations = 0: at least 1"),
        ("log_every", json!(0), "log_every = 0: at least 1"),
        ("sample_every", json!(0), "sample_every = 0: at least 1"),
        (
            "checkpoint_every",
            json!(0),
            "checkpoint_every = 0: at least 1",
        ),
        (
            "adam_g/lr",
            json!(-1.0),
            "adam_g.lr = -1: a positive learning rate",
        ),
        (
            "adam_d/beta1",
            json!(1.0),
            "adam_d.beta1 = 1: a decay in [0, 1)",
        ),
        (
            "adam_d/beta2",
            json!(-0.5),
            "adam_d.beta2 = -0.5: a decay in [0, 1)",
        ),
        (
            "adam_g/eps",
            json!(0.0),
            "adam_g.eps = 0: a positive number",
        ),
        (
            "lr_decay_start",
            json!(2),
            "lr_decay_start = 2: a G step before the last (2), or null",
        ),
        ("ema/decay", json!(2.0), "ema.decay = 2: a decay in [0, 1]"),
        ("ema/every", json!(0), "ema.every = 0: at least 1"),
        (
            "ortho_reg",
            json!(-1.0),
            "ortho_reg = -1: a non-negative strength, or null",
        ),
        (
            "mode_seeking",
            json!(0.0),
            "mode_seeking = 0: a positive weight, or null",
        ),
        (
            "gradient_penalty",
            json!({"weight": 0.0}),
            "gradient_penalty.weight = 0: a positive weight",
        ),
        ("name", json!(""), "name = \"\": a file-name-safe run name"),
        (
            "data/split",
            json!("Unlabeled"),
            "data.split = Unlabeled: mnist has the splits train, test",
        ),
        (
            "data/size",
            json!(28),
            "data.size = Some(28): 32, the side the generator makes",
        ),
        (
            "data/celeba_crop",
            json!("Bssn128"),
            "data.celeba_crop = Some(Bssn128): null for mnist (CelebA only)",
        ),
        (
            "data/imagenet_style",
            json!("BigGan"),
            "data.imagenet_style = Some(BigGan): null for mnist",
        ),
        (
            "data/dataset",
            json!("Cifar10"),
            "generator.StdCnn.image_channels = 1: 3, the channels of cifar10",
        ),
        (
            "generator/StdCnn/n_classes",
            json!(0),
            "generator.StdCnn.n_classes = 0: null (unconditional) or at least 1",
        ),
        (
            "generator/StdCnn/z_dim",
            json!(0),
            "generator.StdCnn.z_dim = 0: at least 1",
        ),
        (
            "generator/StdCnn/image_channels",
            json!(2),
            "generator.StdCnn.image_channels = 2: 1 (grey) or 3 (RGB)",
        ),
        (
            "discriminator/StdCnn/n_classes",
            json!(null),
            "discriminator.StdCnn.n_classes = None: Some(10), the generator's",
        ),
        (
            "discriminator/StdCnn/leak",
            json!(1.5),
            "discriminator.StdCnn.leak = 1.5: a slope in [0, 1)",
        ),
        (
            "discriminator/StdCnn/sn/eps",
            json!(0.0),
            "discriminator.StdCnn.sn.eps = 0: a positive number",
        ),
        (
            "discriminator/StdCnn/sn/scale",
            json!(-1.0),
            "discriminator.StdCnn.sn.scale = -1: a positive number",
        ),
        (
            "discriminator/StdCnn/sn/n_power_iterations",
            json!(0),
            "discriminator.StdCnn.sn.n_power_iterations = 0: at least 1",
        ),
        (
            "discriminator/StdCnn/sn/mode",
            json!("Strictest"),
            "unknown variant `Strictest`, expected one of `Standard`, `Bidirectional`, `Strict`",
        ),
        ("-iterations", Value::Null, "missing field `iterations`"),
        (
            "precision",
            json!({"F16": {"init_scale": 0.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000}}),
            "precision.F16.init_scale = 0: a positive scale",
        ),
    ];
    for (i, (path, value, want)) in cases.into_iter().enumerate() {
        let file = dir.join(format!("bad{i}.json"));
        std::fs::write(&file, patched(path, value).to_string()).expect("write");
        let out = dir.join(format!("run{i}"));
        let run = sngan(
            &[
                "train",
                "--config",
                &file.display().to_string(),
                "--data",
                &mnist(),
                "--out",
                &out.display().to_string(),
            ],
            &dir,
        );
        refused(&run, 2, want);
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(&format!("bad{i}.json")),
            "the message names the file"
        );
        assert!(!out.exists(), "{path}: no run directory is left behind");
    }
    // Bad flags.
    let mut unconditional = quickstart();
    unconditional["generator"]["StdCnn"]["n_classes"] = Value::Null;
    unconditional["discriminator"]["StdCnn"]["n_classes"] = Value::Null;
    std::fs::write(dir.join("unconditional.json"), unconditional.to_string()).expect("write");
    for (args, want) in [
        (
            vec!["train", "--eval-every", "0"],
            "invalid value '0' for '--eval-every <N>'",
        ),
        (
            vec!["train", "--fid-ref", "x.npz"],
            "required arguments were not provided:\n  --inception",
        ),
        (
            vec![
                "train",
                "--eval-every",
                "5",
                "--config",
                "unconditional.json",
                "--data",
                ".",
            ],
            "--eval-every = 5: nothing to score",
        ),
        (
            vec!["eval", "--samples", "x.npz", "--metrics", "is,fdi"],
            "a comma-separated list of is, fid, kid, pr, prdc, mnist",
        ),
        (
            vec!["eval", "--samples", "x.npz", "--protocol", "paper"],
            "unknown protocol 'paper'",
        ),
        (
            vec![
                "stats",
                "--dataset",
                "cifar11",
                "--data",
                ".",
                "--out",
                "s.npz",
                "--inception",
                "w.pth",
            ],
            "unknown dataset 'cifar11'",
        ),
        (
            vec!["fetch", "celebb", "--to", "."],
            "unknown dataset 'celebb'",
        ),
    ] {
        refused(&sngan(&args, &dir), 2, want);
    }
    let device = Command::new(env!("CARGO_BIN_EXE_sngan"))
        .args(["--device", "warp", "models"])
        .output()
        .expect("start sngan");
    refused(&device, 2, "unknown device 'warp'");
    refused(
        &sngan(&["train", "--devices", "flex"], &dir),
        2,
        "--device and --devices both name the run's device",
    );
    let quickstart_json = dir.join("quickstart.json");
    std::fs::write(&quickstart_json, quickstart().to_string()).expect("write");
    for (devices, want) in [
        ("flex,warp", "--devices: unknown device 'warp'"),
        (
            "flex,flex,flex",
            "batch_size = 4: a multiple of the 3 data-parallel devices",
        ),
    ] {
        let out = dir.join("parallel");
        let run = Command::new(env!("CARGO_BIN_EXE_sngan"))
            .args([
                "train",
                "--devices",
                devices,
                "--data",
                &mnist(),
                "--config",
            ])
            .arg(&quickstart_json)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("start sngan");
        refused(&run, 2, want);
        assert!(!out.exists(), "{devices}: no run directory is left behind");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `--precision` and `--devices` reach the run: two bf16 G steps on two flex replicas, the
/// precision recorded in the run's config (unconditional, so no MNIST yardstick runs at the end).
#[test]
fn a_bf16_run_trains_data_parallel_on_two_flex_replicas() {
    let dir = temp("bf16-parallel");
    let mut config = quickstart();
    config["generator"]["StdCnn"]["n_classes"] = Value::Null;
    config["discriminator"]["StdCnn"]["n_classes"] = Value::Null;
    std::fs::write(dir.join("quickstart.json"), config.to_string()).expect("write");
    let trained = Command::new(env!("CARGO_BIN_EXE_sngan"))
        .args(["train", "--config", "quickstart.json", "--data", &mnist()])
        .args([
            "--out",
            "run",
            "--precision",
            "bf16",
            "--devices",
            "flex,flex",
        ])
        .current_dir(&dir)
        .output()
        .expect("start sngan");
    let stderr = String::from_utf8_lossy(&trained.stderr);
    assert!(trained.status.success(), "{stderr}");
    let config = std::fs::read_to_string(dir.join("run/config.json")).expect("config.json");
    assert!(config.contains("\"precision\": \"Bf16\""), "{config}");
    assert!(dir.join("run/checkpoints/step-00000002").is_dir());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn strict_sn_trains_and_samples_honour_seed_truncation_and_classes() {
    let dir = temp("strict");
    let config = patched("discriminator/StdCnn/sn/mode", json!("Strict"));
    std::fs::write(dir.join("strict.json"), config.to_string()).expect("write");
    let trained = sngan(
        &[
            "train",
            "--config",
            "strict.json",
            "--data",
            &mnist(),
            "--out",
            "run",
        ],
        &dir,
    );
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );

    let sample = |seed: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "sample", "--run", "run", "--n", "20", "--seed", seed, "--out", out,
        ];
        args.extend_from_slice(extra);
        let run = sngan(&args, &dir);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        Images::read(&dir.join(out)).expect("samples")
    };
    let t = ["--truncation", "0.5"];
    let (a, b, c) = (
        sample("3", "a.npz", &t),
        sample("3", "b.npz", &t),
        sample("4", "c.npz", &t),
    );
    assert_eq!(a, b, "the same seed gives the same samples");
    assert_ne!(a.pixels, c.pixels, "another seed, other samples");
    assert_eq!(a.view().shape(), [20, 32, 32, 1]);
    // The quick-start samples with batch statistics; `--bn-statistics` overrides the config.
    let batch = sample(
        "3",
        "batch.npz",
        &["--truncation", "0.5", "--bn-statistics", "batch"],
    );
    let running = sample(
        "3",
        "running.npz",
        &["--truncation", "0.5", "--bn-statistics", "running"],
    );
    assert_eq!(batch, a, "batch statistics are the run's own setting");
    assert_ne!(
        running.pixels, a.pixels,
        "the running averages give other images"
    );
    let seven = sample("3", "d.npz", &["--class", "7"]);
    assert!(
        seven.labels.iter().all(|l| *l == Some(7)),
        "{:?}",
        seven.labels
    );

    refused(
        &sngan(&["sample", "--run", "run", "--truncation", "0"], &dir),
        2,
        "--truncation = 0: a threshold of at least 0.001",
    );
    refused(
        &sngan(&["sample", "--run", "run", "--bn-statistics", "mean"], &dir),
        2,
        "'mean': running or batch",
    );
    refused(
        &sngan(&["sample", "--run", "run", "--class", "10"], &dir),
        2,
        "--class = 10: a class of the run, 0..10",
    );
    refused(
        &sngan(&["sample", "--run", "nowhere"], &dir),
        1,
        "nowhere: not a run directory",
    );

    // The MNIST yardstick prints its own protocol, not Inception's; the samples' classes are
    // checked; samples of one class get no intra-FID, and say why.
    let eval = sngan(&["eval", "--samples", "d.npz", "--metrics", "mnist"], &dir);
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert!(
        stdout.contains("intended class")
            && stdout.contains("protocol: MNIST yardstick, 20 samples")
            && stdout.contains("intra-FID not computed"),
        "{stdout}"
    );
    assert!(!stdout.contains("Inception"), "{stdout}");

    let report = sngan(&["report", "--run", "run"], &dir);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let html = std::fs::read_to_string(dir.join("run/report.html")).expect("report");
    assert!(
        html.contains("<svg") && html.contains("data:image/png;base64,") && html.contains("sigma/")
    );
    let _ = std::fs::remove_dir_all(dir);
}
