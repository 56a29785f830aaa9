//! SNGAN ResNet with conditional BN and the projection discriminator on CIFAR-10 (Miyato and Koyama, ICLR 2018).
//!
//! `cargo run --release --example sngan_cifar10_resnet_projection -- DATA_PATH [RUN_DIR]` trains `configs/sngan_cifar10_resnet_projection.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_cifar10_resnet_projection")
}
