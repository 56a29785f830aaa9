//! The run's host-side random numbers: latents and fake-class labels come from one seeded
//! SplitMix64 (Steele et al. 2014) whose state is a single `u64` saved in every checkpoint, so a
//! resumed run draws exactly what an uninterrupted one would (a device RNG cannot be saved).

use burn::prelude::*;
use burn::tensor::TensorData;
use sngan_data::SplitMix64;

/// Seeded generator of latents and labels.
#[derive(Clone, Debug)]
pub struct HostRng {
    state: u64,
}

impl HostRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The state to save.
    pub fn state(&self) -> u64 {
        self.state
    }

    fn next_u64(&mut self) -> u64 {
        let mut g = SplitMix64::new(self.state);
        let out = g.next_u64();
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        out
    }

    fn uniform(&mut self) -> f64 {
        // 53 random bits in (0, 1]: never 0, so the logarithm below is finite.
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// `n` draws from `N(0, 1)` (Box-Muller).
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

    /// Latents `[batch, z_dim]` from `N(0, I)` on `device`.
    pub fn latents(&mut self, batch: usize, z_dim: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.normals(batch * z_dim), [batch, z_dim]),
            device,
        )
    }

    /// Mixing weights `[batch, 1, 1, 1]` from `U(0, 1]` on `device`.
    pub fn mixing(&mut self, batch: usize, device: &Device) -> Tensor<4> {
        let alpha: Vec<f32> = (0..batch).map(|_| self.uniform() as f32).collect();
        Tensor::from_data(TensorData::new(alpha, [batch, 1, 1, 1]), device)
    }

    /// Class ids `[batch]`, uniform over `0..n_classes`, on `device`.
    pub fn classes(&mut self, batch: usize, n_classes: usize, device: &Device) -> Tensor<1, Int> {
        let ids: Vec<i64> = (0..batch)
            .map(|_| (self.next_u64() % n_classes as u64) as i64)
            .collect();
        Tensor::from_data(TensorData::new(ids, [batch]), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_unit_moments_and_resume_exactly() {
        let mut rng = HostRng::new(3);
        let x = rng.normals(100_000);
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / x.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "mean {mean}, var {var}"
        );
        let saved = rng.state();
        let a = rng.normals(7);
        let b = HostRng::new(saved).normals(7);
        assert_eq!(
            a, b,
            "a generator rebuilt from the saved state continues the stream"
        );
    }
}
