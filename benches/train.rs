//! One GAN iteration (the `n_dis` D steps and one G step of Miyato et al., ICLR 2018, with Adam
//! on both and the EMA update where configured) of four experiments on the default backend, on
//! random batches: the MNIST quick-start, SNGAN's CIFAR-10 standard CNN at full width and its
//! ResNet-32 (n_dis 5, D batch 64, G batch 128), and SAGAN-32 (Zhang et al., ICML 2019). Then a
//! CelebA-style run from JPEGs on disk (mimicry's crop, 64 px, the SNGAN CelebA ResNet at an
//! eighth of its width so that the step is fast and loading has the best chance to show):
//! the prefetching loader's images/s alone, the training run's images/s, and the share of the
//! run the training step spent waiting for data. Prints `bench: <key> <value>` lines that
//! `cargo xtask bench train` sets beside bench/pytorch/train.py's.

mod common;

use std::time::Instant;

use sngan::burn::prelude::*;
use sngan::data::{DataConfig, GanLoader, LoaderConfig};
use sngan::models::resnet::{ResNetDiscriminatorConfig, ResNetGeneratorConfig};
use sngan::models::{DiscriminatorConfig, GeneratorConfig};
use sngan::train::{RunOptions, TrainConfig, experiments, train};

fn main() {
    sngan::tune_allocator();
    // `cargo bench --bench train -- NAME` runs only the cases whose name contains NAME.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let device = sngan::default_device().autodiff();
    let cases: [(&str, TrainConfig, usize); 4] = [
        ("quickstart", experiments::mnist_quickstart(), 15),
        (
            "sngan_cifar10_std_cnn",
            experiments::sngan_cifar10_std_cnn(),
            5,
        ),
        (
            "sngan_cifar10_resnet",
            experiments::sngan_cifar10_resnet(),
            3,
        ),
        ("sagan_cifar10", experiments::sagan_cifar10(), 3),
    ];
    for (name, config, rounds) in cases {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let time = common::iteration_time(&config, &device, rounds);
        let ms = time.ms;
        let images = (config.n_dis * config.batch_size) as f64;
        eprintln!("{name}: median {ms:.1} ms per iteration over {rounds}");
        println!("bench: train/{name}_iteration_ms {ms:.2}");
        if let Some(cpu) = time.cpu_ms {
            println!("bench: train/{name}_iteration_cpu_ms {cpu:.2}");
        }
        println!(
            "bench: train/{name}_real_images_per_s {:.1}",
            images / ms * 1e3
        );
    }
    if only
        .as_ref()
        .is_none_or(|o| "celeba_jpeg".contains(o.as_str()))
    {
        celeba_jpeg_run(&device);
    }
}

/// Writes `n` CelebA-sized (178x218) JPEGs of smooth colour fields with noise, quality 90, as
/// `root/img_align_celeba/NNNNNN.jpg`.
fn celeba_folder(root: &std::path::Path, n: usize) {
    let dir = root.join("img_align_celeba");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut rng = sngan::core::SplitMix64::new(7);
    for k in 0..n {
        let (a, b) = (rng.below(200) as u32, rng.below(200) as u32);
        let img = image::RgbImage::from_fn(178, 218, |x, y| {
            let noise = rng.below(24) as u32;
            image::Rgb([
                ((x + a) % 200 + noise) as u8,
                ((y + b) % 200 + noise) as u8,
                ((x + y) % 200 + noise) as u8,
            ])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&img)
            .expect("jpeg");
        std::fs::write(dir.join(format!("{:06}.jpg", k + 1)), bytes).expect("write jpeg");
    }
}

fn celeba_jpeg_run(device: &Device) {
    let root = std::env::temp_dir().join(format!("sngan-bench-celeba-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    celeba_folder(&root, 1024);
    let mut config = experiments::sngan_celeba64_resnet();
    config.generator = match config.generator {
        GeneratorConfig::ResNet(g) => GeneratorConfig::ResNet(ResNetGeneratorConfig {
            channels: g.channels.iter().map(|c| c / 8).collect(),
            ..g
        }),
        other => other,
    };
    config.discriminator = match config.discriminator {
        DiscriminatorConfig::ResNet(d) => {
            let mut channels: Vec<usize> = d.channels.iter().map(|c| c / 8).collect();
            channels[0] = 3;
            DiscriminatorConfig::ResNet(ResNetDiscriminatorConfig { channels, ..d })
        }
        other => other,
    };
    let data: &DataConfig = &config.data;
    let source = data.open_partial(&root).expect("CelebA folder");

    // The loader alone: decoding (crop 178, PIL-bilinear resize to 64, flip) on all cores.
    let batches = 16;
    let loader = LoaderConfig::new(config.batch_size).with_flip(true);
    let mut alone =
        GanLoader::new(source.clone(), loader, &device.clone().inner()).expect("loader");
    let start = Instant::now();
    for _ in 0..batches {
        alone.next_batch().expect("a batch").expect("decoded");
    }
    let loading = (batches * config.batch_size) as f64 / start.elapsed().as_secs_f64();
    drop(alone);

    let options = RunOptions {
        stop_at: Some(3),
        quiet: true,
        ..RunOptions::new(root.join("run"))
    };
    let summary = train(&config, source, device, &options).expect("CelebA run");
    let wait = 100.0 * summary.data_wait.as_secs_f64() / summary.elapsed.as_secs_f64();
    eprintln!(
        "celeba jpeg: loader {loading:.0} images/s alone; training {:.0} real images/s, {wait:.1}% of the run waiting for data",
        summary.images_per_second
    );
    println!("bench: train/celeba_jpeg_loader_images_per_s {loading:.1}");
    println!(
        "bench: train/celeba_jpeg_training_real_images_per_s {:.1}",
        summary.images_per_second
    );
    println!("bench: train/celeba_jpeg_data_wait_percent {wait:.2}");
    let _ = std::fs::remove_dir_all(&root);
}
