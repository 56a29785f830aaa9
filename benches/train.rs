//! One GAN iteration (the `n_dis` D steps and one G step of Miyato et al., ICLR 2018, with Adam
//! on both and the EMA update where configured) of two experiments on the default backend, on
//! random batches: the MNIST quick-start and SNGAN's CIFAR-10 standard CNN at full width.
//! Prints `bench: <key> <value>` lines that `cargo xtask bench train` sets beside
//! bench/pytorch/train.py's.

mod common;

use sngan::train::{TrainConfig, experiments};

fn main() {
    let device = sngan::default_device().autodiff();
    let cases: [(&str, TrainConfig, usize); 2] = [
        ("quickstart", experiments::mnist_quickstart(), 15),
        (
            "sngan_cifar10_std_cnn",
            experiments::sngan_cifar10_std_cnn(),
            5,
        ),
    ];
    for (name, config, rounds) in cases {
        let ms = common::iteration_ms(&config, &device, rounds);
        let images = (config.n_dis * config.batch_size) as f64;
        eprintln!("{name}: median {ms:.1} ms per iteration over {rounds}");
        println!("bench: train/{name}_iteration_ms {ms:.2}");
        println!(
            "bench: train/{name}_real_images_per_s {:.1}",
            images / ms * 1e3
        );
    }
}
