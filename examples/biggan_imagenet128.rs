//! BigGAN on ImageNet 128x128 (Brock et al., ICLR 2019; BigGAN-PyTorch recipe).
//!
//! `cargo run --release --example biggan_imagenet128 -- DATA_PATH [RUN_DIR]` trains `configs/biggan_imagenet128.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("biggan_imagenet128")
}
