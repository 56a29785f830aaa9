//! BSN paper grid, CIFAR-10: a learnable gain per D layer (Lin, Sekar and Fanti, NeurIPS 2021).
//!
//! `cargo run --release --example bsn_cifar10_diff_gamma -- DATA_PATH [RUN_DIR]` trains `configs/bsn_cifar10_diff_gamma.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("bsn_cifar10_diff_gamma")
}
