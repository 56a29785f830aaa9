//! SNGAN standard CNN on CIFAR-10 (Miyato et al., ICLR 2018; chainer-gan-lib recipe).
//!
//! `cargo run --release --example sngan_cifar10_std_cnn -- DATA_PATH [RUN_DIR]` trains `configs/sngan_cifar10_std_cnn.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_cifar10_std_cnn")
}
