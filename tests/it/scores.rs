//! Periodic scores of a real run land in `metrics.csv`: the MNIST yardstick and Inception IS and
//! FID, the latter on the deterministic hash-init Inception (the real FID weights cannot be
//! downloaded here), against reference statistics made as `sngan stats --keep-features` makes
//! them; and `sngan stats --config` reads a data set at the experiment's size.

use sngan::burn::prelude::*;
use sngan::metrics::inception::hash_init;
use sngan::metrics::{InceptionExtractor, Preprocess, Protocol, Reference};
use sngan::scores::{MnistMemo, Scorer, evaluator, mnist_report, mnist_scores, reference_stats};
use sngan::train::{RunOptions, TrainConfig, experiments, train};
use sngan::{embedded_mnist, embedded_source};

#[test]
fn mnist_and_inception_scores_land_in_their_columns() {
    let device = Device::flex();
    let extractor = || {
        InceptionExtractor::new(
            hash_init(&device).expect("hash-init weights"),
            Preprocess::TfExact,
            &device,
        )
        .with_batch_size(4)
    };
    // Reference statistics of five real digits, with their features, through a file.
    let mut five = embedded_mnist().expect("embedded MNIST").clone();
    five.pixels.truncate(5 * 28 * 28);
    five.labels.truncate(5);
    let mut chunks = Vec::new();
    let reference = reference_stats(&five, &extractor(), true, |done, all| {
        chunks.push((done, all))
    })
    .expect("reference");
    assert_eq!(chunks, [(5, 5)]);
    let path = std::env::temp_dir().join(format!("sngan-ref-{}.npz", std::process::id()));
    reference.write(&path).expect("write");
    let reference = Reference::read(&path).expect("read");
    let feats = reference
        .features
        .as_ref()
        .expect("features kept for KID and P/R");
    assert_eq!((feats.n, feats.dim, reference.stats.n), (5, 2048, Some(5)));
    std::fs::remove_file(path).ok();
    let protocol = Protocol {
        is_splits: 2,
        ..Protocol::sngan_paper()
    };
    let memo = MnistMemo::default();
    let scorers = vec![
        Scorer::mnist(memo.clone(), &device).expect("yardstick"),
        Scorer::inception(extractor(), Some(reference), 4, protocol, &device),
    ];

    let out = std::env::temp_dir().join(format!("sngan-scores-{}", std::process::id()));
    let options = RunOptions {
        stop_at: Some(1),
        quiet: true,
        evaluator: evaluator(scorers, 1),
        ..RunOptions::new(&out)
    };
    let config = experiments::mnist_quickstart();
    let summary = train(
        &config,
        embedded_source(&config).expect("embedded MNIST"),
        &device.clone().autodiff(),
        &options,
    )
    .expect("one step");

    let csv = std::fs::read_to_string(out.join("metrics.csv")).expect("metrics.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("a row at step 1").split(',').collect();
    let names: Vec<&str> = sngan::scores::MNIST_SCORE_NAMES
        .into_iter()
        .chain(["is_mean", "is_std", "fid"])
        .collect();
    assert_eq!(
        &header[header.len() - names.len()..],
        names,
        "score columns"
    );
    let scores: Vec<f64> = row[row.len() - names.len()..]
        .iter()
        .map(|v| v.parse().expect("a number"))
        .collect();
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    assert!((0.0..=1.0).contains(&scores[0]), "accuracy {}", scores[0]);
    let (mnist_recall, is, fid) = (scores[4], scores[8], scores[10]);
    assert!((0.0..=1.0).contains(&mnist_recall), "recall {mnist_recall}");
    assert!(is >= 1.0 && fid >= 0.0, "IS {is} FID {fid}");
    // The closing report of the last (scored) step is the kept one, and it is what scoring the
    // networks again gives.
    let kept = memo.report(&summary.gan, &device).expect("kept report");
    let fresh = mnist_report(&summary.gan, &device).expect("fresh report");
    assert_eq!(kept, fresh);
    for (logged, kept) in scores.iter().zip(mnist_scores(&kept)) {
        assert!(
            (logged - kept).abs() <= 1e-4 * kept.abs().max(1.0),
            "{logged} vs {kept}"
        );
    }
    std::fs::remove_dir_all(out).ok();
}

#[test]
fn stats_of_an_experiment_use_its_data_settings() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sngan_stl10_resnet.json");
    let data = TrainConfig::read(&path).expect("config").data;
    assert_eq!(
        data.image_shape(),
        [48, 48, 3],
        "STL-10 runs train (and are scored) at 48 px"
    );
    assert_eq!(
        sngan::data::DataConfig::new(data.dataset).image_shape(),
        [96, 96, 3]
    );
}

/// The shipped real-data floor is what real training digits score.
#[test]
fn the_mnist_floor_is_what_real_training_digits_score() {
    let device = Device::flex();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    let r = sngan::scores::mnist_floor(&dir, &device).expect("the real MNIST");
    eprintln!("{r}");
    let f = sngan::metrics::MNIST_FLOOR;
    let p = r.prdc;
    let got = [
        r.fid,
        r.inception_score.mean,
        p.precision,
        p.recall,
        p.density,
        p.coverage,
        r.class_accuracy.expect("labelled"),
        r.intra_fid.expect("labelled"),
    ];
    let shipped = [
        f.fid,
        f.inception_score,
        f.precision,
        f.recall,
        f.density,
        f.coverage,
        f.class_accuracy,
        f.intra_fid,
    ];
    for (g, s) in got.iter().zip(shipped) {
        assert!(
            (g - s).abs() <= 1e-4 * s.abs().max(1.0),
            "{got:?} vs shipped {shipped:?}"
        );
    }
}
