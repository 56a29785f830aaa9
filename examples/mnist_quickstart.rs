//! The quick-start: a narrow conditional SNGAN standard CNN on the MNIST test split shipped in assets/mnist.
//!
//! `cargo run --release --example mnist_quickstart [RUN_DIR]` trains `configs/mnist_quickstart.json`.

fn main() -> anyhow::Result<()> {
    sngan::run_experiment("mnist_quickstart")
}
