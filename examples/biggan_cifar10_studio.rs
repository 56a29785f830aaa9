//! BigGAN on CIFAR-10 (Brock et al., ICLR 2019; StudioGAN recipe).
//!
//! `cargo run --release --example biggan_cifar10_studio -- DATA_PATH [RUN_DIR]` trains `configs/biggan_cifar10_studio.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("biggan_cifar10_studio")
}
