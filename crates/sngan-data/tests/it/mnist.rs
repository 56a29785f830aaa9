//! MNIST: the real files, synthetic IDX round trips, and every malformed variant.

use std::path::PathBuf;

use sngan_data::{MnistSplit, load_mnist, read_idx_images};

use crate::fixtures::{TempDir, assert_contains, err_msg, gzip, idx_images, idx_labels, v};

fn real_mnist() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mnist"
    ))
}

#[test]
fn real_mnist_counts_and_published_train_histogram() {
    let train = load_mnist(&real_mnist(), MnistSplit::Train, true).expect("real MNIST train");
    let test = load_mnist(&real_mnist(), MnistSplit::Test, true).expect("real MNIST test");
    assert_eq!(train.len(), 60_000);
    assert_eq!(test.len(), 10_000);
    assert_eq!(train.shape(), [28, 28, 1]);
    let (hist, unlabelled) = train.histogram();
    assert_eq!(
        hist,
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(unlabelled, 0);
    // First test labels as published (research/data.md section 1).
    let first: Vec<Option<u32>> = test.labels[..8].to_vec();
    assert_eq!(first, [7, 2, 1, 0, 4, 1, 4, 9].map(Some).to_vec());
}

#[test]
fn real_mnist_pixels_match_the_uncompressed_md5() {
    // md5 of the uncompressed t10k-images file (shared/data/mnist/README.md) = header + pixels.
    let test = load_mnist(&real_mnist(), MnistSplit::Test, true).expect("real MNIST test");
    let mut file: Vec<u8> = [2051u32, 10_000, 28, 28]
        .iter()
        .flat_map(|d| d.to_be_bytes())
        .collect();
    file.extend_from_slice(&test.pixels);
    assert_eq!(
        sngan_core::md5_hex(&file),
        "2646ac647ad5339dbf082846283269ea"
    );
}

fn write_split(dir: &TempDir, n: usize, gz: bool) {
    let labels: Vec<u8> = (0..n).map(|i| (i * 7 % 10) as u8).collect();
    let (img, lab) = (idx_images(n, 28, 28), idx_labels(&labels));
    if gz {
        dir.write("train-images-idx3-ubyte.gz", &gzip(&img));
        dir.write("train-labels-idx1-ubyte.gz", &gzip(&lab));
    } else {
        dir.write("train-images-idx3-ubyte", &img);
        dir.write("train-labels-idx1-ubyte", &lab);
    }
}

#[test]
fn synthetic_idx_reads_back_to_the_byte_raw_and_gz() {
    for gz in [false, true] {
        let dir = TempDir::new("mnist");
        write_split(&dir, 5, gz);
        let m = load_mnist(dir.path(), MnistSplit::Train, false).expect("synthetic MNIST");
        assert_eq!(m.len(), 5);
        for i in 0..5 {
            assert_eq!(m.labels[i], Some((i * 7 % 10) as u32));
            for y in 0..28 {
                for x in 0..28 {
                    assert_eq!(m.pixels_of(i)[y * 28 + x], v(i, 0, y, x));
                }
            }
        }
        // check_counts rejects a split of the wrong size
        let e = err_msg(load_mnist(dir.path(), MnistSplit::Train, true));
        assert_contains(&e, "expected 60000 images (published MNIST train), found 5");
    }
}

#[test]
fn torchvision_raw_layout_is_found() {
    let dir = TempDir::new("mnist-raw");
    let labels = [1u8, 2, 3];
    dir.write("MNIST/raw/t10k-images-idx3-ubyte", &idx_images(3, 28, 28));
    dir.write("MNIST/raw/t10k-labels-idx1-ubyte", &idx_labels(&labels));
    let m = load_mnist(dir.path(), MnistSplit::Test, false).expect("torchvision layout");
    assert_eq!(m.len(), 3);
}

#[test]
fn truncated_idx_is_an_error_with_sizes() {
    let dir = TempDir::new("mnist-trunc");
    let mut img = idx_images(4, 28, 28);
    img.truncate(img.len() - 1);
    let p = dir.write("train-images-idx3-ubyte", &img);
    let e = err_msg(read_idx_images(&p));
    assert_contains(
        &e,
        "train-images-idx3-ubyte: truncated: expected 3136 data bytes (header says [4, 28, 28]), found 3135",
    );
    // trailing bytes
    let mut img = idx_images(4, 28, 28);
    img.push(0);
    let p = dir.write("train-images-idx3-ubyte", &img);
    assert_contains(&err_msg(read_idx_images(&p)), "found 3137 (trailing bytes)");
    // shorter than the header
    let p = dir.write("train-images-idx3-ubyte", &[0, 0, 8, 3, 0, 0]);
    assert_contains(
        &err_msg(read_idx_images(&p)),
        "expected a 16-byte IDX header, found 6 bytes",
    );
}

#[test]
fn truncated_gzip_is_reported_as_truncated() {
    let dir = TempDir::new("mnist-gz");
    let gz = gzip(&idx_images(50, 28, 28));
    let p = dir.write("train-images-idx3-ubyte.gz", &gz[..gz.len() / 2]);
    let e = err_msg(read_idx_images(&p));
    assert_contains(
        &e,
        "train-images-idx3-ubyte.gz: truncated: expected a complete gzip stream",
    );
}

#[test]
fn wrong_magic_names_expected_and_found() {
    let dir = TempDir::new("mnist-magic");
    // labels passed as images
    let p = dir.write("train-images-idx3-ubyte", &idx_labels(&[1, 2]));
    let e = err_msg(read_idx_images(&p));
    assert_contains(
        &e,
        "expected IDX magic 00000803 (u8, 3 dimensions), found 00000801",
    );
    // i32 dtype
    let mut img = idx_images(1, 2, 2);
    img[2] = 0x0c;
    let p = dir.write("train-images-idx3-ubyte", &img);
    assert_contains(
        &err_msg(read_idx_images(&p)),
        "found 00000c03 (not unsigned bytes",
    );
    // double gzip
    let p = dir.write(
        "train-images-idx3-ubyte.gz",
        &gzip(&gzip(&idx_images(1, 2, 2))),
    );
    assert_contains(&err_msg(read_idx_images(&p)), "(gzip inside gzip");
}

#[test]
fn label_errors_and_mismatch() {
    let dir = TempDir::new("mnist-labels");
    dir.write("train-images-idx3-ubyte", &idx_images(3, 28, 28));
    dir.write("train-labels-idx1-ubyte", &idx_labels(&[1, 12, 3]));
    let e = err_msg(load_mnist(dir.path(), MnistSplit::Train, false));
    assert_contains(
        &e,
        "train-labels-idx1-ubyte: record 1 has label 12, expected 0..=9",
    );
    dir.write("train-labels-idx1-ubyte", &idx_labels(&[1, 2]));
    let e = err_msg(load_mnist(dir.path(), MnistSplit::Train, false));
    assert_contains(&e, "expected 3 labels, one per image of");
    assert_contains(&e, "found 2");
}

#[test]
fn missing_split_lists_the_folder() {
    let dir = TempDir::new("mnist-missing");
    dir.write("train-images-idx3-ubyte", &idx_images(1, 28, 28));
    let e = err_msg(load_mnist(dir.path(), MnistSplit::Test, false));
    assert_contains(
        &e,
        "missing t10k-images-idx3-ubyte.gz or t10k-images-idx3-ubyte (found: train-images-idx3-ubyte)",
    );
    assert!(MnistSplit::try_from(sngan_data::Split::Valid).is_err());
}
