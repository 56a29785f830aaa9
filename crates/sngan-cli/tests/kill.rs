//! `kill -9` at random moments of a training run, some of them during checkpoint writes, each
//! followed by `sngan train --resume`: every resume starts, and the finished run's networks
//! equal an uninterrupted run's bit for bit, as does its `metrics.csv` (timing aside).

#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sngan::burn::module::Module;
use sngan::burn::prelude::*;
use sngan::core::SplitMix64;
use sngan::models::named_tensors;
use sngan::train::{EmaConfig, Run, TrainConfig, experiments};

/// The quick-start at width 4 and batch 8, unconditional (so that no MNIST yardstick is set
/// up at each start), with an EMA of G (so that it is checked too), 100 G steps, a checkpoint
/// after each (so that kills land in writes too).
fn tiny() -> TrainConfig {
    let mut config = experiments::mnist_quickstart()
        .with_ema(Some(EmaConfig::new(0.99, 0)))
        .with_lr_decay_start(Some(50))
        .with_batch_size(8)
        .with_g_batch_size(8)
        .with_log_every(1)
        .with_sample_every(50)
        .with_checkpoint_every(1);
    for (g, d) in [(&mut config.generator, &mut config.discriminator)] {
        if let (
            sngan::models::GeneratorConfig::StdCnn(g),
            sngan::models::DiscriminatorConfig::StdCnn(d),
        ) = (g, d)
        {
            (g.width, g.n_classes) = (4, None);
            (d.width, d.n_classes) = (4, None);
        }
    }
    config.name = "kill".into();
    config.iterations = 100;
    config
}

fn train(config: &Path, out: &Path) -> Command {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sngan"));
    cmd.args(["--device", "flex", "train", "--resume", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

fn tensors<M: Module>(module: &M) -> Vec<(String, Vec<f32>)> {
    named_tensors(module)
        .into_iter()
        .map(|t| {
            let values = t.matrix.into_data().convert::<f32>().try_to_vec::<f32>();
            (t.path, values.expect("f32 tensors"))
        })
        .collect()
}

/// The step of the newest finished checkpoint (`checkpoints/latest`), 0 before the first.
fn latest_step(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("checkpoints/latest"))
        .ok()
        .and_then(|name| name.trim().strip_prefix("step-")?.parse().ok())
        .unwrap_or(0)
}

/// Whether a kill left a checkpoint or file half written (a hidden `.partial`).
fn partial_left(dir: &Path) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".partial") {
                return true;
            }
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    false
}

#[test]
fn twenty_kills_and_resumes_end_bit_identical_to_an_uninterrupted_run() {
    let root: PathBuf = std::env::temp_dir().join(format!("sngan-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let config_path = root.join("kill.json");
    let json = serde_json::to_string_pretty(&tiny()).expect("serialise");
    std::fs::write(&config_path, json).expect("config");

    let (straight, killed) = (root.join("straight"), root.join("killed"));
    let start = Instant::now();
    let status = train(&config_path, &straight)
        .status()
        .expect("start sngan");
    let whole = start.elapsed();
    assert!(status.success(), "the uninterrupted run finishes");

    let mut rng = SplitMix64::new(20);
    let (mut kills, mut during_writes, mut at) = (0, 0, Vec::new());
    // Each attempt is killed once its newest checkpoint is 1-4 steps past the previous
    // attempt's, plus a random fraction of a step (so that kills land in writes too). Progress,
    // not wall time, sets the moment: a loaded CI machine cannot let the run finish early.
    let step_time = whole / 100;
    while kills < 20 {
        let target = latest_step(&killed) + 1 + (rng.uniform() * 4.0) as usize;
        let mut child = train(&config_path, &killed).spawn().expect("start sngan");
        let spawned = Instant::now();
        let finished = loop {
            if spawned.elapsed() >= whole * 10 {
                let _ = child.kill(); // not left running after the test
                panic!("a resume made no progress past step {target} in ten whole-run times");
            }
            if let Some(status) = child.try_wait().expect("poll") {
                break Some(status);
            }
            if latest_step(&killed) >= target {
                std::thread::sleep(step_time.mul_f64(rng.uniform()));
                break child.try_wait().expect("poll");
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        match finished {
            // It finished first: this resume had nothing left to do.
            Some(status) => {
                assert!(
                    status.success(),
                    "a resume after a kill starts and runs: {status}"
                );
                break;
            }
            None => {
                child.kill().expect("SIGKILL");
                let status = child.wait().expect("reap");
                assert!(!status.success());
                kills += 1;
                during_writes += usize::from(partial_left(&killed));
                let step = Run::open(&killed)
                    .ok()
                    .and_then(|r| r.checkpoint().map(|c| c.step()));
                at.push(step.unwrap_or(0));
            }
        }
    }
    let status = train(&config_path, &killed).status().expect("start sngan");
    assert!(status.success(), "the final resume finishes");
    eprintln!(
        "{kills} kills ({during_writes} during a checkpoint or file write), newest checkpoint after each: {at:?}; uninterrupted run {:.2} s",
        whole.as_secs_f64()
    );
    assert_eq!(kills, 20, "the run finished before 20 kills landed");

    let device = Device::flex().autodiff();
    let open = |dir: &Path| Run::open(dir).expect("run").gan(&device).expect("networks");
    let (a, b) = (open(&straight), open(&killed));
    assert_eq!((a.step, b.step), (100, 100));
    assert_eq!(tensors(&a.g), tensors(&b.g), "generator");
    assert_eq!(tensors(&a.d), tensors(&b.d), "discriminator and SN vectors");
    let ema = |gan: &sngan::train::Gan| tensors(gan.ema.as_ref().expect("EMA"));
    assert_eq!(ema(&a), ema(&b), "EMA generator");
    assert_eq!((a.rng.state(), a.batches), (b.rng.state(), b.batches));
    let [x, y] = [&straight, &killed].map(|d| Run::open(d).expect("run").metrics().expect("csv"));
    for name in x.columns(|n| n != "images_per_s") {
        assert_eq!(
            x.series(&name),
            y.series(&name),
            "metrics.csv column {name}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
