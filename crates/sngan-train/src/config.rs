//! A training run as data: networks, data, loss, optimisers and schedules, in one `Config`
//! that `configs/<stem>.json` stores (round-trip tested) and the examples load.

use burn::prelude::*;
use sngan_models::{DiscriminatorConfig, GeneratorConfig};

use crate::loss::Loss;

/// Adam's settings for one network (PyTorch's parameterisation; Burn's default eps differs).
#[derive(Config, Debug, PartialEq)]
pub struct AdamSettings {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator floor.
    #[config(default = 1e-8)]
    pub eps: f64,
}

/// Exponential moving average of the generator's weights and buffers.
#[derive(Config, Debug, PartialEq)]
pub struct EmaConfig {
    /// `ema = decay * ema + (1 - decay) * g`.
    pub decay: f64,
    /// Before this G step the average is a copy of G (StudioGAN/BigGAN-PyTorch `ema_start`).
    pub start: usize,
    /// Update every this many G steps (mmgen BigGAN: 4 D steps = 1 G step, so 1).
    #[config(default = 1)]
    pub every: usize,
}

/// The data sets a run can train on.
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum Dataset {
    /// MNIST (IDX).
    Mnist,
    /// CIFAR-10.
    Cifar10,
    /// CIFAR-100.
    Cifar100,
    /// STL-10.
    Stl10,
    /// CelebA (aligned).
    CelebA,
    /// ImageNet (BSSN npy folders, ImageFolder or the train tar).
    ImageNet,
}

impl Dataset {
    /// The data crate's name for it.
    pub fn name(&self) -> sngan_data::DatasetName {
        match self {
            Dataset::Mnist => sngan_data::DatasetName::Mnist,
            Dataset::Cifar10 => sngan_data::DatasetName::Cifar10,
            Dataset::Cifar100 => sngan_data::DatasetName::Cifar100,
            Dataset::Stl10 => sngan_data::DatasetName::Stl10,
            Dataset::CelebA => sngan_data::DatasetName::CelebA,
            Dataset::ImageNet => sngan_data::DatasetName::ImageNet,
        }
    }
}

/// Which images a run reads; the path is given at run time (`--data`).
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// The data set.
    pub dataset: Dataset,
    /// Split (`train`, `test`, STL-10 `unlabeled`, ...); `None` is the one GAN papers train on.
    #[config(default = "None")]
    pub split: Option<String>,
    /// Side the images are resized to; `None` keeps the reader's default.
    #[config(default = "None")]
    pub size: Option<usize>,
    /// Random horizontal flips.
    #[config(default = false)]
    pub flip: bool,
}

/// One training run.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// Experiment stem (`configs/<name>.json`, `examples/<name>.rs`).
    pub name: String,
    /// The generator.
    pub generator: GeneratorConfig,
    /// The discriminator.
    pub discriminator: DiscriminatorConfig,
    /// The images.
    pub data: DataConfig,
    /// Adversarial loss.
    #[config(default = "Loss::Hinge")]
    pub loss: Loss,
    /// D steps per G step.
    #[config(default = 5)]
    pub n_dis: usize,
    /// Real (and fake) images per D step.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Fakes per G step (SNGAN uses twice the D batch).
    #[config(default = 128)]
    pub g_batch_size: usize,
    /// Adam of G.
    pub adam_g: AdamSettings,
    /// Adam of D.
    pub adam_d: AdamSettings,
    /// G steps.
    pub iterations: usize,
    /// Linear decay of both learning rates to 0 at the last step, from this G step on.
    #[config(default = "None")]
    pub lr_decay_start: Option<usize>,
    /// Moving average of G, sampled for evaluation.
    #[config(default = "None")]
    pub ema: Option<EmaConfig>,
    /// BigGAN's orthogonal regularisation strength on G (shared embedding excluded).
    #[config(default = "None")]
    pub ortho_reg: Option<f64>,
    /// Seed of weights, latents, labels and data order.
    #[config(default = 0)]
    pub seed: u64,
    /// Log a metrics.csv row every this many G steps.
    #[config(default = 100)]
    pub log_every: usize,
    /// Write a sample grid every this many G steps (and at the end).
    #[config(default = 1000)]
    pub sample_every: usize,
    /// Write a checkpoint every this many G steps (and at the end).
    #[config(default = 5000)]
    pub checkpoint_every: usize,
}

impl TrainConfig {
    /// Learning-rate multiplier at G step `step` (0-based): 1, then linear to 0 at the end.
    pub fn lr_factor(&self, step: usize) -> f64 {
        match self.lr_decay_start {
            Some(start) if step >= start && self.iterations > start => {
                1.0 - (step - start) as f64 / (self.iterations - start) as f64
            }
            _ => 1.0,
        }
    }
}
