//! The GAN step in the order of Miyato et al. (ICLR 2018, Algorithm 1): `n_dis` discriminator
//! steps, each on a fresh real batch with the generator's output detached, then one generator
//! step with its own batch size; Adam per network, linear LR decay, EMA of G. Each step runs in
//! the config's precision (`precision`) on one device or on several in data parallel
//! (`parallel`).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use burn::tensor::{FloatDType, TensorData};
use sngan_core::SplitMix64;
use sngan_data::ImageBatch;
use sngan_models::{Discriminator, Generator, named_tensors, orthogonal_regularization};

use crate::config::{AdamSettings, TrainConfig};
use crate::error::TrainError;
use crate::parallel::{DataParallel, Link, MarkDistributed, Replica, shard};
use crate::precision::{LossScales, Precision, rescaled};

/// Everything a run trains, and what a checkpoint must hold to resume it exactly. In a
/// data-parallel run the public networks and optimisers are rank 0's, which every output (EMA,
/// samples, scores, checkpoints) is taken from; the other ranks hold identical copies.
pub struct Gan {
    /// The generator (autodiff device, training mode), in f32 whatever the precision.
    pub g: Generator,
    /// The discriminator (autodiff device, training mode), in f32 whatever the precision.
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
    /// Dynamic loss scales of D and G (f16 runs).
    pub loss_scales: Option<LossScales>,
    peers: Vec<Replica>,
    link: Link,
    config: TrainConfig,
    device: Device,
}

/// Numbers of one iteration, for the log (means over the data-parallel replicas).
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
    /// The loss scales after the iteration (f16 runs).
    pub loss_scales: Option<LossScales>,
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
            loss_scales: config.precision.loss_scales(),
            peers: Vec::new(),
            link: Link::Alone,
            config: config.clone(),
            device: device.clone(),
        }
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Spreads the run over `parallel`: ranks 1, 2, ... get copies of rank 0's networks (SN
    /// vectors and BN statistics included) and optimiser state, and the gradient sum is set up.
    /// Call it once, after restoring a checkpoint into rank 0.
    ///
    /// # Errors
    /// A batch size that the devices cannot share equally.
    pub fn replicate(&mut self, parallel: &DataParallel) -> Result<(), TrainError> {
        parallel.check(&self.config)?;
        self.peers = parallel
            .replicas
            .iter()
            .map(|device| Replica {
                g: self.g.clone().fork(device),
                d: self.d.clone().fork(device),
                opt_g: self.opt_g.clone(),
                opt_d: self.opt_d.clone(),
                device: device.clone(),
            })
            .collect();
        let devices = std::iter::once(self.device.clone())
            .chain(parallel.replicas.iter().cloned())
            .collect();
        self.link = Link::new(parallel, devices);
        if let Link::Collective { .. } = self.link {
            self.g = self.g.clone().map(&mut MarkDistributed);
            self.d = self.d.clone().map(&mut MarkDistributed);
            for peer in &mut self.peers {
                peer.g = peer.g.clone().map(&mut MarkDistributed);
                peer.d = peer.d.clone().map(&mut MarkDistributed);
            }
        }
        Ok(())
    }

    /// Devices of the data-parallel ranks, rank 0 first (one entry without data parallel).
    pub fn devices(&self) -> Vec<Device> {
        std::iter::once(&self.device)
            .chain(self.peers.iter().map(|p| &p.device))
            .cloned()
            .collect()
    }

    /// One G step and the `n_dis` D steps before it. `real` yields real batches on rank 0's
    /// device; with data parallel each rank takes its rows of every batch and of the latents
    /// and labels drawn for it.
    ///
    /// # Errors
    /// A data error; a penalty asked of a discriminator with self-attention; a loss that is
    /// NaN or infinite (the step it came from is not applied on the rank that saw it, and the
    /// networks in memory are not to be used further; the last checkpoint on disk is intact).
    pub fn iteration(
        &mut self,
        real: impl FnMut() -> Result<ImageBatch, TrainError> + Send,
    ) -> Result<StepStats, TrainError> {
        // flex splits each kernel over rayon's threads. Called from a thread outside the
        // pool, every split wakes the workers and sleeps until they finish; called on one of
        // the pool's threads, the caller runs the first part itself and wakes one worker
        // (on 2 cores the quick-start iteration 8-11 % faster, BENCHMARKS.md). Only where
        // kernels split (a second worker) and on one device (data-parallel ranks run on threads
        // of their own). `real` may wait here for the loader, whose decoding therefore runs on
        // a pool of its own (`GanLoader`): on this one, the wait could sit above a join of the
        // decoding on the same thread and never end.
        #[cfg(feature = "flex")]
        if self.peers.is_empty()
            && rayon::current_num_threads() > 1
            && self.device.clone().inner() == Device::flex()
        {
            return rayon::scope(|_| self.iteration_here(real));
        }
        self.iteration_here(real)
    }

    /// [`Gan::iteration`] on the calling thread.
    fn iteration_here(
        &mut self,
        mut real: impl FnMut() -> Result<ImageBatch, TrainError>,
    ) -> Result<StepStats, TrainError> {
        if let Some(gp) = &self.config.gradient_penalty
            && !self.d.is_piecewise_linear()
        {
            return Err(gp.through_attention().into());
        }
        let lr = self.config.lr_factor(self.step);
        let z_dim = self.config.generator.z_dim();
        let n_classes = self.config.generator.n_classes();
        let penalty = self.config.gradient_penalty.is_some();
        let devices = self.devices();
        let ranks = devices.len();
        let mut stats = StepStats::default();

        for _ in 0..self.config.n_dis {
            let batch = real()?;
            self.batches += 1;
            let b = batch.images.dims()[0];
            let draw = Draw::new(&mut self.rng, b, z_dim, n_classes, penalty, false);
            let inputs = devices
                .iter()
                .enumerate()
                .map(|(rank, device)| {
                    let (start, len) = shard(b, rank, ranks);
                    let rows = |t: Tensor<4>| match ranks {
                        1 => t,
                        _ => t.narrow(0, start, len).to_device(device),
                    };
                    let labels = match ranks {
                        1 => batch.labels.clone(),
                        _ => batch.labels.clone().narrow(0, start, len).to_device(device),
                    };
                    let (z, y_fake, alpha) = draw.shard(start, len, z_dim, device);
                    DInput {
                        images: rows(batch.images.clone()),
                        y_real: n_classes.map(|_| labels),
                        z,
                        y_fake,
                        alpha,
                    }
                })
                .collect();
            let scale = self.loss_scales.map(|s| s.d.scale);
            let lr_d = self.config.adam_d.lr * lr;
            let outcomes = self.on_replicas(lr_d, scale, inputs, d_step);
            let mean = Outcome::mean(&outcomes);
            if let Some(gp) = mean.penalty {
                stats.loss_gp = Some(finite(gp, "loss_gp", self.step)?);
            }
            stats.loss_d = finite(mean.loss, "loss_d", self.step)?;
            (stats.d_real, stats.d_fake) = (mean.d_real, mean.d_fake);
            if let (Some(scales), Precision::F16(settings)) =
                (&mut self.loss_scales, &self.config.precision)
            {
                scales.d.update(mean.finite, settings);
            }
        }

        let b = self.config.g_batch_size;
        let pairs = self.config.mode_seeking.is_some();
        let draw = Draw::new(&mut self.rng, b, z_dim, n_classes, false, pairs);
        let inputs = devices
            .iter()
            .enumerate()
            .map(|(rank, device)| {
                let (start, len) = shard(b, rank, ranks);
                let (z, y, _) = draw.shard(start, len, z_dim, device);
                GInput { z, y }
            })
            .collect();
        let scale = self.loss_scales.map(|s| s.g.scale);
        let lr_g = self.config.adam_g.lr * lr;
        let mean = Outcome::mean(&self.on_replicas(lr_g, scale, inputs, g_step));
        stats.loss_g = finite(mean.loss, "loss_g", self.step)?;
        if let (Some(scales), Precision::F16(settings)) =
            (&mut self.loss_scales, &self.config.precision)
        {
            scales.g.update(mean.finite, settings);
        }
        self.step += 1;
        self.update_ema();
        stats.loss_scales = self.loss_scales;
        Ok(stats)
    }

    /// Runs `work` on every rank with its input, rank 0 on this thread when it is alone, else
    /// one thread per rank; the outcomes in rank order.
    fn on_replicas<I: Send>(
        &mut self,
        lr: f64,
        scale: Option<f64>,
        inputs: Vec<I>,
        work: fn(Nets<'_>, &Phase<'_>, I) -> Outcome,
    ) -> Vec<Outcome> {
        let Gan {
            g,
            d,
            opt_g,
            opt_d,
            peers,
            link,
            config,
            device,
            ..
        } = self;
        let phase = Phase {
            config,
            link,
            lr,
            ranks: peers.len() + 1,
            scale,
        };
        let mut nets = vec![Nets {
            g,
            d,
            opt_g,
            opt_d,
            device,
            rank: 0,
        }];
        nets.extend(peers.iter_mut().enumerate().map(|(i, p)| Nets {
            g: &mut p.g,
            d: &mut p.d,
            opt_g: &mut p.opt_g,
            opt_d: &mut p.opt_d,
            device: &p.device,
            rank: i + 1,
        }));
        if nets.len() == 1 {
            let (nets, input) = (nets.remove(0), inputs.into_iter().next().expect("an input"));
            return vec![work(nets, &phase, input)];
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = nets
                .into_iter()
                .zip(inputs)
                .map(|(nets, input)| {
                    let phase = &phase;
                    s.spawn(move || {
                        let _guard = phase.link.guard();
                        work(nets, phase, input)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    }

    /// `Ok` when every data-parallel rank holds rank 0's weights and spectral-norm vectors bit
    /// for bit (BN running statistics are each rank's own and are not compared).
    pub fn check_replicas(&self) -> Result<(), TrainError> {
        let state = |g: &Generator, d: &Discriminator| -> Vec<(String, TensorData)> {
            let tensors = named_tensors(g).into_iter().chain(named_tensors(d));
            tensors
                .filter(|t| !t.path.ends_with("running_mean") && !t.path.ends_with("running_var"))
                .map(|t| (t.path, t.matrix.into_data()))
                .collect()
        };
        let main = state(&self.g, &self.d);
        for (i, peer) in self.peers.iter().enumerate() {
            let other = state(&peer.g, &peer.d);
            if let Some(((path, _), _)) = main.iter().zip(&other).find(|(a, b)| a != b) {
                return Err(TrainError::ReplicaDrift {
                    rank: i + 1,
                    tensor: path.clone(),
                });
            }
        }
        Ok(())
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

/// Latents, fake classes and penalty mixing weights of one whole batch, drawn from the run's
/// RNG in the order a single device draws them; each rank takes its rows.
pub(crate) struct Draw {
    z: Vec<f32>,
    classes: Option<Vec<i64>>,
    alpha: Option<Vec<f32>>,
}

impl Draw {
    /// `batch` latents `N(0, I)`, classes uniform over `0..n_classes` (conditional runs; with
    /// `pairs`, rows 2i and 2i + 1 share one, for mode seeking), and mixing weights from
    /// `U(0, 1]` when `alpha`.
    pub(crate) fn new(
        rng: &mut SplitMix64,
        batch: usize,
        z_dim: usize,
        n_classes: Option<usize>,
        alpha: bool,
        pairs: bool,
    ) -> Self {
        let z = rng.normals(batch * z_dim);
        let per_class = if pairs { 2 } else { 1 };
        let classes = n_classes.map(|n| {
            (0..batch.div_ceil(per_class))
                .flat_map(|_| std::iter::repeat_n(rng.below(n) as i64, per_class))
                .take(batch)
                .collect()
        });
        let alpha = alpha.then(|| (0..batch).map(|_| rng.uniform() as f32).collect());
        Self { z, classes, alpha }
    }

    /// Rows `[start, start + len)` on `device`: latents `[len, z_dim]`, classes `[len]`, mixing
    /// weights `[len, 1, 1, 1]`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn shard(
        &self,
        start: usize,
        len: usize,
        z_dim: usize,
        device: &Device,
    ) -> (Tensor<2>, Option<Tensor<1, Int>>, Option<Tensor<4>>) {
        let rows = start..start + len;
        let z = self.z[start * z_dim..(start + len) * z_dim].to_vec();
        let z = Tensor::from_data(TensorData::new(z, [len, z_dim]), device);
        let y = self
            .classes
            .as_ref()
            .map(|c| Tensor::from_data(TensorData::new(c[rows.clone()].to_vec(), [len]), device));
        let alpha = self
            .alpha
            .as_ref()
            .map(|a| Tensor::from_data(TensorData::new(a[rows].to_vec(), [len, 1, 1, 1]), device));
        (z, y, alpha)
    }
}

/// A D step's inputs on one rank.
struct DInput {
    images: Tensor<4>,
    y_real: Option<Tensor<1, Int>>,
    z: Tensor<2>,
    y_fake: Option<Tensor<1, Int>>,
    alpha: Option<Tensor<4>>,
}

/// A G step's inputs on one rank.
struct GInput {
    z: Tensor<2>,
    y: Option<Tensor<1, Int>>,
}

/// One rank's networks, borrowed for a step.
struct Nets<'a> {
    g: &'a mut Generator,
    d: &'a mut Discriminator,
    opt_g: &'a mut ModuleOptimizer,
    opt_d: &'a mut ModuleOptimizer,
    device: &'a Device,
    rank: usize,
}

/// What every rank shares in a D or G step.
struct Phase<'a> {
    config: &'a TrainConfig,
    link: &'a Link,
    /// The learning rate of the network that steps.
    lr: f64,
    ranks: usize,
    /// The loss scale (f16).
    scale: Option<f64>,
}

/// What a rank reports from a step.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    /// The loss (D's includes the penalty).
    loss: f32,
    d_real: f32,
    d_fake: f32,
    penalty: Option<f32>,
    /// The summed gradients were finite (always, unless loss scaling checks them).
    finite: bool,
}

impl Outcome {
    /// The mean over ranks; `finite` when it is on every rank (the ranks agree on it, as they
    /// see the same summed gradients).
    fn mean(outcomes: &[Outcome]) -> Outcome {
        let n = outcomes.len() as f32;
        let mean = |f: fn(&Outcome) -> f32| outcomes.iter().map(f).sum::<f32>() / n;
        Outcome {
            loss: mean(|o| o.loss),
            d_real: mean(|o| o.d_real),
            d_fake: mean(|o| o.d_fake),
            penalty: outcomes
                .iter()
                .map(|o| o.penalty)
                .sum::<Option<f32>>()
                .map(|s| s / n),
            finite: outcomes.iter().all(|o| o.finite),
        }
    }
}

impl Phase<'_> {
    /// The loss a rank differentiates: its shard's mean times the loss scale, divided by the
    /// number of ranks so that the summed gradients are the whole batch's mean.
    fn scaled(&self, loss: Tensor<1>) -> Tensor<1> {
        let factor = self.scale.unwrap_or(1.0) / self.ranks as f64;
        match factor == 1.0 {
            true => loss,
            false => loss * factor,
        }
    }

    /// Sums `grads` over the ranks, divides out the loss scale, and takes the Adam step on
    /// `module` unless a gradient is inf or NaN (checked under loss scaling) or `loss_finite`
    /// is false; returns whether the summed gradients were finite.
    fn apply<M: Module>(
        &self,
        module: &mut M,
        opt: &mut ModuleOptimizer,
        grads: GradientsParams,
        loss_finite: bool,
        nets: (&Device, usize),
    ) -> bool {
        let (device, rank) = nets;
        let check = self.scale.is_some();
        let unscale = self.scale.map_or(1.0, |s| 1.0 / s);
        match self.link {
            // The collective summed the gradients inside backward().
            Link::Alone | Link::Collective { .. } => {
                let (grads, finite) = match check {
                    true => rescaled(&grads, module, unscale, check),
                    false => (grads, true),
                };
                if finite && loss_finite {
                    *module = opt.step(self.lr, module.clone(), grads);
                }
                finite
            }
            Link::Gather(exchange) => {
                let (own, finite) = rescaled(&grads, module, unscale, check);
                let outgoing = (0..self.ranks)
                    .map(|_| (rescaled(&own, module, 1.0, false).0, finite))
                    .collect();
                let column = exchange.all_to_all(rank, outgoing);
                let finite = column.iter().all(|(_, f)| *f);
                let grads = column
                    .into_iter()
                    .map(|(g, _)| (g.to_device(device, module), device.clone()))
                    .collect();
                if finite && loss_finite {
                    let multi = MultiGradientsParams { grads };
                    *module = opt.step_multi(self.lr, module.clone(), multi);
                }
                finite
            }
        }
    }
}

/// One rank's D step: D on real and fake images in the run's precision, the loss (and the
/// penalty) in f32, gradients summed over the ranks, Adam.
fn d_step(nets: Nets<'_>, phase: &Phase<'_>, input: DInput) -> Outcome {
    let Nets {
        g,
        d,
        opt_d,
        device,
        rank,
        ..
    } = nets;
    let (config, precision) = (phase.config, &phase.config.precision);
    // G in training mode (BN batch statistics, running stats advance) but no graph.
    let g_low = precision.working_copy(&*g).no_grad();
    let fake = g_low.forward(precision.cast(input.z), input.y_fake.clone());
    let d_low = precision.working_copy(&*d);
    let d_real = d_low.forward(precision.cast(input.images.clone()), input.y_real.clone());
    let d_fake = d_low.forward(fake.clone(), input.y_fake);
    let (d_real, d_fake) = (d_real.cast(FloatDType::F32), d_fake.cast(FloatDType::F32));
    let mut out = Outcome {
        d_real: d_real.clone().mean().into_scalar::<f32>(),
        d_fake: d_fake.clone().mean().into_scalar::<f32>(),
        ..Outcome::default()
    };
    let mut loss = config.loss.discriminator(d_real, d_fake);
    out.loss = loss.clone().into_scalar::<f32>();
    if let (Some(gp), Some(alpha)) = (&config.gradient_penalty, input.alpha) {
        // In f32 on the master weights, whatever the precision (see `precision`).
        let fake = fake.cast(FloatDType::F32);
        let penalty = gp
            .penalty(d, input.images, fake, alpha, input.y_real)
            .expect("a penalised D is piecewise linear (checked before the step)");
        out.penalty = Some(penalty.value);
        out.loss += penalty.value;
        loss = loss + penalty.surrogate;
    }
    let grads = GradientsParams::from_grads(phase.scaled(loss).backward(), &*d);
    out.finite = phase.apply(d, opt_d, grads, out.loss.is_finite(), (device, rank));
    out
}

/// One rank's G step: G and (without weight gradients) D in the run's precision, the loss and
/// BigGAN's orthogonal regularisation in f32, gradients summed over the ranks, Adam.
fn g_step(nets: Nets<'_>, phase: &Phase<'_>, input: GInput) -> Outcome {
    let Nets {
        g,
        d,
        opt_g,
        device,
        rank,
        ..
    } = nets;
    let (config, precision) = (phase.config, &phase.config.precision);
    let fake = precision
        .working_copy(&*g)
        .forward(precision.cast(input.z.clone()), input.y.clone());
    let diversity = config
        .mode_seeking
        .map(|weight| mode_seeking(fake.clone(), input.z, weight));
    // D takes no weight gradients here; its vectors still advance, as in PyTorch's G step.
    let logits = precision.working_copy(&*d).no_grad().forward(fake, input.y);
    let loss = config.loss.generator(logits.cast(FloatDType::F32));
    let mut out = Outcome {
        loss: loss.clone().into_scalar::<f32>(),
        ..Outcome::default()
    };
    let loss = match config
        .ortho_reg
        .and_then(|s| orthogonal_regularization(&*g, s, &["shared"]))
    {
        Some(ortho) => loss + ortho,
        None => loss,
    };
    let loss = match diversity {
        Some(term) => loss + term,
        None => loss,
    };
    let grads = GradientsParams::from_grads(phase.scaled(loss).backward(), &*g);
    out.finite = phase.apply(g, opt_g, grads, out.loss.is_finite(), (device, rank));
    out
}

/// MSGAN's mode-seeking term (Mao et al., CVPR 2019) in f32 over the pairs of rows (2i, 2i + 1):
/// `weight / (mean|G(z_a) - G(z_b)| / mean|z_a - z_b| + 1e-5)`. Minimising it pushes the two
/// images of a pair apart in proportion to their latents' distance.
///
/// # Shapes
/// - `fake`: `[b, c, h, w]`, `z`: `[b, z_dim]`, `b` even
/// - output: `[1]`
pub(crate) fn mode_seeking(fake: Tensor<4>, z: Tensor<2>, weight: f64) -> Tensor<1> {
    let pair_gap = |t: Tensor<2>| {
        let [b, n] = t.dims();
        // Row i of `[b / 2, 2n]` holds rows 2i and 2i + 1 side by side.
        let pairs = t.reshape([b / 2, 2 * n]);
        (pairs.clone().narrow(1, 0, n) - pairs.narrow(1, n, n))
            .abs()
            .mean()
    };
    let [b, c, h, w] = fake.dims();
    let ratio = pair_gap(fake.cast(FloatDType::F32).reshape([b, c * h * w])) / pair_gap(z);
    (ratio + 1e-5).recip() * weight
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
