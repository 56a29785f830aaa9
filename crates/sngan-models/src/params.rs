//! Walking a model's tensors by path: trainable-parameter counts as PyTorch reports them
//! (buffers excluded), BigGAN's orthogonal regularisation (Brock et al., ICLR 2019, sec. 3.1)
//! and the low-precision copy a mixed-precision forward runs.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::FloatDType;

/// Record names of untrained state: spectral-norm vectors and BN statistics.
const BUFFERS: [&str; 6] = ["u", "v", "u2", "v2", "running_mean", "running_var"];

/// A model tensor: its dotted path, its shape, and its values as `[dims[0], rest]`.
pub struct NamedTensor {
    /// Dotted path, e.g. `blocks.0.conv2d1.weight`.
    pub path: String,
    /// Shape of the tensor.
    pub dims: Vec<usize>,
    /// The tensor viewed as a matrix `[dims[0], product of the other dims]`.
    pub matrix: Tensor<2>,
}

impl NamedTensor {
    /// Whether this is untrained state (a buffer), not a parameter.
    pub fn is_buffer(&self) -> bool {
        let leaf = self.path.rsplit('.').next().unwrap_or_default();
        BUFFERS.contains(&leaf)
    }
}

#[derive(Default)]
struct Collector {
    stack: Vec<String>,
    out: Vec<NamedTensor>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let dims = value.dims().to_vec();
        let matrix = value.reshape([dims[0] as i32, -1]);
        let path = self
            .stack
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        self.out.push(NamedTensor {
            path,
            dims: dims.clone(),
            matrix,
        });
    }
}

/// Every float tensor of `module`, parameters and buffers, with its path.
pub fn named_tensors<M: Module>(module: &M) -> Vec<NamedTensor> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    collector.out
}

/// Trainable parameters, as `sum(p.numel() for p in model.parameters())` counts them in PyTorch
/// (Burn's `num_params` also counts buffers).
pub fn count_parameters<M: Module>(module: &M) -> usize {
    named_tensors(module)
        .iter()
        .filter(|t| !t.is_buffer())
        .map(|t| t.dims.iter().product::<usize>())
        .sum()
}

/// BigGAN's orthogonal regularisation as a loss: `strength / 2 * sum_W ||(W W^T) * (1 - I)||_F^2`
/// over every parameter of rank >= 2 viewed as `[out, rest]`, skipping paths that contain any
/// of `skip` (BigGAN-PyTorch skips the shared embedding); `None` when nothing qualifies. Its gradient,
/// `strength * 2 ((W W^T) * (1 - I)) W`, is what BigGAN-PyTorch's `utils.ortho` adds to `W.grad`.
pub fn orthogonal_regularization<M: Module>(
    module: &M,
    strength: f64,
    skip: &[&str],
) -> Option<Tensor<1>> {
    let mut total: Option<Tensor<1>> = None;
    for t in named_tensors(module) {
        if t.dims.len() < 2 || t.is_buffer() || skip.iter().any(|s| t.path.contains(s)) {
            continue;
        }
        let w = t.matrix;
        let rows = w.dims()[0];
        let off_diagonal =
            Tensor::<2>::ones([rows, rows], &w.device()) - Tensor::eye(rows, &w.device());
        let gram = w.clone().matmul(w.transpose()) * off_diagonal;
        let term = gram.square().sum();
        total = Some(match total {
            Some(acc) => acc + term,
            None => term,
        });
    }
    total.map(|t| t * (strength / 2.0))
}

/// `module` with every trained parameter (a tensor that requires a gradient) cast to `dtype`,
/// each keeping its id: `Tensor::cast` is differentiable, so a backward pass through the copy
/// reaches the original parameters, in their own precision. Buffers (spectral-norm vectors, BN
/// statistics) are left as they are, shared with `module`, and keep their precision.
pub fn cast_parameters<M: Module>(module: &M, dtype: FloatDType) -> M {
    module.clone().map(&mut CastParameters(dtype))
}

struct CastParameters(FloatDType);

impl ModuleMapper for CastParameters {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = match tensor.is_require_grad() {
            true => tensor.cast(self.0),
            false => tensor,
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// Why [`assign_tensors`] refused a tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignError {
    /// The dotted path.
    pub path: String,
    /// The module's shape there.
    pub expected: Vec<usize>,
    /// The shape offered.
    pub found: Vec<usize>,
}

impl std::fmt::Display for AssignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected shape {:?}, found {:?}",
            self.path, self.expected, self.found
        )
    }
}

impl std::error::Error for AssignError {}

struct Assigner<'a> {
    stack: Vec<String>,
    tensors: &'a std::collections::HashMap<String, burn::tensor::TensorData>,
    used: Vec<String>,
    error: Option<AssignError>,
}

impl ModuleMapper for Assigner<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self
            .stack
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        let Some(data) = self.tensors.get(&path) else {
            return param;
        };
        let expected = param.val().dims().to_vec();
        if data.shape().as_slice() != expected.as_slice() {
            self.error.get_or_insert(AssignError {
                path,
                expected,
                found: data.shape().to_vec(),
            });
            return param;
        }
        self.used.push(path);
        param.map(|t| {
            let require_grad = t.is_require_grad();
            Tensor::from_data(data.clone(), &t.device()).set_require_grad(require_grad)
        })
    }
}

/// Replaces every float tensor (parameter or buffer) whose dotted path is a key of `tensors`;
/// returns the module and the keys it found no tensor for.
///
/// # Errors
/// The first path whose shape differs from the offered one.
pub fn assign_tensors<M: Module>(
    module: M,
    tensors: &std::collections::HashMap<String, burn::tensor::TensorData>,
) -> Result<(M, Vec<String>), AssignError> {
    let mut assigner = Assigner {
        stack: Vec::new(),
        tensors,
        used: Vec::new(),
        error: None,
    };
    let module = module.map(&mut assigner);
    if let Some(e) = assigner.error {
        return Err(e);
    }
    let mut unused: Vec<String> = tensors
        .keys()
        .filter(|k| !assigner.used.contains(k))
        .cloned()
        .collect();
    unused.sort();
    Ok((module, unused))
}
