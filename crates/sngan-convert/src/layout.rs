//! The map between our modules and a peer's state-dict keys, one layer at a time, and the tensor
//! transforms a layer needs on the way: transposed class tables (StudioGAN v0.4 stores CBN gains
//! as `Linear(num_classes, C)` on one-hot labels), reversed colour channels (mmgen's BGR models),
//! absolute CBN gains (Chainer's `gammas`, where ours are `1 + table`) and the peers' spectral-norm
//! storage conventions, each converted so that our `torch.nn.utils.spectral_norm` semantics
//! (eval-time `sigma = u^T W v` from the stored vectors) give the peer's own eval-time sigma.

use std::collections::{BTreeMap, HashMap};

use burn::module::Module;
use burn::tensor::TensorData;
use sngan_models::named_tensors;

use crate::error::{ConvertError, LayoutMismatch};
use crate::read::Checkpoint;

/// How a peer stores a spectrally normalised weight `W` (viewed as `[rows, cols]`, rows the
/// output channels) and what sigma its eval-time forward divides by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SnStorage {
    /// `torch.nn.utils.spectral_norm`: `weight_orig`, `weight_u` `[rows]`, `weight_v` `[cols]`;
    /// in `eval()` no iteration runs and `sigma = u^T W v`, so the vectors are kept as stored
    /// (an EMA generator's averaged, non-unit vectors included).
    Torch,
    /// BigGAN-PyTorch's `SN` mixin (and mmgen's `sn_style='ajbrock'`): `weight`, `u0` `[1, rows]`,
    /// `sv0` (a log, never read); every forward, eval included, takes one power step from `u0`:
    /// `v = normalize(u0 W)`, `u = normalize(v W^T)`, `sigma = v W^T u^T`, with
    /// `normalize(x) = x / max(|x|, eps)`.
    Ajbrock {
        /// `F.normalize`'s floor (BigGAN-PyTorch's `SN_eps`).
        eps: f64,
    },
    /// Chainer sngan_projection (`source/functions/max_sv.py`): `W`, `u` `[1, rows]`; the same
    /// one step from `u` with `normalize(x) = x / (|x| + 1e-12)`.
    Chainer,
}

/// A peer's names for the leaves of its layers.
#[derive(Clone, Debug)]
pub(crate) struct Naming {
    /// Separator of key segments (`.`, or `/` in Chainer archives).
    pub sep: &'static str,
    /// Spectral-norm convention.
    pub sn: SnStorage,
    /// Weight and bias of a plain (or Chainer SN) layer.
    pub weight: &'static str,
    pub bias: &'static str,
    /// BN affine weight, affine bias, running mean, running variance.
    pub norm: [&'static str; 4],
    /// A BN counter the peer saves and nobody needs (`num_batches_tracked`, Chainer's `N`).
    pub norm_counter: Option<&'static str>,
    /// Self-attention's residual gain: its name, and whether it is 0-d (`torch.tensor(0.)`)
    /// rather than `(1,)`.
    pub gain: (&'static str, bool),
}

impl Naming {
    /// `torch.nn` layers with `torch.nn.utils.spectral_norm` (StudioGAN, most of mmgen).
    pub fn torch(gain: (&'static str, bool)) -> Self {
        Self {
            sep: ".",
            sn: SnStorage::Torch,
            weight: "weight",
            bias: "bias",
            norm: ["weight", "bias", "running_mean", "running_var"],
            norm_counter: Some("num_batches_tracked"),
            gain,
        }
    }
}

/// Channels reversed between the peer and us (BGR <-> RGB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flip {
    /// Same order.
    None,
    /// The layer's output channels (dim 0 of the weight, the bias, `u`).
    Out,
    /// The layer's input channels (dim 1 of a conv kernel, blocks of `v`).
    In,
}

/// Where one of our layers lives in the peer's state dict.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The peer's module path (for a residual gain, the path of the attention block).
    pub path: String,
    /// The peer's weight is ours transposed (2-D only).
    pub transpose: bool,
    /// Reversed colour channels.
    pub flip: Flip,
    /// Ours = theirs + `offset` (Chainer's absolute CBN gains: -1).
    pub offset: f32,
}

impl Target {
    pub fn at(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            transpose: false,
            flip: Flip::None,
            offset: 0.0,
        }
    }

    pub fn transposed(mut self) -> Self {
        self.transpose = true;
        self
    }

    pub fn flipped(mut self, flip: Flip) -> Self {
        self.flip = flip;
        self
    }

    pub fn offset(mut self, offset: f32) -> Self {
        self.offset = offset;
        self
    }
}

/// What one of our layers holds.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A conv, linear or embedding: `weight`, maybe `bias`, maybe `sn.u`/`sn.v`.
    Weight { bias: bool, sn: bool },
    /// A BN: `running_mean`, `running_var`, maybe affine `weight`/`bias`.
    Norm { affine: bool },
    /// Self-attention's residual gain `sigma` `[1]`.
    Gain,
}

/// One of our layers: its module path (record path without the leaf), kind and weight shape.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    /// Module path relative to the network (`blocks.0.conv2d1`).
    pub path: String,
    kind: Kind,
    /// Shape of `weight` (of the statistics for a plain BN, `[1]` for a gain).
    dims: Vec<usize>,
}

/// Leaves of our record paths, longest first.
const LEAVES: [&str; 10] = [
    "sn.gamma",
    "sn.u2",
    "sn.v2",
    "sn.u",
    "sn.v",
    "running_mean",
    "running_var",
    "weight",
    "bias",
    "sigma",
];

/// The layers of `module`, in record order, with paths relative to the network (the enum
/// variant, `ResNet.`, stripped).
pub(crate) fn layers<M: Module>(module: &M) -> Result<Vec<Layer>, ConvertError> {
    let mut order: Vec<String> = Vec::new();
    let mut leaves: HashMap<String, HashMap<&'static str, Vec<usize>>> = HashMap::new();
    for t in named_tensors(module) {
        let path = t
            .path
            .split_once('.')
            .map_or(t.path.as_str(), |(_, rest)| rest);
        let (module_path, leaf) = LEAVES
            .iter()
            .find_map(|leaf| {
                path.strip_suffix(leaf)
                    .and_then(|p| p.strip_suffix('.'))
                    .map(|p| (p.to_string(), *leaf))
            })
            .ok_or_else(|| ConvertError::Unsupported {
                message: format!("{path}: a tensor no peer layout stores"),
            })?;
        if matches!(leaf, "sn.gamma" | "sn.u2" | "sn.v2") {
            return Err(ConvertError::Unsupported {
                message: format!(
                    "{module_path}: BSN/SSN state ({leaf}); no peer stores a second singular-vector pair or a learnable SN gain"
                ),
            });
        }
        if !leaves.contains_key(&module_path) {
            order.push(module_path.clone());
        }
        leaves.entry(module_path).or_default().insert(leaf, t.dims);
    }
    Ok(order
        .into_iter()
        .map(|path| {
            let l = &leaves[&path];
            let (kind, dims) = if let Some(dims) = l.get("sigma") {
                (Kind::Gain, dims.clone())
            } else if let Some(dims) = l.get("running_mean") {
                let affine = l.contains_key("weight");
                (Kind::Norm { affine }, dims.clone())
            } else {
                let kind = Kind::Weight {
                    bias: l.contains_key("bias"),
                    sn: l.contains_key("sn.u"),
                };
                (kind, l["weight"].clone())
            };
            Layer { path, kind, dims }
        })
        .collect())
}

/// A host-side tensor: shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Array {
    fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }

    /// `[rows, cols]` -> `[cols, rows]`.
    fn transpose(&self) -> Self {
        let [rows, cols] = [self.shape[0], self.shape[1]];
        let mut data = vec![0.0; self.data.len()];
        for r in 0..rows {
            for c in 0..cols {
                data[c * rows + r] = self.data[r * cols + c];
            }
        }
        Self::new(vec![cols, rows], data)
    }

    /// The same values with `axis` reversed.
    fn reverse(&self, axis: usize) -> Self {
        let outer: usize = self.shape[..axis].iter().product();
        let n = self.shape[axis];
        let inner: usize = self.shape[axis + 1..].iter().product();
        let mut data = Vec::with_capacity(self.data.len());
        for o in 0..outer {
            for i in (0..n).rev() {
                let start = (o * n + i) * inner;
                data.extend_from_slice(&self.data[start..start + inner]);
            }
        }
        Self::new(self.shape.clone(), data)
    }

    fn reshaped(self, shape: Vec<usize>) -> Self {
        Self::new(shape, self.data)
    }

    fn into_data(self) -> TensorData {
        TensorData::new(self.data, self.shape)
    }

    /// The weight viewed as `[rows, cols]`.
    fn matrix_dims(&self) -> [usize; 2] {
        [self.shape[0], self.shape[1..].iter().product()]
    }
}

/// One step of the power iteration from `u0` on `w` (`[rows, cols]`): `v = n(u0^T W)`,
/// `u = n(W v)`, with `n` the peer's normalisation; returns `(u, v)`, for which
/// `u^T W v` is the sigma the peer's forward computes.
fn power_step(w: &Array, u0: &[f32], storage: SnStorage) -> (Vec<f32>, Vec<f32>) {
    let [rows, cols] = w.matrix_dims();
    let normalize = |x: Vec<f64>| -> Vec<f32> {
        let norm = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        let div = match storage {
            SnStorage::Ajbrock { eps } => norm.max(eps),
            SnStorage::Chainer => norm + 1e-12,
            SnStorage::Torch => unreachable!("torch vectors are stored, not derived"),
        };
        x.iter().map(|a| (a / div) as f32).collect()
    };
    let mut v = vec![0.0f64; cols];
    for (r, &ur) in u0.iter().enumerate() {
        let row = &w.data[r * cols..(r + 1) * cols];
        for (vc, &wrc) in v.iter_mut().zip(row) {
            *vc += f64::from(ur) * f64::from(wrc);
        }
    }
    let v = normalize(v);
    let u: Vec<f64> = (0..rows)
        .map(|r| {
            let row = &w.data[r * cols..(r + 1) * cols];
            row.iter()
                .zip(&v)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum()
        })
        .collect();
    (normalize(u), v)
}

/// A key the peer's file must (or may) hold for a layer, with its shape.
struct Expected {
    key: String,
    shape: Vec<usize>,
    /// A key the peer writes and nobody reads (`sv0`, `num_batches_tracked`, `N`): accepted when
    /// present, not required.
    optional: bool,
}

fn join(naming: &Naming, path: &str, leaf: &str) -> String {
    format!("{path}{}{leaf}", naming.sep)
}

/// The peer's weight shape for our `dims`.
fn their_weight_dims(dims: &[usize], target: &Target) -> Vec<usize> {
    match target.transpose {
        true => vec![dims[1], dims[0]],
        false => dims.to_vec(),
    }
}

fn expected(layer: &Layer, target: &Target, naming: &Naming) -> Vec<Expected> {
    let need = |key: String, shape: Vec<usize>| Expected {
        key,
        shape,
        optional: false,
    };
    let may = |key: String, shape: Vec<usize>| Expected {
        key,
        shape,
        optional: true,
    };
    let p = &target.path;
    match &layer.kind {
        Kind::Gain => {
            let shape = if naming.gain.1 { vec![] } else { vec![1] };
            vec![need(join(naming, p, naming.gain.0), shape)]
        }
        Kind::Norm { affine } => {
            let c = layer.dims.clone();
            let mut out = Vec::new();
            if *affine {
                out.push(need(join(naming, p, naming.norm[0]), c.clone()));
                out.push(need(join(naming, p, naming.norm[1]), c.clone()));
            }
            out.push(need(join(naming, p, naming.norm[2]), c.clone()));
            out.push(need(join(naming, p, naming.norm[3]), c));
            if let Some(counter) = naming.norm_counter {
                out.push(may(join(naming, p, counter), vec![]));
            }
            out
        }
        Kind::Weight { bias, sn } => {
            let w = their_weight_dims(&layer.dims, target);
            let rows = w[0];
            let cols: usize = w[1..].iter().product();
            let mut out = Vec::new();
            match (sn, naming.sn) {
                (false, _) => out.push(need(join(naming, p, naming.weight), w)),
                (true, SnStorage::Torch) => {
                    out.push(need(join(naming, p, "weight_orig"), w));
                    out.push(need(join(naming, p, "weight_u"), vec![rows]));
                    out.push(need(join(naming, p, "weight_v"), vec![cols]));
                }
                (true, SnStorage::Ajbrock { .. }) => {
                    out.push(need(join(naming, p, naming.weight), w));
                    out.push(need(join(naming, p, "u0"), vec![1, rows]));
                    out.push(may(join(naming, p, "sv0"), vec![1]));
                }
                (true, SnStorage::Chainer) => {
                    out.push(need(join(naming, p, naming.weight), w));
                    out.push(need(join(naming, p, "u"), vec![1, rows]));
                }
            }
            if *bias {
                out.push(need(join(naming, p, naming.bias), vec![layer.dims[0]]));
            }
            out
        }
    }
}

/// Our layers, each with its place in the peer's file.
pub(crate) type Plan = Vec<(Layer, Target)>;

/// Whether the keys of `ckpt` under `prefix` are exactly what `plan` needs (shapes included):
/// `None`, or every key that does not fit.
pub(crate) fn check(
    plan: &Plan,
    naming: &Naming,
    ckpt: &Checkpoint,
    prefix: &str,
    network: &str,
) -> Option<LayoutMismatch> {
    let expected: Vec<Expected> = plan
        .iter()
        .flat_map(|(layer, target)| expected(layer, target, naming))
        .collect();
    let by_key: BTreeMap<&str, &Expected> = expected.iter().map(|e| (e.key.as_str(), e)).collect();
    let mut mismatch = LayoutMismatch {
        path: ckpt.path.clone(),
        network: network.to_string(),
        ..Default::default()
    };
    let present: BTreeMap<&str, &[usize]> = ckpt
        .entries
        .iter()
        .filter_map(|(k, e)| Some((k.strip_prefix(prefix)?, e.shape.as_slice())))
        .collect();
    for (key, shape) in &present {
        match by_key.get(key) {
            Some(e) if e.shape.as_slice() != *shape => {
                mismatch
                    .shapes
                    .push((format!("{prefix}{key}"), e.shape.clone(), shape.to_vec()))
            }
            Some(_) => {}
            None => {
                let nearest = expected
                    .iter()
                    .filter(|e| !present.contains_key(e.key.as_str()))
                    .chain(expected.iter())
                    .min_by_key(|e| strsim::levenshtein(&e.key, key))
                    .map_or_else(String::new, |e| format!("{prefix}{}", e.key));
                mismatch.unmapped.push((format!("{prefix}{key}"), nearest));
            }
        }
    }
    for e in &expected {
        if !e.optional && !present.contains_key(e.key.as_str()) {
            mismatch.missing.push(format!("{prefix}{}", e.key));
        }
    }
    (!mismatch.is_empty()).then_some(mismatch)
}

/// Our tensors (record path under `variant.`, values) from a checked file.
pub(crate) fn import(
    plan: &Plan,
    naming: &Naming,
    ckpt: &Checkpoint,
    prefix: &str,
    variant: &str,
) -> Result<HashMap<String, TensorData>, ConvertError> {
    let read = |leaf_key: &str, shape: Vec<usize>| -> Result<Array, ConvertError> {
        Ok(Array::new(
            shape,
            ckpt.read(&format!("{prefix}{leaf_key}"))?,
        ))
    };
    let mut out = HashMap::new();
    for (layer, target) in plan {
        let ours = |leaf: &str| format!("{variant}.{}.{leaf}", layer.path);
        let p = &target.path;
        match &layer.kind {
            Kind::Gain => {
                let key = join(naming, p, naming.gain.0);
                let gain = read(&key, if naming.gain.1 { vec![] } else { vec![1] })?;
                out.insert(ours("sigma"), gain.reshaped(vec![1]).into_data());
            }
            Kind::Norm { affine } => {
                let c = layer.dims.clone();
                let leaves = ["weight", "bias", "running_mean", "running_var"];
                for (i, leaf) in leaves.iter().enumerate() {
                    if i < 2 && !affine {
                        continue;
                    }
                    let a = read(&join(naming, p, naming.norm[i]), c.clone())?;
                    out.insert(ours(leaf), a.into_data());
                }
            }
            Kind::Weight { bias, sn } => {
                let their_dims = their_weight_dims(&layer.dims, target);
                let weight_key = match (sn, naming.sn) {
                    (true, SnStorage::Torch) => "weight_orig",
                    _ => naming.weight,
                };
                let theirs = read(&join(naming, p, weight_key), their_dims)?;
                let mut w = match target.transpose {
                    true => theirs.transpose(),
                    false => theirs,
                };
                match target.flip {
                    Flip::None => {}
                    Flip::Out => w = w.reverse(0),
                    Flip::In => w = w.reverse(1),
                }
                if target.offset != 0.0 {
                    w.data.iter_mut().for_each(|x| *x += target.offset);
                }
                let [rows, cols] = w.matrix_dims();
                if *sn {
                    let (u, v) = match naming.sn {
                        SnStorage::Torch => {
                            let their_rows = if target.transpose { cols } else { rows };
                            let their_cols = if target.transpose { rows } else { cols };
                            let u = read(&join(naming, p, "weight_u"), vec![their_rows])?;
                            let v = read(&join(naming, p, "weight_v"), vec![their_cols])?;
                            let (u, v) = match target.transpose {
                                true => (v, u),
                                false => (u, v),
                            };
                            match target.flip {
                                Flip::None => (u, v),
                                Flip::Out => (u.reverse(0), v),
                                // v runs over (in, kh, kw): reverse its in-channel blocks.
                                Flip::In => {
                                    let blocks = layer.dims[1];
                                    let v = v.reshaped(vec![blocks, cols / blocks]).reverse(0);
                                    (u, v.reshaped(vec![cols]))
                                }
                            }
                        }
                        storage => {
                            let key = join(
                                naming,
                                p,
                                if storage == SnStorage::Chainer {
                                    "u"
                                } else {
                                    "u0"
                                },
                            );
                            let mut u0 = read(&key, vec![rows])?;
                            if target.flip == Flip::Out {
                                u0 = u0.reverse(0);
                            }
                            let (u, v) = power_step(&w, &u0.data, storage);
                            (Array::new(vec![rows], u), Array::new(vec![cols], v))
                        }
                    };
                    out.insert(ours("sn.u"), u.into_data());
                    out.insert(ours("sn.v"), v.into_data());
                }
                out.insert(ours("weight"), w.into_data());
                if *bias {
                    let mut b = read(&join(naming, p, naming.bias), vec![layer.dims[0]])?;
                    if target.flip == Flip::Out {
                        b = b.reverse(0);
                    }
                    out.insert(ours("bias"), b.into_data());
                }
            }
        }
    }
    Ok(out)
}

/// A tensor of an exported state dict.
pub(crate) enum Exported {
    /// float32 values.
    Float(Array),
    /// An int64 scalar (`num_batches_tracked`).
    Int(i64),
}

/// The peer's state dict (torch spectral-norm convention) from our tensors, keyed by record
/// path relative to the network.
pub(crate) fn export(
    plan: &Plan,
    naming: &Naming,
    ours: &HashMap<String, Array>,
) -> Vec<(String, Exported)> {
    assert_eq!(
        naming.sn,
        SnStorage::Torch,
        "exports write torch's convention"
    );
    let get = |layer: &Layer, leaf: &str| -> Array {
        ours.get(&format!("{}.{leaf}", layer.path))
            .unwrap_or_else(|| panic!("{}.{leaf}: listed by the layer scan", layer.path))
            .clone()
    };
    let mut out = Vec::new();
    for (layer, target) in plan {
        assert!(
            target.flip == Flip::None && target.offset == 0.0,
            "exports keep the channel order and gain convention"
        );
        let p = &target.path;
        match &layer.kind {
            Kind::Gain => {
                let shape = if naming.gain.1 { vec![] } else { vec![1] };
                let gain = get(layer, "sigma").reshaped(shape);
                out.push((join(naming, p, naming.gain.0), Exported::Float(gain)));
            }
            Kind::Norm { affine } => {
                let leaves = ["weight", "bias", "running_mean", "running_var"];
                for (i, leaf) in leaves.iter().enumerate() {
                    if i >= 2 || *affine {
                        out.push((
                            join(naming, p, naming.norm[i]),
                            Exported::Float(get(layer, leaf)),
                        ));
                    }
                }
                if let Some(counter) = naming.norm_counter {
                    out.push((join(naming, p, counter), Exported::Int(0)));
                }
            }
            Kind::Weight { bias, sn } => {
                let w = get(layer, "weight");
                let w = if target.transpose { w.transpose() } else { w };
                let (u, v) = match sn {
                    true => {
                        let (u, v) = (get(layer, "sn.u"), get(layer, "sn.v"));
                        Some(if target.transpose { (v, u) } else { (u, v) })
                    }
                    false => None,
                }
                .unzip();
                let name = if *sn { "weight_orig" } else { naming.weight };
                out.push((join(naming, p, name), Exported::Float(w)));
                if *bias {
                    out.push((
                        join(naming, p, naming.bias),
                        Exported::Float(get(layer, "bias")),
                    ));
                }
                if let (Some(u), Some(v)) = (u, v) {
                    out.push((join(naming, p, "weight_u"), Exported::Float(u)));
                    out.push((join(naming, p, "weight_v"), Exported::Float(v)));
                }
            }
        }
    }
    out
}

/// Our tensors as host arrays, by record path relative to the network.
pub(crate) fn host_tensors<M: Module>(module: &M) -> HashMap<String, Array> {
    named_tensors(module)
        .into_iter()
        .map(|t| {
            let path = t
                .path
                .split_once('.')
                .map_or(t.path.clone(), |(_, rest)| rest.to_string());
            let data = t
                .matrix
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("float tensors");
            (path, Array::new(t.dims, data))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_and_transpose_move_values_where_expected() {
        let a = Array::new(vec![2, 3], vec![0., 1., 2., 3., 4., 5.]);
        assert_eq!(a.transpose().data, [0., 3., 1., 4., 2., 5.]);
        assert_eq!(a.reverse(0).data, [3., 4., 5., 0., 1., 2.]);
        assert_eq!(a.reverse(1).data, [2., 1., 0., 5., 4., 3.]);
    }

    #[test]
    fn one_power_step_gives_the_sigma_of_the_peer() {
        // W = diag(3, 1), u0 = (1, 1): v = n(3, 1), u = n(9, 1), sigma = u.W v.
        let w = Array::new(vec![2, 2], vec![3., 0., 0., 1.]);
        let (u, v) = power_step(&w, &[1.0, 1.0], SnStorage::Ajbrock { eps: 1e-12 });
        let wv = [3.0 * v[0], v[1]];
        let sigma = u[0] * wv[0] + u[1] * wv[1];
        let expected = (81.0f32 + 1.0).sqrt() / 10f32.sqrt(); // |W v| for v = (3, 1)/sqrt(10)
        assert!((sigma - expected).abs() < 1e-6, "{sigma} vs {expected}");
    }
}
