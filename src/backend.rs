//! Backend selection: cargo features decide which backends exist, a `--device` string picks one.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;
use sngan_train::{DataParallel, GradientSync};

/// A compute backend this project knows about; [`compiled_backends`] lists those in the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (feature `flex`, the default and the one CI tests).
    Flex,
    /// Burn's ndarray CPU backend (feature `ndarray`; its conv backward is a scalar loop, so it
    /// suits only tiny models).
    Ndarray,
    /// GPU through wgpu: Vulkan, Metal or DX12 (feature `wgpu`).
    Wgpu,
    /// NVIDIA CUDA (feature `cuda`; building it downloads LLVM, see the README).
    Cuda,
}

impl Backend {
    const ALL: [Backend; 4] = [
        Backend::Cuda,
        Backend::Wgpu,
        Backend::Flex,
        Backend::Ndarray,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// Whether this binary was built with the backend's feature.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a `--device` string gave no device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Not of the form `BACKEND[:INDEX]` with a known backend.
    #[error("unknown device '{0}': expected one of flex, ndarray, wgpu[:INDEX], cuda[:INDEX]")]
    Unknown(String),
    /// A known backend whose cargo feature this binary was built without.
    #[error(
        "device '{requested}' needs the cargo feature '{backend}', which this binary was built without (built with: {built})"
    )]
    NotCompiled {
        /// The string asked for.
        requested: String,
        /// The backend it names.
        backend: Backend,
        /// The backends this binary has.
        built: String,
    },
    /// A CPU backend given an index.
    #[error("device '{0}': the CPU backends take no index")]
    IndexOnCpu(String),
    /// A data-parallel device list that is empty or mixes backends.
    #[error(
        "devices '{0}': expected a comma-separated list of devices of one backend, rank 0 first (cuda:0,cuda:1)"
    )]
    DeviceList(String),
}

/// The backends built into this binary, GPU ones first.
pub fn compiled_backends() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| b.is_compiled())
        .collect()
}

impl FromStr for Backend {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| DeviceError::Unknown(s.to_string()))
    }
}

/// The device for `BACKEND[:INDEX]` (`flex`, `ndarray`, `wgpu`, `wgpu:1`, `cuda`, `cuda:0`).
///
/// Training wraps it with `.autodiff()`; evaluation uses it as it is.
pub fn device(spec: &str) -> Result<Device, DeviceError> {
    let (name, index) = match spec.split_once(':') {
        Some((name, index)) => {
            let index: usize = index
                .parse()
                .map_err(|_| DeviceError::Unknown(spec.to_string()))?;
            (name, Some(index))
        }
        None => (spec, None),
    };
    let backend: Backend = name
        .parse()
        .map_err(|_| DeviceError::Unknown(spec.to_string()))?;
    if !backend.is_compiled() {
        let built = compiled_backends()
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(DeviceError::NotCompiled {
            requested: spec.to_string(),
            backend,
            built,
        });
    }
    if index.is_some() && matches!(backend, Backend::Flex | Backend::Ndarray) {
        return Err(DeviceError::IndexOnCpu(spec.to_string()));
    }
    Ok(make(backend, index.unwrap_or(0)))
}

/// Data parallel over the comma-separated `specs` (`cuda:0,cuda:1`): rank 0's autodiff device
/// (the run's own) and the placement of the others. CUDA devices sum gradients with Burn's NCCL
/// all-reduce ([`GradientSync::Collective`], also for a single CUDA device), the other backends
/// through the host ([`GradientSync::Gather`]; `flex,flex` runs two CPU replicas on the one
/// flex device, which is how CI tests the logic).
pub fn data_parallel(specs: &str) -> Result<(Device, DataParallel), DeviceError> {
    let parsed = specs
        .split(',')
        .map(|spec| {
            let device = device(spec)?;
            Ok((backend_of(spec)?, device))
        })
        .collect::<Result<Vec<_>, DeviceError>>()?;
    let backend = parsed[0].0;
    if parsed.iter().any(|(b, _)| *b != backend) {
        return Err(DeviceError::DeviceList(specs.to_string()));
    }
    let mut devices = parsed.into_iter().map(|(_, d)| d.autodiff());
    let rank0 = devices.next().expect("split yields at least one item");
    let sync = match backend {
        Backend::Cuda => GradientSync::Collective,
        _ => GradientSync::Gather,
    };
    let replicas = devices.collect();
    Ok((rank0, DataParallel { replicas, sync }))
}

/// The backend named before the `:` of `spec`.
fn backend_of(spec: &str) -> Result<Backend, DeviceError> {
    let name = spec.split_once(':').map_or(spec, |(name, _)| name);
    name.parse()
}

/// The first backend built in, GPU first (cuda, wgpu, flex, ndarray).
///
/// # Panics
/// If the binary was built with no backend feature at all.
pub fn default_device() -> Device {
    let backend = *compiled_backends().first().expect(
        "sngan was built without a backend: enable one of the features flex, ndarray, wgpu, cuda",
    );
    make(backend, 0)
}

#[allow(unused_variables, unreachable_code)]
fn make(backend: Backend, index: usize) -> Device {
    match backend {
        #[cfg(feature = "flex")]
        Backend::Flex => Device::flex(),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        // Burn deprecates ndarray in favour of flex; we keep it buildable
        Backend::Ndarray => Device::ndarray(),
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => Device::wgpu(if index == 0 {
            burn::tensor::DeviceKind::DefaultDevice
        } else {
            burn::tensor::DeviceKind::DiscreteGpu(index)
        }),
        #[cfg(feature = "cuda")]
        Backend::Cuda => Device::cuda(index),
        other => unreachable!("backend {other} is checked as compiled before a device is made"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_backend_and_index() {
        assert!(matches!(device("warp"), Err(DeviceError::Unknown(s)) if s == "warp"));
        assert!(matches!(device("cuda:x"), Err(DeviceError::Unknown(_))));
        #[cfg(feature = "flex")]
        {
            assert!(device("flex").is_ok());
            assert!(matches!(device("flex:1"), Err(DeviceError::IndexOnCpu(_))));
            let (rank0, parallel) = data_parallel("flex,flex").expect("two flex replicas");
            assert!(rank0.is_autodiff() && parallel.replicas[0].is_autodiff());
            assert_eq!((parallel.ranks(), parallel.sync), (2, GradientSync::Gather));
            assert!(matches!(
                data_parallel("flex,"),
                Err(DeviceError::Unknown(_))
            ));
        }
        #[cfg(not(feature = "cuda"))]
        {
            let err = device("cuda:0").unwrap_err().to_string();
            assert!(err.contains("needs the cargo feature 'cuda'"), "{err}");
        }
    }
}
