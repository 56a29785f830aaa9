//! Benchmarks of what users wait for in evaluation, on the CPU (flex): FID Inception features
//! per second (uint8 32x32 -> TF-exact resize -> pool3 + logits, hash-init weights: the cost
//! does not depend on the values), and one FID from 2048-d statistics with and without the
//! reference factor cached, and precision/recall/density/coverage (k = 5) of 10,000 x 128
//! features against as many real ones (the MNIST yardstick's size), with the real side's balls
//! found in the call and prepared once. Prints `bench: metrics/<key> <value>` lines; the twin
//! is `bench/pytorch/metrics.py` (pytorch-fid's network and `calculate_frechet_distance`,
//! clovaai `prdc.py`'s computation in NumPy).

use std::time::Instant;

use burn::prelude::*;
use sngan_core::SplitMix64;
use sngan_metrics::inception::hash_init;
use sngan_metrics::{
    Features, FidReference, Images, InceptionExtractor, Manifold, Preprocess, StatsAccumulator,
    prdc, prdc_against,
};

const BATCH: usize = 16;
const ROUNDS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let device = Device::flex();
    let mut rng = SplitMix64::new(1);

    // Inception: 16 uint8 32x32 RGB images per batch, as CIFAR-10 samples arrive.
    let model = hash_init(&device).expect("hash-init weights");
    let ex = InceptionExtractor::new(model, Preprocess::TfExact, &device).with_batch_size(BATCH);
    let data: Vec<u8> = (0..BATCH * 32 * 32 * 3)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let images = Images::from_nhwc(data, [BATCH, 32, 32, 3]).expect("shape");
    ex.extract(images.view()).expect("warm-up");
    let t: Vec<f64> = (0..ROUNDS)
        .map(|_| timed(|| drop(ex.extract(images.view()).expect("extract"))))
        .collect();
    let ms = median(t);
    println!("bench: metrics/inception_batch16_ms {ms:.2}");
    println!(
        "bench: metrics/inception_images_per_s {:.2}",
        BATCH as f64 * 1e3 / ms
    );

    // FID from 2048-d statistics of 2500 samples each (full rank).
    let (n, d) = (2500, 2048);
    let mut stats = |shift: f64| {
        let mut acc = StatsAccumulator::new(d);
        let x: Vec<f32> = (0..n * d)
            .map(|i| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                ((u - 0.5) * (1.0 + (i % 7) as f64 * 0.25) + shift) as f32
            })
            .collect();
        let ms = timed(|| acc.push(&x, n).expect("push"));
        (acc.finish().expect("stats"), ms)
    };
    let ((a, stats_ms), (b, _)) = (stats(0.0), stats(0.1));
    println!("bench: metrics/stats_2500x2048_ms {stats_ms:.2}");
    let mut reference = None;
    let factor_ms = timed(|| reference = Some(FidReference::new(a.clone()).expect("factor")));
    let reference = reference.expect("factor");
    let cached: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            timed(|| {
                let _ = reference.fid(&b).expect("fid");
            })
        })
        .collect();
    let cached_ms = median(cached);
    println!("bench: metrics/fid_reference_factor_ms {factor_ms:.2}");
    println!("bench: metrics/fid_2048_cached_ms {cached_ms:.2}");
    println!("bench: metrics/fid_2048_ms {:.2}", factor_ms + cached_ms);

    // P/R/D/C of 10,000 x 128 features (k = 5).
    let (n, d) = (10_000, 128);
    let mut draw = |shift: f32| {
        let x: Vec<f32> = (0..n * d)
            .map(|_| ((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32) + shift)
            .collect();
        Features::new(x, n, d).expect("features")
    };
    let (real, fake) = (draw(0.0), draw(0.05));
    let full = median(
        (0..ROUNDS)
            .map(|_| {
                timed(|| {
                    std::hint::black_box(prdc(&real, &fake, 5).expect("prdc"));
                })
            })
            .collect(),
    );
    let manifold = Manifold::new(&real, 5).expect("manifold");
    let prepared = median(
        (0..ROUNDS)
            .map(|_| {
                timed(|| {
                    std::hint::black_box(prdc_against(&manifold, &fake).expect("prdc"));
                })
            })
            .collect(),
    );
    println!("bench: metrics/prdc_10000x128_ms {full:.2}");
    println!("bench: metrics/prdc_10000x128_real_prepared_ms {prepared:.2}");
}
