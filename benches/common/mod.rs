//! What the benchmarks share: timing one GAN iteration (the `n_dis` D steps and one G step of
//! Miyato et al., ICLR 2018, Adam on both, the EMA update where configured) on random batches,
//! the median of rounds and the process's CPU time.

// Every bench compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::time::Instant;

use sngan::burn::prelude::*;
use sngan::burn::tensor::{Distribution, TensorData};
use sngan::data::ImageBatch;
use sngan::train::{Gan, TrainConfig};

/// The median of `v`, reordering it.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// This process's CPU time, user + system over all threads, in ms (Linux's `/proc/self/stat`
/// in clock ticks of 10 ms; `None` elsewhere). Unlike the wall time, it hardly depends on what
/// else the machine runs, which matters on a shared one.
pub fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) * 10.0)
}

/// Medians of one timed iteration.
pub struct IterationTime {
    /// Wall milliseconds.
    pub ms: f64,
    /// CPU milliseconds of this process (`None` where [`cpu_ms`] is).
    pub cpu_ms: Option<f64>,
}

/// Median times of one iteration of `config` on the autodiff `device` over `rounds`, after one
/// untimed warm-up iteration (kernel compilation, autotuning); each timed iteration ends with
/// the device synchronised, so queued GPU work is inside its time.
pub fn iteration_time(config: &TrainConfig, device: &Device, rounds: usize) -> IterationTime {
    device.seed(0);
    let mut gan = Gan::new(config, device);
    let (c, s, b) = (
        config.generator.image_channels(),
        config.generator.image_size(),
        config.batch_size,
    );
    let classes = config.generator.n_classes().unwrap_or(10) as i64;
    let labels: Vec<i64> = (0..b as i64).map(|i| i % classes).collect();
    let batch = ImageBatch {
        images: Tensor::random([b, c, s, s], Distribution::Uniform(-1.0, 1.0), device),
        labels: Tensor::from_data(TensorData::new(labels, [b]), device),
    };
    let real = || Ok(batch.clone());
    let mut timed = || {
        let (start, start_cpu) = (Instant::now(), cpu_ms());
        gan.iteration(real).expect("iteration");
        device.sync().expect("device sync");
        let cpu = cpu_ms().zip(start_cpu).map(|(end, start)| end - start);
        (start.elapsed().as_secs_f64() * 1e3, cpu)
    };
    timed();
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (ms, c) = timed();
        times.push(ms);
        cpu.extend(c);
    }
    IterationTime {
        ms: median(&mut times),
        cpu_ms: (!cpu.is_empty()).then(|| median(&mut cpu)),
    }
}
