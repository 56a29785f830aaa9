//! `sngan convert`: a peer's checkpoint files -> our networks -> a run directory (config +
//! step-0 checkpoint, written by sngan-train's `Run::create` and checkpoint writer) that
//! `Run::open`, and so sampling, evaluation, reports and `--resume`, read like any run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::TensorData;
use sngan_models::blocks::resblock::{HiddenChannels, ShortcutInput};
use sngan_models::init::WeightInit;
use sngan_models::{DiscriminatorConfig, GeneratorConfig, assign_tensors};
use sngan_spectral::SpectralNormConfig;
use sngan_train::{EmaConfig, Gan, Run, TrainConfig};

use crate::error::{ConvertError, LayoutMismatch};
use crate::layout::{self, Plan};
use crate::read::Checkpoint;
use crate::sources::{self, Dialect, Net, Shape, Source};

/// Record paths of our networks start with the zoo enum's variant.
const VARIANT: &str = "ResNet";

/// Networks read from a peer's files.
pub struct Imported {
    /// The run's configuration: the preset with the source's conventions.
    pub config: TrainConfig,
    /// The networks, in a training state ready to sample from, save or resume.
    pub gan: Gan,
    /// Each imported network and the file it came from.
    pub sources: Vec<(Net, PathBuf)>,
    /// What the conversion decided for the user (channel order, networks it had to fill in).
    pub notes: Vec<String>,
}

/// A finished `convert`: what was imported, and the run it wrote.
pub struct Conversion {
    /// Each imported network and the file it came from.
    pub sources: Vec<(Net, PathBuf)>,
    /// What the conversion decided for the user.
    pub notes: Vec<String>,
    /// The run directory, opened again as every command opens one (its checkpoint verified).
    pub run: Run,
}

/// One network's tensors within a file: the file and the key prefix of its state dict.
struct Part<'a> {
    net: Net,
    ckpt: &'a Checkpoint,
    prefix: String,
}

/// Reads `files` of `source` into the networks of `config` (an experiment preset, at any width;
/// the peer's BN and spectral-norm eps, D shortcut and hidden-width conventions are set from the
/// source), on the autodiff `device`.
///
/// The config is validated before anything is read, and every network in the files is checked
/// against the model's layout before a tensor is loaded; all keys that do not map, are missing
/// or have another shape are reported together.
///
/// # Errors
/// An invalid config, unreadable or unsafe files, files that do not make up a generator (and
/// optionally an EMA generator and a discriminator), layouts that differ, or a model no peer
/// layout describes.
pub fn import(
    source: Source,
    files: &[PathBuf],
    mut config: TrainConfig,
    device: &Device,
) -> Result<Imported, ConvertError> {
    config.validate()?;
    for path in files {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        if source == Source::BigGanPytorch && name.is_some_and(|n| n.starts_with("state_dict")) {
            return Err(ConvertError::Files {
                message: format!(
                    "{}: BigGAN-PyTorch's training counters and config, not a network (give G.pth, G_ema.pth, D.pth)",
                    path.display()
                ),
            });
        }
    }
    let ckpts = files
        .iter()
        .map(|path| match source {
            Source::Chainer => Checkpoint::open_npz(path),
            _ => Checkpoint::open_torch(path),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let parts = parts(source, &ckpts)?;
    let dialect = Dialect::detect(source, &ckpts.iter().collect::<Vec<_>>());
    let mut notes = adapt(&dialect, &mut config)?;
    let has = |net: Net| parts.iter().any(|p| p.net == net);
    if !has(Net::Generator) && !has(Net::GeneratorEma) {
        return Err(ConvertError::Files {
            message: format!(
                "none of {} holds a generator of {}",
                list(files),
                source.name()
            ),
        });
    }
    if has(Net::GeneratorEma) && config.ema.is_none() {
        config.ema = Some(EmaConfig::new(0.9999, 0));
        notes.push(
            "the files hold an EMA generator: the run keeps one (decay 0.9999, from step 0)".into(),
        );
    }
    let (g_shape, d_shape) = shapes(&config)?;
    let naming = dialect.naming();
    let mut gan = Gan::new(&cheap_init(&config, has(Net::Discriminator)), device);

    let plan_g = plan(&gan.g, &dialect, Net::Generator, g_shape, source)?;
    let plan_d = plan(&gan.d, &dialect, Net::Discriminator, d_shape, source)?;
    let plan_of = |net: Net| match net {
        Net::Discriminator => &plan_d,
        _ => &plan_g,
    };
    let mismatches: Vec<LayoutMismatch> = parts
        .iter()
        .filter_map(|p| {
            let network = match p.prefix.as_str() {
                "" => p.net.name().to_string(),
                prefix => format!("{} (keys {prefix}*)", p.net.name()),
            };
            layout::check(plan_of(p.net), &naming, p.ckpt, &p.prefix, &network)
        })
        .collect();
    if !mismatches.is_empty() {
        return Err(ConvertError::Layout(mismatches));
    }

    let mut sources = Vec::new();
    for part in &parts {
        let tensors = layout::import(plan_of(part.net), &naming, part.ckpt, &part.prefix, VARIANT)?;
        let path = &part.ckpt.path;
        match part.net {
            Net::Generator => gan.g = load(gan.g, &tensors, path)?,
            Net::Discriminator => gan.d = load(gan.d, &tensors, path)?,
            Net::GeneratorEma => {
                let ema = gan.ema.take().expect("the config keeps an EMA");
                gan.ema = Some(load(ema, &tensors, path)?);
                if !has(Net::Generator) {
                    gan.g = load(gan.g, &tensors, path)?;
                    notes.push(
                        "no trained generator given: the run's G starts as a copy of the EMA generator".into(),
                    );
                }
            }
        }
        sources.push((part.net, path.clone()));
    }
    if !has(Net::GeneratorEma) && gan.ema.is_some() {
        gan.ema = Some(gan.g.valid());
        notes.push("no EMA generator given: the run's EMA starts as a copy of G".into());
    }
    if !has(Net::Discriminator) {
        notes.push(format!(
            "no discriminator given: the run's D is freshly initialised (seed {}); sampling and \
             evaluation do not need it, resuming trains it from scratch",
            config.seed
        ));
    }
    sources.sort();
    Ok(Imported {
        config,
        gan,
        sources,
        notes,
    })
}

/// `module` with every tensor of `tensors` in place (the plan names each of them once).
fn load<M: Module>(
    module: M,
    tensors: &HashMap<String, TensorData>,
    path: &Path,
) -> Result<M, ConvertError> {
    let fail = |message: String| ConvertError::Unsupported {
        message: format!("{}: {message}", path.display()),
    };
    let (module, unused) = assign_tensors(module, tensors).map_err(|e| fail(e.to_string()))?;
    match unused.is_empty() {
        true => Ok(module),
        false => Err(fail(format!(
            "tensors with no place in the model: {}",
            unused.join(", ")
        ))),
    }
}

/// [`import`], then writes the run directory `out` ([`Run::create`]: `config.json`, then a
/// step-0 checkpoint with fresh optimiser states; the peers' Adam states are not carried over).
/// Nothing is created before the import has succeeded.
///
/// # Errors
/// As [`import`]; also a directory that already holds a run, or a failed write.
pub fn convert(
    source: Source,
    files: &[PathBuf],
    config: TrainConfig,
    out: &Path,
    device: &Device,
) -> Result<Conversion, ConvertError> {
    // Refused before the files are read (Run::create refuses it too, after the import).
    if out.join("config.json").exists() {
        return Err(ConvertError::Files {
            message: format!(
                "{}: already holds a run; convert into a new directory",
                out.display()
            ),
        });
    }
    let imported = import(source, files, config, device)?;
    let run = Run::create(out, &imported.config)?;
    sngan_train::save_checkpoint(&imported.gan, &run.dir().join("checkpoints"))?;
    Ok(Conversion {
        sources: imported.sources,
        notes: imported.notes,
        run: Run::open(out)?,
    })
}

/// `config` with PyTorch's cheap default initialisation for the networks whose every tensor the
/// import replaces (Burn's orthogonal initialisation of a full-size BigGAN takes minutes on a CPU);
/// a discriminator the files lack keeps the preset's scheme.
fn cheap_init(config: &TrainConfig, with_d: bool) -> TrainConfig {
    let mut config = config.clone();
    if let GeneratorConfig::ResNet(g) = &mut config.generator {
        g.init = WeightInit::PyTorch;
    }
    if let (true, DiscriminatorConfig::ResNet(d)) = (with_d, &mut config.discriminator) {
        d.init = WeightInit::PyTorch;
    }
    config
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits the files into networks: mmgen's single file by key prefix, the others one network
/// per file, by file name (StudioGAN's `model=G-...`, BigGAN-PyTorch's `G_ema.pth`) or by keys.
fn parts(source: Source, ckpts: &[Checkpoint]) -> Result<Vec<Part<'_>>, ConvertError> {
    let files: Vec<PathBuf> = ckpts.iter().map(|c| c.path.clone()).collect();
    let mut parts: Vec<Part<'_>> = Vec::new();
    match source {
        Source::Mmgen => {
            let [ckpt] = ckpts else {
                return Err(ConvertError::Files {
                    message: format!(
                        "an mmgen checkpoint is one file holding every network; got {}",
                        list(&files)
                    ),
                });
            };
            let under = |p: &str| ckpt.entries.keys().any(|k| k.starts_with(p));
            let ema = match under("state_dict.generator_ema.module.") {
                true => "state_dict.generator_ema.module.",
                false => "state_dict.generator_ema.",
            };
            for (net, prefix) in [
                (Net::Generator, "state_dict.generator."),
                (Net::GeneratorEma, ema),
                (Net::Discriminator, "state_dict.discriminator."),
            ] {
                if under(prefix) {
                    parts.push(Part {
                        net,
                        ckpt,
                        prefix: prefix.into(),
                    });
                }
            }
            // Every tensor of the state dict belongs to a network (mmagic's EMA step counter
            // aside); optimiser states and metadata outside it are not read.
            let stray: Vec<&String> = ckpt
                .entries
                .keys()
                .filter(|k| k.starts_with("state_dict.") && *k != "state_dict.generator_ema.steps")
                .filter(|k| !parts.iter().any(|p| k.starts_with(&p.prefix)))
                .collect();
            if !stray.is_empty() {
                return Err(ConvertError::Files {
                    message: format!(
                        "{}: state-dict keys outside generator., generator_ema. and discriminator.: {}",
                        ckpt.path.display(),
                        stray
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        _ => {
            let prefix = match source {
                Source::StudioGan => "state_dict.",
                _ => "",
            };
            for ckpt in ckpts {
                let discriminator_keys = match source {
                    Source::StudioGan => [
                        "state_dict.linear1.bias",
                        "state_dict.embedding.weight_orig",
                    ],
                    Source::BigGanPytorch => ["embed.weight", "linear.u0"],
                    _ => ["l_y/W", "block1/c1/u"],
                };
                let net = sources::role_from_name(source, &ckpt.path).unwrap_or_else(|| {
                    let by_keys = discriminator_keys
                        .iter()
                        .any(|k| ckpt.entries.contains_key(*k));
                    let name = ckpt.path.to_string_lossy().to_lowercase();
                    match (by_keys, name.contains("ema")) {
                        (true, _) => Net::Discriminator,
                        (false, true) => Net::GeneratorEma,
                        (false, false) => Net::Generator,
                    }
                });
                if ckpt
                    .entries
                    .keys()
                    .any(|k| k.starts_with("state.") || k.starts_with("param_groups"))
                {
                    return Err(ConvertError::Files {
                        message: format!(
                            "{}: an optimiser state, not a network (give the G, G_ema and D files)",
                            ckpt.path.display()
                        ),
                    });
                }
                if let Some(other) = parts.iter().find(|p| p.net == net) {
                    return Err(ConvertError::Files {
                        message: format!(
                            "{} and {} both hold the {}",
                            other.ckpt.path.display(),
                            ckpt.path.display(),
                            net.name()
                        ),
                    });
                }
                parts.push(Part {
                    net,
                    ckpt,
                    prefix: prefix.into(),
                });
            }
        }
    }
    Ok(parts)
}

/// Sets the conventions of the source's code on `config` (BN eps, spectral-norm eps, what D's
/// shortcuts read, D's inner width) and says what it decided.
fn adapt(dialect: &Dialect, config: &mut TrainConfig) -> Result<Vec<String>, ConvertError> {
    shapes(config)?;
    let (GeneratorConfig::ResNet(g), DiscriminatorConfig::ResNet(d)) =
        (&mut config.generator, &mut config.discriminator)
    else {
        unreachable!("shapes() accepts ResNets only")
    };
    let set_eps = |sn: &mut Option<SpectralNormConfig>, eps: f64| {
        if let Some(sn) = sn {
            sn.eps = eps;
        }
    };
    let mut notes = Vec::new();
    let (bn_eps, sn_eps, shortcut) = match dialect {
        Dialect::StudioGan { old_cbn } => {
            if *old_cbn {
                notes.push("StudioGAN's pre-2022 naming (embed0/embed1 class tables)".into());
            }
            (1e-4, 1e-6, ShortcutInput::Activated)
        }
        Dialect::MmgenSngan {
            bgr,
            inplace_relu,
            biggan_recipe,
            tables_sn,
        } => {
            let (variant, reads) = match inplace_relu {
                true => ("wReLUinplace", "ReLU(x)"),
                false => ("woReLUinplace", "x"),
            };
            notes.push(format!(
                "mmgen ReLU variant: {variant} (D shortcuts read {reads})"
            ));
            bgr_note(*bgr, &mut notes);
            g.cbn_sn = *tables_sn;
            let shortcut = match inplace_relu {
                true => ShortcutInput::Activated,
                false => ShortcutInput::Input,
            };
            match biggan_recipe {
                true => (1e-5, 1e-8, shortcut),
                false => (1e-4, 1e-12, shortcut),
            }
        }
        Dialect::MmgenBigGan { bgr, ajbrock } => {
            bgr_note(*bgr, &mut notes);
            match ajbrock {
                true => (1e-5, 1e-6, ShortcutInput::Activated),
                false => (1e-5, 1e-8, ShortcutInput::Input),
            }
        }
        Dialect::BigGanPytorch => (1e-5, 1e-6, ShortcutInput::Input),
        Dialect::Chainer => {
            d.hidden = HiddenChannels::Input;
            (2e-5, 1e-12, ShortcutInput::Input)
        }
    };
    g.bn_eps = bn_eps;
    set_eps(&mut g.sn, sn_eps);
    set_eps(&mut d.sn, sn_eps);
    d.shortcut = shortcut;
    Ok(notes)
}

fn bgr_note(bgr: bool, notes: &mut Vec<String>) {
    notes.push(match bgr {
        true => "mmgen model trained on BGR images: the image convs' channels are reversed, so the run reads and writes RGB".into(),
        false => "file named as converted from an RGB peer: channel order kept".into(),
    });
}

/// The block counts and attention slots of a ResNet run; other models have no peer layout.
pub(crate) fn shapes(config: &TrainConfig) -> Result<(Shape, Shape), ConvertError> {
    let (GeneratorConfig::ResNet(g), DiscriminatorConfig::ResNet(d)) =
        (&config.generator, &config.discriminator)
    else {
        return Err(ConvertError::Unsupported {
            message: format!(
                "{}: only the ResNet models have a peer layout (the SNGAN standard CNN has no \
                 published peer checkpoint, and StudioGAN's DCGAN is another network)",
                config.name
            ),
        });
    };
    Ok((
        Shape {
            blocks: g.channels.len() - 1,
            attention: g.attention_after,
        },
        Shape {
            blocks: d.channels.len() - 1,
            attention: d.attention_after,
        },
    ))
}

/// Each layer of `module` with its place in the peer's layout.
pub(crate) fn plan<M: Module>(
    module: &M,
    dialect: &Dialect,
    net: Net,
    shape: Shape,
    source: Source,
) -> Result<Plan, ConvertError> {
    layout::layers(module)?
        .into_iter()
        .map(|layer| {
            let target = sources::target(dialect, net, shape, &layer.path).ok_or_else(|| {
                ConvertError::Unsupported {
                    message: format!(
                        "the {}'s layer {} has no counterpart in {}'s layout",
                        net.name(),
                        layer.path,
                        source.name()
                    ),
                }
            })?;
            Ok((layer, target))
        })
        .collect()
}
