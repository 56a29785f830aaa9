//! Training for the SNGAN family (Miyato et al., ICLR 2018): the GAN step in paper order
//! (`n_dis` D steps, then one G step), the adversarial losses, Adam per network with linear
//! decay, an EMA of G, BigGAN's orthogonal regularisation, checkpoints that resume bit-for-bit
//! on the CPU, and run directories with metrics, sample grids and progress.

mod checkpoint;
mod config;
mod error;
pub mod experiments;
mod gan;
mod grid;
pub mod loss;
mod penalty;
mod rng;
mod run;

pub use checkpoint::{latest, load as load_checkpoint, save as save_checkpoint, write_atomic};
pub use config::{AdamSettings, DataConfig, Dataset, EmaConfig, Split, TrainConfig};
pub use error::TrainError;
pub use gan::{Gan, StepStats};
pub use grid::save_grid;
pub use loss::Loss;
pub use penalty::{GradientPenalty, GradientPenaltyConfig};
pub use rng::HostRng;
pub use run::{Evaluator, RunOptions, RunSummary, train, train_on};

#[cfg(test)]
mod tests;
