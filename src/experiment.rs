//! The body every `examples/<experiment>.rs` shares: load `configs/<experiment>.json`, take the
//! data path and run directory from the command line, train on the default device.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use burn::config::Config;

use crate::scores::{default_scorers, evaluator};
use crate::train::{RunOptions, TrainConfig, train};

/// Trains `configs/<stem>.json`; arguments: `[DATA_PATH] [RUN_DIR]` (the quick-start's data
/// ships in `assets/mnist`; the run directory defaults to `runs/<stem>`).
pub fn run_experiment(stem: &str) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("configs").join(format!("{stem}.json"));
    let config = TrainConfig::load(&path)
        .with_context(|| format!("{}: not a training config", path.display()))?;
    let mut args = std::env::args().skip(1);
    let data = match (args.next(), stem) {
        (Some(data), _) => PathBuf::from(data),
        (None, "mnist_quickstart") => crate::scores::embedded_mnist(),
        (None, _) => bail!("usage: cargo run --release --example {stem} -- DATA_PATH [RUN_DIR]"),
    };
    let out = args
        .next()
        .map_or_else(|| PathBuf::from("runs").join(stem), PathBuf::from);
    let device = crate::default_device().autodiff();
    let scorers = default_scorers(&config, &device.clone().inner())?;
    let options = RunOptions {
        resume: true,
        evaluator: evaluator(scorers, config.checkpoint_every),
        ..RunOptions::new(out.clone())
    };
    let summary = train(&config, &data, &device, &options)?;
    println!(
        "{stem}: {} G steps; samples {}; checkpoint {}",
        summary.step,
        summary.grid.display(),
        summary.checkpoint.display()
    );
    Ok(())
}
