//! The `sngan` command line (DESIGN.md section 8): argument handling over the library. With no
//! arguments it trains the MNIST quick-start, a small conditional SNGAN (Miyato et al., ICLR
//! 2018) on the MNIST copy embedded in the binary. Bad input (a flag, a config file) exits with
//! code 2 and a message naming it; a failure while running exits with code 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sngan::Device;
use sngan::convert::ConvertError;
use sngan::core::{ConfigError, Images, InvalidField};
use sngan::data::{DataConfig, DatasetName};
use sngan::metrics::{Metric, Protocol, Reference};
use sngan::scores::{
    InceptionScores, MnistMemo, fid_extractor, mnist_yardstick, periodic_scores, reference_stats,
};
use sngan::train::{
    BnStatistics, Classes, Latents, LossScaleConfig, Precision, Run, RunOptions, RunSummary,
    SampleSpec, TrainConfig, TrainError,
};

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
    /// Score samples (IS, FID, KID, P/R, D/C, or the MNIST yardstick), or the FID of two stats files.
    Eval(EvalArgs),
    /// Inception statistics of a data set as a pytorch-fid `.npz` (features kept on request).
    Stats(StatsArgs),
    /// A run drawn as one HTML page: losses, D(x)/D(G(z)), per-layer sigma, scores, latest grid.
    Report {
        /// Run directory.
        #[arg(long)]
        run: PathBuf,
        /// Output file (default: <RUN>/report.html).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Every preset with its G and D parameter counts.
    Models,
    /// Checked download of a data set (mnist, cifar10, cifar100, stl10) or the FID Inception
    /// weights (inception).
    Fetch {
        /// What to fetch.
        #[arg(value_parser = parse_fetch)]
        what: Fetch,
        /// Target folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Data-set tools.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Import a peer's pretrained checkpoint files into a run directory (config + checkpoint).
    Convert(Box<ConvertArgs>),
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
    /// Continue the run directory from its newest intact checkpoint.
    #[arg(long)]
    resume: bool,
    /// Score every N G steps (and at the end) into metrics.csv: the MNIST yardstick on MNIST
    /// runs, IS (and FID with --fid-ref) given --inception. Default: the config's checkpoint
    /// interval.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    eval_every: Option<u64>,
    /// FID Inception weights (`sngan fetch inception`): adds IS and FID to the periodic scores.
    #[arg(long)]
    inception: Option<PathBuf>,
    /// Reference statistics of the real data for the periodic FID (`sngan stats`).
    #[arg(long, value_name = "NPZ", requires = "inception")]
    fid_ref: Option<PathBuf>,
    /// Samples per periodic Inception score (default: the protocol's count).
    #[arg(long, value_name = "N", requires = "inception", value_parser = clap::value_parser!(u64).range(2..))]
    eval_samples: Option<u64>,
    /// Protocol of the periodic Inception scores: sngan-paper, mmgen, studiogan.
    #[arg(long, requires = "inception", value_parser = parse_protocol)]
    protocol: Option<Protocol>,
    /// Precision of G's and D's forward and backward passes (weights and Adam stay f32); f16
    /// adds dynamic loss scaling. Default: the config's (f32 unless it says otherwise).
    #[arg(long, value_enum)]
    precision: Option<PrecisionArg>,
    /// Data parallel over these devices, rank 0 first (cuda:0,cuda:1; replaces --device): each
    /// takes an equal shard of every batch. CUDA sums gradients with NCCL, other backends on the host.
    #[arg(long, value_name = "LIST")]
    devices: Option<String>,
}

/// `--precision`, over [`Precision`].
#[derive(Clone, Copy, clap::ValueEnum)]
enum PrecisionArg {
    F32,
    Bf16,
    F16,
}

impl PrecisionArg {
    /// The precision, keeping `current`'s loss-scaling settings when both are f16.
    fn over(self, current: Precision) -> Precision {
        match (self, current) {
            (PrecisionArg::F32, _) => Precision::F32,
            (PrecisionArg::Bf16, _) => Precision::Bf16,
            (PrecisionArg::F16, Precision::F16(scaling)) => Precision::F16(scaling),
            (PrecisionArg::F16, _) => Precision::F16(LossScaleConfig::new()),
        }
    }
}

#[derive(Subcommand)]
enum DataCommand {
    /// Count, image shape, classes, label histogram and problems of a data set.
    Inspect {
        /// Data set: mnist, cifar10, cifar100, stl10, celeba, imagenet, imagefolder.
        #[arg(long)]
        dataset: DatasetName,
        /// Its location.
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(clap::Args)]
struct StatsArgs {
    /// The experiment whose data settings (split, size, crop, filter) to use.
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    config: Option<PathBuf>,
    /// A data set at its reader's defaults: mnist, cifar10, cifar100, stl10, celeba, imagenet,
    /// imagefolder.
    #[arg(long)]
    dataset: Option<DatasetName>,
    /// Its location.
    #[arg(long)]
    data: PathBuf,
    /// Output `.npz`.
    #[arg(long)]
    out: PathBuf,
    /// FID Inception weights (`sngan fetch inception`).
    #[arg(long)]
    inception: PathBuf,
    /// Keep the pool3 features (`feats`, 8 KB per image), which KID, P/R and D/C need.
    #[arg(long)]
    keep_features: bool,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Samples (uint8 NHWC `.npz`/`.npy`, e.g. from `sngan sample`).
    #[arg(long, required_unless_present = "stats")]
    samples: Option<PathBuf>,
    /// Statistics file to compare with `--ref` (prints `FID <value>`).
    #[arg(long, conflicts_with = "samples", requires = "reference")]
    stats: Option<PathBuf>,
    /// Reference statistics.
    #[arg(long = "ref")]
    reference: Option<PathBuf>,
    /// Comma-separated: is, fid, kid, pr, prdc, mnist.
    #[arg(long, value_delimiter = ',', default_value = "is,fid")]
    metrics: Vec<Metric>,
    /// FID Inception weights (for is, fid, kid, pr, prdc).
    #[arg(long)]
    inception: Option<PathBuf>,
    /// Protocol preset: sngan-paper, mmgen, studiogan.
    #[arg(long, default_value = "sngan-paper", value_parser = parse_protocol)]
    protocol: Protocol,
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
    #[arg(
        long,
        value_parser = parse_experiment,
        required_unless_present = "config",
        conflicts_with = "config"
    )]
    model: Option<TrainConfig>,
    /// A training config file instead of --model.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run directory to create (refused if it already holds a run).
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
    /// Run directory (its newest intact checkpoint is exported).
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
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    /// Samples as uint8 N x H x W x C: `.npz` (key `x`, classes as `y`) or `.npy`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A PNG grid of the first (up to 100) samples, 10 per row.
    #[arg(long)]
    grid: Option<PathBuf>,
    /// Draw every sample of this class (conditional runs).
    #[arg(long)]
    class: Option<usize>,
    /// Truncate latents to [-T, T] (BigGAN's truncation trick), T >= 0.001.
    #[arg(long)]
    truncation: Option<f64>,
    /// Instead of --n independent samples, ROWS latent interpolations of 10 steps each: row r
    /// walks linearly from one latent to another (BigGAN-PyTorch's `interp`), one class per row.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    interpolate: Option<u64>,
    /// Seed of the latents and classes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Batch-norm statistics of G while sampling: `running` (the running averages, `G.eval()`)
    /// or `batch` (each chunk of up to 250 samples its own); default: the run's
    /// `sample_statistics`.
    #[arg(long, value_parser = parse_bn_statistics)]
    bn_statistics: Option<BnStatistics>,
}

/// What `sngan fetch` downloads.
#[derive(Clone, Copy)]
enum Fetch {
    Dataset(DatasetName),
    Inception,
}

fn parse_fetch(s: &str) -> Result<Fetch, String> {
    match s {
        "inception" => Ok(Fetch::Inception),
        _ => s
            .parse()
            .map(Fetch::Dataset)
            .map_err(|e: sngan::data::DataError| format!("{e}, or inception")),
    }
}

fn parse_bn_statistics(s: &str) -> Result<BnStatistics, String> {
    match s {
        "running" => Ok(BnStatistics::Running),
        "batch" => Ok(BnStatistics::Batch),
        _ => Err(format!("'{s}': running or batch")),
    }
}

fn parse_experiment(s: &str) -> Result<TrainConfig, String> {
    let all = sngan::train::experiments::all();
    let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    all.into_iter()
        .find(|c| c.name == s)
        .ok_or_else(|| format!("no experiment '{s}': expected one of {}", names.join(", ")))
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    Protocol::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Protocol::all().iter().map(|p| p.name).collect();
        format!(
            "unknown protocol '{s}': expected one of {}",
            names.join(", ")
        )
    })
}

/// Bad input found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

fn main() -> ExitCode {
    sngan::tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let bad_input = e.chain().any(|c| {
                c.is::<Usage>()
                    || c.is::<ConfigError>()
                    || c.is::<InvalidField>()
                    || matches!(
                        c.downcast_ref::<TrainError>(),
                        Some(TrainError::Config(_) | TrainError::ConfigFile(_))
                    )
                    || c.downcast_ref::<ConvertError>()
                        .is_some_and(ConvertError::is_bad_input)
            });
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let device = match &cli.device {
        Some(spec) => sngan::device(spec).map_err(|e| usage(e.to_string()))?,
        None => sngan::default_device(),
    };
    match cli.command {
        None => quickstart(&device),
        Some(Command::Train(args)) if cli.device.is_some() && args.devices.is_some() => Err(usage(
            "--device and --devices both name the run's device: give --devices alone (rank 0 first)",
        )),
        Some(Command::Train(args)) => train(args, &MnistMemo::default(), &device).map(|_| ()),
        Some(Command::Sample(args)) => sample(args, &device),
        Some(Command::Eval(args)) => eval(args, &device),
        Some(Command::Stats(args)) => stats(args, &device),
        Some(Command::Report { run, out }) => {
            let out = out.unwrap_or_else(|| run.join("report.html"));
            sngan::train::report::write(&open_run(&run)?, &out)?;
            println!("{}", out.display());
            Ok(())
        }
        Some(Command::Models) => {
            for preset in sngan::models::presets() {
                let (g, d) = preset.count(&device);
                println!("{}  G={g}  D={d}", preset.name);
            }
            Ok(())
        }
        Some(Command::Fetch { what, to }) => fetch(what, &to),
        Some(Command::Data {
            command: DataCommand::Inspect { dataset, data },
        }) => {
            let report = sngan::data::inspect(dataset, &data)?;
            print!("{report}");
            match report.is_ok() {
                true => Ok(()),
                false => bail!("{}: problems found", data.display()),
            }
        }
        Some(Command::Convert(args)) => convert(*args, &device),
        Some(Command::Export(args)) => export(args, &device),
        Some(Command::WriteConfigs { dir }) => write_configs(&dir),
    }
}

fn convert(args: ConvertArgs, device: &Device) -> Result<()> {
    use sngan::convert::Source;
    let config = match (args.model, &args.config) {
        (_, Some(path)) => TrainConfig::read(path)?,
        (Some(config), None) => config,
        (None, None) => return Err(usage("give --model EXPERIMENT or --config FILE")),
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
    let checkpoint = done.run.checkpoint().expect("convert writes a checkpoint");
    println!(
        "run directory: {} (checkpoint {})",
        done.run.dir().display(),
        checkpoint.path().display()
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
        return Err(usage(
            "--net: a studiogan export writes every network of the run; --net picks the one network of a pytorch-state-dict or safetensors file",
        ));
    }
    let run = open_run(&args.run)?;
    let done = sngan::convert::export(&run, format, net, &args.out, device)?;
    for note in &done.notes {
        println!("note: {note}");
    }
    for file in &done.files {
        println!("{}", file.display());
    }
    Ok(())
}

fn quickstart(device: &Device) -> Result<()> {
    println!("sngan quick-start: conditional SNGAN on the MNIST test split embedded in the binary");
    println!("(run `sngan --help` for the other commands)");
    // Run again, it continues (or, finished, just reports) the run directory it left.
    let args = TrainArgs {
        resume: true,
        ..TrainArgs::default()
    };
    let memo = MnistMemo::default();
    let summary = train(args, &memo, device)?;
    println!("sample grid, one row per class: {}", summary.grid.display());
    // The last step's periodic scores when training ran (one yardstick pass fewer).
    println!("{}", memo.report(&summary.gan, &device.clone().inner())?);
    Ok(())
}

/// Trains as `args` say; the MNIST yardstick's reports go to `memo`.
fn train(args: TrainArgs, memo: &MnistMemo, device: &Device) -> Result<RunSummary> {
    let mut config = match &args.config {
        Some(path) => TrainConfig::read(path)?,
        None => sngan::train::experiments::mnist_quickstart(),
    };
    if let Some(precision) = args.precision {
        config.precision = precision.over(config.precision);
    }
    let (device, data_parallel) = match &args.devices {
        Some(list) => {
            let (rank0, parallel) =
                sngan::data_parallel(list).map_err(|e| usage(format!("--devices: {e}")))?;
            // Before the scorers are built (the MNIST yardstick takes a while).
            parallel.check(&config)?;
            (rank0, Some(parallel))
        }
        None => (device.clone().autodiff(), None),
    };
    let inner = device.clone().inner();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&config.name));
    // Flags first, then the data: a bad flag is reported before a data set is read.
    let inception = args.inception.map(|weights| InceptionScores {
        weights,
        reference: args.fid_ref,
        samples: args.eval_samples.map(|n| n as usize),
        protocol: args.protocol.unwrap_or_default(),
    });
    let every = args.eval_every.map(|n| n as usize);
    let options = RunOptions {
        stop_at: args.iters,
        resume: args.resume,
        evaluator: periodic_scores(&config, inception.as_ref(), every, memo, &inner)?,
        data_parallel,
        ..RunOptions::new(out.clone())
    };
    let source = match (&args.data, &args.config) {
        (Some(data), _) => config.data.open(data)?,
        (None, None) => sngan::embedded_source(&config)?,
        (None, Some(_)) => {
            return Err(usage(format!(
                "--data PATH is needed: where the {} files are",
                config.data.dataset
            )));
        }
    };
    println!("run directory: {}", out.display());
    let summary = sngan::train::train(&config, source, &device, &options)?;
    println!(
        "done: {} G steps, loss_d {:.4}, loss_g {:.4}, {:.0} real images/s ({:.1}% of the time waiting for data); checkpoint {}",
        summary.step,
        summary.last.loss_d,
        summary.last.loss_g,
        summary.images_per_second,
        100.0 * summary.data_wait.as_secs_f64() / summary.elapsed.as_secs_f64().max(1e-9),
        summary.checkpoint.display()
    );
    Ok(summary)
}

fn open_run(dir: &Path) -> Result<Run> {
    let run = Run::open(dir)?;
    for warning in run.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(run)
}

/// Steps per interpolation row (both ends included).
const INTERP_STEPS: usize = 10;

fn sample(args: SampleArgs, device: &Device) -> Result<()> {
    let run = open_run(&args.run)?;
    let run = match args.bn_statistics {
        Some(statistics) => run.with_sample_statistics(statistics),
        None => run,
    };
    let per_row = match args.interpolate {
        Some(_) => INTERP_STEPS,
        None => 10,
    };
    let spec = SampleSpec {
        n: args
            .interpolate
            .map_or(args.n as usize, |rows| rows as usize * INTERP_STEPS),
        seed: args.seed,
        latents: match args.interpolate {
            Some(_) => Latents::Interpolated {
                steps: INTERP_STEPS,
            },
            None => Latents::Independent,
        },
        classes: match (args.class, args.interpolate) {
            (Some(k), _) => Classes::Fixed(k),
            (None, Some(_)) => Classes::RandomRows { per_row },
            (None, None) => Classes::Random,
        },
        truncation: args.truncation,
        resize: None,
    };
    spec.validate(&run.config().generator)
        .map_err(|e| usage(format!("--{e}")))?;
    let images = run.sample(&spec, &device.clone().inner())?;
    if let Some(grid) = &args.grid {
        let mut first = images.clone();
        let n = images.len().min(100);
        first.pixels.truncate(n * images.image_len());
        first.labels.truncate(n);
        sngan::train::save_grid(&first, per_row, grid)?;
        println!("grid: {}", grid.display());
    }
    if let Some(out) = &args.out {
        images.write(out)?;
        println!("samples: {}", out.display());
    }
    Ok(())
}

fn write_configs(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    for config in sngan::train::experiments::all() {
        let path = dir.join(format!("{}.json", config.name));
        let json = serde_json::to_string_pretty(&config)? + "\n";
        sngan::core::write_atomic(&path, json.as_bytes())?;
        println!("{}", path.display());
    }
    Ok(())
}

fn fetch(what: Fetch, to: &Path) -> Result<()> {
    match what {
        Fetch::Inception => println!("{}", sngan::metrics::fetch_inception(to, None)?.display()),
        Fetch::Dataset(dataset) => {
            for fetched in sngan::data::fetch(dataset, to, sngan::data::FetchOptions::default())? {
                println!("{}", fetched.path.display());
            }
        }
    }
    Ok(())
}

fn stats(args: StatsArgs, device: &Device) -> Result<()> {
    let data = match (&args.config, args.dataset) {
        (Some(path), _) => TrainConfig::read(path)?.data,
        (None, Some(dataset)) => DataConfig::new(dataset),
        (None, None) => return Err(usage("give --config X.json or --dataset NAME")),
    };
    let source = data.open(&args.data)?;
    let [h, w, c] = source.shape();
    eprintln!(
        "{} {} at {h}x{w}x{c}: {} images",
        data.dataset,
        data.split().name(),
        source.len()
    );
    let ex = fid_extractor(&args.inception, device)?;
    let reference = reference_stats(source.as_ref(), &ex, args.keep_features, |done, all| {
        eprintln!("{done}/{all} images")
    })?;
    reference.write(&args.out)?;
    println!("{}", args.out.display());
    Ok(())
}

fn eval(args: EvalArgs, device: &Device) -> Result<()> {
    if let (Some(a), Some(b)) = (&args.stats, &args.reference) {
        println!("FID {}", sngan::metrics::fid_from_files(a, b)?);
        return Ok(());
    }
    let Some(samples) = &args.samples else {
        return Err(usage("give --samples FILE (or --stats A.npz --ref B.npz)"));
    };
    let fake = Images::read(samples)?;
    let reference = args.reference.as_deref().map(Reference::read).transpose()?;
    let ex = args
        .inception
        .as_ref()
        .map(|w| fid_extractor(w, device))
        .transpose()?;
    let mnist = match args.metrics.contains(&Metric::Mnist) {
        true => Some(mnist_yardstick(device)?),
        false => None,
    };
    // Conditional samples carry the classes they were drawn for: the yardstick checks them.
    let labels: Option<Vec<u8>> = fake
        .labels
        .iter()
        .map(|l| l.and_then(|k| u8::try_from(k).ok()))
        .collect();
    let report = sngan::metrics::evaluate(
        ex.as_ref(),
        fake.view(),
        reference.as_ref(),
        &args.metrics,
        &args.protocol,
        mnist.map(|(y, r)| (y, r)),
        labels.as_deref(),
    )?;
    println!("{report}");
    Ok(())
}
