//! Periodic scores of a real run land in `metrics.csv`: the MNIST yardstick and Inception IS and
//! FID, the latter on the deterministic hash-init Inception (the real FID weights cannot be
//! downloaded here).

use sngan::burn::prelude::*;
use sngan::metrics::inception::hash_init;
use sngan::metrics::{InceptionExtractor, Preprocess, Protocol, StatsBuilder};
use sngan::scores::{Scorer, evaluator};
use sngan::train::{RunOptions, experiments, train};
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
    // Reference statistics of five real digits.
    let real = embedded_mnist().expect("embedded MNIST");
    let five = real.view().slice(0, 5);
    let extractor_for_stats = extractor();
    let mut builder = StatsBuilder::new(&extractor_for_stats, false);
    builder.push(five).expect("batch");
    let reference = builder.finish().expect("reference");
    let protocol = Protocol {
        is_splits: 2,
        ..Protocol::sngan_paper()
    };
    let scorers = vec![
        Scorer::mnist(&device).expect("yardstick"),
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
    train(
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
    let names = [
        "mnist_class_accuracy",
        "mnist_fid",
        "mnist_is",
        "is_mean",
        "is_std",
        "fid",
    ];
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
    assert!(
        scores[3] >= 1.0 && scores[5] >= 0.0,
        "IS {} FID {}",
        scores[3],
        scores[5]
    );
    std::fs::remove_dir_all(out).ok();
}
