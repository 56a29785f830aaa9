//! A training run on disk: `config.json`, `checkpoints/`, `metrics.csv` (losses, per-layer
//! sigma, learning rates, images/s) and `samples/` PNG grids from a fixed latent (and fixed
//! classes, one row per class, when conditional), with a progress bar and ETA.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use sngan_data::{ImageSource, LoaderConfig, Sampler, host_batch};

use crate::checkpoint;
use crate::config::TrainConfig;
use crate::error::{TrainError, io};
use crate::gan::{Gan, StepStats};
use crate::grid::save_grid;
use crate::rng::HostRng;

/// Scores computed every `every` G steps and logged as extra `metrics.csv` columns (IS/FID from
/// the metrics crate, the MNIST yardstick, ...).
#[derive(Clone)]
pub struct Evaluator {
    /// G steps between evaluations (and at the last step).
    pub every: usize,
    /// Column names, one per score.
    pub names: Vec<String>,
    /// Scores of the current networks, in `names` order.
    #[allow(clippy::type_complexity)]
    pub score: Arc<dyn Fn(&Gan) -> Result<Vec<f64>, TrainError> + Send + Sync>,
}

/// How to run: where the data and the run directory are, and whether to resume.
#[derive(Clone)]
pub struct RunOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Stop after this many G steps instead of the config's `iterations` (the LR schedule
    /// still follows `iterations`).
    pub stop_at: Option<usize>,
    /// Continue from `out/checkpoints/latest` when present.
    pub resume: bool,
    /// No progress bar and no log lines.
    pub quiet: bool,
    /// Periodic scores for `metrics.csv`.
    pub evaluator: Option<Evaluator>,
}

impl RunOptions {
    /// Train from scratch into `out`, with progress, no periodic scores.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            stop_at: None,
            resume: false,
            quiet: false,
            evaluator: None,
        }
    }
}

/// What a finished run leaves behind.
#[derive(Clone)]
pub struct RunSummary {
    /// G steps done.
    pub step: usize,
    /// Real images per second seen by D during this invocation.
    pub images_per_second: f64,
    /// Stats of the last iteration.
    pub last: StepStats,
    /// The last sample grid.
    pub grid: PathBuf,
    /// The last checkpoint.
    pub checkpoint: PathBuf,
    /// The trained networks, for in-process use.
    pub gan: Arc<Gan>,
}

/// Opens the configured data set at `data` and trains on it.
pub fn train(
    config: &TrainConfig,
    data: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<RunSummary, TrainError> {
    let source = sngan_data::open(
        config.data.dataset.name(),
        data,
        &config.data.open_options(),
    )?;
    train_on(config, source, device, options)
}

/// Trains `config` on the images of `source`; `device` is the autodiff device.
pub fn train_on(
    config: &TrainConfig,
    source: Arc<dyn ImageSource>,
    device: &Device,
    options: &RunOptions,
) -> Result<RunSummary, TrainError> {
    check_data(config, source.as_ref())?;
    let out = &options.out;
    let (ckpt_dir, samples_dir) = (out.join("checkpoints"), out.join("samples"));
    for dir in [out, &ckpt_dir, &samples_dir] {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let config_json = serde_json::to_string_pretty(config).expect("configs serialise");
    checkpoint::write_atomic(&out.join("config.json"), config_json.as_bytes())?;

    let mut gan = Gan::new(config, device);
    if options.resume
        && let Some(path) = checkpoint::latest(&ckpt_dir)?
    {
        checkpoint::load(&mut gan, &path)?;
    }
    let loader = LoaderConfig::new(config.batch_size)
        .with_seed(config.seed)
        .with_flip(config.data.flip);
    let mut sampler = Sampler::new(source.len(), loader);
    for _ in 0..gan.batches {
        sampler.next_batch(); // the data order continues where the checkpoint left it
    }
    let mut real = || -> Result<_, TrainError> {
        let (indices, flips) = sampler.next_batch();
        Ok(host_batch(source.as_ref(), &indices, &flips)?.into_device(device))
    };

    let stop = options
        .stop_at
        .unwrap_or(config.iterations)
        .min(config.iterations);
    let bar = progress(gan.step, stop, options.quiet);
    let score_names = options
        .evaluator
        .as_ref()
        .map_or(&[][..], |e| e.names.as_slice());
    let mut log = MetricsLog::open(
        &out.join("metrics.csv"),
        config.gradient_penalty.is_some(),
        &gan.d_sigmas(),
        score_names,
    )?;
    let fixed = FixedSamples::new(config, &device.clone().inner());
    let (start, start_step) = (Instant::now(), gan.step);
    let mut last = StepStats::default();
    let mut grid = samples_dir.join("final.png");
    let mut ckpt = None;
    while gan.step < stop {
        last = gan.iteration(&mut real)?;
        let step = gan.step;
        let seen = ((step - start_step) * config.n_dis * config.batch_size) as f64;
        let rate = seen / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(step as u64);
        bar.set_message(format!(
            "loss_d {:.3} loss_g {:.3} {rate:.0} img/s",
            last.loss_d, last.loss_g
        ));
        let scores = match &options.evaluator {
            Some(e) if step.is_multiple_of(e.every) || step == stop => Some((e.score)(&gan)?),
            _ => None,
        };
        if let (Some(values), Some(e)) = (&scores, &options.evaluator)
            && !options.quiet
        {
            let line: Vec<String> = e
                .names
                .iter()
                .zip(values)
                .map(|(n, v)| format!("{n} {v:.4}"))
                .collect();
            match bar.is_hidden() {
                true => eprintln!("step {step}: {}", line.join("  ")),
                false => bar.println(format!("step {step}: {}", line.join("  "))),
            }
        }
        if step.is_multiple_of(config.log_every) || step == stop || scores.is_some() {
            let lr = config.lr_factor(step - 1);
            let lrs = [config.adam_g.lr * lr, config.adam_d.lr * lr];
            let sigmas = gan.d_sigmas();
            log.row(
                step,
                &last,
                lrs,
                rate,
                &sigmas,
                scores.as_deref(),
                score_names.len(),
            )?;
            if !options.quiet && bar.is_hidden() {
                eprintln!(
                    "step {step}/{stop}  loss_d {:.4}  loss_g {:.4}  D(x) {:.3}  D(G(z)) {:.3}  {rate:.0} img/s",
                    last.loss_d, last.loss_g, last.d_real, last.d_fake
                );
            }
        }
        if step.is_multiple_of(config.sample_every) || step == stop {
            grid = samples_dir.join(format!("step-{step:08}.png"));
            fixed.save(&gan, &grid)?;
        }
        if step.is_multiple_of(config.checkpoint_every) || step == stop {
            ckpt = Some(checkpoint::save(&gan, &ckpt_dir)?);
        }
    }
    bar.finish_and_clear();
    if !grid.exists() {
        fixed.save(&gan, &grid)?; // a resumed run that had nothing left to do
    }
    let checkpoint = match ckpt {
        Some(c) => c,
        None => checkpoint::save(&gan, &ckpt_dir)?,
    };
    let done = (gan.step - start_step) * config.n_dis * config.batch_size;
    Ok(RunSummary {
        step: gan.step,
        images_per_second: done as f64 / start.elapsed().as_secs_f64().max(1e-9),
        last,
        grid,
        checkpoint,
        gan: Arc::new(gan),
    })
}

/// The images must have the shape the generator makes, and labels for a conditional run.
fn check_data(config: &TrainConfig, source: &dyn ImageSource) -> Result<(), TrainError> {
    let [h, w, c] = source.shape();
    let g = &config.generator;
    let (size, channels) = (g.image_size(), g.image_channels());
    let problem = if source.is_empty() {
        Some("the data set is empty".to_string())
    } else if (h, w, c) != (size, size, channels) {
        Some(format!(
            "the generator makes {size}x{size}x{channels} images, the data has {h}x{w}x{c}"
        ))
    } else if let Some(n) = g.n_classes()
        && source.num_classes().is_none_or(|k| k > n)
    {
        Some(format!(
            "a {n}-class conditional run needs labels in 0..{n}, the data has {:?} classes",
            source.num_classes()
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(TrainError::Invalid {
            path: PathBuf::from(source.describe(0)),
            message,
        }),
        None => Ok(()),
    }
}

fn progress(position: usize, len: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64).with_position(position as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} G steps  {msg}  ETA {eta}")
            .expect("valid template"),
    );
    bar
}

/// `metrics.csv`: one row per logged step; sigma columns named after D's layers.
struct MetricsLog {
    file: std::fs::File,
    path: PathBuf,
}

impl MetricsLog {
    fn open(
        path: &Path,
        penalty: bool,
        sigmas: &[(String, f32)],
        scores: &[String],
    ) -> Result<Self, TrainError> {
        let fresh = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io(path))?;
        if fresh {
            let sigma_cols: String = sigmas.iter().map(|(p, _)| format!(",sigma/{p}")).collect();
            let score_cols: String = scores.iter().map(|n| format!(",{n}")).collect();
            let gp_col = if penalty { ",loss_gp" } else { "" };
            writeln!(
                file,
                "step,loss_d,loss_g,d_real,d_fake{gp_col},lr_g,lr_d,images_per_s{sigma_cols}{score_cols}"
            )
            .map_err(io(path))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        step: usize,
        s: &StepStats,
        [lr_g, lr_d]: [f64; 2],
        rate: f64,
        sigmas: &[(String, f32)],
        scores: Option<&[f64]>,
        n_scores: usize,
    ) -> Result<(), TrainError> {
        let sigma_vals: String = sigmas.iter().map(|(_, v)| format!(",{v}")).collect();
        // Steps without an evaluation leave the score columns empty.
        let score_vals: String = match scores {
            Some(values) => values.iter().map(|v| format!(",{v}")).collect(),
            None => ",".repeat(n_scores),
        };
        let gp_val = s.loss_gp.map(|v| format!(",{v}")).unwrap_or_default();
        writeln!(
            self.file,
            "{step},{},{},{},{}{gp_val},{lr_g},{lr_d},{rate:.1}{sigma_vals}{score_vals}",
            s.loss_d, s.loss_g, s.d_real, s.d_fake
        )
        .map_err(io(&self.path))
    }
}

/// The latents (and classes) every sample grid of a run is drawn from.
struct FixedSamples {
    z: Tensor<2>,
    y: Option<Tensor<1, Int>>,
    columns: usize,
}

impl FixedSamples {
    fn new(config: &TrainConfig, device: &Device) -> Self {
        let mut rng = HostRng::new(config.seed ^ 0xBB67_AE85_84CA_A73B);
        let z_dim = config.generator.z_dim();
        match config.generator.n_classes() {
            // One row per class (up to 10), the same ten latents in every row.
            Some(n) => {
                let (rows, columns) = (n.min(10), 10);
                let z = rng.latents(columns, z_dim, device).repeat_dim(0, rows);
                let ids: Vec<i64> = (0..rows as i64)
                    .flat_map(|r| std::iter::repeat_n(r, columns))
                    .collect();
                let y =
                    Tensor::from_data(burn::tensor::TensorData::new(ids, [rows * columns]), device);
                Self {
                    z,
                    y: Some(y),
                    columns,
                }
            }
            None => Self {
                z: rng.latents(64, z_dim, device),
                y: None,
                columns: 8,
            },
        }
    }

    fn save(&self, gan: &Gan, path: &Path) -> Result<(), TrainError> {
        let images = gan.sampler().forward(self.z.clone(), self.y.clone());
        save_grid(images, self.columns, path)
    }
}
