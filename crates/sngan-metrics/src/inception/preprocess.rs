//! Image preprocessing for the FID Inception: the three resize-to-299 rules in use and their
//! normalisations (research/metrics.md section 3), written on host `f32` planes so that each
//! matches its reference arithmetic:
//! - TF-exact: TF1 `resize_bilinear(align_corners=False)` as torch-fidelity's
//!   `interpolate_bilinear_2d_like_tensorflow1x` computes it (f32 grid `j * (in/out)`, lerp in x
//!   then y), then `(x - 128) / 128` (TTUR, improved-gan, torch-fidelity, StyleGAN2-ADA);
//! - pytorch-fid: `x / 255`, `F.interpolate(bilinear, align_corners=False)` (half-pixel), `2x - 1`;
//! - clean: PIL bicubic (a = -0.5, antialiased) in float mode `'F'`, clip to [0, 255], then
//!   `(x - 128) / 128` (GaParmar/clean-fid `resize.py`, mode `clean`).

use rayon::prelude::*;

use crate::error::{MetricsError, Result};
use sngan_core::ImagesRef;

/// How uint8 images become the Inception input. Recorded in every statistics file, because FIDs
/// computed with different modes differ by several percent (research/metrics.md section 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preprocess {
    /// TF1 asymmetric bilinear resize, `(x - 128) / 128`: the original TF FID/IS. Default.
    #[default]
    TfExact,
    /// pytorch-fid: half-pixel bilinear on `x / 255`, then `2x - 1`.
    PytorchFid,
    /// clean-fid `clean`: PIL bicubic float resize, clip, `(x - 128) / 128`.
    Clean,
}

impl Preprocess {
    /// The name written into statistics files and printed with scores.
    pub fn name(self) -> &'static str {
        match self {
            Self::TfExact => "tf-exact",
            Self::PytorchFid => "pytorch-fid",
            Self::Clean => "clean",
        }
    }

    /// Parses [`Preprocess::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "tf-exact" => Some(Self::TfExact),
            "pytorch-fid" => Some(Self::PytorchFid),
            "clean" => Some(Self::Clean),
            _ => None,
        }
    }

    /// Resizes one `[h, w]` plane on the 0..255 scale to `[oh, ow]` with this mode's rule.
    /// (pytorch-fid resizes `x / 255`; bilinear weights are linear, so this differs from the
    /// reference only by rounding, and [`Preprocess::apply`] follows the reference order.)
    pub fn resize_plane(self, plane: &[f32], h: usize, w: usize, oh: usize, ow: usize) -> Vec<f32> {
        match self {
            Self::TfExact => resize_tf1_bilinear(plane, h, w, oh, ow),
            Self::PytorchFid => resize_torch_bilinear(plane, h, w, oh, ow),
            Self::Clean => resize_pil_bicubic(plane, h, w, oh, ow),
        }
    }

    /// Turns a uint8 NHWC batch (1 or 3 channels; grey is repeated) into the normalised NCHW
    /// `[n, 3, size, size]` input of the network, row-major.
    pub fn apply(self, images: ImagesRef<'_>, size: usize) -> Result<Vec<f32>> {
        let [n, h, w, c] = images.shape();
        if c != 1 && c != 3 {
            return Err(MetricsError::input(
                "preprocess",
                "images with 1 or 3 channels (NHWC uint8)",
                format!("{c} channels"),
            ));
        }
        if h == 0 || w == 0 {
            return Err(MetricsError::input(
                "preprocess",
                "images of at least 1x1 pixels",
                format!("{h}x{w}"),
            ));
        }
        let data = images.data();
        let plane_out = size * size;
        let mut out = vec![0f32; n * 3 * plane_out];
        out.par_chunks_mut(plane_out)
            .enumerate()
            .for_each(|(idx, dst)| {
                let (img, ch) = (idx / 3, idx % 3);
                let src_c = if c == 1 { 0 } else { ch };
                let base = img * h * w * c;
                let plane: Vec<f32> = (0..h * w)
                    .map(|p| f32::from(data[base + p * c + src_c]))
                    .collect();
                self.fill_plane(&plane, h, w, size, dst);
            });
        Ok(out)
    }

    fn fill_plane(self, plane: &[f32], h: usize, w: usize, size: usize, dst: &mut [f32]) {
        match self {
            Self::TfExact => {
                let r = resize_tf1_bilinear(plane, h, w, size, size);
                for (d, v) in dst.iter_mut().zip(r) {
                    *d = (v - 128.0) / 128.0;
                }
            }
            Self::PytorchFid => {
                // torchvision ToTensor: float division by 255, then the network's own resize.
                let unit: Vec<f32> = plane.iter().map(|v| v / 255.0).collect();
                let r = resize_torch_bilinear(&unit, h, w, size, size);
                for (d, v) in dst.iter_mut().zip(r) {
                    *d = 2.0 * v - 1.0;
                }
            }
            Self::Clean => {
                let r = resize_pil_bicubic(plane, h, w, size, size);
                for (d, v) in dst.iter_mut().zip(r) {
                    *d = (v.clamp(0.0, 255.0) - 128.0) / 128.0;
                }
            }
        }
    }
}

impl std::fmt::Display for Preprocess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// TF1 `resize_bilinear(align_corners=False)`: source coordinate `j * in/out` computed in f32
/// (scale rounded to f32 first, as torch-fidelity's `resample_manually`), lower index by
/// truncation, upper index clamped, lerp along x on both rows, then along y.
pub fn resize_tf1_bilinear(plane: &[f32], h: usize, w: usize, oh: usize, ow: usize) -> Vec<f32> {
    let axis = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32)> {
        let scale = (n_in as f64 / n_out as f64) as f32;
        (0..n_out)
            .map(|j| {
                let s = j as f32 * scale;
                let lo = (s as usize).min(n_in - 1);
                let hi = (lo + 1).min(n_in - 1);
                (lo, hi, s - lo as f32)
            })
            .collect()
    };
    let (xs, ys) = (axis(w, ow), axis(h, oh));
    let mut out = vec![0f32; oh * ow];
    for (oy, &(y0, y1, dy)) in ys.iter().enumerate() {
        let (r0, r1) = (&plane[y0 * w..(y0 + 1) * w], &plane[y1 * w..(y1 + 1) * w]);
        for (ox, &(x0, x1, dx)) in xs.iter().enumerate() {
            let top = r0[x0] + (r0[x1] - r0[x0]) * dx;
            let bottom = r1[x0] + (r1[x1] - r1[x0]) * dx;
            out[oy * ow + ox] = top + (bottom - top) * dy;
        }
    }
    out
}

/// PyTorch `F.interpolate(mode="bilinear", align_corners=False)` on the CPU: source coordinate
/// `max((j + 0.5) * in/out - 0.5, 0)` in f32, weights `1 - t`, `t`, and the kernel's order of
/// accumulation (`(a00 w0 + a01 w1) h0 + (a10 w0 + a11 w1) h1`) with the fused multiply-adds
/// its AVX2 build contracts to: bit-identical to torch 2.15 on the fixtures.
pub fn resize_torch_bilinear(plane: &[f32], h: usize, w: usize, oh: usize, ow: usize) -> Vec<f32> {
    let axis = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32, f32)> {
        let scale = n_in as f32 / n_out as f32;
        (0..n_out)
            .map(|j| {
                let s = (scale * (j as f32 + 0.5) - 0.5).max(0.0);
                let lo = (s as usize).min(n_in - 1);
                let hi = if lo < n_in - 1 { lo + 1 } else { lo };
                let t = (s - lo as f32).clamp(0.0, 1.0);
                (lo, hi, 1.0 - t, t)
            })
            .collect()
    };
    let (xs, ys) = (axis(w, ow), axis(h, oh));
    let mut out = vec![0f32; oh * ow];
    for (oy, &(y0, y1, h0, h1)) in ys.iter().enumerate() {
        let (r0, r1) = (&plane[y0 * w..(y0 + 1) * w], &plane[y1 * w..(y1 + 1) * w]);
        for (ox, &(x0, x1, w0, w1)) in xs.iter().enumerate() {
            let t0 = r0[x0].mul_add(w0, r0[x1] * w1);
            let t1 = r1[x0].mul_add(w0, r1[x1] * w1);
            out[oy * ow + ox] = t0.mul_add(h0, t1 * h1);
        }
    }
    out
}

/// Pillow's bicubic kernel (a = -0.5), `bicubic_filter` in `libImaging/Resample.c`.
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` for the box `[0, n_in)`: per output pixel the first input index
/// and normalised f64 weights; the support widens with the downscale factor (antialiasing).
fn pil_coeffs(n_in: usize, n_out: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = n_in as f64 / n_out as f64;
    let filterscale = scale.max(1.0);
    let support = 2.0 * filterscale;
    let ss = 1.0 / filterscale;
    (0..n_out)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(n_in as i64) as usize;
            let mut k: Vec<f64> = (xmin..xmax.max(xmin))
                .map(|x| bicubic((x as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = k.iter().sum();
            if total != 0.0 {
                k.iter_mut().for_each(|v| *v /= total);
            }
            (xmin, k)
        })
        .collect()
}

/// PIL `Image.resize((ow, oh), BICUBIC)` of a mode-`'F'` image: horizontal pass then vertical,
/// each accumulating in f64 and storing f32; an axis whose size does not change is skipped.
pub fn resize_pil_bicubic(plane: &[f32], h: usize, w: usize, oh: usize, ow: usize) -> Vec<f32> {
    let mut cur = plane.to_vec();
    let mut cw = w;
    if ow != w {
        let coeffs = pil_coeffs(w, ow);
        let mut next = vec![0f32; h * ow];
        for y in 0..h {
            let row = &cur[y * w..(y + 1) * w];
            for (xx, (xmin, k)) in coeffs.iter().enumerate() {
                let s: f64 = k
                    .iter()
                    .enumerate()
                    .map(|(i, kv)| f64::from(row[xmin + i]) * kv)
                    .sum();
                next[y * ow + xx] = s as f32;
            }
        }
        cur = next;
        cw = ow;
    }
    if oh != h {
        let coeffs = pil_coeffs(h, oh);
        let mut next = vec![0f32; oh * cw];
        for (yy, (ymin, k)) in coeffs.iter().enumerate() {
            for x in 0..cw {
                let s: f64 = k
                    .iter()
                    .enumerate()
                    .map(|(i, kv)| f64::from(cur[(ymin + i) * cw + x]) * kv)
                    .sum();
                next[yy * cw + x] = s as f32;
            }
        }
        cur = next;
    }
    cur
}
