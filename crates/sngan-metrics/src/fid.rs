//! Fréchet distance between Gaussians fitted to features (FID, Heusel et al. 2017,
//! arXiv:1706.08500; TTUR `fid.py calculate_frechet_distance`), computed without a matrix square
//! root: `tr (Σ1 Σ2)^{1/2} = Σ_i √λ_i(Bᵀ Σ2 B)` with `Σ1 = U diag(w) Uᵀ`, `B = U diag(√w)` — two
//! symmetric eigendecompositions in faer (research/metrics.md section 6). It agrees with scipy's
//! `sqrtm` route far inside 1e-6 relative and avoids its complex-result failures. `B` depends
//! only on the reference statistics, so [`FidReference`] caches it; intra-FID averages per class.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, Side};

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
        let d = b.nrows();
        let par = faer::get_global_parallelism();
        // M = Bᵀ Σ B, symmetric; the eigensolver reads only its lower triangle. When Σ = L Lᵀ
        // (Cholesky succeeds: full rank), M = Cᵀ C with C = Lᵀ B costs a triangular product
        // and half a GEMM instead of two GEMMs.
        let m = match sigma.llt(Side::Lower) {
            Ok(llt) => {
                let mut c = Mat::<f64>::zeros(d, d);
                triangular::matmul(
                    c.as_mut(),
                    BlockStructure::Rectangular,
                    Accum::Replace,
                    llt.L().transpose(),
                    BlockStructure::TriangularUpper,
                    b.as_ref(),
                    BlockStructure::Rectangular,
                    1.0,
                    par,
                );
                let mut m = Mat::<f64>::zeros(d, d);
                triangular::matmul(
                    m.as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Replace,
                    c.transpose(),
                    BlockStructure::Rectangular,
                    c.as_ref(),
                    BlockStructure::Rectangular,
                    1.0,
                    par,
                );
                m
            }
            Err(_) => b.transpose() * (sigma * b),
        };
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
    let mut acc = IntraFid::new();
    for (f, r) in fake.iter().zip(real) {
        acc.add_class(f, r)?;
    }
    acc.finish()
}

/// Intra-FID one class at a time (ImageNet's 1000 per-class 2048-d covariances would not fit
/// in memory together): add each class's fake and real statistics, then take the mean.
#[derive(Debug, Clone, Default)]
pub struct IntraFid {
    per_class: Vec<f64>,
}

impl IntraFid {
    /// No class yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one class; returns its FID.
    pub fn add_class(&mut self, fake: &Statistics, real: &Statistics) -> Result<f64> {
        let v = fid(fake, real)?;
        self.per_class.push(v);
        Ok(v)
    }

    /// The mean over classes and the per-class values.
    pub fn finish(self) -> Result<(f64, Vec<f64>)> {
        if self.per_class.is_empty() {
            return Err(MetricsError::input(
                "intra-fid",
                "at least one class",
                "none",
            ));
        }
        let mean = self.per_class.iter().sum::<f64>() / self.per_class.len() as f64;
        Ok((mean, self.per_class))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mu: Vec<f64>, sigma: Vec<f64>) -> Statistics {
        Statistics {
            mu,
            sigma,
            n: None,
            preprocessing: None,
            features: None,
        }
    }

    fn diag(v: &[f64]) -> Vec<f64> {
        let d = v.len();
        let mut m = vec![0.0; d * d];
        for (i, x) in v.iter().enumerate() {
            m[i * d + i] = *x;
        }
        m
    }

    /// pytorch-fid's own `tests/test_fid_score.py`: mu 0 vs 1, sigma = I, 2048-d gives 2048.
    #[test]
    fn equal_identity_covariances_give_the_squared_mean_distance() {
        let d = 2048;
        let a = stats(vec![0.0; d], diag(&vec![1.0; d]));
        let b = stats(vec![1.0; d], diag(&vec![1.0; d]));
        let v = fid(&a, &b).expect("fid");
        assert!((v - 2048.0).abs() < 1e-8, "{v}");
    }

    #[test]
    fn diagonal_covariances_have_the_closed_form() {
        let (a, b) = ([1.0, 4.0, 0.25, 9.0], [4.0, 1.0, 1.0, 0.0]);
        let expected: f64 = 1.0
            + a.iter()
                .zip(&b)
                .map(|(x, y): (&f64, &f64)| (x.sqrt() - y.sqrt()).powi(2))
                .sum::<f64>();
        let s1 = stats(vec![0.0, 0.0, 1.0, 0.0], diag(&a));
        let s2 = stats(vec![0.0; 4], diag(&b));
        let v = fid(&s1, &s2).expect("fid");
        assert!((v - expected).abs() < 1e-12, "{v} vs {expected}");
    }

    #[test]
    fn self_distance_is_zero_and_scaling_is_quadratic() {
        // A dense SPD matrix: A Aᵀ + I with A from a fixed pattern.
        let d = 6;
        let a: Vec<f64> = (0..d * d)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0)
            .collect();
        let mut s = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                s[i * d + j] = (0..d).map(|k| a[i * d + k] * a[j * d + k]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let mu: Vec<f64> = (0..d).map(|i| i as f64 * 0.3).collect();
        let x = stats(mu.clone(), s.clone());
        let tr: f64 = (0..d).map(|i| s[i * d + i]).sum();
        assert!(fid(&x, &x).expect("fid").abs() < 1e-9 * tr);
        let y = stats(vec![0.5; d], diag(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let base = fid(&x, &y).expect("fid");
        let c: f64 = 3.0;
        let scale = |st: &Statistics| {
            stats(
                st.mu.iter().map(|v| v * c).collect(),
                st.sigma.iter().map(|v| v * c * c).collect(),
            )
        };
        let scaled = fid(&scale(&x), &scale(&y)).expect("fid");
        assert!(
            (scaled - c * c * base).abs() < 1e-9 * scaled,
            "{scaled} vs {}",
            c * c * base
        );
        // Symmetric in its arguments.
        assert!((fid(&y, &x).expect("fid") - base).abs() < 1e-9 * base);
    }

    #[test]
    fn rank_deficient_covariance_gives_a_finite_value() {
        let mut s = diag(&[1.0, 2.0, 0.0, 0.0]);
        s[1] = 0.5;
        s[4] = 0.5;
        let a = Statistics {
            n: Some(3),
            ..stats(vec![0.0; 4], s)
        };
        assert!(a.rank_deficient());
        let b = stats(vec![0.1; 4], diag(&[1.0; 4]));
        let v = fid(&a, &b).expect("fid");
        assert!(v.is_finite() && v > 0.0, "{v}");
    }

    #[test]
    fn intra_fid_is_the_mean_over_classes() {
        let real = [
            stats(vec![0.0, 0.0], diag(&[1.0, 1.0])),
            stats(vec![1.0, 1.0], diag(&[4.0, 1.0])),
        ];
        let fake = [
            stats(vec![1.0, 0.0], diag(&[1.0, 1.0])), // FID 1
            stats(vec![1.0, 1.0], diag(&[1.0, 1.0])), // FID (2 - 1)^2 = 1
        ];
        let (mean, per_class) = intra_fid(&fake, &real).expect("intra-fid");
        assert!((per_class[0] - 1.0).abs() < 1e-12 && (per_class[1] - 1.0).abs() < 1e-12);
        assert!((mean - 1.0).abs() < 1e-12);
        assert!(intra_fid(&fake[..1], &real).is_err());
    }

    #[test]
    fn mismatched_inputs_are_errors() {
        let a = stats(vec![0.0; 2], diag(&[1.0, 1.0]));
        let b = stats(vec![0.0; 3], diag(&[1.0, 1.0, 1.0]));
        assert!(matches!(fid(&a, &b), Err(MetricsError::Input { .. })));
        let mut c = a.clone();
        c.preprocessing = Some(crate::Preprocess::Clean);
        let mut d = a.clone();
        d.preprocessing = Some(crate::Preprocess::TfExact);
        let e = fid(&c, &d).expect_err("modes differ");
        assert!(e.to_string().contains("clean"), "{e}");
    }
}
