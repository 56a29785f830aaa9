//! The one seeded host generator of the workspace: SplitMix64 (Steele, Lea and Flood, "Fast
//! Splittable Pseudorandom Number Generators", OOPSLA 2014). Its whole state is one `u64`, so a
//! training checkpoint saves it and a resumed run draws exactly what an uninterrupted one would
//! (a device RNG cannot be saved), and it gives the same numbers on every platform and backend.
//! Shuffles and coin flips of the data order, KID subsets, latents and labels all come from it.

/// `2^64 / phi`, SplitMix64's increment.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective mix of 64 bits (Stafford's "Mix13"). Also a hash:
/// `mix(seed + (i + 1) * GOLDEN)` is draw `i` of a generator seeded with `seed`.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded SplitMix64 generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The state: [`SplitMix64::new`]`(state)` continues the stream exactly.
    pub fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n`, `n > 0`, by Lemire's multiply-shift (bias below `n / 2^64`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// `k` distinct indices of `0..n` in random order (a partial Fisher-Yates), `k <= n`.
    pub fn choose(&mut self, n: usize, k: usize) -> Vec<usize> {
        let k = k.min(n);
        let mut pool: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.below(n - i);
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }

    /// Uniform in `(0, 1]` from 53 random bits: never 0, so its logarithm is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// `n` draws from `N(0, 1)` by Box-Muller, two per pair of uniforms.
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let (u1, u2) = (self.uniform(), self.uniform());
            let r = (-2.0 * u1.ln()).sqrt();
            let theta = std::f64::consts::TAU * u2;
            out.push((r * theta.cos()) as f32);
            out.push((r * theta.sin()) as f32);
        }
        out.truncate(n);
        out
    }

    /// `n` draws from `N(0, 1)` conditioned on `|x| <= threshold` (BigGAN's truncation trick,
    /// `scipy.stats.truncnorm(-t, t)`), by redrawing each value outside until it falls inside.
    ///
    /// # Panics
    /// If `threshold` is not positive and finite (a caller bug: the CLI and configs check it);
    /// below 1e-3 a draw takes more than a thousand tries on average.
    pub fn truncated_normals(&mut self, n: usize, threshold: f64) -> Vec<f32> {
        assert!(
            threshold.is_finite() && threshold > 0.0,
            "truncation threshold must be positive and finite, got {threshold}"
        );
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.extend(
                self.normals(n - out.len())
                    .into_iter()
                    .filter(|x| f64::from(x.abs()) <= threshold),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_splitmix64_and_resumes_from_its_state() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let saved = g.state();
        let a: Vec<u64> = (0..5).map(|_| g.next_u64()).collect();
        let mut h = SplitMix64::new(saved);
        let b: Vec<u64> = (0..5).map(|_| h.next_u64()).collect();
        assert_eq!(a, b);
        assert_eq!(
            mix(3u64.wrapping_add(GOLDEN)),
            SplitMix64::new(3).next_u64()
        );
    }

    #[test]
    fn normals_have_unit_moments_and_truncation_bounds_them() {
        let mut rng = SplitMix64::new(3);
        let x = rng.normals(100_000);
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
        let var = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / x.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "mean {mean}, var {var}"
        );
        let t = rng.truncated_normals(10_000, 0.5);
        assert_eq!(t.len(), 10_000);
        assert!(t.iter().all(|v| v.abs() <= 0.5));
        // The truncated normal on [-0.5, 0.5] has variance about 0.0795.
        let var = t.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / t.len() as f64;
        assert!((var - 0.0795).abs() < 0.005, "var {var}");
    }

    #[test]
    fn choose_draws_distinct_indices_and_shuffle_permutes() {
        let mut rng = SplitMix64::new(1);
        let mut s = rng.choose(50, 20);
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 20);
        let mut v: Vec<usize> = (0..100).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
