//! Burn integration: tensors in [-1, 1] NCHW, flips, seeded sampling, the endless loader and
//! Burn's own DataLoaderBuilder over our Dataset and Batcher.

use std::sync::Arc;

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::prelude::*;
use sngan_data::{
    GanLoader, ImageBatcher, ImageDataset, ImageSource, Images, LoaderConfig, Sampler, Sampling,
    host_batch, to_unit_range,
};

use crate::fixtures::v;

/// `n` images 4x5x3 with pixel v(i, c, y, x), labels i % 3 (None for every fourth).
fn images(n: usize) -> Images {
    let mut pixels = Vec::new();
    for i in 0..n {
        for y in 0..4 {
            for x in 0..5 {
                for c in 0..3 {
                    pixels.push(v(i, c, y, x));
                }
            }
        }
    }
    Images {
        height: 4,
        width: 5,
        channels: 3,
        pixels,
        labels: (0..n)
            .map(|i| (i % 4 != 3).then_some((i % 3) as u32))
            .collect(),
        num_classes: Some(3),
        class_names: Vec::new(),
    }
}

#[test]
fn host_batch_is_nchw_in_minus_one_one_with_flips() {
    let imgs = images(6);
    let b = host_batch(&imgs, &[2, 3], &[false, true]).expect("batch");
    assert_eq!(b.shape, [2, 3, 4, 5]);
    assert_eq!(b.labels, vec![2, -1]);
    let at = |n: usize, c: usize, y: usize, x: usize| b.images[((n * 3 + c) * 4 + y) * 5 + x];
    assert_eq!(at(0, 1, 2, 3), (v(2, 1, 2, 3) as f32 / 255.0 - 0.5) / 0.5);
    // flipped: column x holds source column 4 - x
    assert_eq!(at(1, 2, 3, 0), to_unit_range(v(3, 2, 3, 4)));
    assert_eq!(at(1, 0, 1, 4), to_unit_range(v(3, 0, 1, 0)));
    let all = host_batch(&imgs, &[0, 1, 2, 3, 4, 5], &[false; 6]).expect("batch");
    assert!(all.images.iter().all(|x| (-1.0..=1.0).contains(x)));
    let black = Images {
        pixels: vec![0; 60],
        labels: vec![None],
        ..images(1)
    };
    let white = Images {
        pixels: vec![255; 60],
        labels: vec![None],
        ..images(1)
    };
    assert!(
        host_batch(&black, &[0], &[false])
            .expect("b")
            .images
            .iter()
            .all(|&x| x == -1.0)
    );
    assert!(
        host_batch(&white, &[0], &[false])
            .expect("w")
            .images
            .iter()
            .all(|&x| x == 1.0)
    );
}

#[test]
fn shuffle_sampler_sees_every_image_once_per_epoch_in_full_batches() {
    let cfg = LoaderConfig::new(4).with_seed(7).with_flip(true);
    let mut s = Sampler::new(10, cfg);
    let mut drawn = Vec::new();
    for _ in 0..5 {
        let (idx, flips) = s.next_batch();
        assert_eq!(idx.len(), 4);
        assert_eq!(flips.len(), 4);
        drawn.extend(idx);
    }
    let mut epoch0 = drawn[..10].to_vec();
    epoch0.sort();
    assert_eq!(epoch0, (0..10).collect::<Vec<_>>());
    let mut epoch1 = drawn[10..20].to_vec();
    epoch1.sort();
    assert_eq!(epoch1, (0..10).collect::<Vec<_>>());
    assert_ne!(
        drawn[..10],
        drawn[10..20],
        "each epoch has its own permutation"
    );
    assert_eq!(s.epoch(), 1);
    // same seed, same stream; other seed, other stream
    let mut again = Sampler::new(10, cfg);
    assert_eq!(again.next_batch().0, drawn[..4].to_vec());
    let mut other = Sampler::new(10, cfg.with_seed(8));
    assert_ne!(other.next_batch().0, drawn[..4].to_vec());
    // flips are a fair-ish coin: 400 draws, between 150 and 250 heads
    let mut s = Sampler::new(10, cfg);
    let heads: usize = (0..100)
        .map(|_| s.next_batch().1.iter().filter(|&&f| f).count())
        .sum();
    assert!((150..=250).contains(&heads), "{heads} flips of 400");
    let mut s = Sampler::new(10, cfg.with_flip(false));
    assert!((0..10).all(|_| s.next_batch().1.iter().all(|&f| !f)));
}

#[test]
fn with_replacement_and_sequential_sampling() {
    let mut s = Sampler::new(
        5,
        LoaderConfig::new(64).with_sampling(Sampling::WithReplacement),
    );
    let (idx, _) = s.next_batch();
    assert!(idx.iter().all(|&i| i < 5));
    let mut counts = [0; 5];
    idx.iter().for_each(|&i| counts[i] += 1);
    assert!(counts.iter().any(|&c| c > 1), "64 draws from 5 repeat");
    let mut s = Sampler::new(5, LoaderConfig::new(3).with_sampling(Sampling::Sequential));
    assert_eq!(s.next_batch().0, vec![0, 1, 2]);
    assert_eq!(s.next_batch().0, vec![3, 4, 0]);
}

#[test]
fn gan_loader_yields_full_batches_forever_on_a_device() {
    let device = Device::flex();
    let src: Arc<dyn ImageSource> = Arc::new(images(7));
    let mut loader = GanLoader::new(
        src,
        LoaderConfig::new(3).with_seed(1).with_flip(true),
        &device,
    )
    .expect("loader");
    for _ in 0..10 {
        let b = loader.next().expect("endless").expect("readable");
        assert_eq!(b.images.dims(), [3, 3, 4, 5]);
        assert_eq!(b.labels.dims(), [3]);
        let max = b.images.clone().max().into_scalar::<f32>();
        let min = b.images.min().into_scalar::<f32>();
        assert!(max <= 1.0 && min >= -1.0);
    }
}

/// A source whose image 2 cannot be read.
struct Flaky(Images);

impl ImageSource for Flaky {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn shape(&self) -> [usize; 3] {
        self.0.shape()
    }
    fn num_classes(&self) -> Option<usize> {
        None
    }
    fn label(&self, _: usize) -> Option<u32> {
        None
    }
    fn load_into(&self, index: usize, out: &mut [u8]) -> sngan_data::Result<()> {
        if index == 2 {
            return Err(sngan_data::DataError::Image {
                path: "flaky/2.jpg".into(),
                expected: "a JPEG".into(),
                found: "garbage".into(),
            });
        }
        self.0.load_into(index, out)
    }
    fn describe(&self, index: usize) -> String {
        format!("flaky/{index}.jpg")
    }
}

#[test]
fn a_bad_image_stops_the_loader_with_its_error() {
    let device = Device::flex();
    let src: Arc<dyn ImageSource> = Arc::new(Flaky(images(5)));
    let cfg = LoaderConfig::new(2).with_sampling(Sampling::Sequential);
    let mut loader = GanLoader::new(src.clone(), cfg, &device).expect("loader");
    assert!(loader.next().expect("first").is_ok());
    let e = loader
        .next()
        .expect("second")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "flaky/2.jpg: cannot decode image: expected a JPEG, found garbage"
    );
    assert!(loader.next().is_none(), "no batches after an error");
    // Burn's Dataset returns the error too, instead of panicking a worker.
    let ds = ImageDataset::new(src);
    assert!(ds.get(1).is_ok());
    assert!(ds.get(2).is_err());
    let empty: Arc<dyn ImageSource> = Arc::new(Images::empty(4, 4, 3));
    assert!(GanLoader::new(empty, LoaderConfig::new(2), &device).is_err());
}

#[test]
fn burn_dataloader_with_our_dataset_and_batcher() {
    let device = Device::flex();
    let ds = ImageDataset::new(Arc::new(images(10)));
    let loader = DataLoaderBuilder::new(ImageBatcher::new(true, 3))
        .batch_size(4)
        .shuffle(5)
        .num_workers(2)
        .set_device(device)
        .build(ds);
    let mut sizes = Vec::new();
    let mut labels = Vec::new();
    for batch in loader.iter() {
        let b = batch.expect("batch");
        let [n, c, h, w] = b.images.dims();
        assert_eq!([c, h, w], [3, 4, 5]);
        sizes.push(n);
        labels.extend(b.labels.into_data().iter::<i64>());
    }
    assert_eq!(sizes.iter().sum::<usize>(), 10);
    labels.sort();
    assert_eq!(labels, vec![-1, -1, 0, 0, 0, 1, 1, 2, 2, 2]);
}

#[test]
fn normalisation_is_bit_identical_to_torchvision() {
    // torch 2.15: torch.arange(256, dtype=torch.uint8).float().div(255).sub(0.5).div(0.5)
    let torch_bits = [
        (0u8, 0xbf80_0000u32),
        (1, 0xbf7d_fdfe),
        (77, 0xbeca_caca),
        (127, 0xbb80_8080),
        (128, 0x3b80_8100),
        (200, 0x3f11_9192),
        (254, 0x3f7d_fdfe),
        (255, 0x3f80_0000),
    ];
    for (x, bits) in torch_bits {
        assert_eq!(to_unit_range(x).to_bits(), bits, "x = {x}");
    }
}

#[test]
fn a_consumer_waiting_inside_rayons_pool_never_waits_on_its_own_loader() {
    // The training iteration runs as a job of rayon's global pool (on flex) and waits there for
    // batches. A pool thread idling inside a join of the loader's decoding may pick that job
    // up; the batch it then waits for needs the join beneath it to finish, so the decoding must
    // not run on the same pool (a deadlock seen once in about 200 `sngan train` starts).
    let device = Device::flex();
    let src: Arc<dyn ImageSource> = Arc::new(images(256));
    let cfg = LoaderConfig::new(256).with_prefetch(1);
    let mut loader = GanLoader::new(src, cfg, &device).expect("loader");
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..2_000 {
            rayon::scope(|_| loader.next_batch().expect("a batch").expect("decoded"));
        }
        done.send(()).expect("the test waits");
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("2,000 batches taken inside the pool within 120 s (no deadlock)");
}
