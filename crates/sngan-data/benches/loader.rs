//! Loader throughput, images per second on one core (a one-thread rayon pool) and on all cores:
//! CIFAR-10 batches (binary records -> HWC, flip, [-1, 1] NCHW tensor on the flex device),
//! ImageNet BSSN `.npy` files (read + parse), and CelebA JPEG decode + crop + resize with the
//! BSSN and PIL-bilinear presets, plus the exact resizes alone. Inputs are synthetic, built in a
//! temporary folder. Prints `bench: data/<key> <value>` lines; bench/pytorch/data.py times the
//! same work with numpy/PIL/OpenCV/torch.
//!
//! Run: `cargo test --release -p sngan-data --bench loader` (ROUNDS env var: repetitions).

use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use sngan_data::{
    CelebA, CelebaCrop, CelebaSplit, Cifar100Label, CifarVariant, Filter, Image, ImageSource,
    Images, NpyFolder, Resizer, host_batch, parse_cifar_binary,
};

fn rounds() -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
}

/// Median seconds of `rounds()` runs of `f` (after one warm-up).
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..rounds())
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

/// xorshift noise for fixtures.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 56) as u8
    }
}

/// A face-sized picture with smooth structure and mild noise, so JPEG sizes are realistic.
fn photo(seed: u64, h: u32, w: u32) -> image::RgbImage {
    let mut n = Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (cx, cy) = (w as f32 / 2.0 + (seed % 7) as f32, h as f32 / 2.2);
    image::RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = ((x as f32 - cx) / 45.0, (y as f32 - cy) / 60.0);
        let blob = (-(dx * dx + dy * dy)).exp();
        let base = [
            60.0 + 150.0 * blob + 0.2 * y as f32,
            40.0 + 120.0 * blob + 0.3 * x as f32,
            30.0 + 90.0 * blob + 20.0 * ((x as f32) / 9.0).sin(),
        ];
        image::Rgb(base.map(|b| (b + (n.next() % 8) as f32 - 4.0).clamp(0.0, 255.0) as u8))
    })
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let device = Device::flex();
    let tmp = std::env::temp_dir().join(format!("sngan-data-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");

    // ---- CIFAR: one 10,000-record binary batch.
    let n_cifar = 10_000;
    let mut records = Vec::with_capacity(n_cifar * 3073);
    let mut noise = Noise(7);
    for i in 0..n_cifar {
        records.push((i % 10) as u8);
        records.extend((0..3072).map(|_| noise.next()));
    }
    let parse = || {
        parse_cifar_binary(
            &records,
            CifarVariant::Cifar10,
            Cifar100Label::Fine,
            Some(n_cifar),
            "bench",
        )
        .expect("parse")
    };
    let images: Arc<Images> = Arc::new(parse());
    let t_decode = pool(1).install(|| time(|| drop(std::hint::black_box(parse()))));
    let batch = 64;
    let n_batches = n_cifar / batch;
    let flips: Vec<bool> = (0..batch).map(|i| i % 2 == 0).collect();
    let batches = |images: &Images| {
        for b in 0..n_batches {
            let idx: Vec<usize> = (b * batch..(b + 1) * batch).collect();
            let hb = host_batch(images, &idx, &flips).expect("batch");
            let t = hb.into_device(&device);
            std::hint::black_box(t.images);
        }
    };
    let t_batch1 = pool(1).install(|| time(|| batches(&images)));
    let t_batch_all = pool(cores).install(|| time(|| batches(&images)));
    let n_batched = (n_batches * batch) as f64;
    println!(
        "bench: data/cifar_decode_images_per_s_per_core {:.0}",
        n_cifar as f64 / t_decode
    );
    println!(
        "bench: data/cifar_flip_to_tensor_images_per_s_per_core {:.0}",
        n_batched / t_batch1
    );
    let per_image_1 = t_decode / n_cifar as f64 + t_batch1 / n_batched;
    println!(
        "bench: data/cifar_pipeline_images_per_s_per_core {:.0}",
        1.0 / per_image_1
    );
    println!(
        "bench: data/cifar_flip_to_tensor_images_per_s_{cores}cores {:.0}",
        n_batched / t_batch_all
    );

    // ---- ImageNet BSSN npy: 512 files of 128x128x3.
    let n_npy = 512;
    let npy_root = tmp.join("npy");
    for k in 0..n_npy {
        let class = npy_root.join(format!("n{:08}", k % 8));
        std::fs::create_dir_all(&class).expect("class dir");
        let px: Vec<u8> = (0..128 * 128 * 3).map(|_| noise.next()).collect();
        std::fs::write(
            class.join(format!("{k}.npy")),
            Image::new(128, 128, 3, px).to_array().to_npy(),
        )
        .expect("npy");
    }
    let folder = NpyFolder::open(&npy_root, false).expect("npy folder");
    let load_all = |src: &dyn ImageSource| {
        let mut buf = vec![0u8; 128 * 128 * 3];
        for i in 0..src.len() {
            src.load_into(i, &mut buf).expect("npy load");
        }
    };
    let t_npy = time(|| load_all(&folder));
    let idx: Vec<usize> = (0..n_npy).collect();
    let no_flip = vec![false; n_npy];
    let t_npy_batch =
        pool(1).install(|| time(|| drop(host_batch(&folder, &idx, &no_flip).expect("b"))));
    println!(
        "bench: data/imagenet_npy_images_per_s_per_core {:.0}",
        n_npy as f64 / t_npy
    );
    println!(
        "bench: data/imagenet_npy_to_float_images_per_s_per_core {:.0}",
        n_npy as f64 / t_npy_batch
    );

    // ---- CelebA: 512 JPEGs of 178x218 (quality 90) in img_align_celeba/.
    let n_jpeg = 512;
    let celeba = tmp.join("celeba/img_align_celeba");
    std::fs::create_dir_all(&celeba).expect("celeba dir");
    let mut jpeg_bytes = 0usize;
    for k in 0..n_jpeg {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&photo(k as u64, 218, 178))
            .expect("jpeg");
        jpeg_bytes += out.len();
        std::fs::write(celeba.join(format!("{:06}.jpg", k + 1)), out).expect("write jpeg");
    }
    println!(
        "bench: data/celeba_mean_jpeg_bytes {:.0}",
        jpeg_bytes as f64 / n_jpeg as f64
    );
    for (crop, key) in [
        (CelebaCrop::Bssn128, "bssn128_to64"),
        (CelebaCrop::Mimicry178, "pilbilinear178_to64"),
    ] {
        let c = CelebA::open(&tmp.join("celeba"), CelebaSplit::All, crop, 64).expect("celeba");
        let idx: Vec<usize> = (0..n_jpeg).collect();
        let flips = vec![false; n_jpeg];
        let t1 = pool(1).install(|| time(|| drop(host_batch(&c, &idx, &flips).expect("b"))));
        let tn = pool(cores).install(|| time(|| drop(host_batch(&c, &idx, &flips).expect("b"))));
        println!(
            "bench: data/celeba_jpeg_{key}_images_per_s_per_core {:.0}",
            n_jpeg as f64 / t1
        );
        println!(
            "bench: data/celeba_jpeg_{key}_images_per_s_{cores}cores {:.0}",
            n_jpeg as f64 / tn
        );
    }

    // ---- Resizes alone (ms per image, one core).
    let src = photo(1, 375, 500).into_raw();
    let sq: Vec<u8> = {
        let img = Image::new(375, 500, 3, src);
        let bx = sngan_data::CropBox {
            left: 62,
            top: 0,
            width: 375,
            height: 375,
        };
        sngan_data::crop(&img, bx).expect("fits").pixels
    };
    for (filter, key) in [
        (Filter::Cv2Linear, "cv2linear"),
        (Filter::PilBilinear, "pilbilinear"),
        (Filter::PilBicubic, "pilbicubic"),
    ] {
        let rz = Resizer::new(375, 375, 128, 128, filter);
        let t = time(|| {
            for _ in 0..20 {
                std::hint::black_box(rz.resize_raw(&sq, 3));
            }
        });
        println!(
            "bench: data/resize_{key}_375_to_128_ms {:.3}",
            t / 20.0 * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
