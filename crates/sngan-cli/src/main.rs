//! The `sngan` command line (DESIGN.md section 8): with no arguments it trains the MNIST
//! quick-start, a small conditional SNGAN (Miyato et al., ICLR 2018) on the MNIST copy that
//! ships with the project.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use npyz::WriterBuilder;
use sngan::burn::prelude::*;
use sngan::burn::store::ModuleRecord;
use sngan::burn::tensor::Bytes;
use sngan::models::presets;
use sngan::train::{RunOptions, TrainConfig};

/// Spectrally normalised GANs on Burn.
#[derive(Parser)]
#[command(name = "sngan", version, about)]
struct Cli {
    /// Compute device: flex, ndarray, wgpu[:N], cuda[:N] (default: the first one built in, GPU first).
    #[arg(long, global = true)]
    device: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a GAN (no --config: the MNIST quick-start).
    Train(TrainArgs),
    /// Draw samples from a trained run.
    Sample(SampleArgs),
    /// Every preset with its G and D parameter counts.
    Models,
    /// Write every experiment's config as <DIR>/<name>.json (what `cargo xtask configs` runs).
    #[command(hide = true)]
    WriteConfigs {
        /// Target folder.
        dir: PathBuf,
    },
}

#[derive(clap::Args, Default)]
struct TrainArgs {
    /// Experiment config (configs/<name>.json).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data set location (file or folder, as the data set needs).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory (default runs/<name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Stop after this many G steps.
    #[arg(long)]
    iters: Option<usize>,
    /// Continue from the run directory's latest checkpoint.
    #[arg(long)]
    resume: bool,
}

#[derive(clap::Args)]
struct SampleArgs {
    /// Run directory.
    #[arg(long)]
    run: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 100)]
    n: usize,
    /// Samples as uint8 N x H x W x C: `.npz` (key `x`) or `.npy`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A PNG grid of the first samples.
    #[arg(long)]
    grid: Option<PathBuf>,
    /// Draw every sample of this class (conditional runs).
    #[arg(long)]
    class: Option<usize>,
    /// Truncate latents to [-T, T] (BigGAN's truncation trick).
    #[arg(long)]
    truncation: Option<f64>,
    /// Seed of the latents and classes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let device = match &cli.device {
        Some(spec) => sngan::device(spec)?,
        None => sngan::default_device(),
    };
    match cli.command {
        None => quickstart(&device),
        Some(Command::Train(args)) => train(args, &device).map(|_| ()),
        Some(Command::Sample(args)) => sample(args, &device),
        Some(Command::Models) => models(&device),
        Some(Command::WriteConfigs { dir }) => write_configs(&dir),
    }
}

/// The MNIST copy that ships inside the project.
fn embedded_mnist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist")
}

fn quickstart(device: &Device) -> Result<()> {
    println!(
        "sngan quick-start: conditional SNGAN on the embedded MNIST test split ({})",
        embedded_mnist().display()
    );
    println!("(run `sngan --help` for the other commands)");
    let summary = train(TrainArgs::default(), device)?;
    println!("sample grid, one row per class: {}", summary.grid.display());
    Ok(())
}

fn train(args: TrainArgs, device: &Device) -> Result<sngan::train::RunSummary> {
    let config = match &args.config {
        Some(path) => TrainConfig::load(path)
            .with_context(|| format!("{}: not a training config", path.display()))?,
        None => sngan::train::experiments::mnist_quickstart(),
    };
    let data = match (&args.data, &args.config) {
        (Some(data), _) => data.clone(),
        (None, None) => embedded_mnist(),
        (None, Some(_)) => bail!(
            "--data PATH is needed: where the {:?} files are",
            config.data.dataset
        ),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&config.name));
    let options = RunOptions {
        out: out.clone(),
        stop_at: args.iters,
        resume: args.resume,
        quiet: false,
    };
    println!("run directory: {}", out.display());
    let summary = sngan::train::train(&config, &data, &device.clone().autodiff(), &options)?;
    println!(
        "done: {} G steps, loss_d {:.4}, loss_g {:.4}, {:.0} real images/s; checkpoint {}",
        summary.step,
        summary.last.loss_d,
        summary.last.loss_g,
        summary.images_per_second,
        summary.checkpoint.display()
    );
    Ok(summary)
}

fn sample(args: SampleArgs, device: &Device) -> Result<()> {
    let config_path = args.run.join("config.json");
    let config = TrainConfig::load(&config_path)
        .with_context(|| format!("{}: not a run directory", args.run.display()))?;
    let ckpt = sngan::train::latest(&args.run.join("checkpoints"))?
        .with_context(|| format!("{}: no checkpoint yet", args.run.display()))?;
    let weights = [ckpt.join("ema.bpk"), ckpt.join("g.bpk")]
        .into_iter()
        .find(|p| p.exists())
        .context("checkpoint without weights")?;
    let bytes = std::fs::read(&weights).with_context(|| weights.display().to_string())?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", weights.display()))?;
    let g = config.generator.init(device).valid().load_record(record);
    let mut rng = sngan::train::HostRng::new(args.seed);
    let z = match args.truncation {
        Some(t) => {
            sngan::models::biggan::sample_latents(args.n, config.generator.z_dim(), Some(t), device)
        }
        None => rng.latents(args.n, config.generator.z_dim(), device),
    };
    let y = match (config.generator.n_classes(), args.class) {
        (Some(n), Some(k)) if k < n => Some(Tensor::<1, Int>::full([args.n], k as i64, device)),
        (Some(n), Some(k)) => bail!("--class {k}: the run has {n} classes"),
        (Some(n), None) => Some(rng.classes(args.n, n, device)),
        (None, Some(_)) => bail!("--class given, but the run is unconditional"),
        (None, None) => None,
    };
    let images = g.forward(z, y);
    if let Some(grid) = &args.grid {
        let n = args.n.min(100);
        sngan::train::save_grid(images.clone().narrow(0, 0, n), 10, grid)?;
        println!("grid: {}", grid.display());
    }
    if let Some(out) = &args.out {
        write_uint8_nhwc(images, out)?;
        println!("samples: {}", out.display());
    }
    Ok(())
}

/// `[-1, 1]` NCHW floats to uint8 NHWC (`round(x * 127.5 + 127.5)`), as `.npy` or `.npz`
/// (key `x`), the format pytorch-fid, torch-fidelity and StudioGAN read.
fn write_uint8_nhwc(images: Tensor<4>, path: &Path) -> Result<()> {
    let [n, c, h, w] = images.dims();
    let nhwc = images.permute([0, 2, 3, 1]);
    let values: Vec<f32> = nhwc
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let bytes: Vec<u8> = values
        .iter()
        .map(|v| (v * 127.5 + 127.5).round().clamp(0.0, 255.0) as u8)
        .collect();
    let shape = [n as u64, h as u64, w as u64, c as u64];
    let tmp = path.with_extension("partial");
    {
        let file = std::io::BufWriter::new(
            std::fs::File::create(&tmp).with_context(|| tmp.display().to_string())?,
        );
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => {
                let mut writer = npyz::WriteOptions::<u8>::new()
                    .default_dtype()
                    .shape(&shape)
                    .writer(file)
                    .begin_nd()?;
                writer.extend(bytes)?;
                writer.finish()?;
            }
            Some("npz") => {
                let mut npz = npyz::npz::NpzWriter::new(file);
                let mut writer = npz
                    .array("x", Default::default())?
                    .dtype(npyz::DType::new_scalar("|u1".parse().expect("u1 type")))
                    .shape(&shape)
                    .begin_nd()?;
                writer.extend(bytes)?;
                writer.finish()?;
            }
            _ => bail!("{}: samples go to a .npz or .npy file", path.display()),
        }
    }
    std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
    Ok(())
}

fn models(device: &Device) -> Result<()> {
    for preset in presets() {
        let (g, d) = preset.count(device);
        let note = match preset.published {
            Some(published) if published == (g, d) => "  (= published)",
            Some(_) => "  (DIFFERS from published)",
            None => "",
        };
        println!("{:<32}  G={g}  D={d}{note}", preset.name);
    }
    Ok(())
}

fn write_configs(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    for config in sngan::train::experiments::all() {
        let path = dir.join(format!("{}.json", config.name));
        let json = serde_json::to_string_pretty(&config)? + "\n";
        sngan::train::write_atomic(&path, json.as_bytes())?;
        println!("{}", path.display());
    }
    Ok(())
}
