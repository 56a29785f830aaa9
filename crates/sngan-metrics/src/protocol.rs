//! Evaluation protocols, named after who uses them, because IS/FID numbers are comparable only
//! under the same sample counts, reference set, splits and preprocessing
//! (research/anchors.md section 3.8, research/metrics.md section 4). Every score this crate
//! reports is printed with its protocol line.

use std::fmt;

use crate::inception::Preprocess;
use crate::kid::KidConfig;

/// Which logits IS is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsLogits {
    /// `pool3 · Wᵀ` without the fc bias: the original improved-gan code, StyleGAN2-ADA,
    /// torch-fidelity.
    Unbiased,
    /// With the fc bias: StudioGAN.
    Biased,
}

/// Sample counts, reference and settings of one published evaluation protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Short name (`sngan-paper`, `mmgen`, `studiogan`).
    pub name: &'static str,
    /// Who uses it and where it is specified.
    pub source: &'static str,
    /// Generated samples for FID/KID/P-R.
    pub n_fake: usize,
    /// Real samples for the reference statistics; `None` = the whole split.
    pub n_real: Option<usize>,
    /// Reference split.
    pub reference_split: &'static str,
    /// Generated samples for IS.
    pub n_fake_is: usize,
    /// IS splits.
    pub is_splits: usize,
    /// Logits IS uses.
    pub is_logits: IsLogits,
    /// KID settings.
    pub kid: KidConfig,
    /// Neighbours for improved precision/recall (`≤`).
    pub pr_k: usize,
    /// Neighbours for precision/recall/density/coverage (`<`).
    pub prdc_k: usize,
    /// Image preprocessing for the Inception.
    pub preprocess: Preprocess,
}

impl Protocol {
    /// The SNGAN paper (Miyato et al., ICLR 2018, appendix B.1): FID on 5 000 generated vs
    /// 10 000 real images; IS on 50 000 in 10 splits with the original TF code.
    pub fn sngan_paper() -> Self {
        Self {
            name: "sngan-paper",
            source: "Miyato et al. 2018 (SNGAN) app. B.1; pfnet-research/sngan_projection evaluations/",
            n_fake: 5_000,
            n_real: Some(10_000),
            reference_split: "train",
            n_fake_is: 50_000,
            is_splits: 10,
            is_logits: IsLogits::Unbiased,
            kid: KidConfig::default(),
            pr_k: 3,
            prdc_k: 5,
            preprocess: Preprocess::TfExact,
        }
    }

    /// open-mmlab/mmgeneration: 50 000 generated vs the whole training set; IS on 50 000 in 10
    /// splits (mmgen resizes for IS with PIL bicubic on uint8 and uses Tero's TorchScript
    /// Inception, whose resize is TF1's).
    pub fn mmgen() -> Self {
        Self {
            name: "mmgen",
            source: "open-mmlab/mmgeneration mmgen/core/evaluation/metrics.py, tools/utils/inception_stat.py",
            n_fake: 50_000,
            n_real: None,
            reference_split: "train",
            n_fake_is: 50_000,
            is_splits: 10,
            is_logits: IsLogits::Unbiased,
            kid: KidConfig::default(),
            pr_k: 3,
            prdc_k: 5,
            preprocess: Preprocess::TfExact,
        }
    }

    /// POSTECH-CVLab/PyTorch-StudioGAN: as many generated images as the training set has (50 000
    /// for CIFAR-10) vs the whole training set; IS with 1 split and the fc bias; P/R/D/C with
    /// k = 5; default `--post_resizer legacy` (PyTorch bilinear, pytorch-fid's input scaling).
    pub fn studiogan() -> Self {
        Self {
            name: "studiogan",
            source: "POSTECH-CVLab/PyTorch-StudioGAN src/worker.py, src/metrics/",
            n_fake: 50_000,
            n_real: None,
            reference_split: "train",
            n_fake_is: 50_000,
            is_splits: 1,
            is_logits: IsLogits::Biased,
            kid: KidConfig::default(),
            pr_k: 5,
            prdc_k: 5,
            preprocess: Preprocess::PytorchFid,
        }
    }

    /// Every preset.
    pub fn all() -> Vec<Self> {
        vec![Self::sngan_paper(), Self::mmgen(), Self::studiogan()]
    }

    /// The preset called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|p| p.name == name)
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Self::sngan_paper()
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let real = match self.n_real {
            Some(n) => format!("{n} real"),
            None => "all real".to_string(),
        };
        let logits = match self.is_logits {
            IsLogits::Unbiased => "logits without fc bias",
            IsLogits::Biased => "logits with fc bias",
        };
        write!(
            f,
            "protocol {}: FID {} fake vs {} ({}), IS {} fake in {} split(s) ({}), KID {}x{}, \
             P/R k={}, D/C k={}, TF Inception 2015-12-05 pool3, preprocessing {} [{}]",
            self.name,
            self.n_fake,
            real,
            self.reference_split,
            self.n_fake_is,
            self.is_splits,
            logits,
            self.kid.subsets,
            self.kid.subset_size,
            self.pr_k,
            self.prdc_k,
            self.preprocess,
            self.source
        )
    }
}
