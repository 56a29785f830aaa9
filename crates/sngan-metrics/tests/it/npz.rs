//! `.npz`/`.npy` reading and writing: numpy-written stats in every layout the peers use, our
//! own files round-tripped with their records, sample arrays, and the error messages.

use sngan_metrics::{Images, Preprocess, Statistics};

use crate::common::{cases, fixture, temp_dir};

#[test]
fn reads_float32_uncompressed_and_mean_cov_files() {
    let b = Statistics::read(&fixture("formulas", "stats_b.npz")).expect("f64");
    let b32 = Statistics::read(&fixture("formulas", "stats_b_f32.npz")).expect("f32");
    for (x, y) in b.sigma.iter().zip(&b32.sigma) {
        assert_eq!(*x as f32, *y as f32);
    }
    let r = Statistics::read(&fixture("formulas", "stats_rankdef.npz")).expect("mu/sigma");
    let mc = Statistics::read(&fixture("formulas", "stats_meancov.npz")).expect("mean/cov");
    assert_eq!(r.mu, mc.mu);
    assert_eq!(r.sigma, mc.sigma);
}

#[test]
fn stats_round_trip_with_records() {
    let mut s = Statistics::read(&fixture("formulas", "stats_a.npz")).expect("read");
    s.n = Some(3000);
    s.preprocessing = Some(Preprocess::Clean);
    s.features = Some("inception-2015-12-05/pool3".into());
    let dir = temp_dir("roundtrip");
    let path = dir.join("s.npz");
    s.write(&path).expect("write");
    let back = Statistics::read(&path).expect("read back");
    assert_eq!(back, s);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn reads_sample_arrays_nhwc_and_nchw() {
    let c = &cases("formulas")["images"];
    let want: Vec<u8> = c["nhwc"]
        .as_array()
        .expect("pixels")
        .iter()
        .map(|v| v.as_u64().expect("pixel") as u8)
        .collect();
    let a = Images::read(&fixture("formulas", "images_nhwc.npz")).expect("nhwc npz");
    let b = Images::read(&fixture("formulas", "images_nchw.npy")).expect("nchw npy");
    assert_eq!(a.view().shape(), [2, 5, 4, 3]);
    assert_eq!(a.pixels, want);
    assert_eq!(b, a);
}

#[test]
fn bad_files_name_the_file_the_expectation_and_the_finding() {
    let dir = temp_dir("bad");
    // Not a zip and not an npy.
    let junk = dir.join("junk.npz");
    std::fs::write(&junk, b"hello").expect("write");
    let e = Statistics::read(&junk).expect_err("junk");
    assert!(
        e.to_string()
            .contains("junk.npz: expected a .npz (zip) archive"),
        "{e}"
    );
    // Truncated archive.
    let bytes = std::fs::read(fixture("formulas", "stats_a.npz")).expect("read");
    let cut = dir.join("cut.npz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let e = Statistics::read(&cut).expect_err("truncated");
    assert!(e.to_string().contains("cut.npz"), "{e}");
    // Images file where stats are expected: missing `mu`.
    let e = Statistics::read(&fixture("formulas", "images_nhwc.npz")).expect_err("no mu");
    assert!(
        e.to_string()
            .ends_with("images_nhwc.npz: expected an array named `mu`, found only [images]"),
        "{e}"
    );
    // Stats file where images are expected: no image array.
    let e = Images::read(&fixture("formulas", "stats_a.npz")).expect_err("not images");
    assert!(
        e.to_string()
            .contains("stats_a.npz: expected an array named `x` or `images`"),
        "{e}"
    );
    let e = Statistics::read(&dir.join("absent.npz")).expect_err("absent");
    assert!(e.to_string().contains("absent.npz: No such file"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}
