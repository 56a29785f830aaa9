//! BSN paper grid, CIFAR-10: plain SN (Lin, Sekar and Fanti, NeurIPS 2021).
//!
//! `cargo run --release --example bsn_cifar10_sn -- DATA_PATH [RUN_DIR]` trains `configs/bsn_cifar10_sn.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("bsn_cifar10_sn")
}
