//! ImageNet ILSVRC2012 in the three layouts GAN code uses (research/data.md section 6):
//! the BSSN per-class folders of `(128, 128, 3) uint8` `.npy` files ([`NpyFolder`]), a
//! torchvision/BigGAN `ImageFolder` of JPEGs ([`ImageFolder`]), and the train tar of per-class
//! tars read in place, either indexed for random access ([`TarOfTars`]) or streamed in one pass
//! with parallel decoding ([`stream_tar_of_tars`]). Decoded images go through a [`Pipeline`]
//! (BSSN: centre square + `cv2.resize`; BigGAN: `CenterCropLongEdge` + PIL bilinear).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::decode::decode_rgb;
use crate::error::{DataError, Result, io, member, show};
use crate::pipeline::Pipeline;
use crate::source::{ImageSource, check_index, shape_error};
use sngan_core::CoreError;
use sngan_core::Image;

/// ILSVRC2012 train: classes.
pub const IMAGENET_CLASSES: usize = 1000;
/// ILSVRC2012 train: images.
pub const IMAGENET_TRAIN_LEN: usize = 1_281_167;
/// Extensions an [`ImageFolder`] accepts (BigGAN's list), compared case-insensitively.
pub const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "ppm", "bmp", "pgm"];

fn has_ext(name: &str, exts: &[&str]) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, e)| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Sorted names of the immediate sub-folders of `root` (torchvision `find_classes`).
fn class_dirs(root: &Path, what: &str) -> Result<Vec<String>> {
    let rd = std::fs::read_dir(root).map_err(io(show(root)))?;
    let mut classes = Vec::new();
    for e in rd {
        let e = e.map_err(io(show(root)))?;
        if e.path().is_dir() {
            classes.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    if classes.is_empty() {
        return Err(DataError::Empty {
            path: show(root),
            expected: format!("{what}: class sub-folders"),
        });
    }
    classes.sort();
    Ok(classes)
}

/// Files under `dir` with an accepted extension, in `sorted(os.walk(dir))` order (folders by
/// path, files sorted within each), relative to `root`.
fn walk_sorted(root: &Path, dir: &Path, exts: &[&str], out: &mut Vec<String>) -> Result<()> {
    let mut folders: Vec<(String, Vec<String>)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(io(show(&d)))?;
        let mut files = Vec::new();
        for e in rd {
            let e = e.map_err(io(show(&d)))?;
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if has_ext(&name, exts) {
                files.push(name);
            }
        }
        files.sort();
        let rel = d
            .strip_prefix(root)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        folders.push((rel, files));
    }
    folders.sort();
    for (rel, files) in folders {
        out.extend(files.into_iter().map(|f| format!("{rel}/{f}")));
    }
    Ok(())
}

/// Class names and `(relative path, label)` items of a class-per-folder tree.
type ClassItems = (Vec<String>, Vec<(String, u32)>);

/// Files of every class folder with their labels; an empty class is an error.
fn collect(root: &Path, exts: &[&str], what: &str) -> Result<ClassItems> {
    let classes = class_dirs(root, what)?;
    let mut items = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let mut files = Vec::new();
        walk_sorted(root, &root.join(class), exts, &mut files)?;
        if files.is_empty() {
            return Err(DataError::Empty {
                path: show(&root.join(class)),
                expected: format!("{what}: files with extension {}", exts.join(", ")),
            });
        }
        items.extend(files.into_iter().map(|f| (f, label as u32)));
    }
    Ok((classes, items))
}

/// A class-per-folder tree of encoded images (torchvision `ImageFolder` rules: classes are the
/// sorted sub-folder names, files sorted, searched recursively), decoded lazily through a
/// [`Pipeline`].
#[derive(Debug)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    items: Vec<(String, u32)>,
    pipeline: Pipeline,
    shape: [usize; 3],
}

impl ImageFolder {
    /// Indexes `root`. Without a fixed pipeline output size the first image fixes the shape and
    /// every other image must match it.
    pub fn open(root: &Path, pipeline: Pipeline) -> Result<Self> {
        let (classes, items) = collect(root, &IMAGE_EXTENSIONS, "ImageFolder")?;
        let mut me = Self {
            root: root.to_path_buf(),
            classes,
            items,
            pipeline,
            shape: [0, 0, 3],
        };
        me.shape = match pipeline.output_size() {
            Some([h, w]) => [h, w, 3],
            None => me.decode(0)?.shape(),
        };
        Ok(me)
    }

    /// Class names (sorted folder names), label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    fn decode(&self, index: usize) -> Result<Image> {
        let name = self.describe(index);
        let p = self.root.join(&self.items[index].0);
        let bytes = std::fs::read(&p).map_err(io(show(&p)))?;
        self.pipeline.apply(decode_rgb(&bytes, &name)?, &name)
    }
}

impl ImageSource for ImageFolder {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn shape(&self) -> [usize; 3] {
        self.shape
    }
    fn num_classes(&self) -> Option<usize> {
        Some(self.classes.len())
    }
    fn label(&self, index: usize) -> Option<u32> {
        Some(self.items[index].1)
    }
    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        check_index(index, self.len());
        let img = self.decode(index)?;
        if img.shape() != self.shape {
            return Err(shape_error(self.describe(index), self.shape, img.shape()));
        }
        out.copy_from_slice(&img.pixels);
        Ok(())
    }
    fn describe(&self, index: usize) -> String {
        show(&self.root.join(&self.items[index].0))
    }
}

// ---------------------------------------------------------------------------------------------

/// BSSN's preprocessed ImageNet: `<root>/<wnid>/<image>.npy`, each `(128, 128, 3)` uint8.
#[derive(Debug)]
pub struct NpyFolder {
    root: PathBuf,
    classes: Vec<String>,
    items: Vec<(String, u32)>,
    shape: [usize; 3],
}

impl NpyFolder {
    /// Indexes `root`; the first file fixes the shape. With `check_counts` anything but the
    /// full 1000 classes / 1,281,167 images is an error (BSSN asserts the same).
    pub fn open(root: &Path, check_counts: bool) -> Result<Self> {
        let (classes, items) = collect(root, &["npy"], "ImageNet npy folder")?;
        if check_counts && (classes.len() != IMAGENET_CLASSES || items.len() != IMAGENET_TRAIN_LEN)
        {
            return Err(DataError::Core(CoreError::Format {
                path: show(root),
                expected: format!(
                    "{IMAGENET_CLASSES} classes / {IMAGENET_TRAIN_LEN} images (BSSN ILSVRC2012 layout; disable the count check to use a part)"
                ),
                found: format!("{} classes / {} images", classes.len(), items.len()),
            }));
        }
        let first = root.join(&items[0].0);
        let bytes = std::fs::read(&first).map_err(io(show(&first)))?;
        let shape = Image::from_npy(&bytes, &show(&first))?.shape();
        Ok(Self {
            root: root.to_path_buf(),
            classes,
            items,
            shape,
        })
    }

    /// Class names (sorted folder names), label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
}

impl ImageSource for NpyFolder {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn shape(&self) -> [usize; 3] {
        self.shape
    }
    fn num_classes(&self) -> Option<usize> {
        Some(self.classes.len())
    }
    fn label(&self, index: usize) -> Option<u32> {
        Some(self.items[index].1)
    }
    fn load_into(&self, index: usize, out: &mut [u8]) -> Result<()> {
        check_index(index, self.len());
        let p = self.root.join(&self.items[index].0);
        let bytes = std::fs::read(&p).map_err(io(show(&p)))?;
        let image = Image::from_npy(&bytes, &show(&p))?;
        if image.shape() != self.shape {
            return Err(shape_error(show(&p), self.shape, image.shape()));
        }
        out.copy_from_slice(&image.pixels);
        Ok(())
    }
    fn describe(&self, index: usize) -> String {
        show(&self.root.join(&self.items[index].0))
    }
}

// ---------------------------------------------------------------------------------------------

/// A `Read + Seek` view of `len` bytes of a file starting at `start` (one inner tar).
struct Window {
    file: File,
    start: u64,
    len: u64,
    pos: u64,
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            return Ok(0);
        }
        let max = ((self.len - self.pos) as usize).min(buf.len());
        self.file.seek(SeekFrom::Start(self.start + self.pos))?;
        let n = self.file.read(&mut buf[..max])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
        };
        if new < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

#[derive(Clone, Debug)]
struct TarMember {
    outer: String,
    name: String,
    offset: u64,
    size: u64,
    label: u32,
}

fn tar_format(path: &Path, e: io::Error) -> DataError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        DataError::Core(CoreError::Truncated {
            path: show(path),
            expected: "a complete tar archive".into(),
            found: format!("it ends inside a header ({e})"),
        })
    } else {
        DataError::Core(CoreError::Format {
            path: show(path),
            expected: "a tar archive".into(),
            found: format!("an unreadable header ({e})"),
        })
    }
}

/// The ILSVRC2012 train tar (an uncompressed tar of `<wnid>.tar` per class) indexed in place:
/// one pass over the tar headers only (seeking over the data), then random access to each
/// JPEG by its byte offset. Labels are the sorted wnids' indices.
#[derive(Debug)]
pub struct TarOfTars {
    path: PathBuf,
    classes: Vec<String>,
    members: Vec<TarMember>,
    pipeline: Pipeline,
    size: usize,
}

impl TarOfTars {
    /// Indexes the tar at `path`; the pipeline must give a fixed square size (for example
    /// [`Pipeline::bssn_imagenet`]`(128)`). A member whose data runs past the end of the file
    /// is reported as truncated here, before any training starts.
    pub fn open(path: &Path, pipeline: Pipeline) -> Result<Self> {
        let Some([size, w]) = pipeline.output_size().filter(|[h, w]| h == w) else {
            return Err(DataError::Invalid {
                what: "ImageNet tar pipeline".into(),
                expected: "a fixed square output size".into(),
                found: format!("{pipeline:?}"),
            });
        };
        let _ = w;
        let file = File::open(path).map_err(io(show(path)))?;
        let file_len = file.metadata().map_err(io(show(path)))?.len();
        let mut outer = tar::Archive::new(file.try_clone().map_err(io(show(path)))?);
        let mut members = Vec::new();
        let mut inner_tars = Vec::new();
        for entry in outer.entries_with_seek().map_err(|e| tar_format(path, e))? {
            let entry = entry.map_err(|e| tar_format(path, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = entry.header().size().map_err(|e| tar_format(path, e))?;
            let offset = entry.raw_file_position();
            if offset + size > file_len {
                return Err(DataError::Core(CoreError::Truncated {
                    path: member(path, &name),
                    expected: format!("{size} bytes (tar header)"),
                    found: format!("{} bytes", file_len.saturating_sub(offset)),
                }));
            }
            if name.ends_with(".tar") {
                inner_tars.push((name, offset, size));
            } else if has_ext(&name, &IMAGE_EXTENSIONS) {
                // A flat tar of images: the folder (if any) is the class.
                let class = name
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default();
                members.push(TarMember {
                    outer: class,
                    name,
                    offset,
                    size,
                    label: 0,
                });
            }
        }
        for (outer_name, start, len) in inner_tars {
            let window = Window {
                file: file.try_clone().map_err(io(show(path)))?,
                start,
                len,
                pos: 0,
            };
            let class = outer_name
                .rsplit('/')
                .next()
                .unwrap_or(&outer_name)
                .trim_end_matches(".tar")
                .to_string();
            let label = member(path, &outer_name);
            let mut inner = tar::Archive::new(window);
            let entries = inner.entries_with_seek().map_err(io(label.clone()))?;
            for entry in entries {
                let entry = entry.map_err(|e| {
                    DataError::Core(CoreError::Format {
                        path: label.clone(),
                        expected: "a tar of images".into(),
                        found: format!("an unreadable header ({e})"),
                    })
                })?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let size = entry.header().size().map_err(io(label.clone()))?;
                let offset = entry.raw_file_position();
                if offset + size > len {
                    return Err(DataError::Core(CoreError::Truncated {
                        path: format!("{label}:{name}"),
                        expected: format!("{size} bytes (tar header)"),
                        found: format!("{} bytes", len.saturating_sub(offset)),
                    }));
                }
                members.push(TarMember {
                    outer: class.clone(),
                    name,
                    offset: start + offset,
                    size,
                    label: 0,
                });
            }
        }
        if members.is_empty() {
            return Err(DataError::Empty {
                path: show(path),
                expected: "per-class tars of images (ILSVRC2012_img_train.tar layout)".into(),
            });
        }
        let mut classes: Vec<String> = members.iter().map(|m| m.outer.clone()).collect();
        classes.sort();
        classes.dedup();
        for m in &mut members {
            m.label = classes.binary_search(&m.outer).unwrap_or(0) as u32;
        }
        members.sort_by(|a, b| (a.label, &a.name).cmp(&(b.label, &b.name)));
        Ok(Self {
            path: path.to_path_buf(),
            classes,
            members,
            pipeline,
            size,
        })
    }

    /// Class names (sorted wnids), label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The encoded bytes of image `index`.
    pub fn read_bytes(&self, index: usize) -> Result<Vec<u8>> {
        let m = &self.members[index];
        let label = self.describe(index);
        let mut f = File::open(&self.path).map_err(io(show(&self.path)))?;
        f.seek(SeekFrom::Start(m.offset))
            .map_err(io(label.clone()))?;
        let mut buf = vec![0u8; m.size as usize];
        f.read_exact(&mut buf).map_err(io(label))?;
        Ok(buf)
    }
}

impl ImageSource for TarOfTars {
    fn len(&self) -> usize {
        self.members.len()
    }
    fn shape(&self) -> [usize; 3] {
        [self.size, self.size, 3]
    }
    fn num_classes(&self) -> Option<usize> {
        Some(self.classes.len())
    }
    fn label(&self, index: usize) -> Option<u32> {
        Some(self.members[index].label)
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
        let m = &self.members[index];
        format!("{}:{}.tar:{}", show(&self.path), m.outer, m.name)
    }
}

/// One image from [`stream_tar_of_tars`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarImage {
    /// Inner tar name without `.tar` (the wnid).
    pub class: String,
    /// Member name inside the inner tar (`n01440764_10026.JPEG`).
    pub name: String,
    /// Decoded image after the pipeline.
    pub image: Image,
}

/// Reads the tar of tars at `path` front to back in one pass (no seeking, no extraction),
/// decoding `chunk` images at a time in parallel through `pipeline`, and hands each image to
/// `f` in archive order on the calling thread (where a caller can write BSSN `.npy` files with
/// `Image::to_array`). Returns the number of images. A truncated member or corrupt image stops the
/// pass with its error.
pub fn stream_tar_of_tars(
    path: &Path,
    pipeline: Pipeline,
    chunk: usize,
    mut f: impl FnMut(TarImage) -> Result<()>,
) -> Result<usize> {
    let chunk = chunk.max(1);
    let file = File::open(path).map_err(io(show(path)))?;
    let mut outer = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut pending: Vec<(String, String, Vec<u8>)> = Vec::with_capacity(chunk);
    let mut count = 0usize;
    let mut flush =
        |pending: &mut Vec<(String, String, Vec<u8>)>, count: &mut usize| -> Result<()> {
            let decoded: Vec<Result<TarImage>> = pending
                .par_drain(..)
                .map(|(class, name, bytes)| {
                    let label = format!("{}:{class}.tar:{name}", show(path));
                    let image = pipeline.apply(decode_rgb(&bytes, &label)?, &label)?;
                    Ok(TarImage { class, name, image })
                })
                .collect();
            for d in decoded {
                f(d?)?;
                *count += 1;
            }
            Ok(())
        };
    for entry in outer.entries().map_err(|e| tar_format(path, e))? {
        let entry = entry.map_err(|e| tar_format(path, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let outer_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !outer_name.ends_with(".tar") {
            continue;
        }
        let class = outer_name
            .rsplit('/')
            .next()
            .unwrap_or(&outer_name)
            .trim_end_matches(".tar")
            .to_string();
        let outer_label = member(path, &outer_name);
        let mut inner = tar::Archive::new(entry);
        for e in inner.entries().map_err(io(outer_label.clone()))? {
            let mut e = e.map_err(|err| {
                DataError::Core(CoreError::Truncated {
                    path: outer_label.clone(),
                    expected: "a complete inner tar".into(),
                    found: format!("an unreadable header ({err})"),
                })
            })?;
            if !e.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let size = e.header().size().map_err(io(outer_label.clone()))?;
            let mut bytes = Vec::with_capacity(size.min(1 << 26) as usize);
            e.read_to_end(&mut bytes)
                .map_err(io(format!("{outer_label}:{name}")))?;
            if bytes.len() as u64 != size {
                return Err(DataError::Core(CoreError::Truncated {
                    path: format!("{outer_label}:{name}"),
                    expected: format!("{size} bytes (tar header)"),
                    found: format!("{} bytes", bytes.len()),
                }));
            }
            if has_ext(&name, &IMAGE_EXTENSIONS) {
                pending.push((class.clone(), name, bytes));
            }
            if pending.len() >= chunk {
                flush(&mut pending, &mut count)?;
            }
        }
    }
    flush(&mut pending, &mut count)?;
    Ok(count)
}
