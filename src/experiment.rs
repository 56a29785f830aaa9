//! The body every `examples/<experiment>.rs` shares: load `configs/<experiment>.json`, take the
//! data path and run directory from the command line, train on the default device.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::train::{RunOptions, TrainConfig, train};

/// Trains `configs/<stem>.json` (an example runs from its checkout); arguments: `DATA_PATH
/// [RUN_DIR]`, or for the quick-start, whose MNIST is embedded, `[RUN_DIR]`. The run
/// directory defaults to `runs/<stem>` and is resumed when it holds the run already. Sets up
/// the allocator first ([`crate::tune_allocator`]).
pub fn run_experiment(stem: &str) -> Result<()> {
    crate::tune_allocator();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{stem}.json"));
    let config = TrainConfig::read(&path)?;
    let mut args = std::env::args().skip(1);
    let source = match stem {
        "mnist_quickstart" => crate::embedded_source(&config)?,
        _ => match args.next() {
            Some(data) => config.data.open(&PathBuf::from(data))?,
            None => bail!("usage: cargo run --release --example {stem} -- DATA_PATH [RUN_DIR]"),
        },
    };
    let out = args
        .next()
        .map_or_else(|| PathBuf::from("runs").join(stem), PathBuf::from);
    let device = crate::default_device().autodiff();
    let options = RunOptions {
        resume: true,
        evaluator: crate::scores::periodic_scores(
            &config,
            None,
            None,
            &crate::scores::MnistMemo::default(),
            &device.clone().inner(),
        )?,
        ..RunOptions::new(out)
    };
    let summary = train(&config, source, &device, &options)?;
    println!(
        "{stem}: {} G steps; samples {}; checkpoint {}",
        summary.step,
        summary.grid.display(),
        summary.checkpoint.display()
    );
    Ok(())
}
