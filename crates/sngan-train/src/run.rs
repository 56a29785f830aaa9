//! A training run on disk, the unit every command works on: `config.json`, `checkpoints/`,
//! `metrics.csv` (losses, D(x), D(G(z)), per-layer sigma, learning rates, images/s, periodic
//! scores) and `samples/` PNG grids from a fixed latent (one row per class when conditional).
//! [`Run`] opens one (its checked config and newest intact checkpoint); [`train`] creates or
//! resumes one, with the prefetching loader feeding the GAN step and a progress bar with ETA.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use sngan_core::{AtomicFile, Images};
use sngan_data::{GanLoader, ImageSource, LoaderConfig, Sampler};
use sngan_models::Generator;

use crate::checkpoint::{self, Checkpoint};
use crate::config::TrainConfig;
use crate::error::{TrainError, io};
use crate::gan::{Gan, StepStats};
use crate::grid::save_grid;
use crate::parallel::DataParallel;
use crate::sample::{BnStatistics, SampleSpec, generate};

/// A run directory: its checked config and its newest checkpoint that verifies.
#[derive(Clone, Debug)]
pub struct Run {
    dir: PathBuf,
    config: TrainConfig,
    checkpoint: Option<Checkpoint>,
    skipped: Vec<String>,
}

impl Run {
    /// Opens the run at `dir`: reads and checks `config.json` and picks the newest checkpoint
    /// whose files match their recorded digests, falling back past damaged ones (each named in
    /// [`warnings`](Self::warnings)).
    pub fn open(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join("config.json");
        if !path.is_file() {
            return Err(TrainError::Invalid {
                path: dir.to_path_buf(),
                message: "not a run directory: it has no config.json".into(),
            });
        }
        let config = TrainConfig::read(&path)?;
        let (checkpoint, skipped) = checkpoint::newest(&dir.join("checkpoints"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            checkpoint,
            skipped,
        })
    }

    /// Creates the run directory for `config` (checked first, so an invalid config leaves
    /// nothing behind) and writes its `config.json`. A directory that already holds a run is
    /// refused: continue it with [`train`]'s `resume`, or choose another.
    pub fn create(dir: &Path, config: &TrainConfig) -> Result<Self, TrainError> {
        config.validate()?;
        if dir.join("config.json").exists() {
            return Err(TrainError::Invalid {
                path: dir.to_path_buf(),
                message:
                    "already holds a run: resume it (--resume) or choose another run directory"
                        .into(),
            });
        }
        for sub in [
            dir.to_path_buf(),
            dir.join("checkpoints"),
            dir.join("samples"),
        ] {
            std::fs::create_dir_all(&sub).map_err(io(&sub))?;
        }
        let json = serde_json::to_string_pretty(config).expect("configs serialise") + "\n";
        sngan_core::write_atomic(&dir.join("config.json"), json.as_bytes())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config: config.clone(),
            checkpoint: None,
            skipped: Vec::new(),
        })
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The checkpoint the run continues from, if it has one.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref()
    }

    /// A line for each newer checkpoint that was skipped as damaged.
    pub fn warnings(&self) -> &[String] {
        &self.skipped
    }

    /// `metrics.csv`.
    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }

    /// `metrics.csv` read back (empty before the first logged step).
    pub fn metrics(&self) -> Result<Metrics, TrainError> {
        match self.metrics_path().is_file() {
            true => Metrics::read(&self.metrics_path()),
            false => Ok(Metrics {
                names: Vec::new(),
                rows: Vec::new(),
            }),
        }
    }

    /// The newest sample grid (`samples/step-*.png`), if any.
    pub fn latest_grid(&self) -> Option<PathBuf> {
        let rd = std::fs::read_dir(self.dir.join("samples")).ok()?;
        rd.filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("step-") && n.ends_with(".png"))
            })
            .max()
    }

    /// The networks at the checkpoint (fresh ones, seeded by the config, when there is none),
    /// on the autodiff `device`.
    pub fn gan(&self, device: &Device) -> Result<Gan, TrainError> {
        let mut gan = Gan::new(&self.config, device);
        if let Some(checkpoint) = &self.checkpoint {
            checkpoint.restore(&mut gan)?;
        }
        Ok(gan)
    }

    /// The network to sample from at the checkpoint (its EMA when it keeps one), on the
    /// inference `device`, and its G step.
    pub fn generator(&self, device: &Device) -> Result<(Generator, usize), TrainError> {
        let checkpoint = self
            .checkpoint
            .as_ref()
            .ok_or_else(|| TrainError::Invalid {
                path: self.dir.join("checkpoints"),
                message: "no checkpoint yet: train the run first".into(),
            })?;
        let g = checkpoint.generator(&self.config.generator, device)?;
        Ok((g, checkpoint.step()))
    }

    /// The same run, sampling with `statistics` instead of its config's `sample_statistics`
    /// (`sngan sample --bn-statistics`); the config on disk is not changed.
    pub fn with_sample_statistics(mut self, statistics: BnStatistics) -> Self {
        self.config.sample_statistics = statistics;
        self
    }

    /// Draws `spec` from the checkpoint's generator.
    pub fn sample(&self, spec: &SampleSpec, device: &Device) -> Result<Images, TrainError> {
        let (g, _) = self.generator(device)?;
        let c = &self.config;
        generate(&g, &c.generator, spec, &c.sample_statistics, device)
    }
}

/// `metrics.csv` read back: the column names and, per row, the values (`None` where empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// Column names (`step` first).
    pub names: Vec<String>,
    /// One entry per row and column.
    pub rows: Vec<Vec<Option<f64>>>,
}

impl Metrics {
    fn read(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let mut lines = text.lines();
        let names: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(String::from)
            .collect();
        let rows = lines
            .filter(|l| l.split(',').count() == names.len())
            .map(|l| l.split(',').map(|v| v.parse().ok()).collect())
            .collect();
        Ok(Self { names, rows })
    }

    /// `(step, value)` of every row where column `name` has a value.
    pub fn series(&self, name: &str) -> Vec<(f64, f64)> {
        let Some(col) = self.names.iter().position(|n| n == name) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter_map(|r| Some((r[0]?, r[col]?)))
            .filter(|(_, v)| v.is_finite())
            .collect()
    }

    /// The column names `keep` accepts.
    pub fn columns(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        self.names.iter().filter(|n| keep(n)).cloned().collect()
    }
}

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

/// How to run: where the run directory is, and whether to resume.
#[derive(Clone)]
pub struct RunOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Stop after this many G steps instead of the config's `iterations` (the LR schedule
    /// still follows `iterations`).
    pub stop_at: Option<usize>,
    /// Continue the run in `out` from its newest intact checkpoint; without it, a directory
    /// that already holds a run is refused.
    pub resume: bool,
    /// No progress bar and no log lines.
    pub quiet: bool,
    /// Periodic scores for `metrics.csv`.
    pub evaluator: Option<Evaluator>,
    /// Batches the loader decodes ahead of the training step.
    pub prefetch: usize,
    /// Data parallel over further devices (`device` is rank 0); `None` trains on `device` alone.
    pub data_parallel: Option<DataParallel>,
}

impl RunOptions {
    /// Train from scratch into `out`, with progress, no periodic scores, 4 batches of prefetch.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            stop_at: None,
            resume: false,
            quiet: false,
            evaluator: None,
            prefetch: 4,
            data_parallel: None,
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
    /// Time the training step waited for the data loader during this invocation.
    pub data_wait: Duration,
    /// Wall time of this invocation's training loop.
    pub elapsed: Duration,
    /// Stats of the last iteration.
    pub last: StepStats,
    /// The last sample grid.
    pub grid: PathBuf,
    /// The last checkpoint.
    pub checkpoint: PathBuf,
    /// Checkpoints skipped as damaged when resuming, with why.
    pub warnings: Vec<String>,
    /// The trained networks, for in-process use.
    pub gan: Arc<Gan>,
}

/// Trains `config` on the images of `source` (from `config.data.open(path)`, or in memory);
/// `device` is the autodiff device. The config and the data are checked before the run
/// directory is touched.
pub fn train(
    config: &TrainConfig,
    source: Arc<dyn ImageSource>,
    device: &Device,
    options: &RunOptions,
) -> Result<RunSummary, TrainError> {
    config.validate()?;
    check_data(config, source.as_ref())?;
    if let Some(parallel) = &options.data_parallel {
        parallel.check(config)?;
    }
    for device in
        std::iter::once(device).chain(options.data_parallel.iter().flat_map(|p| &p.replicas))
    {
        config.precision.check_device(device)?;
    }
    let out = &options.out;
    let run = match options.resume && out.join("config.json").exists() {
        true => {
            let run = Run::open(out)?;
            let (ours, theirs) = (to_json(config), to_json(run.config()));
            if ours != theirs {
                return Err(TrainError::Invalid {
                    path: out.join("config.json"),
                    message:
                        "holds another config than the one given: resume a run with its own config"
                            .into(),
                });
            }
            run
        }
        false => Run::create(out, config)?,
    };
    let warn = |line: &str| {
        if !options.quiet {
            eprintln!("warning: {line}");
        }
    };
    run.warnings().iter().for_each(|w| warn(w));
    let mut gan = run.gan(device)?;
    if let Some(parallel) = &options.data_parallel {
        gan.replicate(parallel)?;
    }

    let stop = options
        .stop_at
        .unwrap_or(config.iterations)
        .min(config.iterations);
    let score_names = options
        .evaluator
        .as_ref()
        .map_or(&[][..], |e| e.names.as_slice());
    let mut log = MetricsLog::open(
        &run.metrics_path(),
        config.gradient_penalty.is_some(),
        gan.loss_scales.is_some(),
        &gan.d_sigmas(),
        score_names,
        gan.step,
    )?;
    let samples_dir = out.join("samples");
    let (grid_spec, columns) =
        SampleSpec::grid(&config.generator, config.seed ^ 0xBB67_AE85_84CA_A73B);
    let save_samples = |gan: &Gan, path: &Path| -> Result<(), TrainError> {
        let images = generate(
            &gan.sampler(),
            &config.generator,
            &grid_spec,
            &config.sample_statistics,
            &device.clone().inner(),
        )?;
        save_grid(&images, columns, path)
    };

    let loader = LoaderConfig::new(config.batch_size)
        .with_seed(config.seed)
        .with_flip(config.data.flip)
        .with_prefetch(options.prefetch);
    let mut sampler = Sampler::new(source.len(), loader);
    sampler.skip(gan.batches); // the data order continues where the checkpoint left it
    let mut loader = GanLoader::from_sampler(source, sampler, device)?;

    let bar = progress(gan.step, stop, options.quiet);
    let (start, start_step) = (Instant::now(), gan.step);
    let mut last = StepStats::default();
    let mut grid = samples_dir.join(format!("step-{:08}.png", gan.step));
    let mut ckpt = None;
    while gan.step < stop {
        last = gan.iteration(|| {
            loader
                .next_batch()
                .unwrap_or_else(|| {
                    Err(sngan_data::DataError::Invalid {
                        what: "GAN loader".into(),
                        expected: "another batch".into(),
                        found: "the loader stopped after an error".into(),
                    })
                })
                .map_err(TrainError::from)
        })?;
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
            log.row(step, &last, lrs, rate, &sigmas, scores.as_deref())?;
            if !options.quiet && bar.is_hidden() {
                eprintln!(
                    "step {step}/{stop}  loss_d {:.4}  loss_g {:.4}  D(x) {:.3}  D(G(z)) {:.3}  {rate:.0} img/s",
                    last.loss_d, last.loss_g, last.d_real, last.d_fake
                );
            }
        }
        if step.is_multiple_of(config.sample_every) || step == stop {
            grid = samples_dir.join(format!("step-{step:08}.png"));
            save_samples(&gan, &grid)?;
        }
        if step.is_multiple_of(config.checkpoint_every) || step == stop {
            gan.check_replicas()?;
            ckpt = Some(checkpoint::save(&gan, &out.join("checkpoints"))?);
        }
    }
    bar.finish_and_clear();
    if !grid.exists() {
        save_samples(&gan, &grid)?; // a resumed run that had nothing left to do
    }
    let checkpoint = match ckpt {
        Some(c) => c,
        None => checkpoint::save(&gan, &out.join("checkpoints"))?,
    };
    let elapsed = start.elapsed();
    let done = (gan.step - start_step) * config.n_dis * config.batch_size;
    Ok(RunSummary {
        step: gan.step,
        images_per_second: done as f64 / elapsed.as_secs_f64().max(1e-9),
        data_wait: loader.waited(),
        elapsed,
        last,
        grid,
        checkpoint,
        warnings: run.warnings().to_vec(),
        gan: Arc::new(gan),
    })
}

fn to_json(config: &TrainConfig) -> String {
    serde_json::to_string(config).expect("configs serialise")
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
    n_scores: usize,
}

impl MetricsLog {
    /// Opens the log for a run at G step `step`: a fresh file gets its header; an existing one
    /// must have the same columns and loses the rows after `step` (a run killed after its last
    /// checkpoint logged steps that the resumed run logs again).
    fn open(
        path: &Path,
        penalty: bool,
        loss_scales: bool,
        sigmas: &[(String, f32)],
        scores: &[String],
        step: usize,
    ) -> Result<Self, TrainError> {
        let sigma_cols: String = sigmas.iter().map(|(p, _)| format!(",sigma/{p}")).collect();
        let score_cols: String = scores.iter().map(|n| format!(",{n}")).collect();
        let gp_col = if penalty { ",loss_gp" } else { "" };
        let scale_cols = match loss_scales {
            true => ",loss_scale_d,loss_scale_g",
            false => "",
        };
        let header = format!(
            "step,loss_d,loss_g,d_real,d_fake{gp_col}{scale_cols},lr_g,lr_d,images_per_s{sigma_cols}{score_cols}"
        );
        let mut kept = header.clone() + "\n";
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            let mut lines = text.lines();
            let found = lines.next().unwrap_or_default();
            if found != header {
                return Err(TrainError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "has the columns\n  {found}\nthis run logs\n  {header}\nresume with the same score options (or move the file away)"
                    ),
                });
            }
            let columns = header.split(',').count();
            for line in lines {
                // A row cut short by a kill has fewer columns; it is dropped with the later ones.
                let row_step: Option<usize> = line.split(',').next().and_then(|s| s.parse().ok());
                if line.split(',').count() == columns && row_step.is_some_and(|s| s <= step) {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
        }
        let mut rewrite = AtomicFile::create(path)?;
        rewrite.write_all(kept.as_bytes()).map_err(io(path))?;
        rewrite.commit()?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io(path))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            n_scores: scores.len(),
        })
    }

    fn row(
        &mut self,
        step: usize,
        s: &StepStats,
        [lr_g, lr_d]: [f64; 2],
        rate: f64,
        sigmas: &[(String, f32)],
        scores: Option<&[f64]>,
    ) -> Result<(), TrainError> {
        let sigma_vals: String = sigmas.iter().map(|(_, v)| format!(",{v}")).collect();
        // Steps without an evaluation leave the score columns empty.
        let score_vals: String = match scores {
            Some(values) => values.iter().map(|v| format!(",{v}")).collect(),
            None => ",".repeat(self.n_scores),
        };
        let gp_val = s.loss_gp.map(|v| format!(",{v}")).unwrap_or_default();
        let scale_vals = s
            .loss_scales
            .map(|l| format!(",{},{}", l.d.scale, l.g.scale))
            .unwrap_or_default();
        writeln!(
            self.file,
            "{step},{},{},{},{}{gp_val}{scale_vals},{lr_g},{lr_d},{rate:.1}{sigma_vals}{score_vals}",
            s.loss_d, s.loss_g, s.d_real, s.d_fake
        )
        .map_err(io(&self.path))
    }
}
