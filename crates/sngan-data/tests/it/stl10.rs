//! STL-10 binary: column-major planes, 1-based labels, splits, the 96 -> 48 resizes.

use sngan_data::{Filter, Image, Resizer, Stl10Options, Stl10Split, load_stl10, mean2x2};

use crate::fixtures::{TempDir, assert_contains, err_msg, stl_x, tar_gz, v};

const LAX: Stl10Options = Stl10Options {
    resize: None,
    check_counts: false,
};

fn write_stl(dir: &TempDir) {
    dir.write("stl10_binary/train_X.bin", &stl_x(0, 3));
    dir.write("stl10_binary/train_y.bin", &[1, 10, 5]);
    dir.write("stl10_binary/test_X.bin", &stl_x(10, 2));
    dir.write("stl10_binary/test_y.bin", &[2, 3]);
    dir.write("stl10_binary/unlabeled_X.bin", &stl_x(20, 4));
}

#[track_caller]
fn assert_stl_image(px: &[u8], i: usize) {
    for y in 0..96 {
        for x in 0..96 {
            for c in 0..3 {
                assert_eq!(
                    px[(y * 96 + x) * 3 + c],
                    v(i, c, y, x),
                    "image {i} ({y},{x},{c})"
                );
            }
        }
    }
}

#[test]
fn column_major_planes_read_back_to_the_byte() {
    let dir = TempDir::new("stl");
    write_stl(&dir);
    let train = load_stl10(dir.path(), Stl10Split::Train, LAX).expect("train");
    assert_eq!(train.shape(), [96, 96, 3]);
    assert_eq!(train.labels, vec![Some(0), Some(9), Some(4)]);
    for k in 0..3 {
        assert_stl_image(train.pixels_of(k), k);
    }
    let unl = load_stl10(dir.path(), Stl10Split::Unlabeled, LAX).expect("unlabeled");
    assert_eq!(unl.len(), 4);
    assert!(unl.labels.iter().all(Option::is_none));
    assert_stl_image(unl.pixels_of(3), 23);
    let both = load_stl10(dir.path(), Stl10Split::TrainUnlabeled, LAX).expect("train+unlabeled");
    assert_eq!(both.len(), 7);
    assert_eq!(both.labels[2], Some(4));
    assert_eq!(both.labels[3], None);
    assert_stl_image(both.pixels_of(3), 20);
    let tt = load_stl10(dir.path(), Stl10Split::TrainTest, LAX).expect("train+test");
    assert_eq!(tt.labels[3..].to_vec(), vec![Some(1), Some(2)]);
    assert_eq!(tt.num_classes, Some(10));
}

#[test]
fn reads_from_the_tar_gz() {
    let members: Vec<(String, Vec<u8>)> = vec![
        ("stl10_binary/train_X.bin".into(), stl_x(0, 2)),
        ("stl10_binary/train_y.bin".into(), vec![3, 4]),
        ("stl10_binary/unlabeled_X.bin".into(), stl_x(5, 1)),
    ];
    let dir = TempDir::new("stl-tgz");
    let archive = dir.write("stl10_binary.tar.gz", &tar_gz(&members));
    for root in [archive, dir.path().to_path_buf()] {
        let t = load_stl10(&root, Stl10Split::TrainUnlabeled, LAX).expect("tar.gz");
        assert_eq!(t.labels, vec![Some(2), Some(3), None]);
        assert_stl_image(t.pixels_of(2), 5);
    }
}

#[test]
fn resize_to_48_by_the_bssn_mean_and_pil_bilinear() {
    let dir = TempDir::new("stl48");
    write_stl(&dir);
    let full = load_stl10(dir.path(), Stl10Split::Unlabeled, LAX).expect("96");
    let bssn = Stl10Options {
        check_counts: false,
        ..Stl10Options::bssn48()
    };
    let small = load_stl10(dir.path(), Stl10Split::Unlabeled, bssn).expect("48");
    assert_eq!(small.shape(), [48, 48, 3]);
    for k in 0..4 {
        assert_eq!(
            small.pixels_of(k),
            &mean2x2(full.pixels_of(k), 96, 96, 3)[..]
        );
    }
    // (a + b + c + d + 2) >> 2, spelled out for one value
    let p = |y: usize, x: usize| v(20, 1, y, x) as u32;
    let want = (p(8, 6) + p(8, 7) + p(9, 6) + p(9, 7) + 2) >> 2;
    assert_eq!(small.pixels_of(0)[(4 * 48 + 3) * 3 + 1] as u32, want);
    let pil = Stl10Options {
        resize: Some((48, Filter::PilBilinear)),
        check_counts: false,
    };
    let mimicry = load_stl10(dir.path(), Stl10Split::Unlabeled, pil).expect("pil 48");
    let rz = Resizer::new(96, 96, 48, 48, Filter::PilBilinear);
    let img = Image::new(96, 96, 3, full.pixels_of(1).to_vec());
    assert_eq!(mimicry.pixels_of(1), &rz.resize(&img).pixels[..]);
    assert_ne!(mimicry.pixels_of(1), small.pixels_of(1));
}

#[test]
fn size_count_and_label_errors() {
    let dir = TempDir::new("stl-bad");
    write_stl(&dir);
    let mut x = stl_x(0, 2);
    x.truncate(x.len() - 100);
    dir.write("stl10_binary/train_X.bin", &x);
    let e = err_msg(load_stl10(dir.path(), Stl10Split::Train, LAX));
    assert_contains(
        &e,
        "train_X.bin: expected a whole number of 27648-byte STL-10 images, found 55196 bytes",
    );
    dir.write("stl10_binary/train_X.bin", &stl_x(0, 3));
    let e = err_msg(load_stl10(
        dir.path(),
        Stl10Split::Train,
        Stl10Options::default(),
    ));
    assert_contains(
        &e,
        "train_X.bin: truncated: expected 5000 images of 27648 bytes = 138240000 bytes, found 3 images",
    );
    dir.write("stl10_binary/train_y.bin", &[1, 0, 3]);
    let e = err_msg(load_stl10(dir.path(), Stl10Split::Train, LAX));
    assert_contains(
        &e,
        "train_y.bin: record 1 has label 0, expected 1..=10 (STL-10 labels are 1-based)",
    );
    dir.write("stl10_binary/train_y.bin", &[1, 11, 3]);
    assert_contains(
        &err_msg(load_stl10(dir.path(), Stl10Split::Train, LAX)),
        "has label 11",
    );
    dir.write("stl10_binary/train_y.bin", &[1, 2]);
    let e = err_msg(load_stl10(dir.path(), Stl10Split::Train, LAX));
    assert_contains(&e, "train_y.bin: expected 3 labels, one per image of");
    assert_contains(&e, "found 2");
}

#[test]
fn missing_split_and_unknown_split_name() {
    let dir = TempDir::new("stl-missing");
    dir.write("stl10_binary/train_X.bin", &stl_x(0, 1));
    dir.write("stl10_binary/train_y.bin", &[1]);
    let e = err_msg(load_stl10(dir.path(), Stl10Split::Unlabeled, LAX));
    assert_contains(
        &e,
        "missing stl10_binary/unlabeled_X.bin (found: stl10_binary/train_X.bin, stl10_binary/train_y.bin)",
    );
    let e = Stl10Split::try_from(sngan_data::Split::Valid)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "unknown stl10 split 'valid': expected one of unlabeled, train, test, train+unlabeled, train+test"
    );
}
