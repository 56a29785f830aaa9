//! Feature statistics for FID (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
//! Converge to a Local Nash Equilibrium", arXiv:1706.08500): mean and covariance accumulated in
//! f64 with the 1/(N-1) normalisation of `np.cov` (pytorch-fid, TTUR, torch-fidelity,
//! clean-fid), read from and written to the `.npz` files pytorch-fid reads and writes.

use std::path::Path;

use faer::Mat;

use crate::error::{MetricsError, Result};
use crate::inception::Preprocess;
use sngan_core::npy::{Array, Npz, NpzWriter};

/// Mean and covariance of a feature set, with where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// Mean, `[dim]`.
    pub mu: Vec<f64>,
    /// Covariance with 1/(N-1), `[dim, dim]` row-major.
    pub sigma: Vec<f64>,
    /// Number of samples, when known (pytorch-fid's files do not say).
    pub n: Option<usize>,
    /// Image preprocessing, when known (see [`Preprocess`]).
    pub preprocessing: Option<Preprocess>,
    /// Which features, e.g. `inception-2015-12-05/pool3`, when known.
    pub features: Option<String>,
}

impl Statistics {
    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.mu.len()
    }

    /// `sum_i sigma_ii`.
    pub fn trace(&self) -> f64 {
        let d = self.dim();
        (0..d).map(|i| self.sigma[i * d + i]).sum()
    }

    /// Statistics of `features` (`[n, dim]` row-major), n >= 2.
    pub fn from_features(features: &[f32], n: usize, dim: usize) -> Result<Self> {
        let mut acc = StatsAccumulator::new(dim);
        acc.push(features, n)?;
        acc.finish()
    }

    /// Whether the covariance is singular by construction (N <= dim): FID is then defined only
    /// to about 1e-5 relative, because routes treat the noise-level eigenvalues differently
    /// (research/metrics.md section 5), and intra-FID always runs in this regime.
    pub fn rank_deficient(&self) -> bool {
        self.n.is_some_and(|n| n <= self.dim())
    }

    /// Σ as a faer matrix. Σ is symmetric, so the row-major buffer is read as column-major
    /// (sequential reads; an asymmetric input would be taken as its transpose).
    pub(crate) fn sigma_mat(&self) -> Mat<f64> {
        let d = self.dim();
        Mat::from_fn(d, d, |i, j| self.sigma[j * d + i])
    }

    fn check(&self, path: &Path) -> Result<()> {
        let d = self.dim();
        if d == 0 || self.sigma.len() != d * d {
            return Err(MetricsError::Shape {
                path: path.to_path_buf(),
                name: "sigma".into(),
                expected: format!("[{d}, {d}] to match mu [{d}]"),
                found: vec![self.sigma.len() as u64],
            });
        }
        if let Some(bad) = self.mu.iter().chain(&self.sigma).find(|v| !v.is_finite()) {
            return Err(MetricsError::Format {
                path: path.to_path_buf(),
                expected: "finite mu and sigma".into(),
                found: format!("{bad}"),
            });
        }
        Ok(())
    }

    /// Reads `mu`/`sigma` (pytorch-fid, TTUR, clean-fid, StudioGAN) or `mean`/`cov`
    /// (sngan_projection), f64 or f32, plus this crate's optional `n`, `preprocessing` and
    /// `features` records.
    pub fn read(path: &Path) -> Result<Self> {
        let mut npz = Npz::open(path)?;
        let (mu_key, sigma_key) = if !npz.has("mu") && npz.has("mean") {
            ("mean", "cov")
        } else {
            ("mu", "sigma")
        };
        let label = |name: &str| format!("{}:{name}", path.display());
        let shape_error = |name: &str, expected: String, found: &[usize]| MetricsError::Shape {
            path: path.to_path_buf(),
            name: name.into(),
            expected,
            found: found.iter().map(|&v| v as u64).collect(),
        };
        let mu = npz.array(mu_key)?;
        let sigma = npz.array(sigma_key)?;
        let d = mu.len();
        if mu.shape.len() != 1 {
            return Err(shape_error(mu_key, "[dim]".into(), &mu.shape));
        }
        if sigma.shape != [d, d] {
            let expected = format!("[{d}, {d}] to match {mu_key} [{d}]");
            return Err(shape_error(sigma_key, expected, &sigma.shape));
        }
        let n = match npz.has("n") {
            true => npz.array("n")?.to_i64(&label("n"))?.first().copied(),
            false => None,
        };
        let text = |npz: &mut Npz, name: &str| -> Result<Option<String>> {
            match npz.has(name) {
                true => Ok(npz.array(name)?.to_text()),
                false => Ok(None),
            }
        };
        let preprocessing = match text(&mut npz, "preprocessing")? {
            Some(name) => {
                Some(
                    Preprocess::from_name(&name).ok_or_else(|| MetricsError::Format {
                        path: path.to_path_buf(),
                        expected: "preprocessing `tf-exact`, `pytorch-fid` or `clean`".into(),
                        found: format!("`{name}`"),
                    })?,
                )
            }
            None => None,
        };
        let stats = Self {
            mu: mu.to_f64(&label(mu_key))?,
            sigma: sigma.to_f64(&label(sigma_key))?,
            n: n.and_then(|v| usize::try_from(v).ok()),
            preprocessing,
            features: text(&mut npz, "features")?,
        };
        stats.check(path)?;
        Ok(stats)
    }

    /// Writes `mu` (f64 `[dim]`) and `sigma` (f64 `[dim, dim]`) deflate-compressed like
    /// `np.savez_compressed`, plus `n`, `preprocessing` and `features` when known; atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut out = NpzWriter::create(path)?;
        self.write_members(&mut out, path)?;
        Ok(out.finish()?)
    }

    /// Writes `mu`, `sigma` and the known records into an open archive.
    pub(crate) fn write_members(&self, out: &mut NpzWriter, path: &Path) -> Result<()> {
        self.check(path)?;
        let d = self.dim();
        out.add("mu", &Array::from_f64(&[d], &self.mu))?;
        out.add("sigma", &Array::from_f64(&[d, d], &self.sigma))?;
        if let Some(n) = self.n {
            out.add("n", &Array::from_i64(&[], &[n as i64]))?;
        }
        if let Some(p) = self.preprocessing {
            out.add("preprocessing", &Array::from_text(p.name()))?;
        }
        if let Some(f) = &self.features {
            out.add("features", &Array::from_text(f))?;
        }
        Ok(())
    }
}

/// Streams feature batches into f64 sums and returns [`Statistics`].
///
/// Sums are taken of `x - shift`, with `shift` the first sample, so that a large common mean
/// costs no precision (the shifted-data algorithm); the covariance is
/// `(S - n m mᵀ) / (n - 1)` with `m` the shifted mean.
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    dim: usize,
    n: usize,
    shift: Vec<f64>,
    sum: Vec<f64>,
    outer: Mat<f64>,
}

impl StatsAccumulator {
    /// An empty accumulator for `dim`-wide features.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            n: 0,
            shift: Vec::new(),
            sum: vec![0.0; dim],
            outer: Mat::zeros(dim, dim),
        }
    }

    /// Samples seen so far.
    pub fn count(&self) -> usize {
        self.n
    }

    /// Adds `n` rows of `features` (`[n, dim]` row-major, f32 as the network emits them).
    pub fn push(&mut self, features: &[f32], n: usize) -> Result<()> {
        let d = self.dim;
        if features.len() != n * d {
            return Err(MetricsError::input(
                "statistics",
                format!("{n} x {d} features"),
                format!("{} values", features.len()),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        if let Some(bad) = features.iter().find(|v| !v.is_finite()) {
            return Err(MetricsError::input(
                "statistics",
                "finite features",
                format!("{bad}"),
            ));
        }
        if self.shift.is_empty() {
            self.shift = features[..d].iter().map(|&v| f64::from(v)).collect();
        }
        let x = Mat::from_fn(n, d, |i, j| f64::from(features[i * d + j]) - self.shift[j]);
        for j in 0..d {
            self.sum[j] += (0..n).map(|i| x[(i, j)]).sum::<f64>();
        }
        faer::linalg::matmul::matmul(
            self.outer.as_mut(),
            faer::Accum::Add,
            x.transpose(),
            x.as_ref(),
            1.0,
            faer::get_global_parallelism(),
        );
        self.n += n;
        Ok(())
    }

    /// Mean and 1/(N-1) covariance; needs at least two samples.
    pub fn finish(self) -> Result<Statistics> {
        let (n, d) = (self.n, self.dim);
        if n < 2 {
            return Err(MetricsError::input(
                "statistics",
                "at least 2 samples for a 1/(N-1) covariance",
                format!("{n}"),
            ));
        }
        let nf = n as f64;
        let m: Vec<f64> = self.sum.iter().map(|s| s / nf).collect();
        let mut sigma = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                // The GEMM result is symmetric only up to rounding: average both triangles.
                let s = 0.5 * (self.outer[(i, j)] + self.outer[(j, i)]);
                sigma[i * d + j] = (s - nf * m[i] * m[j]) / (nf - 1.0);
            }
        }
        let mu = m.iter().zip(&self.shift).map(|(a, b)| a + b).collect();
        Ok(Statistics {
            mu,
            sigma,
            n: Some(n),
            preprocessing: None,
            features: None,
        })
    }
}
