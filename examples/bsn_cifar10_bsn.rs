//! BSN paper grid, CIFAR-10: bidirectional SN (Lin, Sekar and Fanti, NeurIPS 2021).
//!
//! `cargo run --release --example bsn_cifar10_bsn -- DATA_PATH [RUN_DIR]` trains `configs/bsn_cifar10_bsn.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("bsn_cifar10_bsn")
}
