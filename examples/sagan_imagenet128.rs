//! SAGAN on ImageNet 128x128 (Zhang et al., ICML 2019; mmgen recipe).
//!
//! `cargo run --release --example sagan_imagenet128 -- DATA_PATH [RUN_DIR]` trains `configs/sagan_imagenet128.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sagan_imagenet128")
}
