//! The GAN step in the order of Miyato et al. (ICLR 2018, Algorithm 1): `n_dis` discriminator
//! steps, each on a fresh real batch with the generator's output detached, then one generator
//! step with its own batch size; Adam per network, linear LR decay, EMA of G.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use sngan_core::SplitMix64;
use sngan_data::ImageBatch;
use sngan_models::{Discriminator, Generator, named_tensors, orthogonal_regularization};

use crate::config::{AdamSettings, TrainConfig};
use crate::error::TrainError;
use crate::sample::{latents, random_classes};

/// Everything a run trains, and what a checkpoint must hold to resume it exactly.
pub struct Gan {
    /// The generator (autodiff device, training mode).
    pub g: Generator,
    /// The discriminator (autodiff device, training mode).
    pub d: Discriminator,
    /// Adam of G.
    pub opt_g: ModuleOptimizer,
    /// Adam of D.
    pub opt_d: ModuleOptimizer,
    /// Moving average of G (inner device), when configured.
    pub ema: Option<Generator>,
    /// G steps done.
    pub step: usize,
    /// Real batches drawn so far (the data order resumes from it).
    pub batches: u64,
    /// Latent, label and mixing-weight generator (its state is saved in checkpoints).
    pub rng: SplitMix64,
    config: TrainConfig,
    device: Device,
}

/// Numbers of one iteration, for the log.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepStats {
    /// D loss of the last D step.
    pub loss_d: f32,
    /// G loss (adversarial part).
    pub loss_g: f32,
    /// Mean D logit on the last real batch.
    pub d_real: f32,
    /// Mean D logit on the last fake batch.
    pub d_fake: f32,
    /// Gradient penalty of the last D step (included in `loss_d`), when the run has one.
    pub loss_gp: Option<f32>,
}

fn adam(settings: &AdamSettings) -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(settings.beta1 as f32)
        .with_beta_2(settings.beta2 as f32)
        .with_epsilon(settings.eps as f32)
        .init()
}

/// Reads every parameter once: Burn initialises parameters lazily, and a lazy parameter cloned
/// into a `no_grad()` copy would come back without gradient tracking.
fn materialize<M: Module>(module: &M) {
    let _ = named_tensors(module);
}

impl Gan {
    /// Fresh networks for `config` on the autodiff `device`, seeded with `config.seed`.
    pub fn new(config: &TrainConfig, device: &Device) -> Self {
        device.seed(config.seed);
        let g = config.generator.init(device);
        let d = config.discriminator.init(device);
        materialize(&g);
        materialize(&d);
        let ema = config.ema.as_ref().map(|_| g.valid());
        Self {
            g,
            d,
            opt_g: adam(&config.adam_g),
            opt_d: adam(&config.adam_d),
            ema,
            step: 0,
            batches: 0,
            rng: SplitMix64::new(config.seed ^ 0x6A09_E667_F3BC_C908),
            config: config.clone(),
            device: device.clone(),
        }
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// One G step and the `n_dis` D steps before it. `real` yields real batches on the device.
    ///
    /// # Errors
    /// A data error, or a loss that is NaN or infinite (nothing is updated by that step).
    pub fn iteration(
        &mut self,
        mut real: impl FnMut() -> Result<ImageBatch, TrainError>,
    ) -> Result<StepStats, TrainError> {
        let config = &self.config;
        let lr = self.config.lr_factor(self.step);
        let z_dim = config.generator.z_dim();
        let n_classes = config.generator.n_classes();
        let mut stats = StepStats::default();

        for _ in 0..config.n_dis {
            let batch = real()?;
            self.batches += 1;
            let b = batch.images.dims()[0];
            let y_real = n_classes.map(|_| batch.labels.clone());
            let z = latents(&mut self.rng, b, z_dim, &self.device);
            let y_fake = n_classes.map(|n| random_classes(&mut self.rng, b, n, &self.device));
            // G in training mode (BN batch statistics, running stats advance) but no graph.
            let fake = self.g.clone().no_grad().forward(z, y_fake.clone());
            let d_real = self.d.forward(batch.images.clone(), y_real.clone());
            let d_fake = self.d.forward(fake.clone(), y_fake);
            stats.d_real = d_real.clone().mean().into_scalar::<f32>();
            stats.d_fake = d_fake.clone().mean().into_scalar::<f32>();
            let mut loss = config.loss.discriminator(d_real, d_fake);
            let mut loss_d = loss.clone().into_scalar::<f32>();
            if let Some(gp) = &config.gradient_penalty {
                // Mixing weights `[batch, 1, 1, 1]` from U(0, 1].
                let alpha: Vec<f32> = (0..b).map(|_| self.rng.uniform() as f32).collect();
                let alpha = Tensor::from_data(TensorData::new(alpha, [b, 1, 1, 1]), &self.device);
                let penalty = gp
                    .penalty(&self.d, batch.images, fake, alpha, y_real)
                    .ok_or_else(|| gp.through_attention())?;
                stats.loss_gp = Some(finite(penalty.value, "loss_gp", self.step)?);
                loss_d += penalty.value;
                loss = loss + penalty.surrogate;
            }
            stats.loss_d = finite(loss_d, "loss_d", self.step)?;
            let grads = GradientsParams::from_grads(loss.backward(), &self.d);
            self.d = self
                .opt_d
                .step(config.adam_d.lr * lr, self.d.clone(), grads);
        }

        let b = config.g_batch_size;
        let z = latents(&mut self.rng, b, z_dim, &self.device);
        let y = n_classes.map(|n| random_classes(&mut self.rng, b, n, &self.device));
        let fake = self.g.forward(z, y.clone());
        // D takes no weight gradients here; its vectors still advance, as in PyTorch's G step.
        let loss = config
            .loss
            .generator(self.d.clone().no_grad().forward(fake, y));
        stats.loss_g = finite(loss.clone().into_scalar::<f32>(), "loss_g", self.step)?;
        let loss = match config
            .ortho_reg
            .and_then(|s| orthogonal_regularization(&self.g, s, &["shared"]))
        {
            Some(ortho) => loss + ortho,
            None => loss,
        };
        let grads = GradientsParams::from_grads(loss.backward(), &self.g);
        self.g = self
            .opt_g
            .step(config.adam_g.lr * lr, self.g.clone(), grads);
        self.step += 1;
        self.update_ema();
        Ok(stats)
    }

    /// `ema = decay * ema + (1 - decay) * g` over parameters and buffers (StudioGAN's `Ema`);
    /// a plain copy before `start`.
    fn update_ema(&mut self) {
        let (Some(ema), Some(settings)) = (self.ema.take(), self.config.ema.as_ref()) else {
            return;
        };
        if !self.step.is_multiple_of(settings.every) {
            self.ema = Some(ema);
            return;
        }
        let decay = if self.step < settings.start {
            0.0
        } else {
            settings.decay
        };
        let mut source = Collect::default();
        self.g.visit(&mut source);
        self.ema = Some(ema.map(&mut Lerp {
            source: source.0,
            decay,
        }));
    }

    /// The generator to sample from: the EMA when there is one, else G; on the inner device.
    pub fn sampler(&self) -> Generator {
        match &self.ema {
            Some(ema) => ema.clone(),
            None => self.g.valid(),
        }
    }

    /// Each spectrally normalised D layer's current sigma `u^T W v` of its raw weight, by path.
    pub fn d_sigmas(&self) -> Vec<(String, f32)> {
        let tensors: HashMap<String, Tensor<2>> = named_tensors(&self.d)
            .into_iter()
            .map(|t| (t.path, t.matrix.inner()))
            .collect();
        let mut out: Vec<(String, f32)> = tensors
            .iter()
            .filter_map(|(path, u)| {
                let layer = path.strip_suffix(".sn.u")?;
                let w = tensors.get(&format!("{layer}.weight"))?;
                let v = tensors.get(&format!("{layer}.sn.v"))?;
                let [rows, cols] = w.dims();
                (u.dims()[0] == rows && v.dims()[0] == cols).then(|| {
                    let sigma = u.clone().transpose().matmul(w.clone().matmul(v.clone()));
                    (layer.to_string(), sigma.into_scalar::<f32>())
                })
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn finite(value: f32, what: &'static str, step: usize) -> Result<f32, TrainError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TrainError::NonFinite { what, value, step })
    }
}

/// G's tensors by parameter id, flattened, on the inner device.
#[derive(Default)]
struct Collect(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().inner().reshape([-1]));
    }
}

struct Lerp {
    source: HashMap<ParamId, Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Lerp {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(src) = self.source.get(&param.id).cloned() else {
            return param;
        };
        let decay = self.decay;
        param.map(|ema| {
            let src = src.reshape(ema.dims());
            if decay == 0.0 {
                src
            } else {
                ema * decay + src * (1.0 - decay)
            }
        })
    }
}
