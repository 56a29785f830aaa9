//! One GAN iteration (the `n_dis` D steps and one G step of Miyato et al., ICLR 2018, with Adam
//! on both and the EMA update where configured) of two experiments on the default backend, on
//! random batches: the MNIST quick-start and SNGAN's CIFAR-10 standard CNN at full width.
//! Prints `bench: <key> <value>` lines that `cargo xtask bench train` sets beside
//! bench/pytorch/train.py's.

use std::time::Instant;

use sngan::burn::prelude::*;
use sngan::burn::tensor::{Distribution, TensorData};
use sngan::data::ImageBatch;
use sngan::train::{Gan, TrainConfig, experiments};

fn main() {
    // `cargo bench --bench train -- NAME` runs only the cases whose name contains NAME.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let device = sngan::default_device().autodiff();
    device.seed(0);
    let cases: [(&str, TrainConfig, usize); 2] = [
        ("quickstart", experiments::mnist_quickstart(), 15),
        (
            "sngan_cifar10_std_cnn",
            experiments::sngan_cifar10_std_cnn(),
            5,
        ),
    ];
    for (name, config, rounds) in cases {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let mut gan = Gan::new(&config, &device);
        let (c, s, b) = (
            config.generator.image_channels(),
            config.generator.image_size(),
            config.batch_size,
        );
        let labels: Vec<i64> = (0..b as i64).map(|i| i % 10).collect();
        let batch = ImageBatch {
            images: Tensor::random([b, c, s, s], Distribution::Uniform(-1.0, 1.0), &device),
            labels: Tensor::from_data(TensorData::new(labels, [b]), &device),
        };
        let mut real = || Ok(batch.clone());
        gan.iteration(&mut real).expect("warm-up iteration");
        let mut times: Vec<f64> = (0..rounds)
            .map(|_| {
                let start = Instant::now();
                gan.iteration(&mut real).expect("iteration");
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let ms = times[rounds / 2];
        let images = (config.n_dis * config.batch_size) as f64;
        eprintln!("{name}: median {ms:.1} ms per iteration over {rounds}");
        println!("bench: train/{name}_iteration_ms {ms:.2}");
        println!(
            "bench: train/{name}_real_images_per_s {:.1}",
            images / ms * 1e3
        );
    }
}
