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

#[test]
fn lazy_sets_report_each_unreadable_image() {
    use std::io::Write;
    let dir = TempDir::new("inspect-celeba");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let good = crate::fixtures::png(&crate::fixtures::rgb(0, 218, 178));
    let jpeg = crate::fixtures::jpeg(&crate::fixtures::rgb(1, 218, 178));
    for (name, bytes) in [
        ("img_align_celeba/000001.jpg", good.clone()),
        (
            "img_align_celeba/000002.jpg",
            jpeg[..jpeg.len() / 2].to_vec(),
        ),
        ("img_align_celeba/000003.jpg", good),
        ("img_align_celeba/000004.jpg", b"garbage".to_vec()),
    ] {
        w.start_file(name, opts).expect("zip entry");
        w.write_all(&bytes).expect("zip data");
    }
    dir.write(
        "img_align_celeba.zip",
        &w.finish().expect("zip").into_inner(),
    );
    let r = inspect(DatasetName::CelebA, dir.path()).expect("inspect");
    assert_eq!(r.splits[0].count, 4);
    assert_eq!(r.splits[0].shape, [64, 64, 3]);
    assert_eq!(r.splits[0].num_classes, None);
    let problems = r.problems.join("\n");
    assert_contains(
        &problems,
        "CelebA: expected 202599 images (published count), found 4",
    );
    assert_contains(
        &problems,
        "000002.jpg: cannot decode image: expected a JPEG ending with the EOI marker FF D9",
    );
    assert_contains(
        &problems,
        "000004.jpg: cannot decode image: expected a JPEG, PNG, BMP or PNM file",
    );
    assert_contains(&problems, "train/valid/test splits unavailable: ");
    assert_eq!(r.problems.len(), 4, "{problems}");
}

#[test]
fn open_picks_the_layout_and_the_defaults() {
    use sngan_data::{DataConfig, Image, Split};
    // CIFAR-10 resized to 16 with PIL bilinear
    let dir = TempDir::new("open");
    for b in 1..=5 {
        dir.write(
            &format!("c10/cifar-10-batches-bin/data_batch_{b}.bin"),
            &cifar_bin(b, &[vec![b as u8]]),
        );
    }
    let cifar = DataConfig::new(DatasetName::Cifar10).with_size(Some(16));
    let c = cifar.open_partial(&dir.join("c10")).expect("cifar");
    assert_eq!(
        (c.len(), c.shape(), c.num_classes()),
        (5, [16, 16, 3], Some(10))
    );
    assert_eq!(cifar.image_shape(), c.shape());
    // npy class folders -> NpyFolder; image class folders -> ImageFolder at 128
    dir.write(
        "npy/n01/a.npy",
        &Image::new(4, 4, 3, vec![9; 48]).to_array().to_npy(),
    );
    let imagenet = DataConfig::new(DatasetName::ImageNet);
    let n = imagenet.open_partial(&dir.join("npy")).expect("npy");
    assert_eq!(n.shape(), [4, 4, 3]);
    dir.write(
        "jpg/n01/a.png",
        &crate::fixtures::png(&crate::fixtures::rgb(0, 30, 40)),
    );
    let f = imagenet.open_partial(&dir.join("jpg")).expect("folder");
    assert_eq!(f.shape(), [128, 128, 3]);
    assert_eq!(f.load(0).expect("load").shape(), [128, 128, 3]);
    let valid = cifar.with_split(Some(Split::Valid));
    assert_eq!(
        err_msg(valid.open_partial(&dir.join("c10"))),
        "unknown cifar10 split 'valid': expected one of train, test"
    );
    assert_eq!(
        valid.validate().expect_err("checked").to_string(),
        "split = Valid: cifar10 has the splits train, test"
    );
}
