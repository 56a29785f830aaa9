//! BSN paper grid, CIFAR-10: scaled SN, c = 1.5 (Lin, Sekar and Fanti, NeurIPS 2021).
//!
//! `cargo run --release --example bsn_cifar10_ssn -- DATA_PATH [RUN_DIR]` trains `configs/bsn_cifar10_ssn.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("bsn_cifar10_ssn")
}
