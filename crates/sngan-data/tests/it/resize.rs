//! Pixel parity with Pillow 13.0.0 and opencv-python 5.0.0 on the committed golden files
//! (tests/fixtures/resize/export.py): every case must match with zero differing values.

use sngan_data::{CropBox, Filter, Image, crop, resize};

fn load(dir: &str, name: &str) -> Image {
    let path = format!("{dir}/{name}.npy");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Image::from_npy(&bytes, &path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn resizes_match_pillow_and_opencv_to_the_pixel() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/resize");
    let manifest = std::fs::read_to_string(format!("{dir}/manifest.txt")).expect("manifest");
    let mut n_cases = 0;
    let mut per_filter = std::collections::BTreeMap::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 9, "manifest line {line}");
        let src = load(dir, f[0]);
        let part = if f[1] == "-" {
            src
        } else {
            let n = |s: &str| s.parse::<usize>().expect("number");
            let bx = CropBox {
                left: n(f[1]),
                top: n(f[2]),
                width: n(f[3]),
                height: n(f[4]),
            };
            crop(&src, bx).expect("crop fits")
        };
        let filter: Filter = f[5].parse().expect("filter name");
        let (dh, dw) = (f[6].parse().expect("h"), f[7].parse().expect("w"));
        let want = load(dir, f[8]);
        let got = resize(&part, dh, dw, filter);
        assert_eq!(got.shape(), want.shape(), "{line}");
        let diff = got
            .pixels
            .iter()
            .zip(&want.pixels)
            .filter(|(a, b)| a != b)
            .count();
        let max = got
            .pixels
            .iter()
            .zip(&want.pixels)
            .map(|(&a, &b)| (a as i32 - b as i32).abs())
            .max()
            .unwrap_or(0);
        assert_eq!(diff, 0, "{line}: {diff} values differ, max |diff| {max}");
        n_cases += 1;
        *per_filter.entry(f[5].to_string()).or_insert(0) += 1;
    }
    assert_eq!(n_cases, 36);
    assert_eq!(per_filter.get("cv2linear"), Some(&8));
    assert_eq!(per_filter.get("pilbilinear"), Some(&10));
}
