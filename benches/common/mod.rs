//! Timing one GAN iteration (the `n_dis` D steps and one G step of Miyato et al., ICLR 2018,
//! Adam on both, the EMA update where configured) on random batches: shared by the `train` and
//! `gpu` benchmarks.

use std::time::Instant;

use sngan::burn::prelude::*;
use sngan::burn::tensor::{Distribution, TensorData};
use sngan::data::ImageBatch;
use sngan::train::{Gan, TrainConfig};

/// Median milliseconds of one iteration of `config` on the autodiff `device` over `rounds`,
/// after one untimed warm-up iteration (kernel compilation, autotuning); each timed iteration
/// ends with the device synchronised, so queued GPU work is inside its time.
pub fn iteration_ms(config: &TrainConfig, device: &Device, rounds: usize) -> f64 {
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
    let mut real = || Ok(batch.clone());
    let mut timed = || {
        let start = Instant::now();
        gan.iteration(&mut real).expect("iteration");
        device.sync().expect("device sync");
        start.elapsed().as_secs_f64() * 1e3
    };
    timed();
    let mut times: Vec<f64> = (0..rounds).map(|_| timed()).collect();
    times.sort_by(f64::total_cmp);
    times[rounds / 2]
}
