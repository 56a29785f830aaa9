//! Inception Score (Salimans et al., "Improved Techniques for Training GANs", arXiv:1606.03498),
//! as openai/improved-gan `inception_score/model.py` computes it: softmax of the logits (the
//! original uses the fc **without** bias, 1008 classes), contiguous splits
//! `[i·N/S, (i+1)·N/S)`, per split `exp(mean_x KL(p(y|x) ‖ p(y)))` with `p(y)` the split mean, and
//! the mean and population standard deviation (ddof 0) over splits. Softmax and logs in f64
//! (torch-fidelity `metric_isc.py` does the same).

use crate::error::{MetricsError, Result};
use crate::features::Features;

/// An Inception Score with its protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InceptionScore {
    /// Mean over splits.
    pub mean: f64,
    /// Population standard deviation over splits (`np.std`).
    pub std: f64,
    /// Splits.
    pub splits: usize,
    /// Samples.
    pub n: usize,
}

/// Row-wise softmax in f64 (max-subtracted).
pub fn softmax_f64(logits: &Features) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.data.len());
    for i in 0..logits.n {
        let row = logits.row(i);
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let e: Vec<f64> = row.iter().map(|&v| (f64::from(v) - max).exp()).collect();
        let z: f64 = e.iter().sum();
        out.extend(e.iter().map(|v| v / z));
    }
    out
}

/// IS of class probabilities `probs` (`[n, classes]` row-major, rows summing to 1).
pub fn inception_score_from_probs(
    probs: &[f64],
    n: usize,
    classes: usize,
    splits: usize,
) -> Result<InceptionScore> {
    if splits == 0 || n < splits || probs.len() != n * classes || classes == 0 {
        return Err(MetricsError::input(
            "inception-score",
            format!("n >= splits >= 1 and {n} x {classes} probabilities"),
            format!("n = {n}, splits = {splits}, {} values", probs.len()),
        ));
    }
    let mut scores = Vec::with_capacity(splits);
    for s in 0..splits {
        let (lo, hi) = (s * n / splits, (s + 1) * n / splits);
        let rows = hi - lo;
        let mut py = vec![0.0f64; classes];
        for i in lo..hi {
            for (c, p) in py.iter_mut().enumerate() {
                *p += probs[i * classes + c];
            }
        }
        py.iter_mut().for_each(|p| *p /= rows as f64);
        let log_py: Vec<f64> = py.iter().map(|p| p.ln()).collect();
        let mut kl_sum = 0.0;
        for i in lo..hi {
            let row = &probs[i * classes..(i + 1) * classes];
            // p log p -> 0 as p -> 0: a zero probability adds nothing (numpy would give NaN).
            kl_sum += row
                .iter()
                .zip(&log_py)
                .filter(|(p, _)| **p > 0.0)
                .map(|(p, lq)| p * (p.ln() - lq))
                .sum::<f64>();
        }
        scores.push((kl_sum / rows as f64).exp());
    }
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / splits as f64;
    Ok(InceptionScore {
        mean,
        std: var.sqrt(),
        splits,
        n,
    })
}

/// IS of logits (`[n, classes]`): softmax in f64, then [`inception_score_from_probs`]. Pass the
/// bias-free logits for the original protocol (StudioGAN uses the biased ones, 1 split).
pub fn inception_score(logits: &Features, splits: usize) -> Result<InceptionScore> {
    let probs = softmax_f64(logits);
    inception_score_from_probs(&probs, logits.n, logits.dim, splits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_rows_score_one_and_k_distinct_classes_score_k() {
        let logits = Features::new([0.3, -1.0, 2.0, 0.0].repeat(6), 6, 4).expect("finite");
        let is = inception_score(&logits, 2).expect("is");
        assert!((is.mean - 1.0).abs() < 1e-12 && is.std < 1e-12);
        // One-hot probabilities over 4 classes, spread evenly in each split.
        let k = 4;
        let mut p = vec![0.0; 8 * k];
        for i in 0..8 {
            p[i * k + i % k] = 1.0;
        }
        let is = inception_score_from_probs(&p, 8, k, 2).expect("is");
        assert!((is.mean - 4.0).abs() < 1e-12, "{}", is.mean);
    }

    #[test]
    fn splits_follow_i_n_over_s_boundaries() {
        // 5 rows, 2 splits: rows [0, 2) and [2, 5). Split 0 has two distinct one-hots (IS 2),
        // split 1 three distinct one-hots (IS 3): mean 2.5, population std 0.5.
        let p = [
            1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0,
        ];
        let is = inception_score_from_probs(&p, 5, 3, 2).expect("is");
        assert!(
            (is.mean - 2.5).abs() < 1e-12 && (is.std - 0.5).abs() < 1e-12,
            "{is:?}"
        );
        assert!(inception_score_from_probs(&p, 5, 3, 6).is_err());
    }
}
