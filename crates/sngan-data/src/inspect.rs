//! `sngan data inspect`: read every split of a data set, count images and labels, and list
//! each problem found (missing split, truncated file, corrupt image, count that differs from
//! the published one) as one line instead of stopping at the first.

use std::fmt;
use std::path::Path;

use rayon::prelude::*;
use sngan_core::md5_hex;

use crate::celeba::{CELEBA_LEN, CelebA, CelebaSplit};
use crate::cifar::{CifarOptions, CifarSplit, CifarVariant, load_cifar};
use crate::error::{DataError, Result, show};
use crate::mnist::{MnistSplit, load_mnist};
use crate::pipeline::CelebaCrop;
use crate::source::ImageSource;
use crate::stl10::{Stl10Options, Stl10Split, load_stl10};
use crate::{DataConfig, DatasetName};
use sngan_core::Images;

/// Counts of one split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitReport {
    /// Split name (`train`, `test`, `unlabeled`, `all`).
    pub split: String,
    /// Images.
    pub count: usize,
    /// `[H, W, C]` as the reader yields them.
    pub shape: [usize; 3],
    /// Classes, `None` when unlabelled.
    pub num_classes: Option<usize>,
    /// Images per class.
    pub histogram: Vec<usize>,
    /// Images without a label.
    pub unlabelled: usize,
    /// MD5 of the first image's HWC bytes (to compare copies of a data set).
    pub first_md5: Option<String>,
}

/// What `inspect` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Data set.
    pub dataset: DatasetName,
    /// Where it was read from.
    pub path: String,
    /// Splits that could be read.
    pub splits: Vec<SplitReport>,
    /// One line per problem.
    pub problems: Vec<String>,
    /// Remarks that are not problems (for example images left unchecked by `max_decode`).
    pub notes: Vec<String>,
}

impl Report {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dataset {} at {}", self.dataset.name(), self.path)?;
        for s in &self.splits {
            let [h, w, c] = s.shape;
            write!(f, "{}: {} images, {h}x{w}x{c}", s.split, s.count)?;
            match s.num_classes {
                Some(n) => writeln!(f, ", {n} classes")?,
                None => writeln!(f, ", unlabelled")?,
            }
            if !s.histogram.is_empty() {
                let parts: Vec<String> = s
                    .histogram
                    .iter()
                    .enumerate()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect();
                writeln!(f, "  labels {}", parts.join(", "))?;
            }
            if s.unlabelled > 0 && s.num_classes.is_some() {
                writeln!(f, "  unlabelled {}", s.unlabelled)?;
            }
            if let Some(md5) = &s.first_md5 {
                writeln!(f, "  first image md5 {md5}")?;
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        if self.problems.is_empty() {
            write!(f, "no problems found")
        } else {
            writeln!(f, "{} problem(s):", self.problems.len())?;
            for (i, p) in self.problems.iter().enumerate() {
                if i + 1 < self.problems.len() {
                    writeln!(f, "problem: {p}")?;
                } else {
                    write!(f, "problem: {p}")?;
                }
            }
            Ok(())
        }
    }
}

/// Options of [`inspect_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InspectOptions {
    /// Decode at most this many images of lazily decoded sets (CelebA, ImageNet, folders);
    /// `None` decodes all of them, which finds every corrupt file. Default: `None`.
    pub max_decode: Option<usize>,
    /// Problem lines about single images listed before a summary line. Default: 20.
    pub max_listed: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self {
            max_decode: None,
            max_listed: 20,
        }
    }
}

/// Inspects `dataset` at `path` with default options.
pub fn inspect(dataset: DatasetName, path: &Path) -> Result<Report> {
    inspect_with(dataset, path, InspectOptions::default())
}

fn split_report(split: &str, images: &Images) -> SplitReport {
    let (histogram, unlabelled) = images.histogram();
    SplitReport {
        split: split.into(),
        count: images.len(),
        shape: images.shape(),
        num_classes: images.num_classes,
        histogram,
        unlabelled,
        first_md5: (!images.is_empty()).then(|| md5_hex(images.pixels_of(0))),
    }
}

fn count_problem(problems: &mut Vec<String>, what: &str, found: usize, published: usize) {
    if found != published {
        problems.push(format!(
            "{what}: expected {published} images (published count), found {found}"
        ));
    }
}

/// Inspects `dataset` at `path`. Fails only when `path` does not exist; everything else
/// found wrong is a line in [`Report::problems`].
pub fn inspect_with(dataset: DatasetName, path: &Path, options: InspectOptions) -> Result<Report> {
    if !path.exists() {
        return Err(DataError::Missing {
            path: show(path),
            expected: format!("{} data", dataset.name()),
            found: "no such file or folder".into(),
        });
    }
    let mut report = Report {
        dataset,
        path: show(path),
        splits: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let eager =
        |name: &str, loaded: Result<Images>, published: usize, report: &mut Report| match loaded {
            Ok(images) => {
                count_problem(
                    &mut report.problems,
                    &format!("{} {name}", dataset.name()),
                    images.len(),
                    published,
                );
                report.splits.push(split_report(name, &images));
            }
            Err(e) => report.problems.push(e.to_string()),
        };
    match dataset {
        DatasetName::Mnist => {
            for split in [MnistSplit::Train, MnistSplit::Test] {
                let name = if split == MnistSplit::Train {
                    "train"
                } else {
                    "test"
                };
                eager(
                    name,
                    load_mnist(path, split, false),
                    split.published_len(),
                    &mut report,
                );
            }
        }
        DatasetName::Cifar10 | DatasetName::Cifar100 => {
            let variant = if dataset == DatasetName::Cifar10 {
                CifarVariant::Cifar10
            } else {
                CifarVariant::Cifar100
            };
            let options = CifarOptions {
                check_counts: false,
                ..CifarOptions::default()
            };
            for (split, name, n) in [
                (CifarSplit::Train, "train", 50_000),
                (CifarSplit::Test, "test", 10_000),
            ] {
                eager(
                    name,
                    load_cifar(path, variant, split, options),
                    n,
                    &mut report,
                );
            }
        }
        DatasetName::Stl10 => {
            let options = Stl10Options {
                check_counts: false,
                ..Stl10Options::default()
            };
            for (split, name, n) in [
                (Stl10Split::Train, "train", 5_000),
                (Stl10Split::Test, "test", 8_000),
                (Stl10Split::Unlabeled, "unlabeled", 100_000),
            ] {
                eager(name, load_stl10(path, split, options), n, &mut report);
            }
        }
        DatasetName::CelebA => {
            match CelebA::open(path, CelebaSplit::All, CelebaCrop::Bssn128, 64) {
                Ok(c) => {
                    count_problem(&mut report.problems, "CelebA", c.len(), CELEBA_LEN);
                    lazy("all", &c, options, &mut report);
                    if let Err(e) = CelebA::open(path, CelebaSplit::Train, CelebaCrop::Bssn128, 64)
                    {
                        report
                            .problems
                            .push(format!("train/valid/test splits unavailable: {e}"));
                    }
                }
                Err(e) => report.problems.push(e.to_string()),
            }
        }
        DatasetName::ImageNet | DatasetName::ImageFolder => {
            match DataConfig::new(dataset).open_partial(path) {
                Ok(src) => {
                    if dataset == DatasetName::ImageNet {
                        count_problem(
                            &mut report.problems,
                            "ImageNet train",
                            src.len(),
                            crate::imagenet::IMAGENET_TRAIN_LEN,
                        );
                    }
                    lazy("all", src.as_ref(), options, &mut report);
                }
                Err(e) => report.problems.push(e.to_string()),
            }
        }
    }
    Ok(report)
}

/// Decodes (up to `max_decode`) images of a lazy source in parallel and records failures.
fn lazy(split: &str, src: &dyn ImageSource, options: InspectOptions, report: &mut Report) {
    let n = src.len();
    let n_decode = options.max_decode.map_or(n, |m| m.min(n));
    let per = {
        let [h, w, c] = src.shape();
        h * w * c
    };
    let errors: Vec<(usize, String)> = (0..n_decode)
        .into_par_iter()
        .filter_map(|i| {
            let mut buf = vec![0u8; per];
            src.load_into(i, &mut buf).err().map(|e| (i, e.to_string()))
        })
        .collect();
    let classes = src.num_classes();
    let mut histogram = vec![0usize; classes.unwrap_or(0)];
    let mut unlabelled = 0;
    for i in 0..n {
        match src.label(i) {
            Some(l) if (l as usize) < histogram.len() => histogram[l as usize] += 1,
            _ => unlabelled += 1,
        }
    }
    let first_md5 = src.load(0).ok().map(|img| md5_hex(&img.pixels));
    report.splits.push(SplitReport {
        split: split.into(),
        count: n,
        shape: src.shape(),
        num_classes: classes,
        histogram,
        unlabelled,
        first_md5,
    });
    let listed = errors.len().min(options.max_listed);
    report
        .problems
        .extend(errors.iter().take(listed).map(|(_, e)| e.clone()));
    if errors.len() > listed {
        report.problems.push(format!(
            "{} more unreadable images (skipped {} of {n_decode} decoded)",
            errors.len() - listed,
            errors.len()
        ));
    }
    if n_decode < n {
        report.notes.push(format!(
            "only {n_decode} of {n} images decoded (max_decode); the rest were not checked"
        ));
    }
}
