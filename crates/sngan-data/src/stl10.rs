//! STL-10 (Coates, Lee and Ng 2011), binary version: `*_X.bin` holds 96x96 RGB images as three
//! **column-major** planes each (byte of row y, column x, channel c of image i at
//! `i*27648 + c*9216 + x*96 + y`), `*_y.bin` one label byte `1..=10` per image. Read streaming
//! (the 2.76 GB `unlabeled_X.bin` is never held whole), optionally resized to 48x48 by the BSSN
//! 2x2 mean (`cv2.resize` INTER_LINEAR at exactly 2x) or a PIL-exact filter (mimicry's
//! `Resize(48)` is PIL bilinear). research/data.md section 4.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use crate::archive::{MemberReader, Store, read_all};
use crate::error::{DataError, Result, show};
use crate::resize::{Filter, Resizer};
use sngan_core::CoreError;
use sngan_core::Images;

/// Side of an STL-10 image.
pub const STL10_SIDE: usize = 96;
const IMAGE_BYTES: usize = 3 * STL10_SIDE * STL10_SIDE;
const FOLDER: &str = "stl10_binary";
/// Archive name on the Stanford site.
pub const STL10_ARCHIVE: &str = "stl10_binary.tar.gz";

/// STL-10 class names, label order (`class_names.txt`).
pub const STL10_CLASSES: [&str; 10] = [
    "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
];

/// The splits torchvision offers; GAN code (BSSN) uses `Unlabeled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stl10Split {
    /// 5,000 labelled images.
    Train,
    /// 8,000 labelled images.
    Test,
    /// 100,000 unlabelled images.
    Unlabeled,
    /// `train` then `unlabeled` (105,000).
    TrainUnlabeled,
    /// `train` then `test` (13,000).
    TrainTest,
}

impl Stl10Split {
    fn parts(self) -> &'static [Part] {
        match self {
            Stl10Split::Train => &[Part::Train],
            Stl10Split::Test => &[Part::Test],
            Stl10Split::Unlabeled => &[Part::Unlabeled],
            Stl10Split::TrainUnlabeled => &[Part::Train, Part::Unlabeled],
            Stl10Split::TrainTest => &[Part::Train, Part::Test],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Train,
    Test,
    Unlabeled,
}

impl Part {
    fn stem(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Test => "test",
            Part::Unlabeled => "unlabeled",
        }
    }

    fn published_len(self) -> usize {
        match self {
            Part::Train => 5_000,
            Part::Test => 8_000,
            Part::Unlabeled => 100_000,
        }
    }
}

/// Options of [`load_stl10`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stl10Options {
    /// Resize every image to `side x side` with the filter (BSSN: `(48, Filter::Cv2Linear)`,
    /// mimicry: `(48, Filter::PilBilinear)`); `None` keeps 96x96. Default: `None`.
    pub resize: Option<(usize, Filter)>,
    /// Require the published image counts (5,000 / 8,000 / 100,000). Default: true.
    pub check_counts: bool,
}

impl Default for Stl10Options {
    fn default() -> Self {
        Self {
            resize: None,
            check_counts: true,
        }
    }
}

impl Stl10Options {
    /// The BSSN STL-10 input: 48x48 by the 2x2 mean (`fjxmlzn/BSN dataset_preprocess/STL10`).
    pub fn bssn48() -> Self {
        Self {
            resize: Some((48, Filter::Cv2Linear)),
            check_counts: true,
        }
    }
}

/// Finds the STL-10 files: the `.tar.gz`, a folder holding it or `stl10_binary/`, or
/// `stl10_binary/` itself. Returns the store and the member prefix.
pub(crate) fn locate(root: &Path) -> Result<(Store, String)> {
    if root.is_file() {
        return Ok((Store::Tar(root.to_path_buf()), format!("{FOLDER}/")));
    }
    if root.join(FOLDER).is_dir() {
        return Ok((Store::Dir(root.to_path_buf()), format!("{FOLDER}/")));
    }
    if root.is_dir()
        && ["train_X.bin", "test_X.bin", "unlabeled_X.bin"]
            .iter()
            .any(|f| root.join(f).is_file())
    {
        return Ok((Store::Dir(root.to_path_buf()), String::new()));
    }
    if root.join(STL10_ARCHIVE).is_file() {
        return Ok((Store::Tar(root.join(STL10_ARCHIVE)), format!("{FOLDER}/")));
    }
    Err(DataError::Missing {
        path: show(root),
        expected: format!(
            "STL-10 data: {FOLDER}/ or {STL10_ARCHIVE} (download from https://cs.stanford.edu/~acoates/stl10/ or run `sngan fetch stl10`)"
        ),
        found: if root.exists() {
            "no STL-10 files".into()
        } else {
            "no such file or folder".into()
        },
    })
}

/// Loads an STL-10 split as HWC RGB images (96x96, or the `resize` side), labels `0..10`
/// (the files' `1..=10` minus one), `None` for unlabelled images.
pub fn load_stl10(root: &Path, split: Stl10Split, options: Stl10Options) -> Result<Images> {
    let (store, prefix) = locate(root)?;
    let parts = split.parts();
    let side = options.resize.map_or(STL10_SIDE, |(s, _)| s);
    let resizer = options
        .resize
        .map(|(s, f)| Resizer::new(STL10_SIDE, STL10_SIDE, s, s, f));
    // Member list: all X files, then the y files of labelled parts.
    let mut names: Vec<String> = parts
        .iter()
        .map(|p| format!("{prefix}{}_X.bin", p.stem()))
        .collect();
    let labelled: Vec<Part> = parts
        .iter()
        .copied()
        .filter(|p| *p != Part::Unlabeled)
        .collect();
    names.extend(
        labelled
            .iter()
            .map(|p| format!("{prefix}{}_y.bin", p.stem())),
    );
    let mut images: Vec<Option<Images>> = vec![None; parts.len()];
    let mut labels: Vec<Option<Vec<u8>>> = vec![None; labelled.len()];
    store.visit(&names, names.len(), |i, r| {
        let label = store.label(&names[i]);
        if i < parts.len() {
            let expected = options.check_counts.then(|| parts[i].published_len());
            images[i] = Some(read_x(r, &label, expected, side, resizer.as_ref())?);
        } else {
            labels[i - parts.len()] = Some(read_all(r, &label)?);
        }
        Ok(())
    })?;
    let mut out = Images::empty(side, side, 3);
    for (k, part) in parts.iter().enumerate() {
        let Some(mut imgs) = images[k].take() else {
            continue;
        };
        if let Some(li) = labelled.iter().position(|p| p == part) {
            let y = labels[li].take().unwrap_or_default();
            let y_name = store.label(&names[parts.len() + li]);
            if y.len() != imgs.len() {
                return Err(DataError::Core(CoreError::Format {
                    path: y_name,
                    expected: format!(
                        "{} labels, one per image of {}",
                        imgs.len(),
                        store.label(&names[k])
                    ),
                    found: format!("{}", y.len()),
                }));
            }
            for (index, (&l, slot)) in y.iter().zip(imgs.labels.iter_mut()).enumerate() {
                if !(1..=10).contains(&l) {
                    return Err(DataError::Label {
                        path: y_name,
                        index,
                        expected: "1..=10 (STL-10 labels are 1-based)".into(),
                        found: l as i64,
                    });
                }
                *slot = Some(l as u32 - 1);
            }
        }
        out.extend(imgs);
    }
    if !labelled.is_empty() {
        out.num_classes = Some(10);
        out.class_names = STL10_CLASSES.iter().map(|s| s.to_string()).collect();
    }
    Ok(out)
}

/// Converts one column-major 3x96x96 image to HWC.
pub fn column_major_to_hwc(src: &[u8], out: &mut [u8]) {
    let s = STL10_SIDE;
    for c in 0..3 {
        let plane = &src[c * s * s..(c + 1) * s * s];
        for x in 0..s {
            let col = &plane[x * s..(x + 1) * s];
            for (y, &v) in col.iter().enumerate() {
                out[(y * s + x) * 3 + c] = v;
            }
        }
    }
}

/// Streams an `*_X.bin` member in chunks, converting (and resizing) in parallel.
fn read_x(
    r: &mut MemberReader<'_>,
    label: &str,
    expected: Option<usize>,
    side: usize,
    resizer: Option<&Resizer>,
) -> Result<Images> {
    let size = r.size() as usize;
    let n = size / IMAGE_BYTES;
    let want_txt = |n: usize| {
        format!(
            "{n} images of {IMAGE_BYTES} bytes = {} bytes",
            n * IMAGE_BYTES
        )
    };
    if !size.is_multiple_of(IMAGE_BYTES) || size == 0 {
        return Err(DataError::Core(CoreError::Format {
            path: label.into(),
            expected: match expected {
                Some(e) => want_txt(e),
                None => format!("a whole number of {IMAGE_BYTES}-byte STL-10 images"),
            },
            found: format!("{size} bytes"),
        }));
    }
    if let Some(e) = expected
        && n != e
    {
        let found = format!("{n} images");
        return Err(if n < e {
            DataError::Core(CoreError::Truncated {
                path: label.into(),
                expected: want_txt(e),
                found,
            })
        } else {
            DataError::Core(CoreError::Format {
                path: label.into(),
                expected: want_txt(e),
                found,
            })
        });
    }
    let out_bytes = side * side * 3;
    // Grown chunk by chunk: a lying tar header cannot make us allocate more than arrives.
    let mut pixels: Vec<u8> = Vec::new();
    const CHUNK: usize = 256;
    let mut buf = vec![0u8; CHUNK.min(n) * IMAGE_BYTES];
    let mut done = 0;
    while done < n {
        let k = CHUNK.min(n - done);
        let chunk = &mut buf[..k * IMAGE_BYTES];
        r.read_exact(chunk).map_err(crate::error::io(label))?;
        let start = pixels.len();
        pixels.resize(start + k * out_bytes, 0);
        let dst = &mut pixels[start..];
        dst.par_chunks_mut(out_bytes)
            .zip(chunk.par_chunks(IMAGE_BYTES))
            .for_each(|(o, s)| match resizer {
                None => column_major_to_hwc(s, o),
                Some(rz) => {
                    let mut hwc = vec![0u8; IMAGE_BYTES];
                    column_major_to_hwc(s, &mut hwc);
                    o.copy_from_slice(&rz.resize_raw(&hwc, 3));
                }
            });
        done += k;
    }
    Ok(Images {
        height: side,
        width: side,
        channels: 3,
        pixels,
        labels: vec![None; n],
        num_classes: None,
        class_names: Vec::new(),
    })
}
