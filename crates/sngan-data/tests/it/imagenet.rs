//! ImageNet: the tar of tars (indexed and streamed), BSSN npy folders, ImageFolder.

use sngan_data::{
    Image, ImageFolder, ImageSource, NpyFolder, Pipeline, TarOfTars, decode_rgb, stream_tar_of_tars,
};

use crate::fixtures::{TempDir, assert_contains, err_msg, jpeg, jpeg_grey, png, rgb, tar, v};

/// Inner tars: class n01 has a JPEG, a PNG named .JPEG and a grey JPEG; class n02 has one image
/// smaller than the output (upscale path) and a 40x60 PNG.
/// `(inner tar name, its (member name, bytes))`.
type Class = (String, Vec<(String, Vec<u8>)>);

fn classes() -> Vec<Class> {
    vec![
        (
            "n01.tar".into(),
            vec![
                ("n01_1.JPEG".into(), jpeg(&rgb(0, 50, 70))),
                ("n01_2.JPEG".into(), png(&rgb(1, 45, 33))),
                ("n01_3.JPEG".into(), jpeg_grey(40, 40)),
            ],
        ),
        (
            "n02.tar".into(),
            vec![
                ("n02_1.JPEG".into(), png(&rgb(2, 20, 25))),
                ("n02_2.JPEG".into(), png(&rgb(3, 40, 60))),
            ],
        ),
    ]
}

fn tar_of_tars(classes: &[Class]) -> Vec<u8> {
    // Written in reverse class order: labels must come from sorted names, not tar order.
    let outer: Vec<(String, Vec<u8>)> = classes
        .iter()
        .rev()
        .map(|(name, members)| (name.clone(), tar(members)))
        .collect();
    tar(&outer)
}

#[test]
fn tar_of_tars_indexed_in_place() {
    let dir = TempDir::new("inet-tar");
    let path = dir.write("ILSVRC2012_img_train.tar", &tar_of_tars(&classes()));
    let pipeline = Pipeline::bssn_imagenet(32);
    let t = TarOfTars::open(&path, pipeline).expect("index");
    assert_eq!(t.len(), 5);
    assert_eq!(t.classes(), ["n01", "n02"]);
    assert_eq!(
        (0..5).map(|i| t.label(i)).collect::<Vec<_>>(),
        [0, 0, 0, 1, 1].map(Some).to_vec()
    );
    for i in 0..5 {
        let img = t.load(i).expect("decode");
        assert_eq!(img.shape(), [32, 32, 3]);
    }
    // The PNG named .JPEG equals the pipeline applied to its exact pixels.
    let src = Image::new(45, 33, 3, rgb(1, 45, 33).into_raw());
    assert_eq!(
        t.load(1).expect("png"),
        pipeline.apply(src, "x").expect("pipeline")
    );
    assert!(
        t.describe(1).ends_with(":n01.tar:n01_2.JPEG"),
        "{}",
        t.describe(1)
    );
    // The upscaled 20x25 image: centre square 20 at left 2 (floor), cv2 linear 20 -> 32.
    let small = Image::new(20, 25, 3, rgb(2, 20, 25).into_raw());
    let sq = sngan_data::crop(
        &small,
        sngan_data::CropBox {
            left: 2,
            top: 0,
            width: 20,
            height: 20,
        },
    )
    .expect("fits");
    let want = sngan_data::resize(&sq, 32, 32, sngan_data::Filter::Cv2Linear);
    assert_eq!(t.load(3).expect("upscale"), want);
}

#[test]
fn streaming_pass_matches_the_index() {
    let dir = TempDir::new("inet-stream");
    let path = dir.write("train.tar", &tar_of_tars(&classes()));
    let pipeline = Pipeline::biggan_imagenet(24);
    let t = TarOfTars::open(&path, pipeline).expect("index");
    let mut seen = Vec::new();
    let n = stream_tar_of_tars(&path, pipeline, 2, |img| {
        seen.push(img);
        Ok(())
    })
    .expect("stream");
    assert_eq!(n, 5);
    // archive order: n02 first (written reversed), then n01
    assert_eq!(seen[0].class, "n02");
    assert_eq!(seen[0].name, "n02_1.JPEG");
    for s in &seen {
        let idx = (0..t.len())
            .find(|&i| {
                t.describe(i)
                    .ends_with(&format!("{}.tar:{}", s.class, s.name))
            })
            .expect("same member indexed");
        assert_eq!(t.load(idx).expect("load"), s.image);
    }
}

#[test]
fn truncated_tar_of_tars_is_reported_by_index_and_stream() {
    let bytes = tar_of_tars(&classes());
    let dir = TempDir::new("inet-trunc");
    // Cut inside the last inner tar's data (the n01 tar, written second).
    let path = dir.write("cut.tar", &bytes[..bytes.len() - 3000]);
    let e = err_msg(TarOfTars::open(&path, Pipeline::bssn_imagenet(32)));
    assert_contains(&e, "cut.tar:n01.tar: truncated: expected");
    assert_contains(&e, "bytes (tar header), found");
    let e = err_msg(stream_tar_of_tars(
        &path,
        Pipeline::bssn_imagenet(32),
        4,
        |_| Ok(()),
    ));
    assert_contains(&e, "truncated");
    // An inner member cut short while the outer tar is complete.
    let mut cls = classes();
    let inner = tar(&cls[1].1);
    let cut_inner = inner[..inner.len() - 1500].to_vec();
    cls.truncate(1);
    let outer = tar(&[
        ("n01.tar".to_string(), tar(&cls[0].1)),
        ("n02.tar".to_string(), cut_inner),
    ]);
    let path = dir.write("inner.tar", &outer);
    let e = err_msg(TarOfTars::open(&path, Pipeline::bssn_imagenet(32)));
    assert_contains(&e, "inner.tar:n02.tar:n02_2.JPEG: truncated: expected");
    let e = err_msg(stream_tar_of_tars(
        &path,
        Pipeline::bssn_imagenet(32),
        4,
        |_| Ok(()),
    ));
    assert_contains(&e, "n02.tar:n02_2.JPEG: truncated: expected");
    let empty = dir.write("empty.tar", &tar(&[]));
    let e = err_msg(TarOfTars::open(&empty, Pipeline::bssn_imagenet(32)));
    assert_contains(
        &e,
        "empty.tar: expected per-class tars of images (ILSVRC2012_img_train.tar layout), found none",
    );
}

#[test]
fn npy_files_equal_what_numpy_writes() {
    // s96x96.npy was written by numpy's np.save (tests/fixtures/resize/export.py).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/resize/s96x96.npy"
    );
    let numpy = std::fs::read(path).expect("fixture");
    let image = Image::from_npy(&numpy, path).expect("parse");
    assert_eq!(image.shape(), [96, 96, 3]);
    assert_eq!(image.to_array().to_npy(), numpy);
    // BSSN's 128x128x3 files: a 128-byte header, 49,280 bytes in all.
    let b = Image::new(128, 128, 3, vec![7; 128 * 128 * 3])
        .to_array()
        .to_npy();
    assert_eq!(b.len(), 49_280);
    let mut header = b"\x93NUMPY\x01\x00\x76\x00{'descr': '|u1', 'fortran_order': False, 'shape': (128, 128, 3), }".to_vec();
    header.resize(127, b' ');
    header.push(b'\n');
    assert_eq!(&b[..128], &header[..]);
}

#[test]
fn npy_folder_reads_bssn_layout() {
    let dir = TempDir::new("inet-npy");
    for (class, n) in [("n02", 2), ("n01", 3)] {
        for k in 0..n {
            let img = Image::new(
                8,
                8,
                3,
                (0..192).map(|j| v(k, j % 3, j / 24, j / 3 % 8)).collect(),
            );
            dir.write(
                &format!("{class}/{class}_{k}.npy"),
                &img.to_array().to_npy(),
            );
        }
    }
    dir.write("n01/readme.txt", b"not an image");
    let f = NpyFolder::open(dir.path(), false).expect("open");
    assert_eq!(f.len(), 5);
    assert_eq!(f.shape(), [8, 8, 3]);
    assert_eq!(f.classes(), ["n01", "n02"]);
    assert_eq!(f.label(3), Some(1));
    assert_eq!(f.load(4).expect("load").get(2, 5, 1), v(1, 1, 2, 5));
    let e = err_msg(NpyFolder::open(dir.path(), true));
    assert_contains(
        &e,
        "expected 1000 classes / 1281167 images (BSSN ILSVRC2012 layout; disable the count check to use a part), found 2 classes / 5 images",
    );
    // a float file in the folder
    let mut bad =
        b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (8, 8, 3), }"
            .to_vec();
    bad.resize(127, b' ');
    bad.push(b'\n');
    bad.extend(vec![0u8; 8 * 8 * 3 * 4]);
    dir.write("n02/n02_9.npy", &bad);
    let f = NpyFolder::open(dir.path(), false).expect("open");
    let e = err_msg(f.load(5));
    assert_contains(&e, "n02_9.npy: expected a uint8 array, found dtype '<f4'");
    // a truncated file
    let good = Image::new(8, 8, 3, vec![1; 192]).to_array().to_npy();
    dir.write("n02/n02_9.npy", &good[..good.len() - 5]);
    let f = NpyFolder::open(dir.path(), false).expect("open");
    assert_contains(
        &err_msg(f.load(5)),
        "n02_9.npy: truncated: expected 192 data bytes",
    );
}

#[test]
fn image_folder_rules_and_errors() {
    let dir = TempDir::new("imgfolder");
    dir.write("b/z.png", &png(&rgb(0, 10, 12)));
    dir.write("b/sub/a.png", &png(&rgb(1, 10, 12)));
    dir.write("b/a.PNG", &png(&rgb(2, 10, 12)));
    dir.write("a/x.jpg", &jpeg(&rgb(3, 10, 12)));
    dir.write("a/notes.txt", b"skip me");
    let f = ImageFolder::open(dir.path(), Pipeline::identity()).expect("open");
    assert_eq!(f.classes(), ["a", "b"]);
    let names: Vec<String> = (0..f.len()).map(|i| f.describe(i)).collect();
    // torchvision order: sorted(os.walk) -> files of b/ (sorted) before b/sub/
    assert!(
        names[1].ends_with("b/a.PNG")
            && names[2].ends_with("b/z.png")
            && names[3].ends_with("b/sub/a.png"),
        "{names:?}"
    );
    assert_eq!(f.shape(), [10, 12, 3]);
    assert_eq!(f.load(2).expect("png").pixels, rgb(0, 10, 12).into_raw());
    // an image of another size without a resize
    dir.write("b/zz.png", &png(&rgb(4, 11, 12)));
    let f = ImageFolder::open(dir.path(), Pipeline::identity()).expect("open");
    let e = err_msg(f.load(3));
    assert_contains(&e, "zz.png: expected a 10x12x3 image, found 11x12x3");
    let f = ImageFolder::open(dir.path(), Pipeline::bssn_imagenet(16)).expect("resized");
    assert_eq!(f.load(3).expect("load").shape(), [16, 16, 3]);
    // errors
    let empty = TempDir::new("imgfolder-empty");
    let e = err_msg(ImageFolder::open(empty.path(), Pipeline::bssn_imagenet(16)));
    assert_contains(&e, "expected ImageFolder: class sub-folders, found none");
    empty.write("c1/readme.txt", b"x");
    let e = err_msg(ImageFolder::open(empty.path(), Pipeline::bssn_imagenet(16)));
    assert_contains(
        &e,
        "c1: expected ImageFolder: files with extension jpg, jpeg, png, ppm, bmp, pgm, found none",
    );
    // decode check through the same path the folder uses
    assert!(decode_rgb(b"\x89PNG\r\n\x1a\n", "t.png").is_err());
}
