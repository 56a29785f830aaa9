//! k-nearest-neighbour manifold metrics on features:
//! - improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991;
//!   kynkaat/improved-precision-and-recall-metric `precision_recall.py`): k = 3, a sample is in
//!   the other set's manifold when `d ≤` some ball radius;
//! - precision, recall, density and coverage (Naeem et al. 2020, arXiv:2002.09797;
//!   clovaai/generative-evaluation-prdc `prdc/prdc.py`, which StudioGAN copies): k = 5, strict `<`.
//!
//! A ball's radius is the distance from a sample to its k-th nearest neighbour in its own set
//! (the (k+1)-th smallest distance, the sample itself being the first). Distances are Euclidean,
//! compared squared, computed in f64 in row blocks so that memory stays bounded at 50k samples.

use faer::Mat;
use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use crate::features::Features;

/// Rows per distance block.
const BLOCK: usize = 512;

/// Membership rule at the ball boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// `d ≤ radius` (Kynkäänniemi et al., StyleGAN2-ADA, torch-fidelity).
    Inclusive,
    /// `d < radius` (Naeem et al. `prdc.py`, StudioGAN).
    Strict,
}

impl Boundary {
    fn inside(self, d2: f64, r2: f64) -> bool {
        match self {
            Self::Inclusive => d2 <= r2,
            Self::Strict => d2 < r2,
        }
    }
}

/// Improved precision and recall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecall {
    /// Fraction of fake samples inside the real manifold.
    pub precision: f64,
    /// Fraction of real samples inside the fake manifold.
    pub recall: f64,
}

/// Precision, recall, density and coverage (Naeem et al.).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prdc {
    /// Fraction of fakes inside some real ball.
    pub precision: f64,
    /// Fraction of reals inside some fake ball.
    pub recall: f64,
    /// Mean number of real balls holding a fake, divided by k.
    pub density: f64,
    /// Fraction of real balls holding at least one fake.
    pub coverage: f64,
}

struct Sq {
    m: Mat<f64>,
    norms: Vec<f64>,
}

fn prep(f: &Features) -> Sq {
    let m = Mat::from_fn(f.n, f.dim, |i, j| f64::from(f.data[i * f.dim + j]));
    let norms = (0..f.n)
        .map(|i| (0..f.dim).map(|j| m[(i, j)] * m[(i, j)]).sum())
        .collect();
    Sq { m, norms }
}

/// Squared distances between rows `lo..hi` of `a` and all rows of `b`: `[hi-lo, b.n]`.
fn block_d2(a: &Sq, lo: usize, hi: usize, b: &Sq) -> Mat<f64> {
    let g = a.m.subrows(lo, hi - lo) * b.m.transpose();
    Mat::from_fn(hi - lo, b.m.nrows(), |i, j| {
        (a.norms[lo + i] + b.norms[j] - 2.0 * g[(i, j)]).max(0.0)
    })
}

/// Squared distance from each row to its k-th nearest neighbour in the same set.
fn kth_radii2(x: &Sq, k: usize) -> Vec<f64> {
    let n = x.m.nrows();
    let mut radii = Vec::with_capacity(n);
    for lo in (0..n).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(n);
        let d = block_d2(x, lo, hi, x);
        let block: Vec<f64> = (0..hi - lo)
            .into_par_iter()
            .map(|i| {
                let mut row: Vec<f64> = (0..n)
                    .map(|j| if j == lo + i { 0.0 } else { d[(i, j)] })
                    .collect();
                let (_, kth, _) = row.select_nth_unstable_by(k, f64::total_cmp);
                *kth
            })
            .collect();
        radii.extend(block);
    }
    radii
}

/// One pass over the real x fake distances (real rows in blocks):
/// - per fake `j`: how many real balls hold it (`inside(d²(r_i, f_j), r²_i)`);
/// - per real `i`: whether some fake ball holds it, and its smallest squared distance to a fake.
struct Cross {
    fake_in_real: Vec<usize>,
    real_in_fake: Vec<bool>,
    real_min: Vec<f64>,
}

fn cross(real: &Sq, fake: &Sq, real_r2: &[f64], fake_r2: &[f64], rule: Boundary) -> Cross {
    let (nr, nf) = (real.m.nrows(), fake.m.nrows());
    let mut out = Cross {
        fake_in_real: vec![0; nf],
        real_in_fake: Vec::with_capacity(nr),
        real_min: Vec::with_capacity(nr),
    };
    for lo in (0..nr).step_by(BLOCK) {
        let hi = (lo + BLOCK).min(nr);
        let d = block_d2(real, lo, hi, fake);
        let rows: Vec<(bool, f64)> = (0..hi - lo)
            .into_par_iter()
            .map(|i| {
                let mut hit = false;
                let mut min = f64::INFINITY;
                for (j, r2) in fake_r2.iter().enumerate() {
                    let v = d[(i, j)];
                    hit |= rule.inside(v, *r2);
                    min = min.min(v);
                }
                (hit, min)
            })
            .collect();
        out.real_in_fake.extend(rows.iter().map(|r| r.0));
        out.real_min.extend(rows.iter().map(|r| r.1));
        // faer is column-major: a fake's column of the block is contiguous.
        out.fake_in_real
            .par_iter_mut()
            .enumerate()
            .for_each(|(j, count)| {
                *count += (0..hi - lo)
                    .filter(|&i| rule.inside(d[(i, j)], real_r2[lo + i]))
                    .count();
            });
    }
    out
}

fn check(real: &Features, fake: &Features, k: usize, metric: &'static str) -> Result<()> {
    if real.dim != fake.dim || real.n <= k || fake.n <= k || k == 0 {
        return Err(MetricsError::input(
            metric,
            format!("real and fake features of equal width, more than k = {k} (>= 1) rows each"),
            format!(
                "{} x {} real, {} x {} fake",
                real.n, real.dim, fake.n, fake.dim
            ),
        ));
    }
    Ok(())
}

/// Improved precision and recall with `k` neighbours (3 in the paper) and `d ≤ radius`.
pub fn precision_recall(real: &Features, fake: &Features, k: usize) -> Result<PrecisionRecall> {
    check(real, fake, k, "precision-recall")?;
    let (r, f) = (prep(real), prep(fake));
    let (rr, fr) = (kth_radii2(&r, k), kth_radii2(&f, k));
    let c = cross(&r, &f, &rr, &fr, Boundary::Inclusive);
    Ok(PrecisionRecall {
        precision: c.fake_in_real.iter().filter(|&&n| n > 0).count() as f64 / fake.n as f64,
        recall: c.real_in_fake.iter().filter(|&&h| h).count() as f64 / real.n as f64,
    })
}

/// Precision, recall, density and coverage with `k` neighbours (5 in the paper and StudioGAN)
/// and strict `d < radius`.
pub fn prdc(real: &Features, fake: &Features, k: usize) -> Result<Prdc> {
    check(real, fake, k, "prdc")?;
    let (r, f) = (prep(real), prep(fake));
    let (rr, fr) = (kth_radii2(&r, k), kth_radii2(&f, k));
    let c = cross(&r, &f, &rr, &fr, Boundary::Strict);
    let (nf, nr) = (fake.n as f64, real.n as f64);
    let precision = c.fake_in_real.iter().filter(|&&n| n > 0).count() as f64 / nf;
    let density = c.fake_in_real.iter().sum::<usize>() as f64 / (k as f64 * nf);
    let recall = c.real_in_fake.iter().filter(|&&h| h).count() as f64 / nr;
    // Coverage: the nearest fake to real i lies strictly inside real i's own ball.
    let coverage = c.real_min.iter().zip(&rr).filter(|(m, r2)| m < r2).count() as f64 / nr;
    Ok(Prdc {
        precision,
        recall,
        density,
        coverage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(p: &[(f32, f32)]) -> Features {
        Features::new(p.iter().flat_map(|&(x, y)| [x, y]).collect(), p.len(), 2).expect("points")
    }

    /// Reals on a line at 0, 1, 2, 3 (k = 1 radii: 1 each); fakes at exactly distance 1 from a
    /// real (a tie at the radius), at 0.5, and far away at 10.
    #[test]
    fn ties_at_the_radius_count_for_le_and_not_for_lt() {
        let real = pts(&[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]);
        let fake = pts(&[(4.0, 0.0), (0.5, 0.0), (10.0, 0.0), (3.0, 1.0)]);
        // <=: (4,0) is at distance 1 from real 3 (radius 1): inside; (3,1) likewise; 0.5 inside.
        let pr = precision_recall(&real, &fake, 1).expect("pr");
        assert_eq!(pr.precision, 0.75);
        // <: the ties drop out; only (0.5, 0) is strictly inside.
        let d = prdc(&real, &fake, 1).expect("prdc");
        assert_eq!(d.precision, 0.25);
        // (0.5, 0) lies strictly inside the balls of reals 0 and 1: density = 2 / (1 · 4).
        assert_eq!(d.density, 0.5);
        // Coverage: reals 0 and 1 have their nearest fake (0.5) at 0.5 < 1; reals 2, 3 do not
        // (nearest fakes at 1.5 and exactly 1).
        assert_eq!(d.coverage, 0.5);
        // Fake radii (k = 1): (4,0)->1.414 [to (3,1)], (0.5,0)->3.5, (10,0)->6, (3,1)->1.414.
        // Every real is strictly inside the ball of (0.5, 0) (radius 3.5 reaches 3.0 at 2.5).
        assert_eq!(d.recall, 1.0);
    }

    #[test]
    fn too_few_samples_is_an_error() {
        let a = pts(&[(0.0, 0.0), (1.0, 0.0)]);
        assert!(matches!(prdc(&a, &a, 2), Err(MetricsError::Input { .. })));
    }
}
