//! SNGAN ResNet on CelebA 64x64 (mimicry recipe).
//!
//! `cargo run --release --example sngan_celeba64_resnet -- DATA_PATH [RUN_DIR]` trains `configs/sngan_celeba64_resnet.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_celeba64_resnet")
}
