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

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use crate::features::Features;

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

/// Rows per distance block: a block's Gram matrix against 10,000 rows is 10 MB of f64.
const BLOCK: usize = 128;

/// One side of the k-NN metrics, prepared once: the features in f64, their squared norms and
/// each row's squared k-th-neighbour radius. A fixed reference (the MNIST yardstick's real
/// digits) keeps its `Manifold` instead of finding its neighbours at every evaluation.
#[derive(Debug, Clone)]
pub struct Manifold {
    m: Mat<f64>,
    norms: Vec<f64>,
    radii2: Vec<f64>,
    k: usize,
}

impl Manifold {
    /// The manifold of `features` with `k`-th-neighbour balls.
    ///
    /// # Errors
    /// `k` = 0, or no more than `k` rows.
    pub fn new(features: &Features, k: usize) -> Result<Self> {
        if k == 0 || features.n <= k {
            return Err(MetricsError::input(
                "k-NN manifold",
                format!("more than k = {k} (>= 1) feature rows"),
                format!("{} rows", features.n),
            ));
        }
        let dim = features.dim;
        let m = Mat::from_fn(features.n, dim, |i, j| {
            f64::from(features.data[i * dim + j])
        });
        let norms = (0..features.n)
            .map(|i| (0..dim).map(|j| m[(i, j)] * m[(i, j)]).sum())
            .collect();
        let mut manifold = Self {
            m,
            norms,
            radii2: Vec::new(),
            k,
        };
        manifold.radii2 = kth_radii2(&manifold, k);
        Ok(manifold)
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.m.nrows()
    }

    /// Whether there are no rows (never, for a built manifold).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Feature width.
    pub fn dim(&self) -> usize {
        self.m.ncols()
    }

    /// The `k` of its balls.
    pub fn k(&self) -> usize {
        self.k
    }
}

/// Calls `row(i, d2)` for every row `i` of `a` with its squared distances `d2[j]` to every row
/// `j` of `b`, as `d²(a_i, b_j) = |a_i|² + |b_j|² - 2 a_i·b_j` (clamped at 0), blocks of
/// [`BLOCK`] rows of `a` in parallel; `fold` gets each worker's state once per block.
fn for_each_row<S: Send>(
    a: &Manifold,
    b: &Manifold,
    init: impl Fn() -> S + Sync + Send,
    row: impl Fn(&mut S, usize, &[f64]) + Sync + Send,
) -> Vec<S> {
    let (na, nb) = (a.len(), b.len());
    let blocks: Vec<usize> = (0..na).step_by(BLOCK).collect();
    blocks
        .into_par_iter()
        .fold(
            || (Mat::<f64>::zeros(nb, BLOCK), vec![0.0; nb], init()),
            |(mut gram, mut d2, mut state), lo| {
                let hi = (lo + BLOCK).min(na);
                // Column i of `gram` is b · a_i: contiguous over b's rows (faer is column-major).
                matmul(
                    gram.as_mut().subcols_mut(0, hi - lo),
                    Accum::Replace,
                    b.m.as_ref(),
                    a.m.subrows(lo, hi - lo).transpose(),
                    1.0,
                    Par::Seq,
                );
                for i in 0..hi - lo {
                    let col = gram.col(i);
                    let na2 = a.norms[lo + i];
                    for (j, (d, nb2)) in d2.iter_mut().zip(&b.norms).enumerate() {
                        *d = (na2 + nb2 - 2.0 * col[j]).max(0.0);
                    }
                    row(&mut state, lo + i, &d2);
                }
                (gram, d2, state)
            },
        )
        .map(|(_, _, state)| state)
        .collect()
}

/// Squared distance from each row to its k-th nearest neighbour in the same set (the row
/// itself, at distance 0, does not count).
fn kth_radii2(x: &Manifold, k: usize) -> Vec<f64> {
    let parts = for_each_row(x, x, Vec::new, |out: &mut Vec<(usize, f64)>, i, d2| {
        // The k smallest distances to other rows, ascending.
        let mut best = vec![f64::INFINITY; k];
        for (j, &v) in d2.iter().enumerate() {
            if j != i && v < best[k - 1] {
                let at = best.partition_point(|&b| b <= v);
                best.copy_within(at..k - 1, at + 1);
                best[at] = v;
            }
        }
        out.push((i, best[k - 1]));
    });
    let mut radii = vec![0.0; x.len()];
    for (i, r) in parts.into_iter().flatten() {
        radii[i] = r;
    }
    radii
}

/// One pass over the real x fake distances:
/// - per fake `j`: how many real balls hold it (`inside(d²(r_i, f_j), r²_i)`);
/// - per real `i`: whether some fake ball holds it, and its smallest squared distance to a fake.
struct Cross {
    fake_in_real: Vec<usize>,
    real_in_fake: Vec<bool>,
    real_min: Vec<f64>,
}

fn cross(real: &Manifold, fake: &Manifold, rule: Boundary) -> Cross {
    let (nr, nf) = (real.len(), fake.len());
    let parts = for_each_row(
        real,
        fake,
        || (vec![0usize; nf], Vec::new()),
        |(counts, rows): &mut (Vec<usize>, Vec<(usize, bool, f64)>), i, d2| {
            let r2 = real.radii2[i];
            let mut hit = false;
            let mut min = f64::INFINITY;
            for ((&v, f2), count) in d2.iter().zip(&fake.radii2).zip(counts.iter_mut()) {
                hit |= rule.inside(v, *f2);
                min = min.min(v);
                *count += usize::from(rule.inside(v, r2));
            }
            rows.push((i, hit, min));
        },
    );
    let mut out = Cross {
        fake_in_real: vec![0; nf],
        real_in_fake: vec![false; nr],
        real_min: vec![0.0; nr],
    };
    for (counts, rows) in parts {
        for (total, c) in out.fake_in_real.iter_mut().zip(counts) {
            *total += c;
        }
        for (i, hit, min) in rows {
            out.real_in_fake[i] = hit;
            out.real_min[i] = min;
        }
    }
    out
}

fn check(real: (usize, usize), fake: &Features, k: usize, metric: &'static str) -> Result<()> {
    let (n, dim) = real;
    if dim != fake.dim || n <= k || fake.n <= k || k == 0 {
        return Err(MetricsError::input(
            metric,
            format!("real and fake features of equal width, more than k = {k} (>= 1) rows each"),
            format!("{n} x {dim} real, {} x {} fake", fake.n, fake.dim),
        ));
    }
    Ok(())
}

/// Improved precision and recall with `k` neighbours (3 in the paper) and `d ≤ radius`.
pub fn precision_recall(real: &Features, fake: &Features, k: usize) -> Result<PrecisionRecall> {
    check((real.n, real.dim), fake, k, "precision-recall")?;
    let (r, f) = (Manifold::new(real, k)?, Manifold::new(fake, k)?);
    let c = cross(&r, &f, Boundary::Inclusive);
    Ok(PrecisionRecall {
        precision: c.fake_in_real.iter().filter(|&&n| n > 0).count() as f64 / fake.n as f64,
        recall: c.real_in_fake.iter().filter(|&&h| h).count() as f64 / real.n as f64,
    })
}

/// Precision, recall, density and coverage with `k` neighbours (5 in the paper and StudioGAN)
/// and strict `d < radius`.
pub fn prdc(real: &Features, fake: &Features, k: usize) -> Result<Prdc> {
    check((real.n, real.dim), fake, k, "prdc")?;
    prdc_against(&Manifold::new(real, k)?, fake)
}

/// [`prdc`] of `fake` against a real side prepared once, with its `k`.
pub fn prdc_against(real: &Manifold, fake: &Features) -> Result<Prdc> {
    let k = real.k();
    check((real.len(), real.dim()), fake, k, "prdc")?;
    let f = Manifold::new(fake, k)?;
    let c = cross(real, &f, Boundary::Strict);
    let (nf, nr) = (fake.n as f64, real.len() as f64);
    let precision = c.fake_in_real.iter().filter(|&&n| n > 0).count() as f64 / nf;
    let density = c.fake_in_real.iter().sum::<usize>() as f64 / (k as f64 * nf);
    let recall = c.real_in_fake.iter().filter(|&&h| h).count() as f64 / nr;
    // Coverage: the nearest fake to real i lies strictly inside real i's own ball.
    let coverage = c
        .real_min
        .iter()
        .zip(&real.radii2)
        .filter(|(m, r2)| m < r2)
        .count() as f64
        / nr;
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

    /// Several blocks of rows, split across workers: the same counts as the definition, with
    /// distances taken directly and neighbours found by sorting.
    #[test]
    fn blocked_distances_count_as_the_definition_does() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let (nr, nf, dim, k) = (3 * BLOCK + 17, 2 * BLOCK - 5, 7, 5);
        let mut draw = |n: usize, spread: f32| {
            let data = (0..n * dim).map(|_| spread * next()).collect();
            Features::new(data, n, dim).expect("features")
        };
        let (real, fake) = (draw(nr, 1.0), draw(nf, 1.3));
        let d2 = |a: &Features, i: usize, b: &Features, j: usize| -> f64 {
            (0..dim)
                .map(|c| f64::from(a.data[i * dim + c]) - f64::from(b.data[j * dim + c]))
                .map(|d| d * d)
                .sum()
        };
        let radii = |x: &Features| -> Vec<f64> {
            (0..x.n)
                .map(|i| {
                    let mut row: Vec<f64> = (0..x.n).map(|j| d2(x, i, x, j)).collect();
                    row.sort_by(f64::total_cmp);
                    row[k]
                })
                .collect()
        };
        let (rr, fr) = (radii(&real), radii(&fake));
        let precision = (0..nf)
            .filter(|&j| (0..nr).any(|i| d2(&real, i, &fake, j) < rr[i]))
            .count();
        let recall = (0..nr)
            .filter(|&i| (0..nf).any(|j| d2(&real, i, &fake, j) < fr[j]))
            .count();
        let inside: usize = (0..nf)
            .map(|j| (0..nr).filter(|&i| d2(&real, i, &fake, j) < rr[i]).count())
            .sum();
        let coverage = (0..nr)
            .filter(|&i| (0..nf).any(|j| d2(&real, i, &fake, j) < rr[i]))
            .count();
        let got = prdc(&real, &fake, k).expect("prdc");
        assert_eq!(got.precision, precision as f64 / nf as f64);
        assert_eq!(got.recall, recall as f64 / nr as f64);
        assert_eq!(got.density, inside as f64 / (k * nf) as f64);
        assert_eq!(got.coverage, coverage as f64 / nr as f64);
        assert!(recall > 0 && recall < nr && precision < nf, "{got:?}");
    }

    #[test]
    fn too_few_samples_is_an_error() {
        let a = pts(&[(0.0, 0.0), (1.0, 0.0)]);
        assert!(matches!(prdc(&a, &a, 2), Err(MetricsError::Input { .. })));
    }
}
