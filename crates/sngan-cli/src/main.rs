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
use sngan::metrics::{Metric, Protocol, Reference};
use sngan::models::presets;
use sngan::scores::{
    Scorer, default_scorers, embedded_mnist, mnist_scores, mnist_yardstick, to_uint8_nhwc,
};
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
    /// Checked download: mnist, cifar10, cifar100, stl10 or inception (the FID weights).
    Fetch {
        /// What to fetch.
        what: String,
        /// Target folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Data-set tools.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Inception statistics of a data set, as a pytorch-fid `.npz`.
    Stats {
        /// Data set: mnist, cifar10, cifar100, stl10, celeba, imagenet, imagefolder.
        #[arg(long)]
        dataset: String,
        /// Its location.
        #[arg(long)]
        data: PathBuf,
        /// Output `.npz`.
        #[arg(long)]
        out: PathBuf,
        /// FID Inception weights (`sngan fetch inception`).
        #[arg(long)]
        inception: PathBuf,
    },
    /// Score samples (IS, FID, KID, PR, or the MNIST yardstick), or the FID of two stats files.
    Eval(EvalArgs),
    /// Import a peer's pretrained checkpoint files into a run directory (config + checkpoint).
    Convert(ConvertArgs),
    /// Write a run's networks in StudioGAN's layout: its checkpoint folder, a bare PyTorch state
    /// dict, or safetensors.
    Export(ExportArgs),
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
    /// Score every N G steps (and at the end) into metrics.csv: the MNIST yardstick on MNIST
    /// runs, IS (and FID with --fid-ref) given --inception. Default: the config's checkpoint
    /// interval.
    #[arg(long, value_name = "N")]
    eval_every: Option<usize>,
    /// FID Inception weights (`sngan fetch inception`): adds IS and FID to the periodic scores.
    #[arg(long)]
    inception: Option<PathBuf>,
    /// Reference statistics of the real data for the periodic FID (`sngan stats`).
    #[arg(long, value_name = "NPZ")]
    fid_ref: Option<PathBuf>,
    /// Samples per periodic Inception score (default: the protocol's count).
    #[arg(long, value_name = "N")]
    eval_samples: Option<usize>,
    /// Protocol of the periodic Inception scores: sngan-paper, mmgen, studiogan.
    #[arg(long)]
    protocol: Option<String>,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Count, image shape, classes, label histogram and problems of a data set.
    Inspect {
        /// Data set name.
        #[arg(long)]
        dataset: String,
        /// Its location.
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Samples (uint8 NHWC `.npz`/`.npy`, e.g. from `sngan sample`).
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Statistics file to compare with `--ref` (prints `FID <value>`).
    #[arg(long)]
    stats: Option<PathBuf>,
    /// Reference statistics.
    #[arg(long = "ref")]
    reference: Option<PathBuf>,
    /// Comma-separated: is, fid, kid, pr, prdc, mnist.
    #[arg(long, default_value = "is,fid")]
    metrics: String,
    /// FID Inception weights (for is, fid, kid, pr, prdc).
    #[arg(long)]
    inception: Option<PathBuf>,
    /// Protocol preset: sngan-paper, mmgen, studiogan.
    #[arg(long, default_value = "sngan-paper")]
    protocol: String,
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// Whose files: mmgen (also mmagic's re-hosted files), studiogan, biggan-pytorch, chainer.
    #[arg(long, value_enum)]
    from: PeerArg,
    /// The files: mmgen's one .pth; StudioGAN's model=G/D/G_ema-...pth; BigGAN-PyTorch's G.pth,
    /// G_ema.pth, D.pth; sngan_projection's .npz snapshots.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The experiment whose networks the files hold (a configs/ stem, e.g. biggan_imagenet128).
    #[arg(long, required_unless_present = "config", conflicts_with = "config")]
    model: Option<String>,
    /// A training config file instead of --model.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run directory to create.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum PeerArg {
    Mmgen,
    Studiogan,
    BigganPytorch,
    Chainer,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Run directory (its latest checkpoint is exported).
    #[arg(long)]
    run: PathBuf,
    /// studiogan: a model=G/D/G_ema-current-weights-step=N.pth folder; pytorch-state-dict: one
    /// network's torch.save'd state dict; safetensors: the same as safetensors.
    #[arg(long, value_enum)]
    to: FormatArg,
    /// Folder (studiogan) or file to write.
    #[arg(long)]
    out: PathBuf,
    /// The network of a one-file export (default: the EMA generator if the run has one, else G).
    #[arg(long, value_enum)]
    net: Option<NetArg>,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum FormatArg {
    Studiogan,
    PytorchStateDict,
    Safetensors,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum NetArg {
    G,
    GEma,
    D,
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
    /// Instead of independent samples, ROWS latent interpolations of 10 steps each: row r walks
    /// linearly from one latent to another (BigGAN-PyTorch's `interp`), one class per row.
    #[arg(long, value_name = "ROWS")]
    interpolate: Option<usize>,
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
        Some(Command::Fetch { what, to }) => fetch(&what, &to),
        Some(Command::Data {
            command: DataCommand::Inspect { dataset, data },
        }) => inspect(&dataset, &data),
        Some(Command::Stats {
            dataset,
            data,
            out,
            inception,
        }) => stats(&dataset, &data, &out, &inception, &device),
        Some(Command::Eval(args)) => eval(args, &device),
        Some(Command::Convert(args)) => convert(args, &device),
        Some(Command::Export(args)) => export(args, &device),
    }
}

fn convert(args: ConvertArgs, device: &Device) -> Result<()> {
    use sngan::convert::Source;
    let config = match (&args.model, &args.config) {
        (_, Some(path)) => TrainConfig::load(path)
            .with_context(|| format!("{}: not a training config", path.display()))?,
        (Some(name), None) => sngan::train::experiments::all()
            .into_iter()
            .find(|c| &c.name == name)
            .with_context(|| {
                let names: Vec<String> = sngan::train::experiments::all()
                    .into_iter()
                    .map(|c| c.name)
                    .collect();
                format!(
                    "--model {name}: no such experiment; one of {}",
                    names.join(", ")
                )
            })?,
        (None, None) => bail!("give --model EXPERIMENT or --config FILE"),
    };
    let source = match args.from {
        PeerArg::Mmgen => Source::Mmgen,
        PeerArg::Studiogan => Source::StudioGan,
        PeerArg::BigganPytorch => Source::BigGanPytorch,
        PeerArg::Chainer => Source::Chainer,
    };
    let done = sngan::convert::convert(
        source,
        &args.files,
        config,
        &args.out,
        &device.clone().autodiff(),
    )?;
    for (net, file) in &done.sources {
        println!("{}: {}", net.name(), file.display());
    }
    for note in &done.notes {
        println!("note: {note}");
    }
    println!(
        "run directory: {} (checkpoint {})",
        args.out.display(),
        done.checkpoint.display()
    );
    Ok(())
}

fn export(args: ExportArgs, device: &Device) -> Result<()> {
    use sngan::convert::{ExportFormat, Net};
    let format = match args.to {
        FormatArg::Studiogan => ExportFormat::StudioGan,
        FormatArg::PytorchStateDict => ExportFormat::PytorchStateDict,
        FormatArg::Safetensors => ExportFormat::Safetensors,
    };
    let net = args.net.map(|n| match n {
        NetArg::G => Net::Generator,
        NetArg::GEma => Net::GeneratorEma,
        NetArg::D => Net::Discriminator,
    });
    if net.is_some() && format == ExportFormat::StudioGan {
        bail!("--net: a studiogan export writes every network of the run");
    }
    let done = sngan::convert::export(&args.run, format, net, &args.out, device)?;
    for note in &done.notes {
        println!("note: {note}");
    }
    for file in &done.files {
        println!("{}", file.display());
    }
    Ok(())
}

fn quickstart(device: &Device) -> Result<()> {
    println!(
        "sngan quick-start: conditional SNGAN on the embedded MNIST test split ({})",
        embedded_mnist().display()
    );
    println!("(run `sngan --help` for the other commands)");
    let summary = train(TrainArgs::default(), device)?;
    println!("sample grid, one row per class: {}", summary.grid.display());
    let report = mnist_scores(&summary.gan, &device.clone().inner())?;
    println!(
        "MNIST classifier on 1,000 conditional samples: {:.1}% classified as the digit asked for; classifier-FID {:.2}; classifier-IS {:.2}",
        100.0 * report[0],
        report[1],
        report[2]
    );
    Ok(())
}

/// The periodic scores of a run: the MNIST yardstick on 10-class conditional MNIST runs, IS
/// (and FID given reference statistics) with Inception weights.
fn evaluator(
    args: &TrainArgs,
    config: &TrainConfig,
    device: &Device,
) -> Result<Option<sngan::train::Evaluator>> {
    let mut scorers = default_scorers(config, device)?;
    if args.inception.is_none()
        && (args.fid_ref.is_some() || args.eval_samples.is_some() || args.protocol.is_some())
    {
        bail!(
            "--fid-ref, --eval-samples and --protocol set up Inception scores: give --inception WEIGHTS too"
        );
    }
    if let Some(weights) = &args.inception {
        let protocol = protocol(args.protocol.as_deref().unwrap_or("sngan-paper"))?;
        let reference = args.fid_ref.as_deref().map(Reference::read).transpose()?;
        let n = args.eval_samples.unwrap_or(protocol.n_fake);
        let extractor = extractor(weights, device)?;
        scorers.push(Scorer::inception(extractor, reference, n, protocol, device));
    }
    if scorers.is_empty() && args.eval_every.is_some() {
        bail!(
            "--eval-every: nothing to score; give --inception WEIGHTS (or train a conditional MNIST run)"
        );
    }
    let every = args.eval_every.unwrap_or(config.checkpoint_every);
    Ok(sngan::scores::evaluator(scorers, every))
}

fn protocol(name: &str) -> Result<Protocol> {
    Protocol::from_name(name).with_context(|| {
        format!("unknown protocol '{name}': expected sngan-paper, mmgen or studiogan")
    })
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
        stop_at: args.iters,
        resume: args.resume,
        evaluator: evaluator(&args, &config, &device.clone().inner())?,
        ..RunOptions::new(out.clone())
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
    let n = match args.interpolate {
        Some(rows) => rows * INTERP_STEPS,
        None => args.n,
    };
    let args = SampleArgs { n, ..args };
    let z = match args.truncation {
        Some(t) => {
            sngan::models::biggan::sample_latents(args.n, config.generator.z_dim(), Some(t), device)
        }
        None => rng.latents(args.n, config.generator.z_dim(), device),
    };
    let z = match args.interpolate {
        Some(rows) => interpolate_latents(z, rows),
        None => z,
    };
    let y = match (config.generator.n_classes(), args.class) {
        (Some(n), Some(k)) if k < n => Some(Tensor::<1, Int>::full([args.n], k as i64, device)),
        (Some(n), Some(k)) => bail!("--class {k}: the run has {n} classes"),
        // An interpolation keeps one class per row.
        (Some(n), None) if args.interpolate.is_some() => {
            let rows = args.n / INTERP_STEPS;
            let per_row = rng.classes(rows, n, device).reshape([rows, 1]);
            Some(per_row.repeat_dim(1, INTERP_STEPS).reshape([args.n]))
        }
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

/// Steps per interpolation row (both ends included).
const INTERP_STEPS: usize = 10;

/// `rows` linear paths of [`INTERP_STEPS`] latents, from the first latent of each row's pair to
/// the second: `z = (1 - t) z0 + t z1`, `t = 0, 1/9, ..., 1`.
///
/// # Shapes
/// - `z`: `[rows * INTERP_STEPS, z_dim]` (only the first `2 * rows` are used)
/// - output: `[rows * INTERP_STEPS, z_dim]`, row-major
fn interpolate_latents(z: Tensor<2>, rows: usize) -> Tensor<2> {
    let [_, z_dim] = z.dims();
    let device = z.device();
    let ends = z.narrow(0, 0, 2 * rows).reshape([rows, 2, z_dim]);
    let (z0, z1) = (ends.clone().narrow(1, 0, 1), ends.narrow(1, 1, 1)); // [rows, 1, z_dim]
    let t: Vec<f32> = (0..INTERP_STEPS)
        .map(|i| i as f32 / (INTERP_STEPS - 1) as f32)
        .collect();
    let t = Tensor::<1>::from_floats(t.as_slice(), &device).reshape([1, INTERP_STEPS, 1]);
    let path = z0.clone() + (z1 - z0) * t; // [rows, steps, z_dim]
    path.reshape([rows * INTERP_STEPS, z_dim])
}

fn write_uint8_nhwc(images: Tensor<4>, path: &Path) -> Result<()> {
    let (bytes, [n, h, w, c]) = to_uint8_nhwc(images)?;
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
        println!("{}  G={g}  D={d}", preset.name);
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

fn fetch(what: &str, to: &Path) -> Result<()> {
    if what == "inception" {
        let path = sngan::metrics::fetch_inception(to, None)?;
        println!("{}", path.display());
        return Ok(());
    }
    let dataset: sngan::data::DatasetName = what.parse()?;
    for fetched in sngan::data::fetch(dataset, to, sngan::data::FetchOptions::default())? {
        println!("{fetched:?}");
    }
    Ok(())
}

fn inspect(dataset: &str, data: &Path) -> Result<()> {
    let report = sngan::data::inspect(dataset.parse()?, data)?;
    print!("{report}");
    if !report.is_ok() {
        bail!("{}: problems found", data.display());
    }
    Ok(())
}

fn extractor(weights: &Path, device: &Device) -> Result<sngan::metrics::InceptionExtractor> {
    let model = sngan::metrics::load_fid_inception(weights, device)?;
    Ok(sngan::metrics::InceptionExtractor::new(
        model,
        sngan::metrics::Preprocess::TfExact,
        device,
    ))
}

fn stats(dataset: &str, data: &Path, out: &Path, inception: &Path, device: &Device) -> Result<()> {
    let source = sngan::data::open(dataset.parse()?, data, &sngan::data::OpenOptions::default())?;
    let ex = extractor(inception, device)?;
    let mut builder = sngan::metrics::StatsBuilder::new(&ex, false);
    let [h, w, c] = source.shape();
    let mut buf = vec![0u8; h * w * c];
    for lo in (0..source.len()).step_by(500) {
        let hi = (lo + 500).min(source.len());
        let mut chunk = Vec::with_capacity((hi - lo) * buf.len());
        for i in lo..hi {
            source.load_into(i, &mut buf)?;
            chunk.extend_from_slice(&buf);
        }
        builder.push(sngan::metrics::ImagesRef::new(&chunk, [hi - lo, h, w, c])?)?;
        eprintln!("{hi}/{} images", source.len());
    }
    builder.finish()?.write(out)?;
    println!("{}", out.display());
    Ok(())
}

fn eval(args: EvalArgs, device: &Device) -> Result<()> {
    if let (Some(a), Some(b)) = (&args.stats, &args.reference) {
        println!("FID {}", sngan::metrics::fid_from_files(a, b)?);
        return Ok(());
    }
    let samples = args
        .samples
        .as_ref()
        .context("give --samples FILE (or --stats A.npz --ref B.npz)")?;
    let fake = sngan::metrics::Images::read(samples)?;
    let metrics = Metric::parse_list(&args.metrics)?;
    let protocol = protocol(&args.protocol)?;
    let reference = args.reference.as_deref().map(Reference::read).transpose()?;
    let ex = args
        .inception
        .as_ref()
        .map(|w| extractor(w, device))
        .transpose()?;
    let mnist = match metrics.contains(&Metric::Mnist) {
        true => Some(mnist_yardstick(device)?),
        false => None,
    };
    let report = sngan::metrics::evaluate(
        ex.as_ref(),
        fake.view(),
        reference.as_ref(),
        &metrics,
        &protocol,
        mnist.map(|(y, r)| (y, r)),
        None,
    )?;
    println!("{report}");
    Ok(())
}
