//! The MNIST yardstick on the real MNIST in `../shared/data/mnist`: the shipped classifier's
//! test accuracy; classifier-FID / IS / intended-class accuracy behaving as they should; and
//! the diversity scores (P/R/D/C, intra-FID) equal to the metrics crate's own functions on the
//! same features and falling for a generator that draws a few digits per class.

use std::io::Read;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use sngan_metrics::mnist::{MNIST_FEATURE_DIM, MNIST_PRDC_K, MNIST_TEST_ACCURACY, MnistYardstick};
use sngan_metrics::{Images, Statistics, intra_fid, prdc};

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
    let (train, train_labels) = load("train");
    let (test, labels) = load("t10k");
    let real = train.view().slice(0, 5_000);
    let reference = yard
        .reference(real, &train_labels[..5_000])
        .expect("reference");
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

/// Real test digits and a "generator" that draws only 3 distinct test digits per class, each
/// repeated: class accuracy and IS stay high, while recall, coverage and intra-FID expose the
/// collapse. The report's P/R/D/C and intra-FID equal the crate's own `prdc` and `intra_fid` on
/// the same features (computed here independently of the report).
#[test]
fn diversity_scores_see_a_collapse_that_accuracy_and_is_reward() {
    let device = Device::flex();
    let yard = MnistYardstick::new(&device).expect("weights");
    let (train, train_labels) = load("train");
    let (test, test_labels) = load("t10k");
    let n = 3_000;
    let reference = yard
        .reference(train.view().slice(0, n), &train_labels[..n])
        .expect("reference");

    // Collapsed: sample i is the ((i / 10) % 3)-th test digit of class i % 10.
    let per_class: Vec<Vec<usize>> = (0..10u8)
        .map(|k| {
            (0..test_labels.len())
                .filter(|&i| test_labels[i] == k)
                .take(3)
                .collect()
        })
        .collect();
    let pick: Vec<usize> = (0..n).map(|i| per_class[i % 10][(i / 10) % 3]).collect();
    let pixels: Vec<u8> = pick
        .iter()
        .flat_map(|&i| test.view().slice(i, i + 1).data().to_vec())
        .collect();
    let collapsed = Images::from_nhwc(pixels, [n, 28, 28, 1]).expect("shape");
    let collapsed_labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let diverse = test.view().slice(0, n);

    let good = yard
        .evaluate(diverse, &reference, Some(&test_labels[..n]))
        .expect("diverse");
    let bad = yard
        .evaluate(collapsed.view(), &reference, Some(&collapsed_labels))
        .expect("collapsed");
    eprintln!("diverse:\n{good}\ncollapsed:\n{bad}");
    assert!(bad.class_accuracy.expect("labels") >= 0.95, "{bad:?}");
    assert!(bad.inception_score.mean >= 0.9 * good.inception_score.mean);
    assert!(
        good.prdc.recall > 0.4 && bad.prdc.recall < 0.05,
        "{good:?}\n{bad:?}"
    );
    assert!(good.prdc.coverage > 0.6 && bad.prdc.coverage < 0.2);
    let (gi, bi) = (
        good.intra_fid.expect("labels"),
        bad.intra_fid.expect("labels"),
    );
    assert!(
        bi > 2.0 * gi && bi > 1.5 * bad.fid,
        "intra-FID {gi} vs {bi}"
    );

    // The same numbers from the crate's own functions on the same features.
    let (real_f, _) = yard.features(train.view().slice(0, n)).expect("real");
    let (fake_f, _) = yard.features(collapsed.view()).expect("fake");
    assert_eq!(
        prdc(&real_f, &fake_f, MNIST_PRDC_K).expect("prdc"),
        bad.prdc
    );
    let class_stats = |f: &sngan_metrics::Features, labels: &[u8]| -> Vec<Statistics> {
        (0..10u8)
            .map(|k| {
                let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == k).collect();
                let sel = f.select(&rows).expect("rows");
                Statistics::from_features(&sel.data, sel.n, sel.dim).expect("stats")
            })
            .collect()
    };
    let (want, _) = intra_fid(
        &class_stats(&fake_f, &collapsed_labels),
        &class_stats(&real_f, &train_labels[..n]),
    )
    .expect("intra-FID");
    assert!((want - bi).abs() <= 1e-9 * want, "{want} vs {bi}");
}
