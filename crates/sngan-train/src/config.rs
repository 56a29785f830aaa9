//! A training run as data: networks, data, loss, optimisers and schedules, in one `Config`
//! that `configs/<stem>.json` stores (round-trip tested) and the examples load.

use burn::prelude::*;
use sngan_data::{CelebaCrop, Filter, ImageNetStyle, OpenOptions};
use sngan_models::{DiscriminatorConfig, GeneratorConfig};

use crate::loss::Loss;
use crate::penalty::GradientPenaltyConfig;

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

/// A split of a data set (each reader accepts those its data set has).
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum Split {
    /// The training split.
    Train,
    /// The test split.
    Test,
    /// STL-10's 100,000 unlabelled images.
    Unlabeled,
    /// STL-10 train + unlabelled.
    TrainUnlabeled,
    /// Train + test.
    TrainTest,
    /// CelebA's validation split.
    Valid,
    /// Every image (CelebA).
    All,
}

impl Split {
    /// The data crate's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::Unlabeled => "unlabeled",
            Split::TrainUnlabeled => "train+unlabeled",
            Split::TrainTest => "train+test",
            Split::Valid => "valid",
            Split::All => "all",
        }
    }
}

/// Which images a run reads and how they are prepared; the path is given at run time (`--data`).
/// Every `None` keeps the reader's default, which reproduces the BSSN inputs.
#[derive(Config, Debug, PartialEq)]
pub struct DataConfig {
    /// The data set.
    pub dataset: Dataset,
    /// Split; `None` is the one GAN papers train on (STL-10 unlabelled, CelebA all, else train).
    #[config(default = "None")]
    pub split: Option<Split>,
    /// Side the images are resized to; `None` keeps the reader's default.
    #[config(default = "None")]
    pub size: Option<usize>,
    /// Resize filter.
    #[config(default = "None")]
    pub filter: Option<Filter>,
    /// CelebA crop (BSSN 128 by default; mimicry's centre 178, DCGAN's 108, torchvision's 140).
    #[config(default = "None")]
    pub celeba_crop: Option<CelebaCrop>,
    /// ImageNet crop and resize convention (BSSN by default, or BigGAN's).
    #[config(default = "None")]
    pub imagenet_style: Option<ImageNetStyle>,
    /// Random horizontal flips.
    #[config(default = false)]
    pub flip: bool,
}

impl DataConfig {
    /// The reader options this config asks for.
    pub fn open_options(&self) -> OpenOptions {
        let defaults = OpenOptions::default();
        OpenOptions {
            split: self.split.map(|s| s.name().to_string()),
            size: self.size,
            filter: self.filter,
            celeba_crop: self.celeba_crop.unwrap_or(defaults.celeba_crop),
            imagenet_style: self.imagenet_style.unwrap_or(defaults.imagenet_style),
            ..defaults
        }
    }
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
    /// WGAN-GP on D (the BSN gamma runs).
    #[config(default = "None")]
    pub gradient_penalty: Option<GradientPenaltyConfig>,
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
