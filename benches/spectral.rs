//! Spectral-norm overhead: SnConv2d vs Conv2d, forward + backward, 128 -> 128 channels, 3x3,
//! 32x32, batch 64, on the default backend. Prints `bench: <key> <ms>` lines that
//! `cargo xtask bench spectral` sets beside bench/pytorch/spectral.py's.

use std::time::Instant;

use sngan::burn::nn::PaddingConfig2d;
use sngan::burn::nn::conv::Conv2dConfig;
use sngan::burn::prelude::*;
use sngan::burn::tensor::Distribution;
use sngan::spectral::SnConv2dConfig;

const ROUNDS: usize = 7;

fn main() {
    let device = sngan::default_device().autodiff();
    device.seed(0);
    let x = Tensor::<4>::random([64, 128, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let conv = Conv2dConfig::new([128, 128], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    let sn_conv = SnConv2dConfig::new([128, 128], [3, 3])
        .with_padding([1, 1])
        .init(&device);

    let plain = || {
        let grads = conv.forward(x.clone()).sum().backward();
        conv.weight.val().grad(&grads).expect("grad").into_data()
    };
    let normalised = || {
        let grads = sn_conv.forward(x.clone()).sum().backward();
        sn_conv.weight.val().grad(&grads).expect("grad").into_data()
    };
    // Warm up both, then interleave so drift on a shared machine hits both alike.
    let _ = (plain(), normalised());
    let (mut t_plain, mut t_sn) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        t_plain.push(time(plain));
        t_sn.push(time(normalised));
        eprintln!(
            "round {}/{ROUNDS}: conv {:.1} ms, sn conv {:.1} ms",
            round + 1,
            t_plain[round],
            t_sn[round]
        );
    }
    let (m_plain, m_sn) = (median(&mut t_plain), median(&mut t_sn));
    println!("bench: spectral/conv2d_fwd_bwd_ms {m_plain:.2}");
    println!("bench: spectral/sn_conv2d_fwd_bwd_ms {m_sn:.2}");
    println!(
        "bench: spectral/sn_overhead_percent {:.2}",
        100.0 * (m_sn / m_plain - 1.0)
    );
}

fn time<T>(f: impl Fn() -> T) -> f64 {
    let start = Instant::now();
    let _ = std::hint::black_box(f());
    start.elapsed().as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
