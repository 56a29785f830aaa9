//! Weights for the FID Inception: the PyTorch state dict users download
//! (`pt_inception-2015-12-05-6726825d.pth` of pytorch-fid, or torch-fidelity's
//! `weights-inception-2015-12-05-6726825d.pth`, same key layout) read through burn-store, and the
//! deterministic "hash-init" weights of research/metrics.md section 7.3 that let parity tests run
//! without the real file.

use std::path::Path;

use burn::prelude::*;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore};
use burn::tensor::{Bytes, DType};
use sngan_core::SplitMix64;

use super::model::{FidInception, FidInceptionConfig};
use crate::error::{MetricsError, Result};

/// File name pytorch-fid downloads.
pub const FID_WEIGHTS_FILE: &str = "pt_inception-2015-12-05-6726825d.pth";
/// Where pytorch-fid downloads it from (`FID_WEIGHTS_URL` in `src/pytorch_fid/inception.py`).
pub const FID_WEIGHTS_URL: &str = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth";
/// The hash prefix in the file name: the first 8 hex digits of its SHA-256 (torch.hub's
/// `check_hash` convention).
pub const FID_WEIGHTS_SHA256_PREFIX: &str = "6726825d";
/// Tensors in the state dict: 94 x (conv weight + 4 BatchNorm tensors) + fc weight and bias
/// (`num_batches_tracked`, when present, is ignored).
pub const STATE_DICT_TENSORS: usize = 472;

/// PyTorch key -> Burn path: `Conv2d_*` -> `conv2d_*`, `Mixed_*` -> `mixed_*`.
pub fn torch_to_burn_key(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("Conv2d_") {
        format!("conv2d_{rest}")
    } else if let Some(rest) = key.strip_prefix("Mixed_") {
        format!("mixed_{rest}")
    } else {
        key.to_string()
    }
}

/// Burn path -> PyTorch key (inverse of [`torch_to_burn_key`]).
pub fn burn_to_torch_key(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("conv2d_") {
        format!("Conv2d_{rest}")
    } else if let Some(rest) = key.strip_prefix("mixed_") {
        format!("Mixed_{rest}")
    } else {
        key.to_string()
    }
}

/// The state-dict layout the network expects: PyTorch key and shape of every tensor, in
/// module order (472 entries).
pub fn state_dict_layout(model: &FidInception) -> Vec<(String, Vec<usize>)> {
    model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|t| (burn_to_torch_key(&t.name), t.shape.to_vec()))
        .collect()
}

/// Applies PyTorch-named tensors (keys as in the `.pth`) to a fresh network and checks that
/// every parameter and buffer was set.
fn apply_torch_tensors(
    tensors: Vec<PackTensor>,
    source: &Path,
    device: &Device,
) -> Result<FidInception> {
    let mut model = FidInceptionConfig::new().init(device);
    let tensors = tensors
        .into_iter()
        .filter(|t| !t.name.ends_with("num_batches_tracked"))
        .map(|mut t| {
            t.name = torch_to_burn_key(&t.name);
            t
        })
        .collect();
    let result = model.apply(tensors, None, Some(Box::new(PyTorchToBurnAdapter)), false);
    if !result.missing.is_empty() || !result.errors.is_empty() {
        let mut found = Vec::new();
        if !result.missing.is_empty() {
            let keys: Vec<String> = result
                .missing
                .iter()
                .take(5)
                .map(|(k, _)| burn_to_torch_key(k))
                .collect();
            found.push(format!(
                "{} missing (first: {})",
                result.missing.len(),
                keys.join(", ")
            ));
        }
        if !result.errors.is_empty() {
            let errs: Vec<String> = result
                .errors
                .iter()
                .take(3)
                .map(|e| e.to_string())
                .collect();
            found.push(format!(
                "{} not applied ({})",
                result.errors.len(),
                errs.join("; ")
            ));
        }
        return Err(MetricsError::Weights {
            path: source.to_path_buf(),
            network: "FID Inception (inception-2015-12-05)".into(),
            expected: STATE_DICT_TENSORS,
            found: found.join(", "),
        });
    }
    Ok(model)
}

/// Loads the FID Inception from the PyTorch state dict pytorch-fid and torch-fidelity publish
/// (`pt_inception-2015-12-05-6726825d.pth`). Accepts the plain dict and one nested under
/// `state_dict`; ignores `num_batches_tracked`; fails, naming the keys, when a tensor is missing
/// or has the wrong shape.
pub fn load_fid_inception(path: &Path, device: &Device) -> Result<FidInception> {
    let read = |store: &mut PytorchStore| -> std::result::Result<Vec<PackTensor>, String> {
        use burn::store::ModuleStore;
        store
            .get_all_tensors()
            .map(|m| m.values().cloned().collect())
            .map_err(|e| e.to_string())
    };
    if !path.is_file() {
        return Err(MetricsError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let mut store = PytorchStore::from_file(path);
    let mut tensors = read(&mut store).map_err(|e| MetricsError::Format {
        path: path.to_path_buf(),
        expected: "a PyTorch state dict (.pth, zip or legacy pickle)".into(),
        found: e,
    })?;
    if !tensors.iter().any(|t| t.name.starts_with("Conv2d_1a_3x3")) {
        let mut nested = PytorchStore::from_file(path).with_top_level_key("state_dict");
        if let Ok(t) = read(&mut nested) {
            tensors = t;
        }
    }
    apply_torch_tensors(tensors, path, device)
}

/// FNV-1a, 64 bit.
pub fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `u(key, i) ∈ [0, 1)`: the top 53 bits of `splitmix64(fnv1a64(key) + i + φ·2^64)`, times 2^-53
/// (the first draw of [`SplitMix64`] seeded with `fnv1a64(key) + i`).
pub fn hash_uniform(key_hash: u64, i: u64) -> f64 {
    (SplitMix64::new(key_hash.wrapping_add(i)).next_u64() >> 11) as f64
        * (1.0 / (1u64 << 53) as f64)
}

/// The hash-init value of every element of tensor `key` of `shape` (research/metrics.md 7.3),
/// computed in f64 and rounded once to f32; `None` for a key the scheme does not cover.
pub fn hash_init_tensor(key: &str, shape: &[usize]) -> Option<Vec<f32>> {
    let h = fnv1a64(key);
    let n: usize = shape.iter().product();
    let sqrt3 = 3f64.sqrt();
    let f: Box<dyn Fn(f64) -> f64> = if key.ends_with(".conv.weight") {
        let fan_in = shape[1..].iter().product::<usize>() as f64;
        let scale = (2.0 / fan_in).sqrt();
        Box::new(move |u| (2.0 * u - 1.0) * sqrt3 * scale)
    } else if key.ends_with(".bn.weight") || key.ends_with(".bn.running_var") {
        Box::new(|u| 0.5 + u)
    } else if key.ends_with(".bn.bias") {
        Box::new(|u| 0.2 * (u - 0.5))
    } else if key.ends_with(".bn.running_mean") {
        Box::new(|u| 0.1 * (u - 0.5))
    } else if key == "fc.weight" {
        Box::new(move |u| (2.0 * u - 1.0) * sqrt3 * 0.005)
    } else if key == "fc.bias" {
        Box::new(move |u| (2.0 * u - 1.0) * sqrt3 * 0.1)
    } else {
        return None;
    };
    Some(
        (0..n as u64)
            .map(|i| f(hash_uniform(h, i)) as f32)
            .collect(),
    )
}

/// The FID Inception with deterministic hash-init weights, regenerated from the key names alone
/// (Python's `export.py` builds the same tensors for pytorch-fid's module). Activations stay
/// O(1-100) and logits have std about 1-3, so parity at 1e-4 is meaningful.
pub fn hash_init(device: &Device) -> Result<FidInception> {
    let layout = state_dict_layout(&FidInceptionConfig::new().init(device));
    let tensors = layout
        .into_iter()
        .map(|(key, shape)| {
            let values = hash_init_tensor(&key, &shape).ok_or_else(|| {
                MetricsError::input(
                    "hash-init",
                    "conv, BatchNorm and fc keys",
                    format!("`{key}`"),
                )
            })?;
            Ok(PackTensor::new(
                key,
                DType::F32,
                shape,
                None,
                Bytes::from_elems(values),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    apply_torch_tensors(tensors, Path::new("<hash-init>"), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_tensors(device: &Device) -> Vec<PackTensor> {
        let layout = state_dict_layout(&FidInceptionConfig::new().init(device));
        layout
            .into_iter()
            .map(|(key, shape)| {
                let v = hash_init_tensor(&key, &shape).expect("covered key");
                PackTensor::new(key, DType::F32, shape, None, Bytes::from_elems(v))
            })
            .collect()
    }

    #[test]
    fn num_batches_tracked_is_ignored_and_a_missing_key_is_named() {
        let device = Device::flex();
        let mut tensors = hash_tensors(&device);
        // A state dict saved from a torch module carries num_batches_tracked (int64 scalars).
        tensors.push(PackTensor::new(
            "Mixed_5b.branch1x1.bn.num_batches_tracked".into(),
            DType::I64,
            Vec::<usize>::new(),
            None,
            Bytes::from_elems(vec![0i64]),
        ));
        apply_torch_tensors(tensors.clone(), Path::new("with-nbt.pth"), &device)
            .expect("num_batches_tracked tolerated");

        let dropped = tensors
            .iter()
            .position(|t| t.name == "Mixed_6e.branch7x7dbl_4.bn.running_var")
            .expect("key present");
        tensors.remove(dropped);
        let e = apply_torch_tensors(tensors, Path::new("cut.pth"), &device).expect_err("missing");
        let msg = e.to_string();
        assert!(msg.contains("cut.pth"), "{msg}");
        assert!(
            msg.contains("Mixed_6e.branch7x7dbl_4.bn.running_var"),
            "{msg}"
        );
        assert!(msg.contains("472"), "{msg}");
    }

    #[test]
    fn key_maps_are_inverse() {
        for k in [
            "Conv2d_1a_3x3.conv.weight",
            "Mixed_7c.branch_pool.bn.bias",
            "fc.weight",
        ] {
            assert_eq!(burn_to_torch_key(&torch_to_burn_key(k)), k);
        }
        assert_eq!(
            torch_to_burn_key("Mixed_5b.branch1x1.conv.weight"),
            "mixed_5b.branch1x1.conv.weight"
        );
    }
}
