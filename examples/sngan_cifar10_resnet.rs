//! SNGAN ResNet on CIFAR-10, unconditional (Miyato et al., ICLR 2018; sngan_projection recipe).
//!
//! `cargo run --release --example sngan_cifar10_resnet -- DATA_PATH [RUN_DIR]` trains `configs/sngan_cifar10_resnet.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_cifar10_resnet")
}
