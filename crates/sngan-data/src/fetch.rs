//! The data sets' checked downloads: the canonical archives of MNIST, CIFAR-10/100 (binary
//! versions) and STL-10 (binary) with their published digests (torchvision, tensorflow-datasets;
//! research/data.md Appendix B), fetched by `sngan_core::download` and extracted through a
//! temporary folder. A bad digest, a broken transfer or a failed extraction leaves no partial
//! file behind.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sngan_core::{Cleanup, Digests, download};

use crate::DatasetName;
use crate::error::{DataError, Result, io, show};

/// One file to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Where it is published.
    pub url: String,
    /// File name to store it under.
    pub file: String,
    /// Published MD5 (lowercase hex), if any.
    pub md5: Option<String>,
    /// Published SHA-256 (lowercase hex), if any.
    pub sha256: Option<String>,
    /// Unpack it (`.tar`, `.tar.gz`) into the target folder after checking.
    pub extract: bool,
}

impl Remote {
    fn new(url: &str, md5: Option<&str>, sha256: Option<&str>, extract: bool) -> Self {
        Self {
            url: url.into(),
            file: url.rsplit('/').next().unwrap_or(url).into(),
            md5: md5.map(String::from),
            sha256: sha256.map(String::from),
            extract,
        }
    }
}

/// The canonical downloads of `dataset` (MNIST, CIFAR-10, CIFAR-100, STL-10).
///
/// CelebA (Google Drive behind a consent page) and ImageNet (registration) have no public
/// direct download and are an error naming where to get them.
pub fn remotes(dataset: DatasetName) -> Result<Vec<Remote>> {
    // MNIST: torchvision's mirror and MD5s (`torchvision/datasets/mnist.py`).
    const MNIST: &str = "https://ossci-datasets.s3.amazonaws.com/mnist";
    Ok(match dataset {
        DatasetName::Mnist => vec![
            Remote::new(
                &format!("{MNIST}/train-images-idx3-ubyte.gz"),
                Some("f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                None,
                false,
            ),
            Remote::new(
                &format!("{MNIST}/train-labels-idx1-ubyte.gz"),
                Some("d53e105ee54ea40749a09fcbcd1e9432"),
                None,
                false,
            ),
            Remote::new(
                &format!("{MNIST}/t10k-images-idx3-ubyte.gz"),
                Some("9fb629c4189551a2d022fa330f9573f3"),
                None,
                false,
            ),
            Remote::new(
                &format!("{MNIST}/t10k-labels-idx1-ubyte.gz"),
                Some("ec29112dd5afa0611ce80d1b7f02629c"),
                None,
                false,
            ),
        ],
        // Binary versions, SHA-256 from tensorflow-datasets `url_checksums/cifar10.txt`, `cifar100.txt`.
        DatasetName::Cifar10 => vec![Remote::new(
            "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            None,
            Some("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
            true,
        )],
        DatasetName::Cifar100 => vec![Remote::new(
            "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            None,
            Some("58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"),
            true,
        )],
        // torchvision `datasets/stl10.py`.
        DatasetName::Stl10 => vec![Remote::new(
            "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
            Some("91f7769df0f17e558f3565bffb0c7dfb"),
            None,
            true,
        )],
        DatasetName::CelebA => {
            return Err(DataError::Invalid {
                what: "sngan fetch celeba".into(),
                expected: "a dataset with a direct public download (mnist, cifar10, cifar100, stl10)".into(),
                found: "CelebA, which is on Google Drive behind a consent page: download img_align_celeba.zip from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html".into(),
            });
        }
        DatasetName::ImageNet | DatasetName::ImageFolder => {
            return Err(DataError::Invalid {
                what: format!("sngan fetch {}", dataset.name()),
                expected:
                    "a dataset with a direct public download (mnist, cifar10, cifar100, stl10)"
                        .into(),
                found: "ImageNet, which needs a registered account at https://image-net.org".into(),
            });
        }
    })
}

/// Options of [`fetch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Draw a progress bar on stderr. Default: true.
    pub progress: bool,
    /// Keep a checked archive after extracting it (so a second fetch finds it and skips the
    /// download). Default: true.
    pub keep_archive: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            progress: true,
            keep_archive: true,
        }
    }
}

/// What [`fetch`] did with one remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The checked file (removed afterwards if extracted and not kept).
    pub path: PathBuf,
    /// Bytes transferred (0 when an existing file already matched).
    pub downloaded: u64,
    /// Top-level entries the extraction created in the target folder.
    pub extracted: Vec<PathBuf>,
}

/// Downloads, checks and extracts `dataset` into `dir` (created if needed).
pub fn fetch(dataset: DatasetName, dir: &Path, options: FetchOptions) -> Result<Vec<Fetched>> {
    fetch_remotes(&remotes(dataset)?, dir, options)
}

/// [`fetch`] for an explicit list of remotes (mirrors, tests against a local server).
pub fn fetch_remotes(
    remotes: &[Remote],
    dir: &Path,
    options: FetchOptions,
) -> Result<Vec<Fetched>> {
    std::fs::create_dir_all(dir).map_err(io(show(dir)))?;
    remotes.iter().map(|r| fetch_one(r, dir, options)).collect()
}

fn fetch_one(remote: &Remote, dir: &Path, options: FetchOptions) -> Result<Fetched> {
    let target = dir.join(&remote.file);
    let digests = Digests {
        md5: remote.md5.clone(),
        sha256: remote.sha256.clone(),
    };
    let downloaded = download(&remote.url, &target, &digests, options.progress)?;
    let mut extracted = Vec::new();
    if remote.extract {
        extracted = extract(&target, dir)?;
        if !options.keep_archive {
            std::fs::remove_file(&target).map_err(io(show(&target)))?;
        }
    }
    Ok(Fetched {
        path: target,
        downloaded,
        extracted,
    })
}

/// Unpacks a (gzipped) tar into `dir` through a temporary folder; returns the new top-level
/// entries. Existing entries of the same name are replaced only after a complete extraction.
fn extract(archive: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.extract"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(show(&tmp)))?;
    }
    let guard = Cleanup::new(tmp.clone());
    std::fs::create_dir_all(&tmp).map_err(io(show(&tmp)))?;
    let gz = crate::archive::is_gzip(archive)?;
    let file = File::open(archive).map_err(io(show(archive)))?;
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    // `unpack` refuses members that would land outside `tmp` (absolute paths, `..`).
    tar::Archive::new(reader)
        .unpack(&tmp)
        .map_err(|e| crate::archive::gzip_error(show(archive), gz, e))?;
    let mut created = Vec::new();
    let rd = std::fs::read_dir(&tmp).map_err(io(show(&tmp)))?;
    for e in rd {
        let e = e.map_err(io(show(&tmp)))?;
        let dest = dir.join(e.file_name());
        if dest.is_dir() {
            std::fs::remove_dir_all(&dest).map_err(io(show(&dest)))?;
        } else if dest.exists() {
            std::fs::remove_file(&dest).map_err(io(show(&dest)))?;
        }
        std::fs::rename(e.path(), &dest).map_err(io(show(&dest)))?;
        created.push(dest);
    }
    created.sort();
    drop(guard);
    Ok(created)
}
