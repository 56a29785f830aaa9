//! A persistent, untrained tensor: the Burn counterpart of PyTorch's `register_buffer`, used
//! for the power-iteration vectors of spectral normalisation (Miyato et al., ICLR 2018).
//!
//! Burn's own [`RunningState`](burn::module::RunningState) keeps updates in a per-thread map
//! and only folds them in on the next `value_sync`, so a record written right after a training
//! forward would hold the vector from one step earlier and a resumed run would diverge. A
//! [`Buffer`] takes each update at once: what the record holds is what the next forward reads.

use std::sync::{Arc, Mutex, MutexGuard};

use burn::module::{
    Content, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper, ModuleVisitor,
    Param, ParamId,
};
use burn::prelude::*;

/// A tensor saved in the module record, never trained, updated in place from `forward(&self)`.
///
/// Clones share the value (as a `d.clone().no_grad()` used for the generator step must keep
/// advancing the discriminator's vectors, like PyTorch); [`Module::valid`] and
/// [`Module::train`] return an independent copy, so evaluation never moves the training state.
#[derive(Clone, Debug)]
pub struct Buffer<const D: usize> {
    id: ParamId,
    value: Arc<Mutex<Tensor<D>>>,
}

impl<const D: usize> Buffer<D> {
    /// A buffer holding `value`, detached and without gradient.
    pub fn new(value: Tensor<D>) -> Self {
        Self::with_id(ParamId::new(), value)
    }

    fn with_id(id: ParamId, value: Tensor<D>) -> Self {
        Self {
            id,
            value: Arc::new(Mutex::new(value.detach().set_require_grad(false))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tensor<D>> {
        // A panic while the lock was held cannot leave a half-written tensor behind (the
        // assignment is one move), so a poisoned lock still holds a valid value.
        self.value
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current value.
    pub fn value(&self) -> Tensor<D> {
        self.lock().clone()
    }

    /// Replace the value; it is stored detached, so no graph is kept alive by the buffer.
    pub fn set(&self, value: Tensor<D>) {
        *self.lock() = value.detach().set_require_grad(false);
    }
}

impl<const D: usize> Module for Buffer<D> {
    fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        visitor.visit_float(&Param::initialized(self.id, self.value()));
    }

    fn map<M: ModuleMapper>(self, mapper: &mut M) -> Self {
        let param = mapper.map_float(Param::initialized(self.id, self.value()));
        let (_, tensor, _) = param.consume();
        self.set(tensor);
        self
    }

    fn to_device(self, device: &Device) -> Self {
        // The moved module is a copy: clones left on the old device keep their own value (as
        // `module.clone().fork(&other)` must leave `module` where it was).
        Self::with_id(self.id, self.value().to_device(device))
    }

    fn fork(self, device: &Device) -> Self {
        self.to_device(device)
    }

    fn collect_devices(&self, mut devices: Devices) -> Devices {
        let device = self.lock().device();
        if !devices.contains(&device) {
            devices.push(device);
        }
        devices
    }

    fn materialize(self) -> Self {
        self
    }

    fn valid(&self) -> Self {
        Self::with_id(self.id, self.value().without_autodiff())
    }

    fn train(self) -> Self {
        Self::with_id(self.id, self.value().autodiff())
    }
}

impl<const D: usize> ModuleDisplayDefault for Buffer<D> {
    fn content(&self, content: Content) -> Option<Content> {
        content.add_formatted(&"Buffer".to_string()).optional()
    }
}

impl<const D: usize> ModuleDisplay for Buffer<D> {}
