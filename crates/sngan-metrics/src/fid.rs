//! Fréchet distance between Gaussians fitted to features (FID, Heusel et al. 2017,
//! arXiv:1706.08500; TTUR `fid.py calculate_frechet_distance`), computed without a matrix square
//! root: `tr (Σ1 Σ2)^{1/2} = Σ_i √λ_i(Bᵀ Σ2 B)` with `Σ1 = U diag(w) Uᵀ`, `B = U diag(√w)` — two
//! symmetric eigendecompositions in faer (research/metrics.md section 6). It agrees with scipy's
//! `sqrtm` route far inside 1e-6 relative and avoids its complex-result failures. `B` depends
//! only on the reference statistics, so [`FidReference`] caches it; intra-FID averages per class.

use faer::{Mat, Side};

use crate::error::{MetricsError, Result};
use crate::stats::Statistics;

/// Reference statistics with the factor `B = U diag(√max(w, 0))` of `Σ_ref` cached: each
/// later FID costs two GEMMs and one eigenvalues-only decomposition.
#[derive(Debug, Clone)]
pub struct FidReference {
    stats: Statistics,
    factor: Mat<f64>,
    trace: f64,
}

fn check_pair(a: &Statistics, b: &Statistics) -> Result<()> {
    if a.dim() != b.dim() {
        return Err(MetricsError::input(
            "fid",
            format!("statistics of equal dimension ({})", a.dim()),
            format!("dimension {}", b.dim()),
        ));
    }
    if let (Some(p), Some(q)) = (a.preprocessing, b.preprocessing)
        && p != q
    {
        return Err(MetricsError::input(
            "fid",
            format!("both statistics with preprocessing `{p}`"),
            format!("`{q}`"),
        ));
    }
    Ok(())
}

impl FidReference {
    /// Factors `stats.sigma` (one symmetric eigendecomposition; about as long as one FID).
    pub fn new(stats: Statistics) -> Result<Self> {
        let d = stats.dim();
        let evd = stats
            .sigma_mat()
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| MetricsError::Linalg {
                metric: "fid",
                what: "eigendecomposition of the reference covariance",
            })?;
        let (u, w) = (evd.U(), evd.S().column_vector());
        let factor = Mat::from_fn(d, d, |i, j| u[(i, j)] * w[j].max(0.0).sqrt());
        let trace = stats.trace();
        Ok(Self {
            stats,
            factor,
            trace,
        })
    }

    /// The reference statistics.
    pub fn stats(&self) -> &Statistics {
        &self.stats
    }

    /// `tr (Σ_ref Σ)^{1/2}`.
    fn trace_sqrt_product(&self, sigma: &Mat<f64>) -> Result<f64> {
        let b = &self.factor;
        let m = b.transpose() * sigma * b;
        let d = m.nrows();
        let m = Mat::from_fn(d, d, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
        let eig = m
            .self_adjoint_eigenvalues(Side::Lower)
            .map_err(|_| MetricsError::Linalg {
                metric: "fid",
                what: "eigenvalues of B^T sigma B",
            })?;
        Ok(eig.iter().map(|l| l.max(0.0).sqrt()).sum())
    }

    /// FID between `other` and the reference:
    /// `‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr (Σ1 Σ2)^{1/2}`.
    pub fn fid(&self, other: &Statistics) -> Result<f64> {
        check_pair(&self.stats, other)?;
        let diff: f64 = self
            .stats
            .mu
            .iter()
            .zip(&other.mu)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        let tr = self.trace_sqrt_product(&other.sigma_mat())?;
        Ok(diff + self.trace + other.trace() - 2.0 * tr)
    }
}

/// FID between two statistics (factors `b`; use [`FidReference`] to reuse the factor).
pub fn fid(a: &Statistics, b: &Statistics) -> Result<f64> {
    check_pair(a, b)?;
    FidReference::new(b.clone())?.fid(a)
}

/// FID between two statistics files (pytorch-fid's `.npz` or this crate's): what
/// `sngan eval --stats A.npz --ref B.npz` prints as `FID <value>`.
pub fn fid_from_files(a: &std::path::Path, b: &std::path::Path) -> Result<f64> {
    fid(&Statistics::read(a)?, &Statistics::read(b)?)
}

/// Intra-FID (Miyato & Koyama 2018, pfnet-research/sngan_projection
/// `evaluations/calc_intra_FID.py`): the mean over classes of the FID between each class's
/// generated and real statistics. Returns the mean and the per-class values.
///
/// With fewer real images per class than feature dimensions the real covariance is singular,
/// and every implementation agrees only to about 1e-5 relative (research/metrics.md 4.6).
pub fn intra_fid(fake: &[Statistics], real: &[Statistics]) -> Result<(f64, Vec<f64>)> {
    if fake.len() != real.len() || fake.is_empty() {
        return Err(MetricsError::input(
            "intra-fid",
            format!(
                "one fake and one real statistics per class ({} real)",
                real.len()
            ),
            format!("{} fake", fake.len()),
        ));
    }
    let per_class = fake
        .iter()
        .zip(real)
        .map(|(f, r)| fid(f, r))
        .collect::<Result<Vec<_>>>()?;
    let mean = per_class.iter().sum::<f64>() / per_class.len() as f64;
    Ok((mean, per_class))
}
