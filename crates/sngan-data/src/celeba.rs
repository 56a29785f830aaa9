//! CelebA aligned-and-cropped faces (Liu et al. 2015): `img_align_celeba.zip` read in place or
//! its extracted folder, 202,599 JPEGs of 178x218, the `list_eval_partition.txt` splits, and
//! the crop presets of [`CelebaCrop`] (research/data.md section 5). Images are decoded lazily;
//! [`crate::materialize`] caches them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use zip::CompressionMethod;

use crate::decode::decode_rgb;
use crate::error::{DataError, Result, io, member, show};
use crate::pipeline::{CelebaCrop, Pipeline};
use crate::source::{ImageSource, check_index, shape_error};
use sngan_core::CoreError;

/// Name of the zip on the CelebA site.
pub const CELEBA_ZIP: &str = "img_align_celeba.zip";
/// Folder inside the zip.
pub const CELEBA_FOLDER: &str = "img_align_celeba";
/// Partition file name.
pub const CELEBA_PARTITION: &str = "list_eval_partition.txt";
/// Number of images in the published set.
pub const CELEBA_LEN: usize = 202_599;

/// The partitions of `list_eval_partition.txt` (0 train, 1 valid, 2 test), or all images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CelebaSplit {
    /// Every image (what BSSN trains on).
    All,
    /// Partition 0: 000001-162770.
    Train,
    /// Partition 1: 162771-182637.
    Valid,
    /// Partition 2: 182638-202599.
    Test,
}

impl CelebaSplit {
    fn partition(self) -> Option<u8> {
        match self {
            CelebaSplit::All => None,
            CelebaSplit::Train => Some(0),
            CelebaSplit::Valid => Some(1),
            CelebaSplit::Test => Some(2),
        }
    }
}

/// Where a CelebA member's bytes are in the zip.
#[derive(Clone, Debug)]
struct ZipEntry {
    name: String,
    data_start: u64,
    compressed: u64,
    size: u64,
    deflated: bool,
    crc32: u32,
}

#[derive(Debug)]
enum Backing {
    Zip {
        path: PathBuf,
        entries: Vec<ZipEntry>,
    },
    Dir {
        root: PathBuf,
        files: Vec<String>,
    },
}

/// Lazily decoded CelebA images after a crop preset and resize.
#[derive(Debug)]
pub struct CelebA {
    backing: Backing,
    pipeline: Pipeline,
    size: usize,
}

fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg") || lower.ends_with(".png")
}

fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

impl CelebA {
    /// Opens CelebA under `root` (the zip, a folder holding the zip or `img_align_celeba/`, or
    /// that image folder itself), keeps `split` (which needs `list_eval_partition.txt` in
    /// `root`, beside the zip or above the image folder) and yields `size x size` RGB images
    /// through the `crop` preset.
    pub fn open(root: &Path, split: CelebaSplit, crop: CelebaCrop, size: usize) -> Result<Self> {
        Self::open_with(root, split, crop.pipeline(size))
    }

    /// As [`CelebA::open`] with any pipeline; its output size must not depend on the input.
    pub fn open_with(root: &Path, split: CelebaSplit, pipeline: Pipeline) -> Result<Self> {
        let Some([size, w]) = pipeline.output_size() else {
            return Err(DataError::Invalid {
                what: "CelebA pipeline".into(),
                expected: "a fixed output size (a resize or a fixed crop)".into(),
                found: format!("{pipeline:?}"),
            });
        };
        if size != w {
            return Err(DataError::Invalid {
                what: "CelebA pipeline".into(),
                expected: "a square output".into(),
                found: format!("{w}x{size}"),
            });
        }
        let (mut backing, partition_dirs) = locate(root)?;
        if let Some(part) = split.partition() {
            let partition = partition_dirs
                .iter()
                .map(|d| d.join(CELEBA_PARTITION))
                .find(|p| p.is_file())
                .ok_or_else(|| DataError::Missing {
                    path: show(root),
                    expected: format!("{CELEBA_PARTITION} for the {split:?} split"),
                    found: "no partition file beside the images".into(),
                })?;
            let table = read_partition(&partition)?;
            let keep = |name: &str| table.get(base_name(name)) == Some(&part);
            let n_wanted = table.values().filter(|&&p| p == part).count();
            let n_kept = match &mut backing {
                Backing::Zip { entries, .. } => {
                    entries.retain(|e| keep(&e.name));
                    entries.len()
                }
                Backing::Dir { files, .. } => {
                    files.retain(|f| keep(f));
                    files.len()
                }
            };
            if n_kept != n_wanted {
                return Err(DataError::Missing {
                    path: show(root),
                    expected: format!(
                        "{n_wanted} images of the {split:?} split listed in {}",
                        show(&partition)
                    ),
                    found: format!("{n_kept} of them"),
                });
            }
        }
        Ok(Self {
            backing,
            pipeline,
            size,
        })
    }

    /// The crop/resize applied to each decoded image.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Reads the encoded bytes of image `index`.
    pub fn read_bytes(&self, index: usize) -> Result<Vec<u8>> {
        match &self.backing {
            Backing::Dir { root, files } => {
                let p = root.join(&files[index]);
                std::fs::read(&p).map_err(io(show(&p)))
            }
            Backing::Zip { path, entries } => read_zip_entry(path, &entries[index]),
        }
    }
}

fn read_zip_entry(path: &Path, e: &ZipEntry) -> Result<Vec<u8>> {
    let label = member(path, &e.name);
    let mut f = File::open(path).map_err(io(show(path)))?;
    let file_len = f.metadata().map_err(io(show(path)))?.len();
    if e.data_start + e.compressed > file_len {
        return Err(DataError::Core(CoreError::Truncated {
            path: label,
            expected: format!(
                "{} compressed bytes at offset {}",
                e.compressed, e.data_start
            ),
            found: format!("a {file_len}-byte zip"),
        }));
    }
    f.seek(SeekFrom::Start(e.data_start))
        .map_err(io(label.clone()))?;
    let mut raw = vec![0u8; e.compressed as usize];
    f.read_exact(&mut raw).map_err(io(label.clone()))?;
    let bytes = if e.deflated {
        let mut out = Vec::with_capacity(e.size.min(1 << 26) as usize);
        flate2::read::DeflateDecoder::new(&raw[..])
            .take(e.size + 1)
            .read_to_end(&mut out)
            .map_err(|err| DataError::Image {
                path: label.clone(),
                expected: "a valid deflate stream".into(),
                found: err.to_string(),
            })?;
        out
    } else {
        raw
    };
    if bytes.len() as u64 != e.size {
        return Err(DataError::Core(CoreError::Truncated {
            path: label,
            expected: format!("{} bytes (zip directory)", e.size),
            found: format!("{} bytes", bytes.len()),
        }));
    }
    let crc = crc32fast::hash(&bytes);
    if crc != e.crc32 {
        return Err(DataError::Core(CoreError::Format {
            path: label,
            expected: format!("CRC-32 {:08x} (zip directory)", e.crc32),
            found: format!("{crc:08x} (corrupt member)"),
        }));
    }
    Ok(bytes)
}

/// Finds the zip or folder; also returns where a partition file may be.
fn locate(root: &Path) -> Result<(Backing, Vec<PathBuf>)> {
    let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    if root.is_file() {
        return Ok((index_zip(root)?, vec![parent(root)]));
    }
    if root.join(CELEBA_FOLDER).is_dir() {
        let dir = root.join(CELEBA_FOLDER);
        return Ok((index_dir(&dir)?, vec![root.to_path_buf()]));
    }
    if root.join(CELEBA_ZIP).is_file() {
        return Ok((index_zip(&root.join(CELEBA_ZIP))?, vec![root.to_path_buf()]));
    }
    if root.is_dir() {
        return Ok((index_dir(root)?, vec![root.to_path_buf(), parent(root)]));
    }
    Err(DataError::Missing {
        path: show(root),
        expected: format!("CelebA: {CELEBA_ZIP} or {CELEBA_FOLDER}/"),
        found: "no such file or folder".into(),
    })
}

fn index_dir(dir: &Path) -> Result<Backing> {
    let rd = std::fs::read_dir(dir).map_err(io(show(dir)))?;
    let mut files = Vec::new();
    for e in rd {
        let e = e.map_err(io(show(dir)))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if is_image_name(&name) && e.path().is_file() {
            files.push(name);
        }
    }
    if files.is_empty() {
        return Err(DataError::Empty {
            path: show(dir),
            expected: "CelebA images (*.jpg)".into(),
        });
    }
    files.sort();
    Ok(Backing::Dir {
        root: dir.to_path_buf(),
        files,
    })
}

fn index_zip(path: &Path) -> Result<Backing> {
    let f = File::open(path).map_err(io(show(path)))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| {
        DataError::Core(CoreError::Format {
            path: show(path),
            expected: "a zip archive".into(),
            found: format!("an unreadable one ({e})"),
        })
    })?;
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let zf = archive.by_index_raw(i).map_err(|e| {
            DataError::Core(CoreError::Format {
                path: show(path),
                expected: format!("readable zip entry {i}"),
                found: e.to_string(),
            })
        })?;
        let name = String::from_utf8_lossy(zf.name_raw()).into_owned();
        if zf.is_dir() || !is_image_name(&name) {
            continue;
        }
        let deflated = match zf.compression() {
            CompressionMethod::Stored => false,
            CompressionMethod::Deflated => true,
            other => {
                return Err(DataError::Core(CoreError::Format {
                    path: member(path, &name),
                    expected: "a stored or deflated member".into(),
                    found: format!("compression {other:?}"),
                }));
            }
        };
        let data_start = zf.data_start().ok_or_else(|| {
            DataError::Core(CoreError::Format {
                path: member(path, &name),
                expected: "a local file header".into(),
                found: "none".into(),
            })
        })?;
        entries.push(ZipEntry {
            name,
            data_start,
            compressed: zf.compressed_size(),
            size: zf.size(),
            deflated,
            crc32: zf.crc32(),
        });
    }
    if entries.is_empty() {
        return Err(DataError::Empty {
            path: show(path),
            expected: "CelebA images (*.jpg members)".into(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Backing::Zip {
        path: path.to_path_buf(),
        entries,
    })
}

/// Parses `list_eval_partition.txt` (`000001.jpg 0` per line).
pub fn read_partition(path: &Path) -> Result<HashMap<String, u8>> {
    let text = std::fs::read_to_string(path).map_err(io(show(path)))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut it = line.split_whitespace();
        let (Some(name), Some(part), None) = (it.next(), it.next(), it.next()) else {
            return Err(DataError::Core(CoreError::Format {
                path: format!("{}:{}", show(path), i + 1),
                expected: "'<image>.jpg <0|1|2>'".into(),
                found: format!("'{line}'"),
            }));
        };
        let part = match part {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            _ => {
                return Err(DataError::Core(CoreError::Format {
                    path: format!("{}:{}", show(path), i + 1),
                    expected: "partition 0, 1 or 2".into(),
                    found: format!("'{part}'"),
                }));
            }
        };
        out.insert(name.to_string(), part);
    }
    Ok(out)
}

impl ImageSource for CelebA {
    fn len(&self) -> usize {
        match &self.backing {
            Backing::Zip { entries, .. } => entries.len(),
            Backing::Dir { files, .. } => files.len(),
        }
    }

    fn shape(&self) -> [usize; 3] {
        [self.size, self.size, 3]
    }

    fn num_classes(&self) -> Option<usize> {
        None
    }

    fn label(&self, index: usize) -> Option<u32> {
        check_index(index, self.len());
        None
    }

    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        check_index(index, self.len());
        let name = self.describe(index);
        let bytes = self.read_bytes(index)?;
        let img = self.pipeline.apply(decode_rgb(&bytes, &name)?, &name)?;
        if img.shape() != self.shape() {
            return Err(shape_error(name, self.shape(), img.shape()));
        }
        out.copy_from_slice(&img.pixels);
        Ok(())
    }

    fn describe(&self, index: usize) -> String {
        match &self.backing {
            Backing::Zip { path, entries } => member(path, &entries[index].name),
            Backing::Dir { root, files } => show(&root.join(&files[index])),
        }
    }
}
