//! Trains the MNIST classifier that `sngan_metrics::mnist` ships as its yardstick, on the real
//! MNIST (IDX, gzip) in `../shared/data/mnist`, on the CPU (flex), and writes
//! `crates/sngan-metrics/assets/mnist_classifier.bpk`.
//!
//! `cargo run --release -p sngan-metrics --example train_mnist_classifier [MNIST_DIR] [EPOCHS]`
//!
//! Adam (lr 1e-3, then 3e-4 in the last epoch), batch 64, cross-entropy, 3 epochs, shuffled
//! with a fixed seed; about 3 minutes on 2 cores. Prints the test accuracy it measured.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use sngan_core::SplitMix64;
use sngan_metrics::mnist::{MnistClassifier, MnistClassifierConfig, MnistYardstick};
use sngan_metrics::{Images, ImagesRef};

/// Reads an IDX file (gzip): magic 0x0803 images (n, 28, 28) or 0x0801 labels (n).
fn read_idx_gz(path: &Path) -> (Vec<usize>, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("{}: not gzip: {e}", path.display()));
    let be = |i: usize| {
        u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize
    };
    let magic = be(0);
    assert!(
        magic == 0x0801 || magic == 0x0803,
        "{}: bad IDX magic {magic:#x}",
        path.display()
    );
    let ndim = magic & 0xff;
    let dims: Vec<usize> = (0..ndim).map(|d| be(4 + 4 * d)).collect();
    let start = 4 + 4 * ndim;
    let n: usize = dims.iter().product();
    assert_eq!(bytes.len(), start + n, "{}: truncated IDX", path.display());
    (dims, bytes[start..].to_vec())
}

fn load(dir: &Path, split: &str) -> (Images, Vec<u8>) {
    let (dims, pixels) = read_idx_gz(&dir.join(format!("{split}-images-idx3-ubyte.gz")));
    let (_, labels) = read_idx_gz(&dir.join(format!("{split}-labels-idx1-ubyte.gz")));
    let images =
        Images::from_nhwc(pixels, [dims[0], dims[1], dims[2], 1]).expect("IDX image shape");
    (images, labels)
}

fn batch(
    images: ImagesRef<'_>,
    labels: &[u8],
    idx: &[usize],
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let mut x = Vec::with_capacity(idx.len() * 784);
    for &i in idx {
        x.extend(
            images.data()[i * 784..(i + 1) * 784]
                .iter()
                .map(|&v| f32::from(v) / 255.0),
        );
    }
    let y: Vec<i64> = idx.iter().map(|&i| i64::from(labels[i])).collect();
    (
        Tensor::<1>::from_data(TensorData::new(x, [idx.len() * 784]), device).reshape([
            idx.len(),
            1,
            28,
            28,
        ]),
        Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), device),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/mnist"
        ))
    });
    let epochs: usize = args
        .get(2)
        .map_or(3, |s| s.parse().expect("EPOCHS should be a number"));
    let out = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/mnist_classifier.bpk"
    ));

    let (train, train_labels) = load(&dir, "train");
    let (test, test_labels) = load(&dir, "t10k");
    println!(
        "train {:?}, test {:?}",
        train.view().shape(),
        test.view().shape()
    );

    let device = Device::flex().autodiff();
    device.seed(20180216);
    let mut model: MnistClassifier = MnistClassifierConfig::new().init(&device);
    let mut opt = AdamConfig::new().with_epsilon(1e-8).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = SplitMix64::new(7);
    let bs = 64;
    let start = Instant::now();
    for epoch in 0..epochs {
        let lr = if epoch + 1 == epochs && epochs > 1 {
            3e-4
        } else {
            1e-3
        };
        let order = rng.choose(train.len(), train.len());
        let mut running = 0.0;
        for (step, idx) in order.chunks(bs).enumerate() {
            let (x, y) = batch(train.view(), &train_labels, idx, &device);
            let (_, logits) = model.forward(x);
            let loss = loss_fn.forward(logits, y);
            if step % 100 == 0 {
                running = loss.clone().into_scalar::<f32>();
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = opt.step(lr, model, grads);
            if step % 200 == 0 {
                println!(
                    "epoch {epoch} step {step} loss {running:.4} ({:.0} s)",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        let yard = MnistYardstick::from_model(model.valid(), &device.clone().inner());
        let acc = yard.accuracy(test.view(), &test_labels).expect("accuracy");
        println!(
            "epoch {epoch}: test accuracy {acc:.4} ({:.0} s)",
            start.elapsed().as_secs_f64()
        );
    }
    let model = model.valid();
    let yard = MnistYardstick::from_model(model.clone(), &device.clone().inner());
    let acc = yard.accuracy(test.view(), &test_labels).expect("accuracy");
    println!(
        "final test accuracy {acc:.4} on {} images",
        test_labels.len()
    );
    model.save_file(&out).expect("weights should be writable");
    println!("wrote {}", out.display());
}
