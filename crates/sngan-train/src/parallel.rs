//! Data-parallel training on one node, the scheme of PyTorch's `DistributedDataParallel` (Li et
//! al., "PyTorch Distributed", VLDB 2020): G and D are replicated on every device, each replica
//! runs the GAN step on its own shard of every batch, their gradients are summed before each
//! Adam step, and every replica takes that step itself, so all keep the same weights.
//!
//! Each replica's loss is its shard's mean divided by the number of replicas, so the summed
//! gradient is the whole batch's mean. Two ways to sum it: Burn's collective ([`GradientSync::
//! Collective`]: the parameters are marked with `Tensor::set_distributed` and `backward()`
//! all-reduces their gradients through NCCL; CUDA only), or on the host ([`GradientSync::
//! Gather`]: every replica hands every other one its gradients, `GradientsParams::to_device`
//! moves them and `MultiGradientsParams` sums them in `ModuleOptimizer::step_multi`; any backend).
//!
//! Batch-norm statistics are per replica, as in PyTorch DDP without SyncBatchNorm: each
//! replica normalises with its own shard's statistics (a "ghost batch" of `batch / replicas`),
//! and the running statistics that evaluation and checkpoints use are rank 0's. Spectral-norm
//! vectors need no syncing: the power iteration is a function of the weights alone, and the
//! weights stay identical, which [`Gan::check_replicas`](crate::Gan::check_replicas) verifies
//! at every checkpoint. Burn 0.22.1 has no collective between machines, so this is one node.

use std::sync::{Condvar, Mutex, MutexGuard};

use burn::module::{ModuleMapper, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::distributed::{DistributedConfig, DistributedContext, ReduceOperation};
use sngan_core::{InvalidField, ensure};
use sngan_models::{Discriminator, Generator};

use crate::config::TrainConfig;

/// How the replicas' gradients are summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientSync {
    /// Burn's all-reduce inside `backward()` (NCCL): CUDA devices only.
    Collective,
    /// Gradients exchanged through host threads and summed by `MultiGradientsParams`: any
    /// backend (the CPU tests run it on two `flex` replicas).
    Gather,
}

/// Data-parallel placement of a run: further devices beside the run's own (rank 0), and how
/// gradients are summed. `replicas` may be empty: the collective path on one device.
#[derive(Clone, Debug)]
pub struct DataParallel {
    /// Devices of ranks 1, 2, ...: autodiff devices of the same backend as rank 0's.
    pub replicas: Vec<Device>,
    /// How gradients are summed.
    pub sync: GradientSync,
}

impl DataParallel {
    /// Replicas in all, rank 0 included.
    pub fn ranks(&self) -> usize {
        self.replicas.len() + 1
    }

    /// Each replica takes an equal shard of every D and G batch.
    pub fn check(&self, config: &TrainConfig) -> Result<(), InvalidField> {
        let n = self.ranks();
        for (field, batch) in [
            ("batch_size", config.batch_size),
            ("g_batch_size", config.g_batch_size),
        ] {
            ensure(
                batch.is_multiple_of(n),
                field,
                batch,
                &format!("a multiple of the {n} data-parallel devices (each takes an equal shard)"),
            )?;
        }
        if config.mode_seeking.is_some() {
            // Mode seeking's pairs of rows must not straddle two shards.
            ensure(
                (config.g_batch_size / n).is_multiple_of(2),
                "g_batch_size",
                config.g_batch_size,
                &format!(
                    "a multiple of {}: {n} equal shards of pairs (mode_seeking draws G's batch in pairs)",
                    2 * n
                ),
            )?;
        }
        Ok(())
    }
}

/// The networks and optimisers of one rank above 0 (rank 0's live in [`Gan`](crate::Gan)).
pub(crate) struct Replica {
    pub g: Generator,
    pub d: Discriminator,
    pub opt_g: ModuleOptimizer,
    pub opt_d: ModuleOptimizer,
    pub device: Device,
}

/// One replica's gradients as it hands them on, and whether they were all finite.
pub(crate) type SharedGrads = (GradientsParams, bool);

/// How a run's replicas are joined.
pub(crate) enum Link {
    /// One device, nothing to sum.
    Alone,
    /// Burn's collective; the context keeps the communication server up while the run lives.
    Collective { _server: DistributedContext },
    /// The host exchange.
    Gather(Exchange<SharedGrads>),
}

impl Link {
    /// The link for `parallel`, with Burn's communication server started over `devices` (rank
    /// 0 first) for the collective.
    pub fn new(parallel: &DataParallel, devices: Vec<Device>) -> Self {
        match parallel.sync {
            GradientSync::Collective => {
                let config = DistributedConfig {
                    all_reduce_op: ReduceOperation::Sum,
                };
                Link::Collective {
                    _server: DistributedContext::init(devices, config),
                }
            }
            GradientSync::Gather => Link::Gather(Exchange::new(devices.len())),
        }
    }

    /// Wakes and fails the other replicas waiting in the exchange when this one panics.
    pub fn guard(&self) -> Option<ExchangeGuard<'_, SharedGrads>> {
        match self {
            Link::Gather(exchange) => Some(ExchangeGuard(exchange)),
            _ => None,
        }
    }
}

/// Marks every trained parameter for Burn's all-reduce, under its own id (what burn-train's
/// `ModuleSharder` does); buffers are left alone.
pub(crate) struct MarkDistributed;

impl ModuleMapper for MarkDistributed {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = match tensor.is_require_grad() {
            true => tensor.set_distributed(id),
            false => tensor,
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// Rows `[start, start + len)` of a batch of `batch` that rank `rank` of `ranks` takes.
pub(crate) fn shard(batch: usize, rank: usize, ranks: usize) -> (usize, usize) {
    let len = batch / ranks;
    (rank * len, len)
}

/// An all-to-all exchange between `ranks` threads: each hands in one value per rank and gets
/// back the values every rank handed it, in rank order.
pub(crate) struct Exchange<T> {
    ranks: usize,
    state: Mutex<Round<T>>,
    ready: Condvar,
}

struct Round<T> {
    /// `cells[from][to]`.
    cells: Vec<Vec<Option<T>>>,
    deposited: usize,
    collected: usize,
    /// Every rank has deposited; ranks are collecting.
    draining: bool,
    /// A rank panicked: the others must not wait for it.
    broken: bool,
}

impl<T> Exchange<T> {
    fn new(ranks: usize) -> Self {
        Self {
            ranks,
            state: Mutex::new(Round {
                cells: (0..ranks)
                    .map(|_| (0..ranks).map(|_| None).collect())
                    .collect(),
                deposited: 0,
                collected: 0,
                draining: false,
                broken: false,
            }),
            ready: Condvar::new(),
        }
    }

    fn wait_while<'a>(
        &self,
        guard: MutexGuard<'a, Round<T>>,
        blocked: impl Fn(&Round<T>) -> bool,
    ) -> MutexGuard<'a, Round<T>> {
        let guard = self
            .ready
            .wait_while(guard, |r| !r.broken && blocked(r))
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        assert!(!guard.broken, "another data-parallel replica failed");
        guard
    }

    /// Hands `outgoing[to]` to each rank `to` and returns what each rank handed `rank`.
    pub fn all_to_all(&self, rank: usize, outgoing: Vec<T>) -> Vec<T> {
        assert_eq!(outgoing.len(), self.ranks, "one value per rank");
        let guard = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A rank that starts the next round early waits until this one is collected.
        let mut round = self.wait_while(guard, |r| r.draining);
        for (to, value) in outgoing.into_iter().enumerate() {
            round.cells[rank][to] = Some(value);
        }
        round.deposited += 1;
        if round.deposited == self.ranks {
            round.draining = true;
            self.ready.notify_all();
        }
        let mut round = self.wait_while(round, |r| !r.draining);
        let column = (0..self.ranks)
            .map(|from| {
                round.cells[from][rank]
                    .take()
                    .expect("every rank deposited")
            })
            .collect();
        round.collected += 1;
        if round.collected == self.ranks {
            (round.deposited, round.collected, round.draining) = (0, 0, false);
            self.ready.notify_all();
        }
        column
    }
}

/// Held by a replica's thread: when the thread unwinds, the exchange is marked broken and every
/// waiting rank fails instead of waiting forever.
pub(crate) struct ExchangeGuard<'a, T>(&'a Exchange<T>);

impl<T> Drop for ExchangeGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut round = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
            round.broken = true;
            self.0.ready.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_to_all_hands_each_rank_its_column_round_after_round() {
        let exchange = Exchange::<(usize, usize, usize)>::new(3);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|rank| {
                    let exchange = &exchange;
                    s.spawn(move || {
                        (0..50)
                            .map(|round| {
                                let out = (0..3).map(|to| (round, rank, to)).collect();
                                exchange.all_to_all(rank, out)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for (rank, handle) in handles.into_iter().enumerate() {
                for (round, column) in handle.join().expect("rank").into_iter().enumerate() {
                    let want: Vec<_> = (0..3).map(|from| (round, from, rank)).collect();
                    assert_eq!(column, want, "rank {rank}, round {round}");
                }
            }
        });
    }
}
