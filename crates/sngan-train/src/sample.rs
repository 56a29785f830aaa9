//! Drawing samples from a generator, the one way every part of the workspace does it (the
//! training grids, the periodic scorers, `sngan sample`): latents and classes come from the
//! seeded host RNG ([`SplitMix64`]), so a seed gives the same samples on every backend, with
//! BigGAN's truncation trick (Brock et al., ICLR 2019) and latent interpolations
//! (BigGAN-PyTorch's `interp`) as options, and batch norms normalising with their running
//! statistics or with each batch's own (StudioGAN's `batch_statistics`); outputs are uint8 NHWC
//! [`Images`] with the classes asked for as labels, mapped from `[-1, 1]` as torchvision's
//! `save_image` does.

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use sngan_core::{Images, InvalidField, SplitMix64, ensure};
use sngan_models::{Generator, GeneratorConfig};

use crate::error::TrainError;

/// Which latents a sample set uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latents {
    /// One independent latent per sample.
    Independent,
    /// `period` latents repeated: sample `i` takes latent `i % period` (a grid whose rows share
    /// their latents and differ by class).
    Repeated {
        /// Latents drawn.
        period: usize,
    },
    /// Rows of `steps` samples walking linearly from one latent to another:
    /// `z = (1 - t) z0 + t z1`, `t = 0, 1 / (steps - 1), ..., 1`.
    Interpolated {
        /// Samples per row, both ends included.
        steps: usize,
    },
}

/// The statistics a generator's batch norms normalise with while it samples.
#[derive(Config, Debug, PartialEq, Eq)]
pub enum BnStatistics {
    /// The running averages kept in training (PyTorch's `G.eval()`); for an EMA of G, the
    /// averages of G's running averages, which can lag the averaged weights.
    Running,
    /// Each forward pass's own batch (StudioGAN's `batch_statistics`, sampling in `G.train()`
    /// mode): every chunk of up to 250 samples normalises by its own mean and variance, so a
    /// sample depends on the others drawn with it (one class only, with `--class`, shifts the
    /// statistics; a lone sample has none over a dense layer's features). The generator's
    /// running averages are left as they were.
    Batch,
}

/// Which classes the samples of a conditional generator get (ignored by an unconditional one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classes {
    /// Sample `i` has class `i % n_classes` (every IS split then holds every class).
    Cycle,
    /// Every sample has this class.
    Fixed(usize),
    /// Uniform random classes.
    Random,
    /// Rows of `per_row` samples, row `r` of class `r % n_classes`.
    Rows {
        /// Samples per row.
        per_row: usize,
    },
    /// Rows of `per_row` samples, each row of one random class.
    RandomRows {
        /// Samples per row.
        per_row: usize,
    },
}

/// A set of samples to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleSpec {
    /// Number of samples.
    pub n: usize,
    /// Seed of the host RNG that draws latents, then classes.
    pub seed: u64,
    /// Latents.
    pub latents: Latents,
    /// Classes.
    pub classes: Classes,
    /// Latents drawn from `N(0, 1)` truncated to `[-t, t]` (BigGAN's truncation trick).
    pub truncation: Option<f64>,
    /// Bilinear resize of the images to `[height, width]` (a classifier's input size).
    pub resize: Option<[usize; 2]>,
}

/// Samples generated per forward pass (bounds memory).
const CHUNK: usize = 250;

impl SampleSpec {
    /// `n` independent samples with cycling classes from `seed`.
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            n,
            seed,
            latents: Latents::Independent,
            classes: Classes::Cycle,
            truncation: None,
            resize: None,
        }
    }

    /// The fixed grid a run draws its sample PNGs from, and its columns: for a conditional
    /// generator one row per class (up to 10) with the same ten latents in every row, else 64
    /// latents in rows of 8.
    pub fn grid(generator: &GeneratorConfig, seed: u64) -> (Self, usize) {
        match generator.n_classes() {
            Some(n) => {
                let (rows, columns) = (n.min(10), 10);
                let spec = Self {
                    latents: Latents::Repeated { period: columns },
                    classes: Classes::Rows { per_row: columns },
                    ..Self::new(rows * columns, seed)
                };
                (spec, columns)
            }
            None => (Self::new(64, seed), 8),
        }
    }

    /// Checks the spec against `generator`; `Err` names the field (as `sngan sample` spells
    /// it), the value and what is allowed.
    pub fn validate(&self, generator: &GeneratorConfig) -> Result<(), InvalidField> {
        ensure(self.n > 0, "n", self.n, "at least 1 sample")?;
        if let Some(t) = self.truncation {
            ensure(
                t.is_finite() && t >= 1e-3,
                "truncation",
                t,
                "a threshold of at least 0.001 (0.5 to 1 in BigGAN's figures)",
            )?;
        }
        if let Latents::Interpolated { steps } = self.latents {
            ensure(steps >= 2, "steps", steps, "at least 2 (both ends)")?;
            ensure(
                self.n.is_multiple_of(steps),
                "n",
                self.n,
                &format!("a whole number of {steps}-step rows"),
            )?;
        }
        match (generator.n_classes(), self.classes) {
            (Some(n), Classes::Fixed(k)) => {
                ensure(k < n, "class", k, &format!("a class of the run, 0..{n}"))
            }
            (None, Classes::Fixed(k)) => {
                ensure(false, "class", k, "no class: the run is unconditional")
            }
            _ => Ok(()),
        }
    }

    /// The generator's inputs: latents `[n * z_dim]` (row-major `[n, z_dim]`), then class ids
    /// when conditional, all from the host RNG seeded with `seed`.
    ///
    /// # Panics
    /// If the spec does not [`validate`](Self::validate) against `generator`.
    pub fn inputs(&self, generator: &GeneratorConfig) -> (Vec<f32>, Option<Vec<i64>>) {
        let (n, z_dim) = (self.n, generator.z_dim());
        let mut rng = SplitMix64::new(self.seed);
        let mut draw = |count: usize| match self.truncation {
            Some(t) => rng.truncated_normals(count, t),
            None => rng.normals(count),
        };
        let z = match self.latents {
            Latents::Independent => draw(n * z_dim),
            Latents::Repeated { period } => {
                let base = draw(period * z_dim);
                (0..n)
                    .flat_map(|i| base[(i % period) * z_dim..(i % period + 1) * z_dim].to_vec())
                    .collect()
            }
            Latents::Interpolated { steps } => {
                let ends = draw(2 * (n / steps) * z_dim);
                (0..n)
                    .flat_map(|i| {
                        let (row, step) = (i / steps, i % steps);
                        let t = step as f32 / (steps - 1) as f32;
                        let z0 = &ends[2 * row * z_dim..(2 * row + 1) * z_dim];
                        let z1 = &ends[(2 * row + 1) * z_dim..(2 * row + 2) * z_dim];
                        z0.iter()
                            .zip(z1)
                            .map(move |(a, b)| a + (b - a) * t)
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
        };
        let classes = generator.n_classes().map(|k| {
            let rows = |per_row: usize| n.div_ceil(per_row);
            match self.classes {
                Classes::Cycle => (0..n).map(|i| (i % k) as i64).collect(),
                Classes::Fixed(c) => vec![c as i64; n],
                Classes::Random => (0..n).map(|_| rng.below(k) as i64).collect(),
                Classes::Rows { per_row } => (0..n).map(|i| ((i / per_row) % k) as i64).collect(),
                Classes::RandomRows { per_row } => {
                    let per: Vec<i64> = (0..rows(per_row)).map(|_| rng.below(k) as i64).collect();
                    (0..n).map(|i| per[i / per_row]).collect()
                }
            }
        });
        (z, classes)
    }
}

/// Draws `spec` from `g` (built from `config`, on the inference `device`), `CHUNK` samples per
/// forward pass, its batch norms normalising with `statistics`; conditional samples carry their
/// classes as labels.
///
/// # Errors
/// A spec that does not validate against `config`.
pub fn generate(
    g: &Generator,
    config: &GeneratorConfig,
    spec: &SampleSpec,
    statistics: &BnStatistics,
    device: &Device,
) -> Result<Images, TrainError> {
    spec.validate(config)?;
    // A batch norm uses its batch's statistics in training mode on an autodiff device. The copy
    // `train()` makes has buffers of its own, so the running averages it advances are not `g`'s;
    // `no_grad` keeps the forward from recording a graph.
    let (g, device) = match statistics {
        BnStatistics::Running => (g.clone(), device.clone()),
        BnStatistics::Batch => (g.clone().train().no_grad(), device.clone().autodiff()),
    };
    let (g, device) = (&g, &device);
    let z_dim = config.z_dim();
    let (z, classes) = spec.inputs(config);
    let mut out: Option<Images> = None;
    for lo in (0..spec.n).step_by(CHUNK) {
        let b = (spec.n - lo).min(CHUNK);
        let z = Tensor::from_data(
            TensorData::new(z[lo * z_dim..(lo + b) * z_dim].to_vec(), [b, z_dim]),
            device,
        );
        let y = classes
            .as_ref()
            .map(|c| Tensor::from_data(TensorData::new(c[lo..lo + b].to_vec(), [b]), device));
        let chunk = to_images(resized(g.forward(z, y), spec.resize))?;
        match out.as_mut() {
            Some(all) => all.extend(chunk),
            None => out = Some(chunk),
        }
    }
    let mut images = out.expect("a validated spec has at least one sample");
    if let Some(c) = classes {
        images.labels = c.iter().map(|&k| Some(k as u32)).collect();
        images.num_classes = config.n_classes();
    }
    Ok(images)
}

/// `x` (NCHW) bilinearly resized to `size` (`[height, width]`), if given: how samples meet a
/// classifier of another input size.
fn resized(x: Tensor<4>, size: Option<[usize; 2]>) -> Tensor<4> {
    match size {
        Some(size) => interpolate(
            x,
            InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size(size),
        ),
        None => x,
    }
}

/// `[-1, 1]` NCHW floats as uint8 NHWC images: `round(x * 127.5 + 127.5)` clamped to 0..=255,
/// torchvision's `save_image` map.
pub fn to_images(x: Tensor<4>) -> Result<Images, TrainError> {
    let [n, c, h, w] = x.dims();
    let values: Vec<f32> = x
        .permute([0, 2, 3, 1])
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Tensor(format!("{e:?}")))?;
    let bytes = values
        .iter()
        .map(|v| (v * 127.5 + 127.5).round().clamp(0.0, 255.0) as u8)
        .collect();
    Ok(Images::from_nhwc(bytes, [n, h, w, c])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sngan_models::std_cnn::StdCnnGeneratorConfig;

    fn conditional() -> GeneratorConfig {
        GeneratorConfig::StdCnn(
            StdCnnGeneratorConfig::new(1)
                .with_z_dim(3)
                .with_n_classes(Some(4)),
        )
    }

    #[test]
    fn inputs_follow_the_spec_and_the_seed() {
        let g = conditional();
        let (z, y) = SampleSpec::new(6, 9).inputs(&g);
        assert_eq!((z.len(), y), (18, Some(vec![0, 1, 2, 3, 0, 1])));
        assert_eq!(
            SampleSpec::new(6, 9).inputs(&g).0,
            z,
            "a seed gives the same latents"
        );
        let (grid, columns) = SampleSpec::grid(&g, 1);
        let (z, y) = grid.inputs(&g);
        assert_eq!((grid.n, columns), (40, 10));
        assert_eq!(&z[..3], &z[30..33], "rows share their latents");
        assert_eq!(y.expect("classes")[10..20], [1; 10]);
        let interp = SampleSpec {
            latents: Latents::Interpolated { steps: 5 },
            classes: Classes::RandomRows { per_row: 5 },
            truncation: Some(0.5),
            ..SampleSpec::new(10, 2)
        };
        interp.validate(&g).expect("valid");
        let (z, y) = interp.inputs(&g);
        let mid = (z[0] + z[12]) / 2.0; // steps 0 and 4 of row 0, first coordinate
        assert!((z[6] - mid).abs() < 1e-6, "linear walk");
        assert!(z.iter().all(|v| v.abs() <= 0.5));
        let y = y.expect("classes");
        assert!(y[..5].iter().all(|&c| c == y[0]) && y[5..].iter().all(|&c| c == y[5]));
    }

    #[test]
    fn bad_specs_name_the_option() {
        let g = conditional();
        let zero = SampleSpec {
            truncation: Some(0.0),
            ..SampleSpec::new(4, 0)
        };
        let e = zero.validate(&g).expect_err("truncation 0").to_string();
        assert!(
            e.starts_with("truncation = 0: a threshold of at least 0.001"),
            "{e}"
        );
        let class = SampleSpec {
            classes: Classes::Fixed(4),
            ..SampleSpec::new(4, 0)
        };
        let e = class.validate(&g).expect_err("class 4").to_string();
        assert_eq!(e, "class = 4: a class of the run, 0..4");
        assert!(SampleSpec::new(0, 0).validate(&g).is_err());
    }
}
