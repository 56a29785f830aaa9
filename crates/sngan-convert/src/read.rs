//! Reading the peers' checkpoint files: `torch.save` files in the zip format (PyTorch >= 1.6) and
//! the legacy stream format (BigGAN-PyTorch's files, PyTorch 1.0) through burn's pytorch-reader
//! after a scan of their pickles, and Chainer's `save_npz` archives (sngan_projection).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use burn::store::pytorch_reader::{self, PytorchReader};
use burn::tensor::{DType, TensorData};
use sngan_core::npy::{Array, Npz};

use crate::error::ConvertError;
use crate::pickle;

/// A tensor of a checkpoint: its shape, and its values read on demand.
pub(crate) struct Entry {
    pub shape: Vec<usize>,
    data: Data,
}

enum Data {
    Torch(pytorch_reader::Tensor),
    Npz(Array),
}

/// The tensors of one file, by their full key (`.`-joined through the file's dictionaries for
/// PyTorch files, the archive names for `.npz`).
pub(crate) struct Checkpoint {
    pub path: PathBuf,
    pub entries: BTreeMap<String, Entry>,
}

impl Checkpoint {
    /// A `torch.save` file, after checking that its pickle names nothing but tensors and plain
    /// data (see [`pickle::is_allowed`]).
    pub fn open_torch(path: &Path) -> Result<Self, ConvertError> {
        for global in torch_globals(path)? {
            if !pickle::is_allowed(&global) {
                return Err(ConvertError::ForbiddenGlobal {
                    path: path.to_path_buf(),
                    global,
                });
            }
        }
        let reader = PytorchReader::new(path).map_err(|e| ConvertError::unreadable(path, e))?;
        let entries = reader
            .into_tensors()
            .into_iter()
            .map(|(key, tensor)| {
                let shape = tensor.shape().to_vec();
                (
                    key,
                    Entry {
                        shape,
                        data: Data::Torch(tensor),
                    },
                )
            })
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// A Chainer `save_npz` archive (`numpy.savez`, compressed or not), read whole: Chainer's
    /// networks are small beside the BigGANs of the torch peers.
    pub fn open_npz(path: &Path) -> Result<Self, ConvertError> {
        let unreadable = |e: sngan_core::CoreError| ConvertError::unreadable(path, e);
        let mut archive = Npz::open(path).map_err(unreadable)?;
        let mut entries = BTreeMap::new();
        for name in archive.names() {
            let array = archive.array(&name).map_err(unreadable)?;
            let entry = Entry {
                shape: array.shape.clone(),
                data: Data::Npz(array),
            };
            entries.insert(name, entry);
        }
        Ok(Self {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The values of `key` as `f32` (half, bfloat and double precision are converted).
    pub fn read(&self, key: &str) -> Result<Vec<f32>, ConvertError> {
        let entry = self
            .entries
            .get(key)
            .unwrap_or_else(|| panic!("{key}: read after the layout check found it"));
        let fail =
            |e: &dyn std::fmt::Display| ConvertError::unreadable(&self.path, format!("{key}: {e}"));
        match &entry.data {
            Data::Torch(tensor) => {
                let dtype = match tensor.dtype() {
                    pytorch_reader::DType::F32 => DType::F32,
                    pytorch_reader::DType::F64 => DType::F64,
                    pytorch_reader::DType::F16 => DType::F16,
                    pytorch_reader::DType::BF16 => DType::BF16,
                    other => return Err(fail(&format!("holds {other:?}, expected floats"))),
                };
                let bytes = tensor.read().map_err(|e| fail(&e))?;
                TensorData::from_bytes_vec(bytes, entry.shape.clone(), dtype)
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| fail(&format!("{e:?}")))
            }
            Data::Npz(array) => Ok(array
                .to_f64(key)
                .map_err(|e| fail(&e))?
                .into_iter()
                .map(|x| x as f32)
                .collect()),
        }
    }
}

/// The most bytes the leading pickles of a legacy file may take.
const LEGACY_PICKLES_MAX: u64 = 256 << 20;

/// Every global the pickles of a `torch.save` file name: `data.pkl` of a zip file, or the leading
/// pickles of a legacy file (magic number, protocol, system info, the object, storage keys).
fn torch_globals(path: &Path) -> Result<Vec<String>, ConvertError> {
    let mut file = std::fs::File::open(path).map_err(ConvertError::io(path))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(ConvertError::io(path))?;
    if n == 4 && magic == *b"PK\x03\x04" {
        let mut archive =
            zip::ZipArchive::new(file).map_err(|e| ConvertError::unreadable(path, e))?;
        let name = archive
            .file_names()
            .filter_map(Result::ok)
            .find(|n| n.ends_with("data.pkl"))
            .map(|n| n.to_string())
            .ok_or_else(|| ConvertError::unreadable(path, "a zip archive without data.pkl"))?;
        let mut bytes = Vec::new();
        archive
            .by_name(&name)
            .and_then(|mut entry| Ok(entry.read_to_end(&mut bytes)?))
            .map_err(|e| ConvertError::unreadable(path, format!("{name}: {e}")))?;
        let (globals, _) = pickle::globals(&bytes)
            .map_err(|e| ConvertError::unreadable(path, format!("{name}: {e}")))?;
        return Ok(globals);
    }
    // The pickles lead the file and hold only metadata; the storages follow them.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(LEGACY_PICKLES_MAX).read_to_end(&mut bytes))
        .map_err(ConvertError::io(path))?;
    let mut all = Vec::new();
    let mut at = 0;
    for _ in 0..5 {
        let (globals, used) =
            pickle::globals(&bytes[at..]).map_err(|e| ConvertError::unreadable(path, e))?;
        all.extend(globals);
        at += used;
    }
    Ok(all)
}
