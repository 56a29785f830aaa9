//! Training for the SNGAN family (Miyato et al., ICLR 2018): the GAN step in paper order
//! (`n_dis` D steps, then one G step), the adversarial losses, Adam per network with linear
//! decay, an EMA of G, BigGAN's orthogonal regularisation, mixed precision (bf16, f16 with loss
//! scaling) and data parallel over several devices, checkpoints that resume bit-for-bit
//! on the CPU, the run directory as the unit every command works on ([`Run`]), one way to draw
//! samples ([`sample`]) and a run's report as one HTML page ([`report`]).

mod checkpoint;
mod config;
mod error;
pub mod experiments;
mod gan;
mod grid;
pub mod loss;
mod parallel;
mod penalty;
mod precision;
pub mod report;
mod run;
pub mod sample;

pub use checkpoint::{Checkpoint, save as save_checkpoint};
pub use config::{AdamSettings, EmaConfig, TrainConfig};
pub use error::TrainError;
pub use gan::{Gan, StepStats};
pub use grid::save_grid;
pub use loss::Loss;
pub use parallel::{DataParallel, GradientSync};
pub use penalty::{GradientPenalty, GradientPenaltyConfig};
pub use precision::{LossScale, LossScaleConfig, LossScales, Precision};
pub use run::{Evaluator, Metrics, Run, RunOptions, RunSummary, train};
pub use sample::{BnStatistics, Classes, Latents, SampleSpec};

#[cfg(test)]
mod tests;
