//! CIFAR-10/100: binary and python versions, from folders and straight from the tar.gz.

use sngan_data::{
    Cifar100Label, CifarOptions, CifarSplit, CifarVariant, Images, load_cifar, parse_cifar_binary,
    parse_cifar_python,
};

use crate::fixtures::{
    TempDir, assert_contains, cifar_bin, cifar_planes, err_msg, py2_cifar_pickle, tar, tar_gz, v,
};

const LAX: CifarOptions = CifarOptions {
    label: Cifar100Label::Fine,
    check_counts: false,
};

/// Asserts image `k` of `images` is synthetic image `i` (HWC from the plane layout).
#[track_caller]
fn assert_image(images: &Images, k: usize, i: usize) {
    let px = images.pixels_of(k);
    for y in 0..32 {
        for x in 0..32 {
            for c in 0..3 {
                assert_eq!(
                    px[(y * 32 + x) * 3 + c],
                    v(i, c, y, x),
                    "image {k} ({y},{x},{c})"
                );
            }
        }
    }
}

fn c10_labels(first: usize, n: usize) -> Vec<Vec<u8>> {
    (first..first + n).map(|i| vec![(i % 10) as u8]).collect()
}

/// CIFAR-10 binary members: 5 train batches of 2 images, a test batch of 3, the meta file.
fn c10_bin_members() -> Vec<(String, Vec<u8>)> {
    let mut m: Vec<(String, Vec<u8>)> = (1..=5)
        .map(|b| {
            let first = (b - 1) * 2;
            (
                format!("cifar-10-batches-bin/data_batch_{b}.bin"),
                cifar_bin(first, &c10_labels(first, 2)),
            )
        })
        .collect();
    m.push((
        "cifar-10-batches-bin/test_batch.bin".into(),
        cifar_bin(100, &c10_labels(100, 3)),
    ));
    m.push((
        "cifar-10-batches-bin/batches.meta.txt".into(),
        b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n".to_vec(),
    ));
    m
}

#[test]
fn cifar10_binary_folder_and_tar_gz_read_back_to_the_byte() {
    let dir = TempDir::new("c10bin");
    for (name, bytes) in c10_bin_members() {
        dir.write(&name, &bytes);
    }
    let archive = dir.write(
        "archives/cifar-10-binary.tar.gz",
        &tar_gz(&c10_bin_members()),
    );
    for root in [
        dir.path().to_path_buf(),
        dir.join("cifar-10-batches-bin"),
        archive,
    ] {
        let train =
            load_cifar(&root, CifarVariant::Cifar10, CifarSplit::Train, LAX).expect("train");
        assert_eq!(train.len(), 10);
        for k in 0..10 {
            assert_image(&train, k, k);
            assert_eq!(train.labels[k], Some((k % 10) as u32));
        }
        assert_eq!(train.class_names[1], "automobile");
        let test = load_cifar(&root, CifarVariant::Cifar10, CifarSplit::Test, LAX).expect("test");
        assert_eq!(test.len(), 3);
        assert_image(&test, 2, 102);
        assert_eq!(test.num_classes, Some(10));
    }
}

#[test]
fn published_counts_are_enforced_by_default() {
    let dir = TempDir::new("c10counts");
    for (name, bytes) in c10_bin_members() {
        dir.write(&name, &bytes);
    }
    let e = err_msg(load_cifar(
        dir.path(),
        CifarVariant::Cifar10,
        CifarSplit::Test,
        CifarOptions::default(),
    ));
    assert_contains(
        &e,
        "test_batch.bin: truncated: expected 10000 records of 3073 bytes = 30730000 bytes, found 3 records",
    );
}

#[test]
fn cifar100_binary_fine_and_coarse() {
    let labels: Vec<Vec<u8>> = (0..4)
        .map(|i| vec![(i * 5) as u8, (i * 25) as u8])
        .collect();
    let dir = TempDir::new("c100bin");
    dir.write("cifar-100-binary/train.bin", &cifar_bin(0, &labels));
    dir.write("cifar-100-binary/test.bin", &cifar_bin(9, &labels[..1]));
    let fine =
        load_cifar(dir.path(), CifarVariant::Cifar100, CifarSplit::Train, LAX).expect("fine");
    assert_eq!(fine.len(), 4);
    assert_eq!(fine.labels, vec![Some(0), Some(25), Some(50), Some(75)]);
    assert_eq!(fine.num_classes, Some(100));
    for k in 0..4 {
        assert_image(&fine, k, k);
    }
    let coarse = CifarOptions {
        label: Cifar100Label::Coarse,
        check_counts: false,
    };
    let c = load_cifar(
        dir.path(),
        CifarVariant::Cifar100,
        CifarSplit::Train,
        coarse,
    )
    .expect("coarse");
    assert_eq!(c.labels, vec![Some(0), Some(5), Some(10), Some(15)]);
    assert_eq!(c.num_classes, Some(20));
}

#[test]
fn cifar10_python_py2_pickles_from_folder_and_tar_gz() {
    let mut members = Vec::new();
    for b in 1..=5 {
        let first = (b - 1) * 2;
        let labels: Vec<i64> = (first..first + 2).map(|i| (i % 10) as i64).collect();
        members.push((
            format!("cifar-10-batches-py/data_batch_{b}"),
            py2_cifar_pickle(&cifar_planes(first, 2), 2, &[("labels", labels)]),
        ));
    }
    members.push((
        "cifar-10-batches-py/test_batch".into(),
        py2_cifar_pickle(&cifar_planes(50, 1), 1, &[("labels", vec![3])]),
    ));
    let dir = TempDir::new("c10py");
    let archive = dir.write("cifar-10-python.tar.gz", &tar_gz(&members));
    for (name, bytes) in &members {
        dir.write(&format!("x/{name}"), bytes);
    }
    for root in [archive, dir.join("x")] {
        let train =
            load_cifar(&root, CifarVariant::Cifar10, CifarSplit::Train, LAX).expect("py train");
        assert_eq!(train.len(), 10);
        for k in 0..10 {
            assert_image(&train, k, k);
            assert_eq!(train.labels[k], Some((k % 10) as u32));
        }
        let test =
            load_cifar(&root, CifarVariant::Cifar10, CifarSplit::Test, LAX).expect("py test");
        assert_image(&test, 0, 50);
        assert_eq!(test.labels, vec![Some(3)]);
    }
}

#[test]
fn cifar100_python_pickle() {
    let bytes = py2_cifar_pickle(
        &cifar_planes(0, 3),
        3,
        &[
            ("fine_labels", vec![99, 0, 42]),
            ("coarse_labels", vec![19, 0, 7]),
        ],
    );
    let fine = parse_cifar_python(
        &bytes,
        CifarVariant::Cifar100,
        Cifar100Label::Fine,
        Some(3),
        "train",
    )
    .expect("fine");
    assert_eq!(fine.labels, vec![Some(99), Some(0), Some(42)]);
    assert_image(&fine, 2, 2);
    let coarse = parse_cifar_python(
        &bytes,
        CifarVariant::Cifar100,
        Cifar100Label::Coarse,
        None,
        "train",
    )
    .expect("coarse");
    assert_eq!(coarse.labels, vec![Some(19), Some(0), Some(7)]);
}

/// Pickles written by Python 3 numpy (protocol 2 and protocol 5), committed with their script.
#[test]
fn python3_numpy_pickles_protocol_2_and_5() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cifar_py");
    for proto in [2, 4, 5] {
        let bytes = std::fs::read(format!("{dir}/batch_p{proto}")).expect("fixture");
        let imgs = parse_cifar_python(
            &bytes,
            CifarVariant::Cifar10,
            Cifar100Label::Fine,
            Some(3),
            "p",
        )
        .unwrap_or_else(|e| panic!("protocol {proto}: {e}"));
        assert_eq!(
            imgs.labels,
            vec![Some(0), Some(7), Some(9)],
            "protocol {proto}"
        );
        for k in 0..3 {
            assert_image(&imgs, k, k);
        }
    }
}

#[test]
fn binary_size_errors() {
    let rec = cifar_bin(0, &c10_labels(0, 2));
    let e = err_msg(parse_cifar_binary(
        &rec[..rec.len() - 10],
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "b.bin",
    ));
    assert_contains(
        &e,
        "b.bin: expected a whole number of 3073-byte CIFAR-10 records, found 6136 bytes (CIFAR-100 records are 3074 bytes)",
    );
    let e = err_msg(parse_cifar_binary(
        &rec[..rec.len() - 10],
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        Some(10000),
        "b.bin",
    ));
    assert_contains(
        &e,
        "b.bin: truncated: expected 10000 records of 3073 bytes = 30730000 bytes, found 6136 bytes",
    );
    // a CIFAR-10 file read as CIFAR-100
    let e = err_msg(parse_cifar_binary(
        &rec,
        CifarVariant::Cifar100,
        Cifar100Label::Fine,
        None,
        "b.bin",
    ));
    assert_contains(&e, "3074-byte CIFAR-100 records, found 6146 bytes");
    let e = err_msg(parse_cifar_binary(
        &[],
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "b.bin",
    ));
    assert_contains(&e, "found 0 bytes");
}

#[test]
fn label_out_of_range() {
    let rec = cifar_bin(0, &[vec![3], vec![12]]);
    let e = err_msg(parse_cifar_binary(
        &rec,
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "b.bin",
    ));
    assert_contains(&e, "b.bin: record 1 has label 12, expected 0..=9");
    let rec = cifar_bin(0, &[vec![20, 5]]);
    let e = err_msg(parse_cifar_binary(
        &rec,
        CifarVariant::Cifar100,
        Cifar100Label::Fine,
        None,
        "t.bin",
    ));
    assert_contains(&e, "record 0 has label 20, expected 0..=19");
    let p = py2_cifar_pickle(&cifar_planes(0, 2), 2, &[("labels", vec![1, 10])]);
    let e = err_msg(parse_cifar_python(
        &p,
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(&e, "d: record 1 has label 10, expected 0..=9");
}

#[test]
fn python_shape_and_entry_errors() {
    // labels list shorter than the images
    let p = py2_cifar_pickle(&cifar_planes(0, 2), 2, &[("labels", vec![1])]);
    let e = err_msg(parse_cifar_python(
        &p,
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(
        &e,
        "d: expected 'labels' with 2 entries, one per image, found 1",
    );
    // data rows of the wrong width: declare (2, 3072) but give 1024 bytes per row
    let p = py2_cifar_pickle(&cifar_planes(0, 2)[..2048], 2, &[("labels", vec![1, 2])]);
    let e = err_msg(parse_cifar_python(
        &p,
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(
        &e,
        "expected 6144 bytes of uint8 data for shape (2, 3072), found 2048 bytes",
    );
    // a plain dict without data
    let plain = serde_pickle::to_vec(
        &std::collections::BTreeMap::from([("labels", vec![1, 2])]),
        serde_pickle::SerOptions::new(),
    )
    .expect("pickle");
    let e = err_msg(parse_cifar_python(
        &plain,
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(
        &e,
        "d: expected a CIFAR python batch with a 'data' entry, found no 'data' entry",
    );
    // not a pickle
    let e = err_msg(parse_cifar_python(
        b"hello",
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(&e, "d: expected a readable pickle, found");
    // truncated pickle
    let p = py2_cifar_pickle(&cifar_planes(0, 1), 1, &[("labels", vec![1])]);
    let e = err_msg(parse_cifar_python(
        &p[..p.len() / 2],
        CifarVariant::Cifar10,
        Cifar100Label::Fine,
        None,
        "d",
    ));
    assert_contains(&e, "d: expected a readable pickle");
}

#[test]
fn missing_batch_file_lists_what_is_there() {
    let mut members = c10_bin_members();
    members.retain(|(n, _)| !n.ends_with("data_batch_3.bin"));
    let dir = TempDir::new("c10missing");
    let archive = dir.write("cifar-10-binary.tar.gz", &tar_gz(&members));
    let e = err_msg(load_cifar(
        &archive,
        CifarVariant::Cifar10,
        CifarSplit::Train,
        LAX,
    ));
    assert_contains(
        &e,
        "cifar-10-binary.tar.gz: missing cifar-10-batches-bin/data_batch_3.bin (found: cifar-10-batches-bin/data_batch_1.bin, cifar-10-batches-bin/data_batch_2.bin, cifar-10-batches-bin/data_batch_4.bin",
    );
    for (name, bytes) in &members {
        dir.write(name, bytes);
    }
    let e = err_msg(load_cifar(
        dir.path(),
        CifarVariant::Cifar10,
        CifarSplit::Train,
        LAX,
    ));
    assert_contains(&e, "missing cifar-10-batches-bin/data_batch_3.bin");
    let empty = TempDir::new("c10none");
    let e = err_msg(load_cifar(
        empty.path(),
        CifarVariant::Cifar10,
        CifarSplit::Train,
        LAX,
    ));
    assert_contains(
        &e,
        "missing CIFAR-10 data: one of cifar-10-batches-bin/, cifar-10-batches-py/, cifar-10-binary.tar.gz, cifar-10-python.tar.gz",
    );
}

#[test]
fn short_tar_member_and_truncated_gzip() {
    let members = c10_bin_members();
    let plain = tar(&members);
    let dir = TempDir::new("c10short");
    // Cut the tar inside data_batch_2.bin's data: header says 6146 bytes, fewer follow.
    let second_data = 512 + 6656 + 512; // header 1, data 1 padded to 512, header 2
    let cut = dir.write("cifar-10-binary.tar", &plain[..second_data + 1000]);
    let e = err_msg(load_cifar(
        &cut,
        CifarVariant::Cifar10,
        CifarSplit::Train,
        LAX,
    ));
    assert_contains(
        &e,
        "cifar-10-binary.tar:cifar-10-batches-bin/data_batch_2.bin: truncated: expected 6146 bytes (tar header), found 1000 bytes",
    );
    let gz = tar_gz(&members);
    let cut = dir.write("cifar-10-binary.tar.gz", &gz[..gz.len() * 2 / 3]);
    let e = err_msg(load_cifar(
        &cut,
        CifarVariant::Cifar10,
        CifarSplit::Train,
        LAX,
    ));
    assert_contains(&e, "truncated: expected a complete gzip stream");
}
