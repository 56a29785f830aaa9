//! SNGAN ResNet on STL-10 48x48 (mimicry recipe).
//!
//! `cargo run --release --example sngan_stl10_resnet -- DATA_PATH [RUN_DIR]` trains `configs/sngan_stl10_resnet.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_stl10_resnet")
}
