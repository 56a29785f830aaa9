//! SAGAN on CIFAR-10 (Zhang et al., ICML 2019; mmgen recipe).
//!
//! `cargo run --release --example sagan_cifar10 -- DATA_PATH [RUN_DIR]` trains `configs/sagan_cifar10.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("sagan_cifar10")
}
