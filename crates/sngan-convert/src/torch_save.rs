//! Writing `torch.save`'s zip format (PyTorch >= 1.6): `archive/data.pkl`, a protocol-2 pickle
//! that rebuilds each tensor with `torch._utils._rebuild_tensor_v2` from a persistent storage
//! id, and one 64-byte-aligned, uncompressed `archive/data/<key>` entry per storage. Only the
//! globals `torch.load(weights_only=True)` allows are named.

use std::io::Write;

use zip::write::SimpleFileOptions;

use crate::layout::Exported;

/// A value of the pickled object: the state dicts and the few plain fields around them.
pub(crate) enum Value {
    None,
    Int(i64),
    Str(String),
    /// A `dict` with string keys.
    Dict(Vec<(String, Value)>),
    /// An `OrderedDict` of tensors, as `Module.state_dict()` returns.
    StateDict(Vec<(String, Exported)>),
}

/// The bytes of `torch.save(value, f)`.
pub(crate) fn save(value: &Value) -> Vec<u8> {
    let mut pickle = Pickle {
        out: vec![0x80, 2],
        storages: Vec::new(),
    };
    pickle.value(value);
    pickle.out.push(b'.');

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .with_alignment(64);
    let mut entry = |name: &str, bytes: &[u8]| {
        zip.start_file(format!("archive/{name}"), stored)
            .and_then(|()| Ok(zip.write_all(bytes)?))
            .expect("writing to memory");
    };
    entry("data.pkl", &pickle.out);
    entry(".format_version", b"1");
    entry(".storage_alignment", b"64");
    entry("byteorder", b"little");
    for (key, bytes) in pickle.storages.iter().enumerate() {
        entry(&format!("data/{key}"), bytes);
    }
    entry("version", b"3\n");
    zip.finish().expect("writing to memory").into_inner()
}

struct Pickle {
    out: Vec<u8>,
    /// Raw little-endian bytes of each storage, by key.
    storages: Vec<Vec<u8>>,
}

impl Pickle {
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(b'c');
        self.out
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }

    fn str(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn int(&mut self, v: i64) {
        match i32::try_from(v) {
            Ok(v) => {
                self.out.push(b'J');
                self.out.extend_from_slice(&v.to_le_bytes());
            }
            Err(_) => {
                self.out.extend_from_slice(&[0x8a, 8]);
                self.out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    fn tuple(&mut self, items: &[usize]) {
        self.out.push(b'(');
        for &i in items {
            self.int(i as i64);
        }
        self.out.push(b't');
    }

    fn empty_ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.out.extend_from_slice(b")R");
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::None => self.out.push(b'N'),
            Value::Int(v) => self.int(*v),
            Value::Str(s) => self.str(s),
            Value::Dict(items) => {
                self.out.extend_from_slice(b"}(");
                for (k, v) in items {
                    self.str(k);
                    self.value(v);
                }
                self.out.push(b'u');
            }
            Value::StateDict(items) => {
                self.empty_ordered_dict();
                self.out.push(b'(');
                for (k, t) in items {
                    self.str(k);
                    self.tensor(t);
                }
                self.out.push(b'u');
            }
        }
    }

    /// `_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`.
    fn tensor(&mut self, tensor: &Exported) {
        let (storage, shape, bytes) = match tensor {
            Exported::Float(a) => (
                "FloatStorage",
                a.shape.clone(),
                a.data
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect::<Vec<u8>>(),
            ),
            Exported::Int(v) => ("LongStorage", vec![], v.to_le_bytes().to_vec()),
        };
        let numel: usize = shape.iter().product();
        let mut stride = vec![1; shape.len()];
        for i in (0..shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * shape[i + 1];
        }
        let key = self.storages.len();
        self.storages.push(bytes);
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(b'(');
        // Persistent id ('storage', torch.<Type>Storage, key, location, numel).
        self.out.push(b'(');
        self.str("storage");
        self.global("torch", storage);
        self.str(&key.to_string());
        self.str("cpu");
        self.int(numel as i64);
        self.out.extend_from_slice(b"tQ");
        self.int(0);
        self.tuple(&shape);
        self.tuple(&stride);
        self.out.push(0x89); // requires_grad = False
        self.empty_ordered_dict(); // backward hooks
        self.out.extend_from_slice(b"tR");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Array;
    use crate::pickle;

    #[test]
    fn the_pickle_names_only_allowed_globals_and_pytorch_reader_reads_it_back() {
        let value = Value::Dict(vec![
            (
                "state_dict".into(),
                Value::StateDict(vec![
                    (
                        "w".into(),
                        Exported::Float(Array {
                            shape: vec![2, 3],
                            data: vec![1., 2., 3., 4., 5., 6.],
                        }),
                    ),
                    ("n".into(), Exported::Int(7)),
                ]),
            ),
            ("step".into(), Value::Int(3)),
            ("best".into(), Value::None),
        ]);
        let bytes = save(&value);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let mut pkl = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name("archive/data.pkl").unwrap(), &mut pkl)
            .unwrap();
        let (globals, end) = pickle::globals(&pkl).unwrap();
        assert_eq!(end, pkl.len());
        assert!(globals.iter().all(|g| pickle::is_allowed(g)), "{globals:?}");

        let path =
            std::env::temp_dir().join(format!("sngan-torch-save-{}.pth", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let reader =
            burn::store::pytorch_reader::PytorchReader::with_top_level_key(&path, "state_dict")
                .unwrap();
        let w = reader.get("w").unwrap();
        assert_eq!(w.shape(), [2, 3]);
        let values: Vec<f32> = w
            .read()
            .unwrap()
            .chunks(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(values, [1., 2., 3., 4., 5., 6.]);
        assert_eq!(reader.get("n").unwrap().shape(), [] as [usize; 0]);
        std::fs::remove_file(path).unwrap();
    }
}
