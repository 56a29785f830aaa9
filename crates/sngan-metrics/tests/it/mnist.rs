//! The MNIST yardstick on the real MNIST in `../shared/data/mnist`: the shipped classifier's
//! test accuracy, and classifier-FID / IS / intended-class accuracy behaving as they should.

use std::io::Read;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use sngan_metrics::mnist::{MNIST_FEATURE_DIM, MNIST_TEST_ACCURACY, MnistYardstick};
use sngan_metrics::{FidReference, Images};

fn mnist_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mnist"
    ))
}

/// IDX (gzip) reader, as the training example has it.
fn read_idx_gz(path: &Path) -> (Vec<usize>, Vec<u8>) {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{}: {e} (the real MNIST should be there)", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .expect("gzip");
    let be = |i: usize| {
        u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize
    };
    let ndim = be(0) & 0xff;
    let dims: Vec<usize> = (0..ndim).map(|d| be(4 + 4 * d)).collect();
    (dims.clone(), bytes[4 + 4 * ndim..].to_vec())
}

fn load(split: &str) -> (Images, Vec<u8>) {
    let dir = mnist_dir();
    let (dims, px) = read_idx_gz(&dir.join(format!("{split}-images-idx3-ubyte.gz")));
    let (_, labels) = read_idx_gz(&dir.join(format!("{split}-labels-idx1-ubyte.gz")));
    (
        Images::from_nhwc(px, [dims[0], 28, 28, 1]).expect("shape"),
        labels,
    )
}

#[test]
fn shipped_classifier_scores_99_percent_on_the_real_test_set() {
    let device = Device::flex();
    let yard = MnistYardstick::new(&device).expect("shipped weights load");
    let (test, labels) = load("t10k");
    let acc = yard.accuracy(test.view(), &labels).expect("accuracy");
    eprintln!("mnist test accuracy {acc:.4}");
    assert!(acc >= 0.99, "{acc}");
    assert!(
        (acc - MNIST_TEST_ACCURACY).abs() <= 5e-4,
        "{acc} vs recorded {MNIST_TEST_ACCURACY}"
    );
}

#[test]
fn classifier_fid_is_and_class_accuracy_separate_real_from_corrupted() {
    let device = Device::flex();
    let yard = MnistYardstick::new(&device).expect("weights");
    let (train, _) = load("train");
    let (test, labels) = load("t10k");
    let real = train.view().slice(0, 5_000);
    let reference = FidReference::new(yard.stats(real).expect("stats")).expect("factor");
    assert_eq!(reference.stats().dim(), MNIST_FEATURE_DIM);

    let sample = test.view().slice(0, 2_000);
    let good = yard
        .evaluate(sample, &reference, Some(&labels[..2_000]))
        .expect("evaluate");
    // Corrupt: invert every other image and shift labels, as a broken generator would.
    let mut data = sample.data().to_vec();
    for (i, img) in data.chunks_mut(784).enumerate() {
        if i % 2 == 0 {
            img.iter_mut().for_each(|p| *p = 255 - *p);
        }
    }
    let bad_images = Images::from_nhwc(data, [2_000, 28, 28, 1]).expect("shape");
    let wrong: Vec<u8> = labels[..2_000].iter().map(|l| (l + 1) % 10).collect();
    let bad = yard
        .evaluate(bad_images.view(), &reference, Some(&wrong))
        .expect("evaluate");
    eprintln!("real test vs train: {good:?}\ncorrupted: {bad:?}");
    // Measured: 38.6 (2000 test images vs 5000 train: the 1/N bias plus the test/train shift)
    // vs 296.5 corrupted; IS 9.49 vs 5.79; intended class 98.75% vs 2.2%. The features are fc1
    // pre-activations, so the FID scale is not Inception's.
    assert!(
        good.fid < 50.0 && bad.fid > 5.0 * good.fid,
        "{} vs {}",
        good.fid,
        bad.fid
    );
    assert!(good.inception_score.mean > 9.0 && good.inception_score.mean <= 10.0);
    assert!(bad.inception_score.mean < good.inception_score.mean);
    assert!(good.class_accuracy.expect("labels") >= 0.98);
    assert!(bad.class_accuracy.expect("labels") < 0.1);
}
