//! Builders of format-exact synthetic data sets (research/data.md section 12) and a temporary
//! folder. Pixels follow an asymmetric pattern so any transposition, channel swap or off-by-one
//! changes them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `v(i, c, y, x) = (i*31 + c*101 + y*7 + x*3 + (x*y) % 7) % 256`.
pub fn v(i: usize, c: usize, y: usize, x: usize) -> u8 {
    ((i * 31 + c * 101 + y * 7 + x * 3 + (x * y) % 7) % 256) as u8
}

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "sngan-data-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir should be creatable");
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("parent should be creatable");
        }
        std::fs::write(&p, bytes).expect("fixture should be writable");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

/// A tar of `(name, bytes)` members.
pub fn tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, name, &bytes[..])
            .expect("tar into memory");
    }
    b.into_inner().expect("tar into memory")
}

/// A tar.gz of `(name, bytes)` members.
pub fn tar_gz(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    gzip(&tar(members))
}

/// CIFAR binary records: CIFAR-10 `[label][R][G][B]`, CIFAR-100 `[coarse][fine][R][G][B]`.
pub fn cifar_bin(first: usize, labels: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, l) in labels.iter().enumerate() {
        out.extend_from_slice(l);
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    out.push(v(first + k, c, y, x));
                }
            }
        }
    }
    out
}

/// The plane-order pixels of images `first..first + n` (the python `data` row layout).
pub fn cifar_planes(first: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in first..first + n {
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    out.push(v(i, c, y, x));
                }
            }
        }
    }
    out
}

fn py_str(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() < 256 {
        out.push(0x55);
        out.push(b.len() as u8);
    } else {
        out.push(0x54);
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(b);
}

fn py_int(out: &mut Vec<u8>, v: i64) {
    if (0..256).contains(&v) {
        out.extend_from_slice(&[0x4b, v as u8]);
    } else if (0..65536).contains(&v) {
        out.push(0x4d);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else {
        out.push(0x4a);
        out.extend_from_slice(&(v as i32).to_le_bytes());
    }
}

/// A CIFAR python batch byte-for-byte as Python 2 cPickle + numpy write it (protocol 2, keys
/// as py2 `str`, the array via `numpy.core.multiarray._reconstruct`); `label_lists` are
/// `(key, labels)` such as `("labels", ..)` or `("fine_labels", ..)`.
pub fn py2_cifar_pickle(planes: &[u8], n: usize, label_lists: &[(&str, Vec<i64>)]) -> Vec<u8> {
    let mut memo = 1u8;
    let mut put = |out: &mut Vec<u8>| {
        memo += 1;
        out.extend_from_slice(&[0x71, memo]);
    };
    let mut o = vec![0x80, 0x02, 0x7d, 0x71, 0x01, 0x28];
    py_str(&mut o, b"data");
    put(&mut o);
    o.push(0x63);
    o.extend_from_slice(b"numpy.core.multiarray\n_reconstruct\n");
    put(&mut o);
    o.push(0x63);
    o.extend_from_slice(b"numpy\nndarray\n");
    put(&mut o);
    o.extend_from_slice(&[0x4b, 0x00, 0x85]);
    put(&mut o);
    py_str(&mut o, b"b");
    put(&mut o);
    o.push(0x87);
    put(&mut o);
    o.push(0x52);
    put(&mut o);
    o.push(0x28);
    py_int(&mut o, 1);
    py_int(&mut o, n as i64);
    py_int(&mut o, 3072);
    o.push(0x86);
    put(&mut o);
    o.push(0x63);
    o.extend_from_slice(b"numpy\ndtype\n");
    put(&mut o);
    py_str(&mut o, b"u1");
    o.extend_from_slice(&[0x4b, 0x00, 0x4b, 0x01, 0x87]);
    put(&mut o);
    o.push(0x52);
    put(&mut o);
    o.push(0x28);
    py_int(&mut o, 3);
    py_str(&mut o, b"|");
    o.extend_from_slice(&[0x4e, 0x4e, 0x4e]);
    o.extend_from_slice(&[0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff]);
    py_int(&mut o, 0);
    o.push(0x74);
    put(&mut o);
    o.push(0x62);
    o.push(0x89);
    py_str(&mut o, planes);
    put(&mut o);
    o.push(0x74);
    put(&mut o);
    o.push(0x62);
    for (key, labels) in label_lists {
        py_str(&mut o, key.as_bytes());
        put(&mut o);
        o.push(0x5d);
        put(&mut o);
        o.push(0x28);
        for &l in labels {
            py_int(&mut o, l);
        }
        o.push(0x65);
    }
    py_str(&mut o, b"batch_label");
    put(&mut o);
    py_str(&mut o, b"training batch 1 of 5");
    put(&mut o);
    py_str(&mut o, b"filenames");
    put(&mut o);
    o.push(0x5d);
    put(&mut o);
    o.push(0x28);
    for i in 0..n {
        py_str(&mut o, format!("img_{i}.png").as_bytes());
    }
    o.push(0x65);
    o.extend_from_slice(&[0x75, 0x2e]);
    o
}

/// STL-10 `*_X.bin` content: per image 3 planes of 96x96, column-major (x outer, y inner).
pub fn stl_x(first: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 27648);
    for i in first..first + n {
        for c in 0..3 {
            for x in 0..96 {
                for y in 0..96 {
                    out.push(v(i, c, y, x));
                }
            }
        }
    }
    out
}

/// IDX images `[n, rows, cols]` with pixel `v(i, 0, y, x)`.
pub fn idx_images(n: usize, rows: usize, cols: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for d in [2051u32, n as u32, rows as u32, cols as u32] {
        out.extend_from_slice(&d.to_be_bytes());
    }
    for i in 0..n {
        for y in 0..rows {
            for x in 0..cols {
                out.push(v(i, 0, y, x));
            }
        }
    }
    out
}

/// IDX labels.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&2049u32.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// An RGB image `h x w` with pixel `v(i, c, y, x)`, as `image::RgbImage`.
pub fn rgb(i: usize, h: usize, w: usize) -> image::RgbImage {
    image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
        image::Rgb([
            v(i, 0, y as usize, x as usize),
            v(i, 1, y as usize, x as usize),
            v(i, 2, y as usize, x as usize),
        ])
    })
}

/// JPEG bytes (quality 90) of `img`.
pub fn jpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .expect("jpeg into memory");
    out
}

/// Grey JPEG bytes.
pub fn jpeg_grey(h: usize, w: usize) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
        image::Luma([v(0, 0, y as usize, x as usize)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("jpeg into memory");
    out
}

/// PNG bytes of `img`.
pub fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png into memory");
    out.into_inner()
}

/// Contains `needle`, with the message shown on failure.
#[track_caller]
pub fn assert_contains(msg: &str, needle: &str) {
    assert!(msg.contains(needle), "expected {needle:?} in: {msg}");
}

/// The error message of `r`, failing the test if it is `Ok`.
#[track_caller]
pub fn err_msg<T>(r: sngan_data::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}
