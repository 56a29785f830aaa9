//! The measurements of `bench/gpu/check.sh` on one device: a training iteration (Miyato et al.,
//! ICLR 2018, Algorithm 1: `n_dis` D steps, one G step, Adam, EMA where configured) of the
//! quick-start, SNGAN's CIFAR-10 standard CNN (n_dis 5, D batch 64, G batch 128), the SNGAN
//! ResNet-32, SAGAN-32, BigGAN-32 and a BigGAN-128 step at batch 64; and FID Inception features
//! per second on 10,000 uint8 32x32 images (pytorch-fid's preprocessing, hash-init weights: the
//! cost does not depend on them); then, given `--train-seconds`, real training of the quick-start
//! config on the embedded MNIST for about that long (the step count from the measured iteration
//! time), into `--run-dir`.
//!
//! `cargo bench --bench gpu -- [--device SPEC] [--models NAME,..] [--fid-images N]
//! [--train-seconds S --run-dir DIR] [--bf16] [--tiny]`: `--models` times a subset (the
//! training needs `quickstart`), `--fid-images 0` skips the features, `--bf16` times the
//! iterations in bfloat16 passes (f32 master weights; keys `train/<name>_bf16_iteration_ms`); `--tiny` shrinks every
//! timed network to 4 (std CNN) or 16 (ResNet) channels and batches of 2, the FID set to 8 images
//! and the training to 2 steps, for the CPU dry run. Prints `bench: <key> <value>` lines, with the
//! keys of bench/pytorch/train.py and bench/pytorch/fid.py.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use sngan::burn::prelude::*;
use sngan::metrics::ImagesRef;
use sngan::metrics::inception::{InceptionExtractor, Preprocess, hash_init};
use sngan::train::{Precision, RunOptions, TrainConfig, experiments, train};

struct Args {
    device: Device,
    tiny: bool,
    models: Option<Vec<String>>,
    fid_images: usize,
    train_seconds: f64,
    run_dir: Option<PathBuf>,
    bf16: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        device: sngan::default_device(),
        tiny: false,
        models: None,
        fid_images: 10_000,
        train_seconds: 0.0,
        run_dir: None,
        bf16: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--device" => args.device = sngan::device(&value()?).map_err(|e| e.to_string())?,
            "--tiny" => args.tiny = true,
            "--bf16" => args.bf16 = true,
            "--models" => {
                let list = value()?;
                let known: Vec<&str> = models().iter().map(|(name, _, _)| *name).collect();
                let names: Vec<String> = list.split(',').map(str::to_string).collect();
                if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
                    return Err(format!(
                        "--models: unknown '{bad}' (expected some of {known:?})"
                    ));
                }
                args.models = Some(names);
            }
            "--fid-images" => {
                let n = value()?;
                args.fid_images = n
                    .parse()
                    .map_err(|_| format!("--fid-images: expected a count, found '{n}'"))?;
            }
            "--train-seconds" => {
                let s = value()?;
                args.train_seconds = s
                    .parse()
                    .map_err(|_| format!("--train-seconds: expected seconds, found '{s}'"))?;
            }
            "--run-dir" => args.run_dir = Some(PathBuf::from(value()?)),
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument '{other}' (expected --device SPEC, --tiny, --bf16, --fid-images N, --models NAME,.., --train-seconds S, --run-dir DIR)"
                ));
            }
        }
    }
    if args.train_seconds > 0.0 && args.run_dir.is_none() {
        return Err("--train-seconds needs --run-dir DIR".into());
    }
    if args.train_seconds > 0.0
        && let Some(names) = &args.models
        && !names.iter().any(|n| n == "quickstart")
    {
        return Err(
            "--train-seconds takes its step count from the quickstart timing: add it to --models"
                .into(),
        );
    }
    if args.tiny {
        args.fid_images = args.fid_images.min(8);
    }
    Ok(args)
}

/// The timed experiments, with the rounds each is timed over.
fn models() -> Vec<(&'static str, TrainConfig, usize)> {
    vec![
        ("quickstart", experiments::mnist_quickstart(), 10),
        (
            "sngan_cifar10_std_cnn_ndis5",
            experiments::sngan_cifar10_std_cnn()
                .with_n_dis(5)
                .with_g_batch_size(128),
            5,
        ),
        (
            "sngan_cifar10_resnet",
            experiments::sngan_cifar10_resnet(),
            5,
        ),
        ("sagan_cifar10", experiments::sagan_cifar10(), 5),
        ("biggan_cifar10", experiments::biggan_cifar10(), 5),
        (
            "biggan_imagenet128_b64",
            experiments::biggan_imagenet128()
                .with_batch_size(64)
                .with_g_batch_size(64),
            3,
        ),
    ]
}

fn main() {
    let args = args().unwrap_or_else(|e| {
        eprintln!("gpu bench: {e}");
        std::process::exit(2)
    });
    let autodiff = args.device.clone().autodiff();
    eprintln!("gpu bench on {:?}", args.device);
    let mut quickstart_ms = f64::NAN;
    let selected = models().into_iter().filter(|(name, _, _)| {
        args.models
            .as_ref()
            .is_none_or(|m| m.iter().any(|n| n == name))
    });
    for (name, config, rounds) in selected {
        let (config, rounds) = match args.tiny {
            true => (experiments::narrow(config), 1),
            false => (config, rounds),
        };
        let (config, key) = match args.bf16 {
            true => (
                config.with_precision(Precision::Bf16),
                format!("{name}_bf16"),
            ),
            false => (config, name.to_string()),
        };
        let ms = common::iteration_time(&config, &autodiff, rounds).ms;
        eprintln!(
            "{key}: median {ms:.1} ms per iteration over {rounds} (n_dis {}, batch {} / G {})",
            config.n_dis, config.batch_size, config.g_batch_size
        );
        println!("bench: train/{key}_iteration_ms {ms:.2}");
        if name == "quickstart" {
            quickstart_ms = ms;
        }
    }

    if args.fid_images > 0 {
        fid_features(&args.device, args.fid_images);
    }

    if let Some(run_dir) = &args.run_dir
        && args.train_seconds > 0.0
    {
        let mut config = experiments::mnist_quickstart();
        config.iterations = match args.tiny {
            true => 2,
            false => ((args.train_seconds * 1e3 / quickstart_ms) as usize).max(1),
        };
        // The decay's start scaled with the run (a start at or past the last step is refused).
        config.lr_decay_start = Some(config.iterations / 3);
        let options = RunOptions {
            quiet: true,
            ..RunOptions::new(run_dir)
        };
        let start = Instant::now();
        let mnist = sngan::embedded_source(&config).expect("embedded MNIST");
        let summary = train(&config, mnist, &autodiff, &options).expect("quick-start training");
        let seconds = start.elapsed().as_secs_f64();
        eprintln!(
            "quick-start: {} G steps in {seconds:.1} s, {:.0} real images/s, loss_d {:.4}, loss_g {:.4}; grid {}",
            summary.step,
            summary.images_per_second,
            summary.last.loss_d,
            summary.last.loss_g,
            summary.grid.display()
        );
        println!("bench: run/quickstart_steps {}", summary.step);
        println!("bench: run/quickstart_seconds {seconds:.1}");
        println!(
            "bench: run/quickstart_images_per_s {:.1}",
            summary.images_per_second
        );
    }
}

/// Inception features per second of `n` uint8 32x32 images (after one untimed warm-up batch).
fn fid_features(device: &Device, n: usize) {
    let pixels: Vec<u8> = (0..n * 32 * 32 * 3)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let images = ImagesRef::new(&pixels, [n, 32, 32, 3]).expect("image shape");
    let model = hash_init(device).expect("hash-init Inception");
    let extractor =
        InceptionExtractor::new(model, Preprocess::PytorchFid, device).with_batch_size(200);
    extractor
        .extract(images.slice(0, n.min(200)))
        .expect("warm-up batch");
    let start = Instant::now();
    let features = extractor.extract(images).expect("features");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(features.pool3.n, n);
    eprintln!("FID Inception: {n} images in {seconds:.2} s");
    println!(
        "bench: fid/inception_images_per_s {:.1}",
        n as f64 / seconds
    );
}
