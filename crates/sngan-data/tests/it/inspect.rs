//! The inspector: counts, histograms, and one line per problem.

use std::path::Path;

use sngan_data::{DatasetName, inspect};

use crate::fixtures::{TempDir, assert_contains, cifar_bin, err_msg};

#[test]
fn real_mnist_report() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mnist"
    ));
    let r = inspect(DatasetName::Mnist, root).expect("inspect");
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.splits.len(), 2);
    assert_eq!(r.splits[0].count, 60_000);
    assert_eq!(r.splits[0].shape, [28, 28, 1]);
    assert_eq!(r.splits[0].num_classes, Some(10));
    assert_eq!(r.splits[0].histogram[1], 6742);
    assert_eq!(r.splits[1].count, 10_000);
    let text = r.to_string();
    assert_contains(&text, "train: 60000 images, 28x28x1, 10 classes");
    assert_contains(
        &text,
        "labels 0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842, 5: 5421, 6: 5918, 7: 6265, 8: 5851, 9: 5949",
    );
    assert_contains(&text, "no problems found");
}

#[test]
fn problems_are_listed_one_per_line() {
    let dir = TempDir::new("inspect");
    for b in 1..=5 {
        dir.write(
            &format!("cifar-10-batches-bin/data_batch_{b}.bin"),
            &cifar_bin(b, &[vec![1], vec![2]]),
        );
    }
    let mut bad = cifar_bin(0, &[vec![3]]);
    bad.pop();
    dir.write("cifar-10-batches-bin/test_batch.bin", &bad);
    let r = inspect(DatasetName::Cifar10, dir.path()).expect("inspect");
    assert!(!r.is_ok());
    assert_eq!(r.splits.len(), 1);
    assert_eq!(r.splits[0].histogram[..3], [0, 5, 5]);
    assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    assert_eq!(
        r.problems[0],
        "cifar10 train: expected 50000 images (published count), found 10"
    );
    assert_contains(
        &r.problems[1],
        "test_batch.bin: expected a whole number of 3073-byte CIFAR-10 records, found 3072 bytes",
    );
    let text = r.to_string();
    assert_contains(&text, "2 problem(s):\nproblem: cifar10 train");
}

#[test]
fn unknown_dataset_and_missing_path() {
    let e = "cifar11"
        .parse::<DatasetName>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "unknown dataset 'cifar11': expected one of mnist, cifar10, cifar100, stl10, celeba, imagenet, imagefolder"
    );
    assert_eq!(
        "CIFAR-10".parse::<DatasetName>().ok(),
        Some(DatasetName::Cifar10)
    );
    let e = err_msg(inspect(DatasetName::Stl10, Path::new("/nonexistent/stl")));
    assert_eq!(
        e,
        "/nonexistent/stl: missing stl10 data (found: no such file or folder)"
    );
}
