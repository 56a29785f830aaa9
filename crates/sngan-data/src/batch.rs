//! From `u8` HWC images to Burn tensors: `[-1, 1]` float NCHW batches with labels, random
//! horizontal flips, seeded shuffling and an endless sampler for GAN iterations (fixed batch
//! size, no short last batch; epochs run into each other) that decodes each batch in parallel
//! with rayon on a background thread, a few batches ahead of the training loop.
//!
//! Normalisation is torchvision's `ToTensor` + `Normalize(0.5, 0.5)` computed in f32 exactly as
//! torch does it (BigGAN, mmgeneration; BSSN's `x / 255 * 2 - 1` is the same map up to the last
//! bit), research/data.md section 2.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use rayon::prelude::*;

use sngan_core::SplitMix64;

use crate::error::{DataError, Result};
use crate::source::{ImageItem, ImageSource};

/// A batch on a device.
#[derive(Clone, Debug)]
pub struct ImageBatch {
    /// `[batch, channels, height, width]` in `[-1, 1]`.
    pub images: Tensor<4>,
    /// `[batch]` class indices, `-1` for unlabelled images (torchvision's STL-10 convention).
    pub labels: Tensor<1, Int>,
}

/// A batch in host memory, before it goes to a device.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBatch {
    /// `[batch, channels, height, width]` values in `[-1, 1]`, row-major.
    pub images: Vec<f32>,
    /// `[batch, channels, height, width]`.
    pub shape: [usize; 4],
    /// Class per image, `-1` when unlabelled.
    pub labels: Vec<i64>,
    /// Source index of each image.
    pub indices: Vec<usize>,
    /// Whether each image was flipped horizontally.
    pub flipped: Vec<bool>,
}

impl HostBatch {
    /// Copies the batch to `device`.
    pub fn to_device(&self, device: &Device) -> ImageBatch {
        let n = self.labels.len();
        ImageBatch {
            images: Tensor::<4>::from_data(
                TensorData::new(self.images.clone(), self.shape),
                device,
            ),
            labels: Tensor::<1, Int>::from_data(TensorData::new(self.labels.clone(), [n]), device),
        }
    }

    /// Moves the batch to `device`.
    pub fn into_device(self, device: &Device) -> ImageBatch {
        let n = self.labels.len();
        ImageBatch {
            images: Tensor::<4>::from_data(TensorData::new(self.images, self.shape), device),
            labels: Tensor::<1, Int>::from_data(TensorData::new(self.labels, [n]), device),
        }
    }
}

/// `u8 -> f32` map of the batches: `(x / 255 - 0.5) / 0.5` in f32, bit-identical to torchvision
/// `ToTensor()` + `Normalize(0.5, 0.5)`; 0 maps to -1 and 255 to 1 exactly.
pub fn to_unit_range(x: u8) -> f32 {
    (x as f32 / 255.0 - 0.5) / 0.5
}

fn lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| to_unit_range(i as u8)))
}

/// Writes one HWC `u8` image as CHW floats in `[-1, 1]` ([`to_unit_range`]), mirrored
/// left-right if `flip`.
///
/// # Shapes
/// - `src`: `[h, w, c]` bytes
/// - `dst`: `[c, h, w]` floats
pub fn hwc_to_chw_pm1(src: &[u8], h: usize, w: usize, c: usize, flip: bool, dst: &mut [f32]) {
    let lut = lut();
    for ch in 0..c {
        let plane = &mut dst[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let row = &src[y * w * c..(y + 1) * w * c];
            let out = &mut plane[y * w..(y + 1) * w];
            if flip {
                for (x, o) in out.iter_mut().enumerate() {
                    *o = lut[row[(w - 1 - x) * c + ch] as usize];
                }
            } else {
                for (x, o) in out.iter_mut().enumerate() {
                    *o = lut[row[x * c + ch] as usize];
                }
            }
        }
    }
}

/// Loads `indices` from `source` in parallel and converts them to a [`HostBatch`]; image `i`
/// is mirrored when `flips[i]`. The first unreadable image fails the batch with its error.
pub fn host_batch(
    source: &dyn ImageSource,
    indices: &[usize],
    flips: &[bool],
) -> Result<HostBatch> {
    assert_eq!(indices.len(), flips.len(), "one flip flag per index");
    let [h, w, c] = source.shape();
    let per = h * w * c;
    let n = indices.len();
    let mut images = vec![0f32; n * per];
    if per > 0 {
        images
            .par_chunks_mut(per)
            .zip(indices.par_iter().zip(flips.par_iter()))
            .try_for_each_init(
                || vec![0u8; per],
                |buf, (dst, (&i, &flip))| -> Result<()> {
                    source.load_into(i, buf)?;
                    hwc_to_chw_pm1(buf, h, w, c, flip, dst);
                    Ok(())
                },
            )?;
    }
    Ok(HostBatch {
        images,
        shape: [n, c, h, w],
        labels: indices
            .iter()
            .map(|&i| source.label(i).map_or(-1, i64::from))
            .collect(),
        indices: indices.to_vec(),
        flipped: flips.to_vec(),
    })
}

/// How an endless sampler picks images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sampling {
    /// A fresh seeded permutation per epoch; a batch that crosses an epoch boundary takes the
    /// rest from the next permutation, so every batch is full and every image is seen once per
    /// epoch (BigGAN's shuffling without its dropped remainder).
    Shuffle,
    /// Independent uniform draws with replacement (BSSN's `np.random.choice(N, batch_size)`).
    WithReplacement,
    /// `0, 1, 2, ...` wrapping around (for evaluation passes).
    Sequential,
}

/// Options of [`Sampler`] and [`GanLoader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoaderConfig {
    /// Images per batch.
    pub batch_size: usize,
    /// Seed of the shuffles and flips.
    pub seed: u64,
    /// Mirror each image left-right with probability 1/2.
    pub flip: bool,
    /// How images are picked.
    pub sampling: Sampling,
    /// Batches decoded ahead of the consumer.
    pub prefetch: usize,
}

impl LoaderConfig {
    /// Shuffled, unflipped batches of `batch_size`, seed 0, 4 batches of prefetch.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            seed: 0,
            flip: false,
            sampling: Sampling::Shuffle,
            prefetch: 4,
        }
    }

    /// With a seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// With random horizontal flips.
    pub fn with_flip(mut self, flip: bool) -> Self {
        self.flip = flip;
        self
    }

    /// With a sampling scheme.
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// With a prefetch depth.
    pub fn with_prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch;
        self
    }
}

/// The endless, deterministic index (and flip) stream behind [`GanLoader`].
#[derive(Clone, Debug)]
pub struct Sampler {
    len: usize,
    config: LoaderConfig,
    rng: SplitMix64,
    flip_rng: SplitMix64,
    order: Vec<usize>,
    pos: usize,
    epoch: u64,
}

impl Sampler {
    /// A sampler over `len` images.
    pub fn new(len: usize, config: LoaderConfig) -> Self {
        Self {
            len,
            config,
            rng: SplitMix64::new(config.seed),
            flip_rng: SplitMix64::new(config.seed ^ 0x5EED_F11B),
            order: Vec::new(),
            pos: 0,
            epoch: 0,
        }
    }

    /// Completed passes over the data (for `Shuffle` and `Sequential`).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    fn next_index(&mut self) -> usize {
        match self.config.sampling {
            Sampling::WithReplacement => self.rng.below(self.len),
            Sampling::Sequential | Sampling::Shuffle => {
                if self.pos == self.order.len() {
                    if !self.order.is_empty() {
                        self.epoch += 1;
                    }
                    self.order = (0..self.len).collect();
                    if self.config.sampling == Sampling::Shuffle {
                        self.rng.shuffle(&mut self.order);
                    }
                    self.pos = 0;
                }
                self.pos += 1;
                self.order[self.pos - 1]
            }
        }
    }

    /// Draws and drops `batches` batches: the index stream continues as if they had been read
    /// (how a resumed run takes up the data order where its checkpoint left it).
    pub fn skip(&mut self, batches: u64) {
        for _ in 0..batches {
            self.next_batch();
        }
    }

    /// The next batch's indices and flip flags (empty if the source is empty).
    pub fn next_batch(&mut self) -> (Vec<usize>, Vec<bool>) {
        if self.len == 0 {
            return (Vec::new(), Vec::new());
        }
        let b = self.config.batch_size;
        let indices: Vec<usize> = (0..b).map(|_| self.next_index()).collect();
        let flips: Vec<bool> = (0..b)
            .map(|_| self.config.flip && self.flip_rng.coin())
            .collect();
        (indices, flips)
    }
}

/// An endless stream of full batches for GAN training, decoded on a background thread with
/// rayon, `prefetch` batches ahead. Iterating yields `Ok(batch)` forever, or one `Err` (the
/// first unreadable image) after which the stream ends.
///
/// The decoding runs on a rayon pool of the loader's own (one thread per core), never on the
/// global pool: a consumer that waits for a batch inside a job of the global pool (the training
/// iteration does on flex) could otherwise be that job's thread while it idles inside a join
/// of the decoding, and the batch it waits for would need that join to finish: a deadlock.
pub struct GanLoader {
    rx: Receiver<Result<HostBatch>>,
    device: Device,
    worker: Option<JoinHandle<()>>,
    failed: bool,
    waited: Duration,
}

impl GanLoader {
    /// Starts decoding batches from `source` as `config` says, for `device`.
    pub fn new(
        source: Arc<dyn ImageSource>,
        config: LoaderConfig,
        device: &Device,
    ) -> Result<Self> {
        let sampler = Sampler::new(source.len(), config);
        Self::from_sampler(source, sampler, device)
    }

    /// Starts decoding the batches `sampler` draws next (a resumed run passes its sampler
    /// advanced with [`Sampler::skip`], so the data order continues exactly).
    pub fn from_sampler(
        source: Arc<dyn ImageSource>,
        sampler: Sampler,
        device: &Device,
    ) -> Result<Self> {
        let config = sampler.config;
        if source.is_empty() || config.batch_size == 0 {
            return Err(DataError::Invalid {
                what: "GAN loader".into(),
                expected: "a non-empty source and a batch size above 0".into(),
                found: format!("{} images, batch size {}", source.len(), config.batch_size),
            });
        }
        let (tx, rx) = sync_channel(config.prefetch.max(1));
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("sngan-data-{i}"))
            .build()
            .map_err(|e| crate::error::io("GAN loader threads")(std::io::Error::other(e)))?;
        let worker = std::thread::Builder::new()
            .name("sngan-data-loader".into())
            .spawn(move || produce(source, sampler, &pool, tx))
            .map_err(crate::error::io("GAN loader thread"))?;
        Ok(Self {
            rx,
            device: device.clone(),
            worker: Some(worker),
            failed: false,
            waited: Duration::ZERO,
        })
    }

    /// Time the consumer has spent waiting for batches in [`next_batch`](Self::next_batch):
    /// near zero while decoding keeps ahead of the training step.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// The next batch, or `None` once an error has been returned.
    pub fn next_batch(&mut self) -> Option<Result<ImageBatch>> {
        if self.failed {
            return None;
        }
        let start = Instant::now();
        let received = self.rx.recv();
        self.waited += start.elapsed();
        match received {
            Ok(Ok(host)) => Some(Ok(host.into_device(&self.device))),
            Ok(Err(e)) => {
                self.failed = true;
                Some(Err(e))
            }
            Err(_) => {
                self.failed = true;
                None
            }
        }
    }
}

fn produce(
    source: Arc<dyn ImageSource>,
    mut sampler: Sampler,
    pool: &rayon::ThreadPool,
    tx: SyncSender<Result<HostBatch>>,
) {
    loop {
        let (indices, flips) = sampler.next_batch();
        let batch = pool.install(|| host_batch(source.as_ref(), &indices, &flips));
        let failed = batch.is_err();
        if tx.send(batch).is_err() || failed {
            return;
        }
    }
}

impl Iterator for GanLoader {
    type Item = Result<ImageBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
    }
}

impl Drop for GanLoader {
    fn drop(&mut self) {
        // Closing the receiver makes the worker's next send fail, so it exits; wait for it.
        let (_, dummy) = sync_channel::<Result<HostBatch>>(1);
        drop(std::mem::replace(&mut self.rx, dummy));
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Burn [`Batcher`] from [`ImageItem`]s to an [`ImageBatch`], for `DataLoaderBuilder`; the
/// conversion runs in parallel with rayon. Flips come from `seed` and a per-call counter, so a
/// single-worker loader is reproducible.
#[derive(Debug)]
pub struct ImageBatcher {
    flip: bool,
    seed: u64,
    calls: AtomicU64,
}

impl ImageBatcher {
    /// A batcher; `flip` mirrors each image with probability 1/2.
    pub fn new(flip: bool, seed: u64) -> Self {
        Self {
            flip,
            seed,
            calls: AtomicU64::new(0),
        }
    }
}

impl Clone for ImageBatcher {
    fn clone(&self) -> Self {
        Self {
            flip: self.flip,
            seed: self.seed,
            calls: AtomicU64::new(self.calls.load(Ordering::Relaxed)),
        }
    }
}

impl Batcher<ImageItem, ImageBatch> for ImageBatcher {
    /// # Panics
    /// If the items differ in shape (a source guarantees one shape, so this is a caller bug).
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut rng = SplitMix64::new(self.seed ^ call.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let n = items.len();
        let [h, w, c] = items.first().map_or([0, 0, 0], |it| it.image.shape());
        assert!(
            items.iter().all(|it| it.image.shape() == [h, w, c]),
            "items of a batch should share one shape"
        );
        let flips: Vec<bool> = (0..n).map(|_| self.flip && rng.coin()).collect();
        let per = h * w * c;
        let mut images = vec![0f32; n * per];
        if per > 0 {
            images
                .par_chunks_mut(per)
                .zip(items.par_iter().zip(flips.par_iter()))
                .for_each(|(dst, (it, &f))| hwc_to_chw_pm1(&it.image.pixels, h, w, c, f, dst));
        }
        let labels: Vec<i64> = items
            .iter()
            .map(|it| it.label.map_or(-1, i64::from))
            .collect();
        HostBatch {
            images,
            shape: [n, c, h, w],
            labels,
            indices: items.iter().map(|it| it.index).collect(),
            flipped: flips,
        }
        .into_device(device)
    }
}
