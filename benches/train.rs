//! One GAN iteration (the `n_dis` D steps and one G step of Miyato et al., ICLR 2018, with Adam
//! on both and the EMA update where configured) of four experiments on the default backend, on
//! random batches: the MNIST quick-start, SNGAN's CIFAR-10 standard CNN at full width and its
//! ResNet-32 (n_dis 5, D batch 64, G batch 128), and SAGAN-32 (Zhang et al., ICML 2019).
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
    let cases: [(&str, TrainConfig, usize); 4] = [
        ("quickstart", experiments::mnist_quickstart(), 15),
        (
            "sngan_cifar10_std_cnn",
            experiments::sngan_cifar10_std_cnn(),
            5,
        ),
        ("sngan_cifar10_resnet", experiments::sngan_cifar10_resnet(), 3),
        ("sagan_cifar10", experiments::sagan_cifar10(), 3),
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
        let mut cpus = Vec::new();
        let mut times: Vec<f64> = (0..rounds)
            .map(|_| {
                let c0 = cpu_ms();
                let start = Instant::now();
                gan.iteration(&mut real).expect("iteration");
                cpus.push(cpu_ms() - c0);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        cpus.sort_by(f64::total_cmp);
        eprintln!("LOCAL {name}: cpu median {:.1} ms", cpus[rounds / 2]);
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

fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}
