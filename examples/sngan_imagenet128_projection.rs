//! SNGAN projection discriminator on ImageNet 128x128 (Miyato and Koyama, ICLR 2018).
//!
//! `cargo run --release --example sngan_imagenet128_projection -- DATA_PATH [RUN_DIR]` trains `configs/sngan_imagenet128_projection.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_imagenet128_projection")
}
