//! CelebA: zip read in place and folder, partitions, crop presets, corrupt members.

use std::io::Write;

use sngan_data::{CelebA, CelebaCrop, CelebaSplit, Image, ImageSource, decode_rgb, mean2x2};

use crate::fixtures::{TempDir, assert_contains, err_msg, jpeg, png, rgb, v};

/// A zip of `(name, bytes, deflate?)`.
fn zip_of(members: &[(String, Vec<u8>, bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, deflate) in members {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(name.as_str(), opts).expect("zip entry");
        w.write_all(bytes).expect("zip data");
    }
    w.finish().expect("zip").into_inner()
}

/// Three 178x218 faces: PNG content (lossless) under `.jpg` names, alternately deflated.
fn faces() -> Vec<(String, Vec<u8>, bool)> {
    (0..3)
        .map(|i| {
            (
                format!("img_align_celeba/{:06}.jpg", i + 1),
                png(&rgb(i, 218, 178)),
                i % 2 == 0,
            )
        })
        .collect()
}

const PARTITION: &str = "000001.jpg 0\n000002.jpg 0\n000003.jpg 2\n";

/// The BSSN crop (25, 45, 128) of synthetic image `i`, then the 2x2 mean.
fn bssn_expected(i: usize) -> Vec<u8> {
    let mut crop = Vec::new();
    for y in 45..45 + 128 {
        for x in 25..25 + 128 {
            for c in 0..3 {
                crop.push(v(i, c, y, x));
            }
        }
    }
    mean2x2(&crop, 128, 128, 3)
}

#[test]
fn zip_and_folder_give_the_bssn_crop_to_the_byte() {
    let dir = TempDir::new("celeba");
    dir.write("zipped/img_align_celeba.zip", &zip_of(&faces()));
    for (name, bytes, _) in faces() {
        dir.write(&format!("folder/{name}"), &bytes);
    }
    for root in [
        dir.join("zipped"),
        dir.join("zipped/img_align_celeba.zip"),
        dir.join("folder"),
        dir.join("folder/img_align_celeba"),
    ] {
        let c = CelebA::open(&root, CelebaSplit::All, CelebaCrop::Bssn128, 64).expect("open");
        assert_eq!(c.len(), 3);
        assert_eq!(c.shape(), [64, 64, 3]);
        for i in 0..3 {
            assert_eq!(
                c.load(i).expect("load").pixels,
                bssn_expected(i),
                "{root:?} image {i}"
            );
        }
        assert!(c.describe(1).ends_with("000002.jpg"));
    }
}

#[test]
fn every_preset_equals_its_crop_then_resize() {
    let dir = TempDir::new("celeba-presets");
    let path = dir.write("img_align_celeba.zip", &zip_of(&faces()));
    let full = Image::new(218, 178, 3, rgb(2, 218, 178).into_raw());
    for (crop, (left, top)) in [
        (CelebaCrop::Bssn128, (25, 45)),
        (CelebaCrop::Dcgan108, (35, 55)),
        (CelebaCrop::Crop140, (19, 39)),
        (CelebaCrop::Mimicry178, (0, 20)),
    ] {
        let c = CelebA::open(&path, CelebaSplit::All, crop, 64).expect("open");
        let side = crop.side();
        let bx = sngan_data::CropBox {
            left,
            top,
            width: side,
            height: side,
        };
        let cut = sngan_data::crop(&full, bx).expect("fits");
        let filter = if crop == CelebaCrop::Bssn128 {
            sngan_data::Filter::Cv2Linear
        } else {
            sngan_data::Filter::PilBilinear
        };
        let want = sngan_data::resize(&cut, 64, 64, filter);
        assert_eq!(c.load(2).expect("load"), want, "{crop:?}");
    }
}

#[test]
fn real_jpegs_decode_close_to_the_source() {
    let img = rgb(1, 218, 178);
    let bytes = jpeg(&img);
    let dec = decode_rgb(&bytes, "x.jpg").expect("decode");
    assert_eq!(dec.shape(), [218, 178, 3]);
    let mean_err: f64 = dec
        .pixels
        .iter()
        .zip(img.as_raw())
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .sum::<f64>()
        / dec.pixels.len() as f64;
    assert!(mean_err < 12.0, "mean abs error {mean_err}");
    let grey = decode_rgb(&crate::fixtures::jpeg_grey(20, 30), "g.jpg").expect("grey");
    assert_eq!(grey.shape(), [20, 30, 3]);
    assert!(grey.pixels.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));
}

#[test]
fn partition_splits() {
    let dir = TempDir::new("celeba-part");
    dir.write("img_align_celeba.zip", &zip_of(&faces()));
    let e = err_msg(CelebA::open(
        dir.path(),
        CelebaSplit::Train,
        CelebaCrop::Bssn128,
        64,
    ));
    assert_contains(
        &e,
        "missing list_eval_partition.txt for the Train split (found: no partition file beside the images)",
    );
    dir.write("list_eval_partition.txt", PARTITION.as_bytes());
    let train =
        CelebA::open(dir.path(), CelebaSplit::Train, CelebaCrop::Bssn128, 64).expect("train");
    assert_eq!(train.len(), 2);
    let test = CelebA::open(dir.path(), CelebaSplit::Test, CelebaCrop::Bssn128, 64).expect("test");
    assert_eq!(test.len(), 1);
    assert_eq!(test.load(0).expect("load").pixels, bssn_expected(2));
    // the partition names an image the zip lacks
    dir.write(
        "list_eval_partition.txt",
        b"000001.jpg 0\n000002.jpg 0\n000004.jpg 0\n",
    );
    let e = err_msg(CelebA::open(
        dir.path(),
        CelebaSplit::Train,
        CelebaCrop::Bssn128,
        64,
    ));
    assert_contains(&e, "missing 3 images of the Train split listed in");
    assert_contains(&e, "found: 2 of them");
    dir.write("list_eval_partition.txt", b"000001.jpg 7\n");
    let e = err_msg(CelebA::open(
        dir.path(),
        CelebaSplit::Train,
        CelebaCrop::Bssn128,
        64,
    ));
    assert_contains(
        &e,
        "list_eval_partition.txt:1: expected partition 0, 1 or 2, found '7'",
    );
}

#[test]
fn truncated_jpeg_member_is_an_error_not_a_grey_image() {
    let good = jpeg(&rgb(0, 218, 178));
    let cut = good[..good.len() - 300].to_vec();
    // The image crate alone accepts it silently:
    assert!(image::load_from_memory(&cut).is_ok());
    let dir = TempDir::new("celeba-trunc");
    let members = vec![
        ("img_align_celeba/000001.jpg".to_string(), good, true),
        ("img_align_celeba/000002.jpg".to_string(), cut, false),
    ];
    let path = dir.write("img_align_celeba.zip", &zip_of(&members));
    let c = CelebA::open(&path, CelebaSplit::All, CelebaCrop::Bssn128, 64).expect("open");
    assert!(c.load(0).is_ok());
    let e = err_msg(c.load(1));
    assert_contains(
        &e,
        "img_align_celeba.zip:img_align_celeba/000002.jpg: cannot decode image: expected a JPEG ending with the EOI marker FF D9, found",
    );
    assert_contains(&e, "(truncated file)");
}

#[test]
fn corrupt_jpeg_and_corrupt_zip_member() {
    let mut bad = jpeg(&rgb(0, 218, 178));
    for b in &mut bad[200..400] {
        *b = 0xFF;
    }
    let dir = TempDir::new("celeba-corrupt");
    dir.write("f/img_align_celeba/000001.jpg", &bad);
    let c = CelebA::open(&dir.join("f"), CelebaSplit::All, CelebaCrop::Bssn128, 64).expect("open");
    let e = err_msg(c.load(0));
    assert_contains(
        &e,
        "000001.jpg: cannot decode image: expected a valid Jpeg image, found",
    );
    // a flipped byte inside a stored zip member fails its CRC-32
    let png_bytes = png(&rgb(1, 218, 178));
    let mut z = zip_of(&[(
        "img_align_celeba/000001.jpg".into(),
        png_bytes.clone(),
        false,
    )]);
    let at = z
        .windows(16)
        .position(|w| w == &png_bytes[100..116])
        .expect("member bytes in the zip");
    z[at + 3] ^= 0x55;
    let path = dir.write("img_align_celeba.zip", &z);
    let c = CelebA::open(&path, CelebaSplit::All, CelebaCrop::Bssn128, 64).expect("open");
    let e = err_msg(c.load(0));
    assert_contains(&e, "img_align_celeba/000001.jpg: expected CRC-32");
    assert_contains(&e, "(corrupt member)");
}

#[test]
fn broken_zip_small_image_and_empty_folder() {
    let dir = TempDir::new("celeba-broken");
    let z = zip_of(&faces());
    let path = dir.write("img_align_celeba.zip", &z[..z.len() / 2]);
    let e = err_msg(CelebA::open(
        &path,
        CelebaSplit::All,
        CelebaCrop::Bssn128,
        64,
    ));
    assert_contains(
        &e,
        "img_align_celeba.zip: expected a zip archive, found an unreadable one",
    );
    let small = png(&rgb(0, 90, 100));
    let path = dir.write(
        "s/img_align_celeba.zip",
        &zip_of(&[("img_align_celeba/000001.jpg".into(), small, true)]),
    );
    let c = CelebA::open(&path, CelebaSplit::All, CelebaCrop::Bssn128, 64).expect("open");
    let e = err_msg(c.load(0));
    assert_contains(
        &e,
        "000001.jpg: expected an image of at least 128x128 for the 128x128 centre crop, found 100x90",
    );
    std::fs::create_dir_all(dir.join("empty/img_align_celeba")).expect("mkdir");
    let e = err_msg(CelebA::open(
        &dir.join("empty"),
        CelebaSplit::All,
        CelebaCrop::Bssn128,
        64,
    ));
    assert_contains(
        &e,
        "img_align_celeba: expected CelebA images (*.jpg), found none",
    );
}
