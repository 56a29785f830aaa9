//! The convolutions of the model zoo one by one (SNGAN's standard CNN and ResNet-32, Miyato et
//! al., ICLR 2018, at their CIFAR-10 shapes), on the default backend: the forward alone, the
//! forward with the input gradient, and the forward with the weight and bias gradients. Prints
//! `bench: <key> <ms>` lines that `cargo xtask bench conv` sets beside bench/pytorch/conv.py's.

mod common;

use std::time::Instant;

use common::{cpu_ms, median};

use sngan::burn::prelude::*;
use sngan::burn::tensor::Distribution;
use sngan::burn::tensor::module::{conv_transpose2d, conv2d};
use sngan::burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

/// One convolution: `[batch, c_in, size, size]` through a `k x k` kernel with this stride and
/// padding to `c_out` channels; `transposed` makes it a `ConvTranspose2d` (the generator's
/// up-sampling deconvolutions).
struct Case {
    name: &'static str,
    transposed: bool,
    batch: usize,
    c_in: usize,
    c_out: usize,
    size: usize,
    k: usize,
    stride: usize,
    padding: usize,
}

const fn case(
    name: &'static str,
    transposed: bool,
    [batch, c_in, c_out, size]: [usize; 4],
    [k, stride, padding]: [usize; 3],
) -> Case {
    Case {
        name,
        transposed,
        batch,
        c_in,
        c_out,
        size,
        k,
        stride,
        padding,
    }
}

/// The same list, in the same order, as bench/pytorch/conv.py's.
const CASES: [Case; 14] = [
    // The headline: a 3x3 conv at 128 channels, 32x32, batch 64 (ResNet-32's D).
    case("c3_128_32", false, [64, 128, 128, 32], [3, 1, 1]),
    // Standard CNN D, full width, batch 64.
    case("c3_3to64_32", false, [64, 3, 64, 32], [3, 1, 1]),
    case("c4s2_64_32", false, [64, 64, 64, 32], [4, 2, 1]),
    case("c3_128to256_8", false, [64, 128, 256, 8], [3, 1, 1]),
    case("c4s2_256_8", false, [64, 256, 256, 8], [4, 2, 1]),
    case("c3_64to128_16", false, [64, 64, 128, 16], [3, 1, 1]),
    case("c4s2_128_16", false, [64, 128, 128, 16], [4, 2, 1]),
    case("c3_256to512_4", false, [64, 256, 512, 4], [3, 1, 1]),
    // ResNet-32's G at 256 channels (batch 128) and its 1x1 shortcut.
    case("c3_256_16", false, [128, 256, 256, 16], [3, 1, 1]),
    case("c1_256_16", false, [128, 256, 256, 16], [1, 1, 0]),
    // Standard CNN G, full width, batch 64: the 4x4 stride-2 deconvolutions.
    case("t4s2_512to256_4", true, [64, 512, 256, 4], [4, 2, 1]),
    case("t4s2_256to128_8", true, [64, 256, 128, 8], [4, 2, 1]),
    case("t4s2_128to64_16", true, [64, 128, 64, 16], [4, 2, 1]),
    // Its last layer, to RGB.
    case("c3_64to3_32", false, [64, 64, 3, 32], [3, 1, 1]),
];

const ROUNDS: usize = 5;

fn main() {
    sngan::tune_allocator();
    // `cargo bench --bench conv -- NAME` runs only the cases whose name contains NAME.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let device = sngan::default_device();
    let grad_device = device.clone().autodiff();
    device.seed(0);
    for c in &CASES {
        if only.as_ref().is_some_and(|o| !c.name.contains(o.as_str())) {
            continue;
        }
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([c.batch, c.c_in, c.size, c.size], normal, &device);
        let w_shape = match c.transposed {
            true => [c.c_in, c.c_out, c.k, c.k],
            false => [c.c_out, c.c_in, c.k, c.k],
        };
        let w = Tensor::<4>::random(w_shape, normal, &device);
        let b = Tensor::<1>::random([c.c_out], normal, &device);
        let forward = |x: Tensor<4>, w: Tensor<4>, b: Tensor<1>| match c.transposed {
            true => conv_transpose2d(
                x,
                w,
                Some(b),
                ConvTransposeOptions::new([c.stride; 2], [c.padding; 2], [0; 2], [1; 2], 1),
            ),
            false => conv2d(
                x,
                w,
                Some(b),
                ConvOptions::new([c.stride; 2], [c.padding; 2], [1; 2], 1),
            ),
        };
        let fwd = || forward(x.clone(), w.clone(), b.clone()).into_data();
        let on_grad = |t: &Tensor<4>| Tensor::<4>::from_data(t.to_data(), &grad_device);
        let (xg, wg) = (on_grad(&x), on_grad(&w));
        let bg = Tensor::<1>::from_data(b.to_data(), &grad_device);
        let dx = || {
            let x = xg.clone().require_grad();
            let grads = forward(x.clone(), wg.clone(), bg.clone()).sum().backward();
            x.grad(&grads).expect("input gradient").into_data()
        };
        let dw = || {
            let (w, b) = (wg.clone().require_grad(), bg.clone().require_grad());
            let grads = forward(xg.clone(), w.clone(), b.clone()).sum().backward();
            (
                w.grad(&grads).expect("weight gradient").into_data(),
                b.grad(&grads).expect("bias gradient").into_data(),
            )
        };
        let _ = (fwd(), dx(), dw());
        let mut timings: [Vec<[f64; 2]>; 3] = Default::default();
        // Interleaved so drift on a shared machine hits all three alike.
        for _ in 0..ROUNDS {
            timings[0].push(time(fwd));
            timings[1].push(time(dx));
            timings[2].push(time(dw));
        }
        for (what, t) in ["fwd", "fwd_dx", "fwd_dw"].into_iter().zip(timings) {
            let name = c.name;
            let mut wall: Vec<f64> = t.iter().map(|t| t[0]).collect();
            println!("bench: conv/{name}_{what}_ms {:.2}", median(&mut wall));
            let mut cpu: Vec<f64> = t.iter().map(|t| t[1]).filter(|c| !c.is_nan()).collect();
            if !cpu.is_empty() {
                println!("bench: conv/{name}_{what}_cpu_ms {:.2}", median(&mut cpu));
            }
        }
    }
}

/// The wall and CPU time of `f` in ms (CPU time NaN where [`cpu_ms`] has none).
fn time<T>(f: impl Fn() -> T) -> [f64; 2] {
    let (start, start_cpu) = (Instant::now(), cpu_ms());
    let _ = std::hint::black_box(f());
    let cpu = cpu_ms()
        .zip(start_cpu)
        .map_or(f64::NAN, |(end, start)| end - start);
    [start.elapsed().as_secs_f64() * 1e3, cpu]
}
