//! The peers' layouts of the SNGAN-family ResNets, as key maps onto our modules (research note
//! `checkpoints.md`): open-mmlab mmgeneration / mmagic (`sngan_proj`, `sagan`, `biggan`),
//! POSTECH-CVLab PyTorch-StudioGAN (`resnet.py`, `big_resnet.py`, both CBN namings),
//! ajbrock BigGAN-PyTorch (`BigGAN.py`) and pfnet-research sngan_projection (Chainer).

use std::path::Path;

use crate::layout::{Flip, Naming, SnStorage, Target};
use crate::read::Checkpoint;

/// A peer whose pretrained checkpoints sngan imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// open-mmlab mmgeneration and its successor mmagic, which re-hosts the same files: one
    /// `.pth` with `generator.`, `discriminator.` and `generator_ema.` (or mmagic's
    /// `generator_ema.module.`) keys under `state_dict`.
    Mmgen,
    /// POSTECH-CVLab PyTorch-StudioGAN: `model=G|D|G_ema-{best,current}-weights-step=N.pth`.
    StudioGan,
    /// ajbrock BigGAN-PyTorch: bare state dicts `G.pth`, `G_ema.pth`, `D.pth` (legacy format).
    BigGanPytorch,
    /// pfnet-research sngan_projection: Chainer `save_npz` archives
    /// (`ResNetGenerator_<iter>.npz`, `SNResNetProjectionDiscriminator_<iter>.npz`).
    Chainer,
}

impl Source {
    /// The peer's name, as users know it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Mmgen => "mmgen",
            Source::StudioGan => "StudioGAN",
            Source::BigGanPytorch => "BigGAN-PyTorch",
            Source::Chainer => "sngan_projection (Chainer)",
        }
    }
}

/// One network of a GAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Net {
    /// The trained generator.
    Generator,
    /// The moving average of the generator.
    GeneratorEma,
    /// The discriminator.
    Discriminator,
}

impl Net {
    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Net::Generator => "generator",
            Net::GeneratorEma => "EMA generator",
            Net::Discriminator => "discriminator",
        }
    }

    fn generator(self) -> bool {
        self != Net::Discriminator
    }
}

/// What a peer's files say about the variant they hold (found from keys and file names).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Dialect {
    /// mmgen's `sngan_proj`/`sagan` modules (`conv_1`, `norm_1`, `to_rgb`, `from_rgb`).
    MmgenSngan {
        /// Trained in BGR (every native mmgen model; files named `*rgb*`, `*cvt*` or
        /// `*convert*` were converted from RGB peers).
        bgr: bool,
        /// `wReLUinplace`: the discriminator's shortcuts read `ReLU(x)`.
        inplace_relu: bool,
        /// The SAGAN-128 `noaug_bigGAN` recipe: BN eps 1e-5 (else mmgen's default 1e-4).
        biggan_recipe: bool,
        /// The CBN tables are spectrally normalised (`with_embedding_spectral_norm`).
        tables_sn: bool,
    },
    /// mmgen's `biggan` modules (`conv1`, `bn1.gain`, `output_layer`), torch- or ajbrock-style SN.
    MmgenBigGan {
        /// Trained in BGR (see above).
        bgr: bool,
        /// `sn_style='ajbrock'` (`u0`/`sv0` keys): the 128x128 configs, native and converted
        /// from BigGAN-PyTorch. They also set `act_cfg=dict(type='ReLU', inplace=True)`, so their
        /// discriminator's shortcuts read `ReLU(x)`; the 32x32 config keeps torch-style SN and
        /// an out-of-place ReLU.
        ajbrock: bool,
    },
    /// StudioGAN; `old_cbn` for the `embed0`/`embed1` tables of code before 2022-01-25.
    StudioGan {
        /// Class tables are `Embedding(K, C)` `embed0`/`embed1`, not `Linear(K, C)` `gain`/`bias`.
        old_cbn: bool,
    },
    /// BigGAN-PyTorch.
    BigGanPytorch,
    /// Chainer sngan_projection.
    Chainer,
}

impl Dialect {
    /// The dialect of `source`'s files (already split into networks).
    pub fn detect(source: Source, files: &[&Checkpoint]) -> Self {
        let has = |needle: &str| {
            files
                .iter()
                .any(|f| f.entries.keys().any(|k| k.contains(needle)))
        };
        let name_has = |needles: &[&str]| {
            files.iter().any(|f| {
                let name = f
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                needles.iter().any(|n| name.contains(n))
            })
        };
        match source {
            Source::Mmgen => {
                let bgr = !name_has(&["rgb", "cvt", "convert"]);
                if has(".conv_1.") || has(".to_rgb.") {
                    Dialect::MmgenSngan {
                        bgr,
                        inplace_relu: name_has(&["wrelu"]),
                        biggan_recipe: name_has(&["biggan"]),
                        tables_sn: has(".weight_embedding.weight_orig"),
                    }
                } else {
                    Dialect::MmgenBigGan {
                        bgr,
                        ajbrock: has(".u0"),
                    }
                }
            }
            Source::StudioGan => Dialect::StudioGan {
                old_cbn: has(".embed0."),
            },
            Source::BigGanPytorch => Dialect::BigGanPytorch,
            Source::Chainer => Dialect::Chainer,
        }
    }

    /// Leaf names and spectral-norm convention.
    pub fn naming(&self) -> Naming {
        match self {
            Dialect::MmgenSngan { .. } => Naming::torch(("gamma", true)),
            Dialect::MmgenBigGan { ajbrock, .. } => Naming {
                sn: match ajbrock {
                    true => SnStorage::Ajbrock { eps: 1e-6 },
                    false => SnStorage::Torch,
                },
                ..Naming::torch(("gamma", true))
            },
            Dialect::StudioGan { .. } => Naming::torch(("sigma", false)),
            Dialect::BigGanPytorch => Naming {
                sn: SnStorage::Ajbrock { eps: 1e-6 },
                norm: ["gain", "bias", "stored_mean", "stored_var"],
                norm_counter: None,
                ..Naming::torch(("gamma", true))
            },
            Dialect::Chainer => Naming {
                sep: "/",
                sn: SnStorage::Chainer,
                weight: "W",
                bias: "b",
                norm: ["gamma", "beta", "avg_mean", "avg_var"],
                norm_counter: Some("N"),
                gain: ("gamma", true),
            },
        }
    }

    /// Whether the peer's images are BGR.
    fn bgr(&self) -> bool {
        match self {
            Dialect::MmgenSngan { bgr, .. } | Dialect::MmgenBigGan { bgr, .. } => *bgr,
            _ => false,
        }
    }
}

/// The shape facts of our network the key maps need.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Residual blocks.
    pub blocks: usize,
    /// Self-attention after this block (1-based).
    pub attention: Option<usize>,
}

impl Shape {
    /// Index of block `k` (0-based) in a list where the attention block takes the slot after
    /// block `attention` (StudioGAN's and mmgen's `blocks` / `conv_blocks`).
    fn slot(&self, k: usize) -> usize {
        k + usize::from(self.attention.is_some_and(|a| k >= a))
    }
}

/// The peer's place for our layer `ours` (path relative to the network, e.g.
/// `blocks.0.bn1.cbn.embed0`), or `None` when the peer's layout has no such layer.
pub(crate) fn target(dialect: &Dialect, net: Net, shape: Shape, ours: &str) -> Option<Target> {
    let segs: Vec<&str> = ours.split('.').collect();
    let block = |i: &str| i.parse::<usize>().ok();
    let attn = shape.attention;
    let bgr = dialect.bgr();
    // Colour flips: our G's last conv outputs the image, our D's first block reads it.
    let flip = match (bgr, net.generator(), segs.as_slice()) {
        (true, true, ["conv2d5"]) => Flip::Out,
        (true, false, ["blocks", "0", "conv2d1" | "conv2d0"]) => Flip::In,
        _ => Flip::None,
    };
    let t = |path: String| Some(Target::at(path).flipped(flip));
    match dialect {
        Dialect::StudioGan { old_cbn } => {
            let at = |k: usize| format!("blocks.{}.0", shape.slot(k));
            match segs.as_slice() {
                ["linear0" | "shared" | "bn4" | "conv2d5" | "linear1" | "embedding"] => {
                    t(segs[0].to_string())
                }
                ["blocks", i, conv @ ("conv2d0" | "conv2d1" | "conv2d2")] => {
                    t(format!("{}.{conv}", at(block(i)?)))
                }
                [
                    "blocks",
                    i,
                    bn @ ("bn1" | "bn2"),
                    "cbn",
                    leaf @ ("bn" | "gain" | "bias"),
                ] => t(format!("{}.{bn}.{leaf}", at(block(i)?))),
                [
                    "blocks",
                    i,
                    bn @ ("bn1" | "bn2"),
                    "cbn",
                    table @ ("embed0" | "embed1"),
                ] => {
                    let base = format!("{}.{bn}", at(block(i)?));
                    match (old_cbn, *table) {
                        (true, _) => t(format!("{base}.{table}")),
                        (false, "embed0") => Some(Target::at(format!("{base}.gain")).transposed()),
                        (false, _) => Some(Target::at(format!("{base}.bias")).transposed()),
                    }
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "bn"] => t(format!("{}.{bn}", at(block(i)?))),
                ["attention"] => t(format!("blocks.{}.0", attn?)),
                ["attention", conv] => t(format!("blocks.{}.0.{conv}", attn?)),
                _ => None,
            }
        }
        Dialect::MmgenSngan { .. } => {
            // G: conv_blocks = blocks with the attention slot; D: from_rgb, then the rest.
            let at = |k: usize| match (net.generator(), k) {
                (true, _) => Some(format!("conv_blocks.{}", shape.slot(k))),
                (false, 0) => Some("from_rgb".to_string()),
                (false, _) => Some(format!("conv_blocks.{}", shape.slot(k) - 1)),
            };
            let attention = || match net.generator() {
                true => Some(format!("conv_blocks.{}", attn?)),
                false => Some(format!("conv_blocks.{}", attn? - 1)),
            };
            let conv = |c: &str| match c {
                "conv2d1" => "conv_1",
                "conv2d2" => "conv_2",
                _ => "shortcut",
            };
            let norm = |bn: &str| if bn == "bn1" { "norm_1" } else { "norm_2" };
            match segs.as_slice() {
                ["linear0"] => t("noise2feat".into()),
                ["bn4"] => t("to_rgb.bn".into()),
                ["conv2d5"] => t("to_rgb.conv".into()),
                ["linear1"] => t("decision".into()),
                ["embedding"] => t("proj_y".into()),
                ["blocks", i, c @ ("conv2d0" | "conv2d1" | "conv2d2")] => {
                    t(format!("{}.{}.conv", at(block(i)?)?, conv(c)))
                }
                [
                    "blocks",
                    i,
                    bn @ ("bn1" | "bn2"),
                    "cbn",
                    leaf @ ("bn" | "embed0" | "embed1"),
                ] => {
                    let leaf = match *leaf {
                        "bn" => "norm",
                        "embed0" => "weight_embedding",
                        _ => "bias_embedding",
                    };
                    t(format!("{}.{}.{leaf}", at(block(i)?)?, norm(bn)))
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "bn"] => {
                    t(format!("{}.{}.norm", at(block(i)?)?, norm(bn)))
                }
                ["attention"] => t(attention()?),
                ["attention", c] => t(format!("{}.{}.conv", attention()?, attention_conv(c)?)),
                _ => None,
            }
        }
        Dialect::MmgenBigGan { .. } => {
            let at = |k: usize| format!("conv_blocks.{}", shape.slot(k));
            let conv = |c: &str| match c {
                "conv2d1" => "conv1",
                "conv2d2" => "conv2",
                _ => "shortcut",
            };
            match segs.as_slice() {
                ["linear0"] => t("noise2feat".into()),
                ["shared"] => t("shared_embedding".into()),
                ["bn4"] => t("output_layer.bn".into()),
                ["conv2d5"] => t("output_layer.conv".into()),
                ["linear1"] => t("decision".into()),
                ["embedding"] => t("proj_y".into()),
                ["blocks", i, c @ ("conv2d0" | "conv2d1" | "conv2d2")] => {
                    t(format!("{}.{}.conv", at(block(i)?), conv(c)))
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "cbn", leaf] => {
                    let leaf = match *leaf {
                        "bn" => "bn",
                        "embed0" | "gain" => "gain",
                        "embed1" | "bias" => "bias",
                        _ => return None,
                    };
                    t(format!("{}.{bn}.{leaf}", at(block(i)?)))
                }
                ["attention"] => t(format!("conv_blocks.{}", attn?)),
                ["attention", c] => t(format!("conv_blocks.{}.{}.conv", attn?, attention_conv(c)?)),
                _ => None,
            }
        }
        Dialect::BigGanPytorch => {
            let conv = |c: &str| match c {
                "conv2d1" => "conv1",
                "conv2d2" => "conv2",
                _ => "conv_sc",
            };
            // Attention joins the inner list of the block it follows: `blocks.{a-1}.1`.
            match segs.as_slice() {
                ["linear0"] if net.generator() => t("linear".into()),
                ["shared"] => t("shared".into()),
                ["bn4"] => t("output_layer.0".into()),
                ["conv2d5"] => t("output_layer.2".into()),
                ["linear1"] => t("linear".into()),
                ["embedding"] => t("embed".into()),
                ["blocks", i, c @ ("conv2d0" | "conv2d1" | "conv2d2")] => {
                    t(format!("blocks.{}.0.{}", block(i)?, conv(c)))
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "cbn", leaf] => {
                    let base = format!("blocks.{}.0.{bn}", block(i)?);
                    match *leaf {
                        "bn" => t(base),
                        "gain" | "bias" => t(format!("{base}.{leaf}")),
                        _ => None,
                    }
                }
                ["attention"] => t(format!("blocks.{}.1", attn? - 1)),
                ["attention", c] => t(format!("blocks.{}.1.{}", attn? - 1, attention_conv(c)?)),
                _ => None,
            }
        }
        Dialect::Chainer => {
            let n = shape.blocks;
            let conv = |c: &str| match c {
                "conv2d1" => "c1",
                "conv2d2" => "c2",
                _ => "c_sc",
            };
            // G: l1, block2.., b{n+2}, l{n+2}; D: block1.., l{n+1}, l_y.
            let first = if net.generator() { 2 } else { 1 };
            match segs.as_slice() {
                ["linear0"] => t("l1".into()),
                ["bn4"] => t(format!("b{}", n + 2)),
                ["conv2d5"] => t(format!("l{}", n + 2)),
                ["linear1"] => t(format!("l{}", n + 1)),
                ["embedding"] => t("l_y".into()),
                ["blocks", i, c @ ("conv2d0" | "conv2d1" | "conv2d2")] => {
                    t(format!("block{}/{}", block(i)? + first, conv(c)))
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "cbn", leaf] => {
                    let base = format!("block{}/b{}", block(i)? + first, &bn[2..]);
                    match *leaf {
                        "bn" => t(base),
                        // CCBN gains are absolute (`gammas`, initialised to 1); ours are 1 + table.
                        "embed0" => Some(Target::at(format!("{base}/gammas")).offset(-1.0)),
                        "embed1" => t(format!("{base}/betas")),
                        _ => None,
                    }
                }
                ["blocks", i, bn @ ("bn1" | "bn2"), "bn"] => {
                    t(format!("block{}/b{}", block(i)? + first, &bn[2..]))
                }
                _ => None,
            }
        }
    }
}

/// mmgen's and BigGAN-PyTorch's names for the attention convs.
fn attention_conv(ours: &str) -> Option<&'static str> {
    match ours {
        "conv1x1_theta" => Some("theta"),
        "conv1x1_phi" => Some("phi"),
        "conv1x1_g" => Some("g"),
        "conv1x1_attn" => Some("o"),
        _ => None,
    }
}

/// The network a file of `source` holds, from StudioGAN's and BigGAN-PyTorch's file names, or
/// `None` when the name does not say.
pub(crate) fn role_from_name(source: Source, path: &Path) -> Option<Net> {
    let name = path.file_name()?.to_string_lossy().to_string();
    match source {
        Source::StudioGan => {
            let model = name.strip_prefix("model=")?;
            if model.starts_with("G_ema-") {
                Some(Net::GeneratorEma)
            } else if model.starts_with("G-") {
                Some(Net::Generator)
            } else if model.starts_with("D-") {
                Some(Net::Discriminator)
            } else {
                None
            }
        }
        Source::BigGanPytorch => {
            if name.starts_with("G_ema") {
                Some(Net::GeneratorEma)
            } else if name.starts_with("G_optim") || name.starts_with("D_optim") {
                None
            } else if name.starts_with('G') {
                Some(Net::Generator)
            } else if name.starts_with('D') {
                Some(Net::Discriminator)
            } else {
                None
            }
        }
        Source::Mmgen | Source::Chainer => None,
    }
}
