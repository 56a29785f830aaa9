//! Shared helpers: fixture paths, JSON cases, and the "hash features" that export.py builds
//! identically in numpy (see the header of fixtures/formulas/export.py).

use std::path::PathBuf;

use sngan_metrics::Features;
use sngan_metrics::inception::{fnv1a64, hash_uniform};

pub fn fixture(case: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(case)
        .join(file)
}

pub fn cases(case: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(case, "cases.json"))
        .expect("fixture cases.json should exist (run export.py)");
    serde_json::from_str(&text).expect("cases.json should be valid JSON")
}

pub fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().expect("fixture value should be a number")
}

fn uniforms(tag: &str, n: usize) -> Vec<f64> {
    let h = fnv1a64(tag);
    (0..n as u64).map(|i| hash_uniform(h, i)).collect()
}

/// `x[i, j] = f32((u(tag/noise, i*d+j) - 0.5) * (1 + (j % 7) * 0.25)
///               + (u(tag/latent, i*8 + j % 8) - 0.5) * 2.0 + offset)`.
pub fn hash_features(tag: &str, n: usize, d: usize, offset: f64) -> Features {
    let noise = uniforms(&format!("{tag}/noise"), n * d);
    let latent = uniforms(&format!("{tag}/latent"), n * 8);
    let mut data = Vec::with_capacity(n * d);
    for i in 0..n {
        for j in 0..d {
            let scale = 1.0 + (j % 7) as f64 * 0.25;
            let x = (noise[i * d + j] - 0.5) * scale + (latent[i * 8 + j % 8] - 0.5) * 2.0 + offset;
            data.push(x as f32);
        }
    }
    Features::new(data, n, d).expect("hash features are finite")
}

/// Logits with std 2 and a +3 bump on class `(7 i) mod 10`.
pub fn hash_logits(tag: &str, n: usize, c: usize) -> Features {
    let u = uniforms(tag, n * c);
    let mut data: Vec<f64> = u.iter().map(|u| (u - 0.5) * 6.928203230275509).collect();
    for i in 0..n {
        data[i * c + (i * 7) % 10] += 3.0;
    }
    Features::new(data.into_iter().map(|v| v as f32).collect(), n, c).expect("finite logits")
}

pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sngan-metrics-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir should be creatable");
    dir
}
