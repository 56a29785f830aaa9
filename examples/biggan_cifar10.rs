//! BigGAN on CIFAR-10 (Brock et al., ICLR 2019; mmgen recipe).
//!
//! `cargo run --release --example biggan_cifar10 -- DATA_PATH [RUN_DIR]` trains `configs/biggan_cifar10.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("biggan_cifar10")
}
