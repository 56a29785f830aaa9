//! A training run as data: networks, data, loss, optimisers and schedules, in one `Config`
//! that `configs/<stem>.json` stores (round-trip tested) and the examples load. A config file
//! is checked before anything runs: unknown keys, and every value outside what its field
//! allows, are errors naming the field ([`TrainConfig::read`], [`TrainConfig::validate`]).

use std::path::Path;

use burn::prelude::*;
use sngan_core::{ConfigError, InvalidField, ensure, read_config};
use sngan_data::DataConfig;
use sngan_models::{DiscriminatorConfig, GeneratorConfig};

use crate::loss::Loss;
use crate::penalty::GradientPenaltyConfig;
use crate::precision::Precision;
use crate::sample::BnStatistics;

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
    /// The statistics G's batch norms use when it samples (the grids, the scores during
    /// training, `sngan sample` and `sngan eval` of the run).
    #[config(default = "BnStatistics::Running")]
    pub sample_statistics: BnStatistics,
    /// BigGAN's orthogonal regularisation strength on G (shared embedding excluded).
    #[config(default = "None")]
    pub ortho_reg: Option<f64>,
    /// Mode-seeking regularisation of G with this weight (MSGAN, Mao et al., CVPR 2019): G's
    /// batch is drawn in pairs of rows that share a class, and G's loss gains
    /// `weight / (mean|G(z_a) - G(z_b)| / mean|z_a - z_b| + 1e-5)`, which falls as the two
    /// images of a pair move apart: a push against collapse within a class.
    #[config(default = "None")]
    pub mode_seeking: Option<f64>,
    /// WGAN-GP on D (the BSN gamma runs).
    #[config(default = "None")]
    pub gradient_penalty: Option<GradientPenaltyConfig>,
    /// Precision of the forward and backward passes (master weights and Adam stay f32).
    #[config(default = "Precision::F32")]
    pub precision: Precision,
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

impl AdamSettings {
    fn validate(&self) -> Result<(), InvalidField> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let beta = |v: f64| (0.0..1.0).contains(&v);
        ensure(positive(self.lr), "lr", self.lr, "a positive learning rate")?;
        ensure(beta(self.beta1), "beta1", self.beta1, "a decay in [0, 1)")?;
        ensure(beta(self.beta2), "beta2", self.beta2, "a decay in [0, 1)")?;
        ensure(positive(self.eps), "eps", self.eps, "a positive number")
    }
}

impl TrainConfig {
    /// Reads and checks `configs/<name>.json` (or a run's `config.json`): unknown keys name the
    /// nearest valid one, invalid values their field (see [`validate`](Self::validate)).
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = read_config(path)?;
        config
            .validate()
            .map_err(|e| ConfigError::invalid(path, e))?;
        Ok(config)
    }

    /// Checks every field, and that the networks and the data fit together, before anything is
    /// built or written; `Err` names the field, its value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let name_ok = !self.name.is_empty()
            && !self.name.starts_with('.')
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        ensure(
            name_ok,
            "name",
            format!("{:?}", self.name),
            "a file-name-safe run name: letters, digits, '_', '-', '.' (the default run directory is runs/<name>)",
        )?;
        self.generator
            .validate()
            .map_err(|e| e.within("generator"))?;
        self.discriminator
            .validate()
            .map_err(|e| e.within("discriminator"))?;
        self.data.validate().map_err(|e| e.within("data"))?;
        self.check_fit()?;
        for (field, value) in [
            ("n_dis", self.n_dis),
            ("batch_size", self.batch_size),
            ("g_batch_size", self.g_batch_size),
            ("iterations", self.iterations),
            ("log_every", self.log_every),
            ("sample_every", self.sample_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            ensure(value > 0, field, value, "at least 1")?;
        }
        self.adam_g.validate().map_err(|e| e.within("adam_g"))?;
        self.adam_d.validate().map_err(|e| e.within("adam_d"))?;
        if let Some(start) = self.lr_decay_start {
            ensure(
                start < self.iterations,
                "lr_decay_start",
                start,
                &format!("a G step before the last ({}), or null", self.iterations),
            )?;
        }
        if let Some(ema) = &self.ema {
            ensure(
                (0.0..=1.0).contains(&ema.decay),
                "ema.decay",
                ema.decay,
                "a decay in [0, 1]",
            )?;
            ensure(ema.every > 0, "ema.every", ema.every, "at least 1")?;
        }
        if let Some(strength) = self.ortho_reg {
            ensure(
                strength.is_finite() && strength >= 0.0,
                "ortho_reg",
                strength,
                "a non-negative strength, or null",
            )?;
        }
        if let Some(weight) = self.mode_seeking {
            ensure(
                weight.is_finite() && weight > 0.0,
                "mode_seeking",
                weight,
                "a positive weight, or null",
            )?;
            ensure(
                self.g_batch_size.is_multiple_of(2),
                "g_batch_size",
                self.g_batch_size,
                "an even size: mode_seeking draws G's batch in pairs",
            )?;
        }
        self.precision
            .validate()
            .map_err(|e| e.within("precision"))?;
        if let Some(gp) = &self.gradient_penalty {
            ensure(
                gp.weight.is_finite() && gp.weight > 0.0,
                "gradient_penalty.weight",
                gp.weight,
                "a positive weight",
            )?;
            if self.discriminator.has_attention() {
                return Err(gp.through_attention());
            }
        }
        Ok(())
    }

    /// The discriminator reads what the generator makes, and the data is what both expect.
    fn check_fit(&self) -> Result<(), InvalidField> {
        let (g, d) = (&self.generator, &self.discriminator);
        let (size, channels, classes) = (g.image_size(), g.image_channels(), g.n_classes());
        let d_field = |name: &str| format!("discriminator.{}.{name}", d.kind());
        match (d, d.image_size()) {
            (_, Some(d_size)) => ensure(
                d_size == size,
                &d_field("image_size"),
                d_size,
                &format!("{size}, the side the generator makes"),
            )?,
            // A size-agnostic ResNet D is checked at the size it will see (pooling, attention).
            (DiscriminatorConfig::ResNet(r), None) => {
                let sized = r.clone().with_image_size(Some(size));
                sized
                    .validate()
                    .map_err(|e| e.within("discriminator.ResNet"))?;
            }
            (DiscriminatorConfig::StdCnn(_), None) => {}
        }
        let d_channels = match d {
            DiscriminatorConfig::StdCnn(_) => d_field("image_channels"),
            DiscriminatorConfig::ResNet(_) => d_field("channels"),
        };
        ensure(
            d.image_channels() == channels,
            &d_channels,
            d.image_channels(),
            &format!("{channels}, the channels the generator makes"),
        )?;
        ensure(
            d.n_classes() == classes,
            &d_field("n_classes"),
            format!("{:?}", d.n_classes()),
            &format!("{classes:?}, the generator's (fake classes come from it)"),
        )?;
        let [h, _, c] = self.data.image_shape();
        let dataset = self.data.dataset;
        ensure(
            h == size,
            "data.size",
            format!("{:?}", self.data.size),
            &format!(
                "{size}, the side the generator makes ({dataset} images are {h} px unless resized)"
            ),
        )?;
        let g_field = |name: &str| format!("generator.{}.{name}", g.kind());
        ensure(
            c == channels,
            &g_field("image_channels"),
            channels,
            &format!("{c}, the channels of {dataset}"),
        )?;
        if let Some(n) = classes {
            let split = self.data.split().name();
            match self.data.num_classes() {
                Some(k) => ensure(
                    n <= k,
                    &g_field("n_classes"),
                    n,
                    &format!("at most {k}, the classes of {dataset} {split}"),
                )?,
                // An image folder's classes are known once it is opened (checked then).
                None if dataset == sngan_data::DatasetName::ImageFolder => {}
                None => ensure(
                    false,
                    &g_field("n_classes"),
                    n,
                    &format!("null: {dataset} {split} has no labels to condition on"),
                )?,
            }
        }
        Ok(())
    }

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
