//! `sngan export`: a run's networks as state dicts in PyTorch-StudioGAN's layout (`resnet.py`,
//! `big_resnet.py`, v0.4 naming), as StudioGAN's checkpoint folder, a bare `torch.save`d state
//! dict that `load_state_dict(strict=True)` accepts, or safetensors.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use sngan_models::blocks::resblock::ShortcutInput;
use sngan_models::{DiscriminatorConfig, GeneratorConfig};
use sngan_train::{Gan, Run, TrainConfig};

use crate::convert::{plan, shapes};
use crate::error::ConvertError;
use crate::layout::{self, Exported};
use crate::sources::{Dialect, Net, Shape, Source};
use crate::torch_save::{self, Value};

/// What [`export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// StudioGAN's checkpoint folder: `model=G-current-weights-step=N.pth` (and `D`, `G_ema`),
    /// each `{'state_dict': ...}` (D with StudioGAN's bookkeeping fields), as its `-ckpt` loads.
    StudioGan,
    /// One network's bare state dict, `torch.save(net.state_dict(), path)`.
    PytorchStateDict,
    /// One network's state dict as safetensors.
    Safetensors,
}

/// A finished export.
pub struct Export {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Where StudioGAN's modules would compute something else than the run's networks.
    pub notes: Vec<String>,
}

/// Writes the networks of `run` (at its newest intact checkpoint) to `out` in `format`: a
/// folder for [`ExportFormat::StudioGan`], else one file holding `net` (default: the EMA
/// generator when the run has one, else G). Every file is built before the first is written,
/// and each is written atomically.
///
/// # Errors
/// A run without a checkpoint, a model StudioGAN has no layout for, or a failed write.
pub fn export(
    run: &Run,
    format: ExportFormat,
    net: Option<Net>,
    out: &Path,
    device: &Device,
) -> Result<Export, ConvertError> {
    let config = run.config();
    shapes(config)?; // a ResNet, or nothing to export
    if run.checkpoint().is_none() {
        return Err(ConvertError::Files {
            message: format!("{}: no checkpoint to export", run.dir().display()),
        });
    }
    let gan = run.gan(&device.clone().autodiff())?;
    let notes = differences(config);
    let files: Vec<(PathBuf, Vec<u8>)> = match format {
        ExportFormat::StudioGan => {
            let name = |model: &str| {
                out.join(format!(
                    "model={model}-current-weights-step={}.pth",
                    gan.step
                ))
            };
            let g = Value::Dict(vec![(
                "state_dict".into(),
                state_dict(&gan, Net::Generator)?,
            )]);
            let d = Value::Dict(vec![
                ("state_dict".into(), state_dict(&gan, Net::Discriminator)?),
                ("seed".into(), Value::Int(config.seed as i64)),
                ("run_name".into(), Value::Str(config.name.clone())),
                ("step".into(), Value::Int(gan.step as i64)),
                ("epoch".into(), Value::Int(0)),
                ("topk".into(), Value::Str("initialize".into())),
                ("aa_p".into(), Value::Int(0)),
                ("best_step".into(), Value::Int(gan.step as i64)),
                ("best_fid".into(), Value::None),
                (
                    "best_fid_ckpt".into(),
                    Value::Str(out.display().to_string()),
                ),
                ("lecam_emas".into(), Value::None),
            ]);
            let mut files = vec![
                (name("G"), torch_save::save(&g)),
                (name("D"), torch_save::save(&d)),
            ];
            if gan.ema.is_some() {
                let ema = Value::Dict(vec![(
                    "state_dict".into(),
                    state_dict(&gan, Net::GeneratorEma)?,
                )]);
                files.push((name("G_ema"), torch_save::save(&ema)));
            }
            files
        }
        ExportFormat::PytorchStateDict => {
            let net = net.unwrap_or(default_net(&gan));
            vec![(out.to_path_buf(), torch_save::save(&state_dict(&gan, net)?))]
        }
        ExportFormat::Safetensors => {
            let net = net.unwrap_or(default_net(&gan));
            let Value::StateDict(items) = state_dict(&gan, net)? else {
                unreachable!("state_dict returns a state dict")
            };
            vec![(out.to_path_buf(), safetensors_bytes(&items, out)?)]
        }
    };
    let files = files
        .iter()
        .map(|(path, bytes)| write(path, bytes))
        .collect::<Result<_, _>>()?;
    Ok(Export { files, notes })
}

fn default_net(gan: &Gan) -> Net {
    match gan.ema {
        Some(_) => Net::GeneratorEma,
        None => Net::Generator,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<PathBuf, ConvertError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(ConvertError::io(dir))?;
    }
    sngan_core::write_atomic(path, bytes)?;
    Ok(path.to_path_buf())
}

/// `net` of `gan` as a StudioGAN state dict.
fn state_dict(gan: &Gan, net: Net) -> Result<Value, ConvertError> {
    let (g_shape, d_shape) = shapes(gan.config())?;
    let items = match net {
        Net::Generator => studiogan(&gan.g, net, g_shape)?,
        Net::GeneratorEma => {
            let ema = gan.ema.as_ref().ok_or_else(|| ConvertError::Files {
                message: "the run has no EMA generator".into(),
            })?;
            studiogan(ema, net, g_shape)?
        }
        Net::Discriminator => studiogan(&gan.d, net, d_shape)?,
    };
    Ok(Value::StateDict(items))
}

fn studiogan<M: Module>(
    module: &M,
    net: Net,
    shape: Shape,
) -> Result<Vec<(String, Exported)>, ConvertError> {
    let dialect = Dialect::StudioGan { old_cbn: false };
    let plan = plan(module, &dialect, net, shape, Source::StudioGan)?;
    Ok(layout::export(
        &plan,
        &dialect.naming(),
        &layout::host_tensors(module),
    ))
}

/// What StudioGAN's modules do differently from the run's networks (its BN eps is 1e-4, its D
/// shortcuts read `ReLU(x)`, its D blocks are out-wide with a biased final linear layer).
fn differences(config: &TrainConfig) -> Vec<String> {
    let (GeneratorConfig::ResNet(g), DiscriminatorConfig::ResNet(d)) =
        (&config.generator, &config.discriminator)
    else {
        return Vec::new(); // refused by `shapes`
    };
    let mut notes = Vec::new();
    if g.bn_eps != 1e-4 {
        notes.push(format!(
            "G's BN eps is {}; StudioGAN's modules use 1e-4, so their outputs differ slightly",
            g.bn_eps
        ));
    }
    if d.shortcut != ShortcutInput::Activated {
        notes.push(
            "D's shortcuts read x; StudioGAN's in-place ReLU makes its shortcuts read ReLU(x)"
                .into(),
        );
    }
    if !d.linear_bias {
        notes.push(
            "D's final linear layer has no bias; StudioGAN's linear1 has one (a strict load fails)"
                .into(),
        );
    }
    notes
}

fn safetensors_bytes(items: &[(String, Exported)], path: &Path) -> Result<Vec<u8>, ConvertError> {
    let buffers: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = items
        .iter()
        .map(|(k, t)| match t {
            Exported::Float(a) => (
                k.clone(),
                safetensors::Dtype::F32,
                a.shape.clone(),
                a.data.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Exported::Int(v) => (
                k.clone(),
                safetensors::Dtype::I64,
                vec![],
                v.to_le_bytes().to_vec(),
            ),
        })
        .collect();
    let views = buffers
        .iter()
        .map(|(k, dtype, shape, bytes)| {
            safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (k.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConvertError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    safetensors::tensor::serialize(views, None).map_err(|e| ConvertError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
