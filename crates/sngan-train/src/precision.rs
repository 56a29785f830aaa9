//! Mixed-precision training as PyTorch's automatic mixed precision runs a GAN (Micikevicius et
//! al., "Mixed Precision Training", ICLR 2018; `torch.amp` as StudioGAN and mmgen use it): the
//! forward and backward passes of G and D in bf16 or f16, the master weights and Adam's state
//! in f32, and for f16 dynamic loss scaling, one scaler per network as mmgen's
//! `AmpOptimWrapper` keeps it, with `torch.amp.GradScaler`'s rule and defaults.
//!
//! Burn 0.22.1 has no autocast: a network runs in low precision because its trained parameters
//! are cast ([`Precision::working_copy`]). `Tensor::cast` is differentiable and the cast copy
//! keeps every parameter's id, so the backward pass of the copy lands in the f32 master
//! parameters and `GradientsParams::from_grads(grads, &master)` collects f32 gradients. What
//! stays in f32 whatever the precision: the spectral-norm vectors, power iteration and sigma
//! (`sngan-spectral`; f32 arithmetic on the copy's rounded weights, the ones the pass uses),
//! BN statistics, running buffers and affine map (`sngan-models`), self-attention's softmax,
//! the losses, the EMA of G, BigGAN's orthogonal regularisation and the whole WGAN-GP penalty
//! (its tangent pass takes the difference of two forwards, which a bf16 mantissa would round
//! away).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::{Bool, FloatDType};
use serde::{Deserialize, Serialize};
use sngan_core::{InvalidField, ensure};
use sngan_models::cast_parameters;

/// The precision of the forward and backward passes of G and D.
#[derive(Config, Debug, PartialEq)]
pub enum Precision {
    /// Everything in f32.
    F32,
    /// bfloat16 passes. bf16 has f32's exponent range, so gradients need no loss scaling (PyTorch
    /// scales none for bf16).
    Bf16,
    /// IEEE half passes, with dynamic loss scaling against gradient underflow.
    F16(LossScaleConfig),
}

/// Dynamic loss scaling (PyTorch's `GradScaler` and its defaults): the loss is multiplied by the
/// scale before the backward pass and the gradients divided by it after; a step whose gradients
/// hold an inf or a NaN is skipped and multiplies the scale by `backoff_factor`, and
/// `growth_interval` clean steps in a row multiply it by `growth_factor`.
#[derive(Config, Debug, PartialEq)]
pub struct LossScaleConfig {
    /// Scale of the first step.
    #[config(default = 65536.0)]
    pub init_scale: f64,
    /// Factor after `growth_interval` clean steps.
    #[config(default = 2.0)]
    pub growth_factor: f64,
    /// Factor after a step with an inf or NaN gradient.
    #[config(default = 0.5)]
    pub backoff_factor: f64,
    /// Clean steps in a row before the scale grows.
    #[config(default = 2000)]
    pub growth_interval: usize,
}

impl Precision {
    /// The name on the command line: `f32`, `bf16`, `f16`.
    pub fn name(&self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16(_) => "f16",
        }
    }

    /// The dtype of the forward and backward passes.
    pub fn dtype(&self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::Bf16 => FloatDType::BF16,
            Precision::F16(_) => FloatDType::F16,
        }
    }

    /// Checks the loss-scaling settings of f16.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let Precision::F16(s) = self else {
            return Ok(());
        };
        let field = |name: &str| format!("F16.{name}");
        ensure(
            s.init_scale.is_finite() && s.init_scale > 0.0,
            &field("init_scale"),
            s.init_scale,
            "a positive scale",
        )?;
        ensure(
            s.growth_factor.is_finite() && s.growth_factor > 1.0,
            &field("growth_factor"),
            s.growth_factor,
            "a factor above 1",
        )?;
        ensure(
            s.backoff_factor > 0.0 && s.backoff_factor < 1.0,
            &field("backoff_factor"),
            s.backoff_factor,
            "a factor in (0, 1)",
        )?;
        ensure(
            s.growth_interval > 0,
            &field("growth_interval"),
            s.growth_interval,
            "at least 1",
        )
    }

    /// `Ok` when `device` computes in this precision; else the error names what it lacks.
    pub fn check_device(&self, device: &Device) -> Result<(), InvalidField> {
        ensure(
            device.supports_dtype(self.dtype()),
            "precision",
            self.name(),
            &format!(
                "a precision the device computes in: {device:?} reports no {} support (f32 always works)",
                self.name()
            ),
        )
    }

    /// The copy of `master` a forward pass runs ([`cast_parameters`] to [`dtype`](Self::dtype)):
    /// its buffers are `master`'s, so its forwards advance them. In f32, `master` itself (a clone).
    pub fn working_copy<M: Module>(&self, master: &M) -> M {
        match self {
            Precision::F32 => master.clone(),
            _ => cast_parameters(master, self.dtype()),
        }
    }

    /// `x` in the precision of the passes.
    pub fn cast<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x.cast(self.dtype())
    }

    /// Fresh loss scales of D and G, for f16.
    pub fn loss_scales(&self) -> Option<LossScales> {
        match self {
            Precision::F16(s) => {
                let fresh = LossScale {
                    scale: s.init_scale,
                    clean_steps: 0,
                };
                Some(LossScales { d: fresh, g: fresh })
            }
            _ => None,
        }
    }
}

/// Where the dynamic loss scaling of one network stands (saved in checkpoints).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossScale {
    /// The factor of the loss in the next backward pass.
    pub scale: f64,
    /// Clean steps since the scale last changed.
    pub clean_steps: usize,
}

impl LossScale {
    /// After a step whose gradients were `finite` (else skipped): back off, or count the clean
    /// step and grow after `growth_interval` of them (`torch._amp_update_scale_`).
    pub fn update(&mut self, finite: bool, config: &LossScaleConfig) {
        if !finite {
            self.scale *= config.backoff_factor;
            self.clean_steps = 0;
            return;
        }
        self.clean_steps += 1;
        if self.clean_steps == config.growth_interval {
            let grown = self.scale * config.growth_factor;
            if grown.is_finite() {
                self.scale = grown;
            }
            self.clean_steps = 0;
        }
    }
}

/// The loss scales of both networks of an f16 run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossScales {
    /// D's.
    pub d: LossScale,
    /// G's.
    pub g: LossScale,
}

/// A copy of the gradients of `module`'s parameters in `grads`, multiplied by `factor` (not
/// touched when it is 1), and whether all of them are finite (computed only when `check`, else
/// `true`).
pub(crate) fn rescaled<M: Module>(
    grads: &GradientsParams,
    module: &M,
    factor: f64,
    check: bool,
) -> (GradientsParams, bool) {
    let mut visitor = Rescale {
        from: grads,
        to: GradientsParams::new(),
        factor,
        check,
        bad: Vec::new(),
    };
    module.visit(&mut visitor);
    let finite = match visitor.bad.is_empty() {
        true => true,
        false => !Tensor::cat(visitor.bad, 0).any().into_scalar::<bool>(),
    };
    (visitor.to, finite)
}

struct Rescale<'a> {
    from: &'a GradientsParams,
    to: GradientsParams,
    factor: f64,
    check: bool,
    bad: Vec<Tensor<1, Bool>>,
}

impl ModuleVisitor for Rescale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.from.get::<D>(param.id) else {
            return;
        };
        if self.check {
            let bad = grad.clone().is_nan().bool_or(grad.clone().is_inf());
            self.bad.push(bad.any());
        }
        let grad = match self.factor == 1.0 {
            true => grad,
            false => grad * self.factor,
        };
        self.to.register(param.id, grad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's rule: an overflow halves the scale and restarts the count; `growth_interval`
    /// clean steps in a row double it; a grown scale that would overflow f64 is not taken.
    #[test]
    fn loss_scale_backs_off_on_overflow_and_grows_after_clean_steps() {
        let config = LossScaleConfig::new().with_growth_interval(3);
        let mut s = LossScale {
            scale: 1024.0,
            clean_steps: 0,
        };
        let mut trace = Vec::new();
        for finite in [true, true, false, true, true, true, true] {
            s.update(finite, &config);
            trace.push((s.scale, s.clean_steps));
        }
        assert_eq!(
            trace,
            [
                (1024.0, 1),
                (1024.0, 2),
                (512.0, 0),
                (512.0, 1),
                (512.0, 2),
                (1024.0, 0),
                (1024.0, 1)
            ]
        );
        let mut huge = LossScale {
            scale: f64::MAX,
            clean_steps: 2,
        };
        huge.update(true, &config);
        assert_eq!((huge.scale, huge.clean_steps), (f64::MAX, 0));
    }
}
