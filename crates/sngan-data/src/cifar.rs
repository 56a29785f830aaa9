//! CIFAR-10 and CIFAR-100 (Krizhevsky 2009) in both Toronto formats: the binary version
//! (fixed 3073/3074-byte records, the preferred one) and the python version (Python-2 cPickle
//! dicts holding numpy arrays), each read from the extracted folder or straight from the
//! `.tar.gz` without extracting (research/data.md section 3).

use std::path::Path;

use serde_pickle::{DeOptions, HashableValue, Value};

use crate::archive::{Store, read_all};
use crate::error::{DataError, Result, show};
use sngan_core::CoreError;
use sngan_core::Images;

/// Which CIFAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CifarVariant {
    /// 10 classes, 6,000 images each.
    Cifar10,
    /// 100 fine classes in 20 coarse superclasses.
    Cifar100,
}

/// The two CIFAR splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CifarSplit {
    /// 50,000 images (CIFAR-10 `data_batch_1..5`, CIFAR-100 `train`); what BSSN, BigGAN and
    /// mmgeneration train and evaluate on.
    Train,
    /// 10,000 images.
    Test,
}

/// Which CIFAR-100 label becomes the item's label (CIFAR-10 has only one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Cifar100Label {
    /// The 100 fine classes (torchvision's `targets`).
    #[default]
    Fine,
    /// The 20 superclasses.
    Coarse,
}

/// The two file formats of the Toronto site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CifarFormat {
    /// `cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz`.
    Binary,
    /// `cifar-10-python.tar.gz` / `cifar-100-python.tar.gz`.
    Python,
}

/// CIFAR-10 class names, label order (`batches.meta`).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

const IMAGE_BYTES: usize = 3072;
const PLANE: usize = 1024;

impl CifarVariant {
    /// `CIFAR-10` / `CIFAR-100`, for messages.
    pub fn title(self) -> &'static str {
        match self {
            CifarVariant::Cifar10 => "CIFAR-10",
            CifarVariant::Cifar100 => "CIFAR-100",
        }
    }

    /// Top folder inside the archive.
    pub fn folder(self, format: CifarFormat) -> &'static str {
        match (self, format) {
            (CifarVariant::Cifar10, CifarFormat::Binary) => "cifar-10-batches-bin",
            (CifarVariant::Cifar10, CifarFormat::Python) => "cifar-10-batches-py",
            (CifarVariant::Cifar100, CifarFormat::Binary) => "cifar-100-binary",
            (CifarVariant::Cifar100, CifarFormat::Python) => "cifar-100-python",
        }
    }

    /// Archive file name on the Toronto site.
    pub fn archive(self, format: CifarFormat) -> &'static str {
        match (self, format) {
            (CifarVariant::Cifar10, CifarFormat::Binary) => "cifar-10-binary.tar.gz",
            (CifarVariant::Cifar10, CifarFormat::Python) => "cifar-10-python.tar.gz",
            (CifarVariant::Cifar100, CifarFormat::Binary) => "cifar-100-binary.tar.gz",
            (CifarVariant::Cifar100, CifarFormat::Python) => "cifar-100-python.tar.gz",
        }
    }

    /// Label bytes before each binary record's pixels.
    fn label_bytes(self) -> usize {
        match self {
            CifarVariant::Cifar10 => 1,
            CifarVariant::Cifar100 => 2,
        }
    }

    /// Bytes of one binary record.
    pub fn record_bytes(self) -> usize {
        self.label_bytes() + IMAGE_BYTES
    }

    /// Member files of `split` (without the top folder) and the records each must hold.
    pub fn members(self, format: CifarFormat, split: CifarSplit) -> Vec<(String, usize)> {
        let ext = if format == CifarFormat::Binary {
            ".bin"
        } else {
            ""
        };
        match (self, split) {
            (CifarVariant::Cifar10, CifarSplit::Train) => (1..=5)
                .map(|i| (format!("data_batch_{i}{ext}"), 10_000))
                .collect(),
            (CifarVariant::Cifar10, CifarSplit::Test) => vec![(format!("test_batch{ext}"), 10_000)],
            (CifarVariant::Cifar100, CifarSplit::Train) => vec![(format!("train{ext}"), 50_000)],
            (CifarVariant::Cifar100, CifarSplit::Test) => vec![(format!("test{ext}"), 10_000)],
        }
    }

    fn meta_members(self, format: CifarFormat) -> Vec<&'static str> {
        match (self, format) {
            (CifarVariant::Cifar10, CifarFormat::Binary) => vec!["batches.meta.txt"],
            (CifarVariant::Cifar10, CifarFormat::Python) => vec!["batches.meta"],
            (CifarVariant::Cifar100, CifarFormat::Binary) => {
                vec!["fine_label_names.txt", "coarse_label_names.txt"]
            }
            (CifarVariant::Cifar100, CifarFormat::Python) => vec!["meta"],
        }
    }

    fn n_classes(self, label: Cifar100Label) -> usize {
        match (self, label) {
            (CifarVariant::Cifar10, _) => 10,
            (CifarVariant::Cifar100, Cifar100Label::Fine) => 100,
            (CifarVariant::Cifar100, Cifar100Label::Coarse) => 20,
        }
    }
}

/// Options of [`load_cifar`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CifarOptions {
    /// CIFAR-100 label to keep. Default: fine.
    pub label: Cifar100Label,
    /// Require the published record counts (10,000 per CIFAR-10 batch, 50,000 / 10,000 for
    /// CIFAR-100), so a file cut at a record boundary cannot pass. Default: true.
    pub check_counts: bool,
}

impl Default for CifarOptions {
    fn default() -> Self {
        Self {
            label: Cifar100Label::Fine,
            check_counts: true,
        }
    }
}

/// Where a CIFAR copy was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CifarSource {
    pub(crate) store: Store,
    pub(crate) format: CifarFormat,
    /// Prefix of member paths in `store` (`cifar-10-batches-bin/` or empty).
    pub(crate) prefix: String,
}

/// Finds CIFAR under `root`: the archive itself, a folder holding the extracted top folder or
/// an archive, or the top folder itself. Binary is preferred over python.
pub(crate) fn locate(root: &Path, variant: CifarVariant) -> Result<CifarSource> {
    let formats = [CifarFormat::Binary, CifarFormat::Python];
    if root.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let format = if name.contains("python") || name.contains("-py") {
            CifarFormat::Python
        } else {
            CifarFormat::Binary
        };
        return Ok(CifarSource {
            store: Store::Tar(root.to_path_buf()),
            format,
            prefix: format!("{}/", variant.folder(format)),
        });
    }
    if root.is_dir() {
        for format in formats {
            if root.join(variant.folder(format)).is_dir() {
                return Ok(CifarSource {
                    store: Store::Dir(root.to_path_buf()),
                    format,
                    prefix: format!("{}/", variant.folder(format)),
                });
            }
        }
        for format in formats {
            let first = &variant.members(format, CifarSplit::Train)[0].0;
            let test = &variant.members(format, CifarSplit::Test)[0].0;
            if root.join(first).is_file() || root.join(test).is_file() {
                return Ok(CifarSource {
                    store: Store::Dir(root.to_path_buf()),
                    format,
                    prefix: String::new(),
                });
            }
        }
        for format in formats {
            let archive = root.join(variant.archive(format));
            if archive.is_file() {
                return Ok(CifarSource {
                    store: Store::Tar(archive),
                    format,
                    prefix: format!("{}/", variant.folder(format)),
                });
            }
        }
    }
    let expected = formats
        .iter()
        .map(|&f| format!("{}/", variant.folder(f)))
        .chain(formats.iter().map(|&f| variant.archive(f).to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(DataError::Missing {
        path: show(root),
        expected: format!(
            "{} data: one of {expected} (download from https://www.cs.toronto.edu/~kriz/cifar.html or run `sngan fetch`)",
            variant.title()
        ),
        found: if root.exists() {
            "no CIFAR files".into()
        } else {
            "no such file or folder".into()
        },
    })
}

/// Loads one split of CIFAR-10 or CIFAR-100 as `32 x 32 x 3` images with labels.
///
/// `root` may be the `.tar.gz`, the folder holding it or its extracted top folder, or that top
/// folder itself; both the binary and the python version are read.
pub fn load_cifar(
    root: &Path,
    variant: CifarVariant,
    split: CifarSplit,
    options: CifarOptions,
) -> Result<Images> {
    let src = locate(root, variant)?;
    let members = variant.members(src.format, split);
    let meta = variant.meta_members(src.format);
    let names: Vec<String> = members
        .iter()
        .map(|(m, _)| format!("{}{m}", src.prefix))
        .chain(meta.iter().map(|m| format!("{}{m}", src.prefix)))
        .collect();
    let mut parts: Vec<Option<Images>> = vec![None; members.len()];
    let mut meta_bytes: Vec<Option<Vec<u8>>> = vec![None; meta.len()];
    src.store.visit(&names, members.len(), |i, r| {
        let label = src.store.label(&names[i]);
        let bytes = read_all(r, &label)?;
        if i < members.len() {
            let expected = options.check_counts.then_some(members[i].1);
            let images = match src.format {
                CifarFormat::Binary => {
                    parse_binary(&bytes, variant, options.label, expected, &label)?
                }
                CifarFormat::Python => {
                    parse_python(&bytes, variant, options.label, expected, &label)?
                }
            };
            parts[i] = Some(images);
        } else {
            meta_bytes[i - members.len()] = Some(bytes);
        }
        Ok(())
    })?;
    let mut out = Images::empty(32, 32, 3);
    for part in parts.into_iter().flatten() {
        out.extend(part);
    }
    out.num_classes = Some(variant.n_classes(options.label));
    out.class_names = class_names(variant, src.format, options.label, &meta_bytes);
    Ok(out)
}

fn class_names(
    variant: CifarVariant,
    format: CifarFormat,
    label: Cifar100Label,
    meta: &[Option<Vec<u8>>],
) -> Vec<String> {
    let from_meta = match (variant, format) {
        (_, CifarFormat::Binary) => {
            let idx =
                usize::from(variant == CifarVariant::Cifar100 && label == Cifar100Label::Coarse);
            meta.get(idx).and_then(Option::as_ref).map(|b| {
                String::from_utf8_lossy(b)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
        }
        (_, CifarFormat::Python) => {
            let key = match (variant, label) {
                (CifarVariant::Cifar10, _) => "label_names",
                (CifarVariant::Cifar100, Cifar100Label::Fine) => "fine_label_names",
                (CifarVariant::Cifar100, Cifar100Label::Coarse) => "coarse_label_names",
            };
            meta.first()
                .and_then(Option::as_ref)
                .and_then(|b| serde_pickle::value_from_slice(b, DeOptions::new()).ok())
                .and_then(|v| match dict_get(&v, key) {
                    Some(Value::List(items)) => {
                        Some(items.iter().filter_map(value_text).collect::<Vec<_>>())
                    }
                    _ => None,
                })
        }
    };
    match from_meta {
        Some(names) if names.len() == variant.n_classes(label) => names,
        _ if variant == CifarVariant::Cifar10 => {
            CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect()
        }
        _ => Vec::new(),
    }
}

/// Parses a binary batch: records of `[label(s)][R plane][G plane][B plane]`, planes row-major.
pub fn parse_binary(
    bytes: &[u8],
    variant: CifarVariant,
    label: Cifar100Label,
    expected_records: Option<usize>,
    path: &str,
) -> Result<Images> {
    let rec = variant.record_bytes();
    let expected_txt = match expected_records {
        Some(n) => format!("{n} records of {rec} bytes = {} bytes", n * rec),
        None => format!("a whole number of {rec}-byte {} records", variant.title()),
    };
    if !bytes.len().is_multiple_of(rec) || bytes.is_empty() {
        let other = match variant {
            CifarVariant::Cifar10 => " (CIFAR-100 records are 3074 bytes)",
            CifarVariant::Cifar100 => " (CIFAR-10 records are 3073 bytes)",
        };
        let found = format!("{} bytes{other}", bytes.len());
        return Err(if expected_records.is_some_and(|n| bytes.len() < n * rec) {
            DataError::Core(CoreError::Truncated {
                path: path.into(),
                expected: expected_txt,
                found,
            })
        } else {
            DataError::Core(CoreError::Format {
                path: path.into(),
                expected: expected_txt,
                found,
            })
        });
    }
    let n = bytes.len() / rec;
    if let Some(want) = expected_records
        && n != want
    {
        let e = if n < want {
            DataError::Core(CoreError::Truncated {
                path: path.into(),
                expected: expected_txt,
                found: format!("{n} records"),
            })
        } else {
            DataError::Core(CoreError::Format {
                path: path.into(),
                expected: expected_txt,
                found: format!("{n} records"),
            })
        };
        return Err(e);
    }
    // Label bytes: CIFAR-10 `[label 0..=9]`, CIFAR-100 `[coarse 0..=19][fine 0..=99]`.
    let limits: &[u8] = match variant {
        CifarVariant::Cifar10 => &[9],
        CifarVariant::Cifar100 => &[19, 99],
    };
    let label_offset =
        usize::from(variant == CifarVariant::Cifar100 && label == Cifar100Label::Fine);
    let mut pixels = vec![0u8; n * IMAGE_BYTES];
    let mut labels = Vec::with_capacity(n);
    for (i, (record, out)) in bytes
        .chunks_exact(rec)
        .zip(pixels.chunks_exact_mut(IMAGE_BYTES))
        .enumerate()
    {
        // CIFAR-100 records carry both labels; both are checked even when one is kept.
        for (&l, &limit) in record.iter().zip(limits) {
            if l > limit {
                return Err(DataError::Label {
                    path: path.into(),
                    index: i,
                    expected: format!("0..={limit}"),
                    found: l as i64,
                });
            }
        }
        labels.push(Some(record[label_offset] as u32));
        planes_to_hwc(&record[variant.label_bytes()..], out);
    }
    Ok(Images {
        height: 32,
        width: 32,
        channels: 3,
        pixels,
        labels,
        num_classes: None,
        class_names: Vec::new(),
    })
}

/// `[R plane][G plane][B plane]` (each 32x32 row-major) to interleaved HWC.
fn planes_to_hwc(planes: &[u8], out: &mut [u8]) {
    let (r, rest) = planes.split_at(PLANE);
    let (g, b) = rest.split_at(PLANE);
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        px[0] = r[i];
        px[1] = g[i];
        px[2] = b[i];
    }
}

fn dict_get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let Value::Dict(map) = v else {
        return None;
    };
    map.get(&HashableValue::Bytes(key.as_bytes().to_vec()))
        .or_else(|| map.get(&HashableValue::String(key.to_string())))
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::I64(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// The raw bytes and shape of a numpy array as serde-pickle leaves it with
/// `keep_restore_state` (protocols 0-4: the `BUILD` state
/// `(1, shape, dtype, fortran, raw)`; protocol 5: `(raw, dtype, shape, order)`).
fn numpy_array(v: &Value) -> Option<(Vec<i64>, &[u8], bool)> {
    let Value::Tuple(items) = v else {
        return None;
    };
    let shape_of = |s: &Value| match s {
        Value::Tuple(d) | Value::List(d) => d.iter().map(value_int).collect::<Option<Vec<i64>>>(),
        _ => None,
    };
    match items.as_slice() {
        [_, shape, _, fortran, Value::Bytes(raw)] => {
            let fortran = value_int(fortran)? != 0;
            Some((shape_of(shape)?, raw, fortran))
        }
        [Value::Bytes(raw), _, shape, order] => {
            let fortran = value_text(order).is_some_and(|o| o == "F");
            Some((shape_of(shape)?, raw, fortran))
        }
        _ => None,
    }
}

/// Parses a python-version batch (`data_batch_N`, `test_batch`, `train`, `test`).
pub fn parse_python(
    bytes: &[u8],
    variant: CifarVariant,
    label: Cifar100Label,
    expected_records: Option<usize>,
    path: &str,
) -> Result<Images> {
    let value = serde_pickle::value_from_slice(bytes, DeOptions::new().keep_restore_state())
        .map_err(|e| {
            DataError::Core(CoreError::Format {
                path: path.into(),
                expected: "a readable pickle".into(),
                found: e.to_string(),
            })
        })?;
    if !matches!(value, Value::Dict(_)) {
        return Err(DataError::Core(CoreError::Format {
            path: path.into(),
            expected: "a CIFAR python batch (a pickled dict)".into(),
            found: "a pickle of another type".into(),
        }));
    }
    let data = dict_get(&value, "data").ok_or_else(|| {
        DataError::Core(CoreError::Format {
            path: path.into(),
            expected: "a CIFAR python batch with a 'data' entry".into(),
            found: "no 'data' entry".into(),
        })
    })?;
    let (shape, raw, fortran) = numpy_array(data).ok_or_else(|| {
        DataError::Core(CoreError::Format {
            path: path.into(),
            expected: "'data' as a numpy uint8 array".into(),
            found: "another object".into(),
        })
    })?;
    let n = shape.first().copied().unwrap_or(-1);
    if shape.len() != 2 || shape[1] != IMAGE_BYTES as i64 || n < 0 || fortran {
        return Err(DataError::Core(CoreError::Format {
            path: path.into(),
            expected: "'data' of shape (N, 3072) in C order".into(),
            found: format!(
                "shape {shape:?}{}",
                if fortran { " in Fortran order" } else { "" }
            ),
        }));
    }
    let n = n as usize;
    if raw.len() != n * IMAGE_BYTES {
        return Err(DataError::Core(CoreError::Format {
            path: path.into(),
            expected: format!(
                "{} bytes of uint8 data for shape ({n}, 3072)",
                n * IMAGE_BYTES
            ),
            found: format!("{} bytes", raw.len()),
        }));
    }
    if let Some(want) = expected_records
        && n != want
    {
        return Err(DataError::Core(CoreError::Truncated {
            path: path.into(),
            expected: format!("{want} images"),
            found: format!("{n}"),
        }));
    }
    let (key, max) = match (variant, label) {
        (CifarVariant::Cifar10, _) => ("labels", 9),
        (CifarVariant::Cifar100, Cifar100Label::Fine) => ("fine_labels", 99),
        (CifarVariant::Cifar100, Cifar100Label::Coarse) => ("coarse_labels", 19),
    };
    let list = match dict_get(&value, key) {
        Some(Value::List(items)) => items,
        _ => {
            return Err(DataError::Core(CoreError::Format {
                path: path.into(),
                expected: format!("a '{key}' list"),
                found: "none".into(),
            }));
        }
    };
    if list.len() != n {
        return Err(DataError::Core(CoreError::Format {
            path: path.into(),
            expected: format!("'{key}' with {n} entries, one per image"),
            found: format!("{}", list.len()),
        }));
    }
    let mut labels = Vec::with_capacity(n);
    for (index, v) in list.iter().enumerate() {
        match value_int(v) {
            Some(l) if (0..=max).contains(&l) => labels.push(Some(l as u32)),
            other => {
                return Err(DataError::Label {
                    path: path.into(),
                    index,
                    expected: format!("0..={max}"),
                    found: other.unwrap_or(-1),
                });
            }
        }
    }
    let mut pixels = vec![0u8; n * IMAGE_BYTES];
    for (src, out) in raw
        .chunks_exact(IMAGE_BYTES)
        .zip(pixels.chunks_exact_mut(IMAGE_BYTES))
    {
        planes_to_hwc(src, out);
    }
    Ok(Images {
        height: 32,
        width: 32,
        channels: 3,
        pixels,
        labels,
        num_classes: None,
        class_names: Vec::new(),
    })
}
