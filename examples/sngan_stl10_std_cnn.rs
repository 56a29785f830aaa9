//! SNGAN standard CNN on STL-10 48x48 (BSN recipe).
//!
//! `cargo run --release --example sngan_stl10_std_cnn -- DATA_PATH [RUN_DIR]` trains `configs/sngan_stl10_std_cnn.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sngan_stl10_std_cnn")
}
