//! Resizes of 8-bit HWC images that reproduce, to the pixel, the ones the reference pipelines
//! used: OpenCV's `cv2.resize(.., INTER_LINEAR)` (BSSN; exact 2x goes to OpenCV's INTER_AREA
//! fast path, the 2x2 mean `(a+b+c+d+2)>>2`) and Pillow's `Image.resize` with BOX, BILINEAR,
//! BICUBIC and LANCZOS (torchvision `Resize` on PIL images, `scipy.misc.imresize`, BigGAN,
//! mimicry). Ports of `opencv/opencv modules/imgproc/src/resize.cpp` (generic fixed-point path,
//! 11-bit coefficients) and `python-pillow/Pillow src/libImaging/Resample.c` (22-bit
//! coefficients), following research/data.md section 8 and Appendix A; checked against
//! opencv-python 5.0.0 and Pillow 13.0.0 by the fixtures in `tests/fixtures/resize/`.

use sngan_core::Image;

/// Which reference resize to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Filter {
    /// `cv2.resize(img, (w, h))` with the default `INTER_LINEAR` (2-tap, no antialiasing); an
    /// exact 2x reduction in both directions is OpenCV's INTER_AREA path, the BSSN 2x2 mean.
    Cv2Linear,
    /// `PIL.Image.resize(.., Image.BOX)`.
    PilBox,
    /// `PIL.Image.resize(.., Image.BILINEAR)`, antialiased (torchvision `Resize` default).
    PilBilinear,
    /// `PIL.Image.resize(.., Image.BICUBIC)` (Keys cubic, a = -0.5), antialiased.
    PilBicubic,
    /// `PIL.Image.resize(.., Image.LANCZOS)` (3 lobes), antialiased.
    PilLanczos,
}

impl Filter {
    /// Every filter, for help texts and parsing.
    pub const ALL: [Filter; 5] = [
        Filter::Cv2Linear,
        Filter::PilBox,
        Filter::PilBilinear,
        Filter::PilBicubic,
        Filter::PilLanczos,
    ];

    /// Short name used in dataset identities, e.g. `stl10-unlabeled-48-cv2linear`.
    pub fn name(self) -> &'static str {
        match self {
            Filter::Cv2Linear => "cv2linear",
            Filter::PilBox => "pilbox",
            Filter::PilBilinear => "pilbilinear",
            Filter::PilBicubic => "pilbicubic",
            Filter::PilLanczos => "pillanczos",
        }
    }

    fn pil_kernel(self) -> Option<PilKernel> {
        match self {
            Filter::Cv2Linear => None,
            Filter::PilBox => Some(PilKernel::Box),
            Filter::PilBilinear => Some(PilKernel::Bilinear),
            Filter::PilBicubic => Some(PilKernel::Bicubic),
            Filter::PilLanczos => Some(PilKernel::Lanczos),
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Filter {
    type Err = crate::DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| crate::DataError::Invalid {
                what: "resize filter".into(),
                expected: Filter::ALL.map(Filter::name).join(", "),
                found: s.into(),
            })
    }
}

/// Resizes `image` to `height x width` with `filter`.
///
/// Building a [`Resizer`] once and reusing it is faster when many images share a size.
pub fn resize(image: &Image, height: usize, width: usize, filter: Filter) -> Image {
    Resizer::new(image.height, image.width, height, width, filter).resize(image)
}

/// The BSSN 2x2 mean, `(a + b + c + d + 2) >> 2` over each 2x2 block (OpenCV INTER_AREA at
/// exactly 2x); an odd last row or column is dropped, as `w / 2`, `h / 2` do.
///
/// # Shapes
/// - `src`: `[h, w, cn]` bytes
/// - output: `[h / 2, w / 2, cn]` bytes
pub fn mean2x2(src: &[u8], h: usize, w: usize, cn: usize) -> Vec<u8> {
    assert_eq!(src.len(), h * w * cn, "source should hold h * w * cn bytes");
    let (dh, dw) = (h / 2, w / 2);
    let mut out = vec![0u8; dh * dw * cn];
    for y in 0..dh {
        let r0 = &src[(2 * y) * w * cn..(2 * y + 1) * w * cn];
        let r1 = &src[(2 * y + 1) * w * cn..(2 * y + 2) * w * cn];
        let o = &mut out[y * dw * cn..(y + 1) * dw * cn];
        for x in 0..dw {
            for c in 0..cn {
                let i = 2 * x * cn + c;
                let s = r0[i] as u32 + r0[i + cn] as u32 + r1[i] as u32 + r1[i + cn] as u32;
                o[x * cn + c] = ((s + 2) >> 2) as u8;
            }
        }
    }
    out
}

/// A resize from one fixed size to another with its coefficient tables computed once.
#[derive(Clone, Debug)]
pub struct Resizer {
    src: [usize; 2],
    dst: [usize; 2],
    filter: Filter,
    plan: Plan,
}

#[derive(Clone, Debug)]
enum Plan {
    Identity,
    Empty,
    Area2x,
    Cv2(Cv2Tables),
    Pil {
        horizontal: Option<PilTable>,
        vertical: Option<PilTable>,
    },
}

impl Resizer {
    /// Plans a resize of `src_h x src_w` images to `dst_h x dst_w`.
    pub fn new(src_h: usize, src_w: usize, dst_h: usize, dst_w: usize, filter: Filter) -> Self {
        let plan = if dst_h == 0 || dst_w == 0 || src_h == 0 || src_w == 0 {
            Plan::Empty
        } else if filter == Filter::Cv2Linear {
            if src_h == dst_h && src_w == dst_w {
                Plan::Identity
            } else if src_w == 2 * dst_w && src_h == 2 * dst_h {
                Plan::Area2x
            } else {
                Plan::Cv2(Cv2Tables::new(src_h, src_w, dst_h, dst_w))
            }
        } else {
            let kernel = filter.pil_kernel().unwrap_or(PilKernel::Bilinear);
            let horizontal = (dst_w != src_w).then(|| PilTable::new(src_w, dst_w, kernel));
            let vertical = (dst_h != src_h).then(|| PilTable::new(src_h, dst_h, kernel));
            if horizontal.is_none() && vertical.is_none() {
                Plan::Identity
            } else {
                Plan::Pil {
                    horizontal,
                    vertical,
                }
            }
        };
        Self {
            src: [src_h, src_w],
            dst: [dst_h, dst_w],
            filter,
            plan,
        }
    }

    /// The filter this resizer reproduces.
    pub fn filter(&self) -> Filter {
        self.filter
    }

    /// `[height, width]` of the output.
    pub fn output_size(&self) -> [usize; 2] {
        self.dst
    }

    /// Resizes one image of the planned source size.
    ///
    /// # Panics
    /// If `image` is not of the planned source size.
    pub fn resize(&self, image: &Image) -> Image {
        let pixels = self.resize_raw(&image.pixels, image.channels);
        Image::new(self.dst[0], self.dst[1], image.channels, pixels)
    }

    /// Resizes raw HWC bytes with `cn` channels of the planned source size.
    ///
    /// # Panics
    /// If `src.len() != src_h * src_w * cn`.
    pub fn resize_raw(&self, src: &[u8], cn: usize) -> Vec<u8> {
        let [sh, sw] = self.src;
        let [dh, dw] = self.dst;
        assert_eq!(
            src.len(),
            sh * sw * cn,
            "source should have the size the resizer was planned for"
        );
        match &self.plan {
            Plan::Empty => vec![0u8; dh * dw * cn],
            Plan::Identity => src.to_vec(),
            Plan::Area2x => mean2x2(src, sh, sw, cn),
            Plan::Cv2(tables) => tables.resize(src, sw, cn),
            Plan::Pil {
                horizontal,
                vertical,
            } => pil_resize(src, sh, sw, cn, horizontal.as_ref(), vertical.as_ref()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OpenCV INTER_LINEAR, CV_8U, generic fixed-point path (INTER_RESIZE_COEF_SCALE = 2048).

const CV_SCALE: f32 = 2048.0;

#[derive(Clone, Debug)]
struct Cv2Tables {
    /// Per output column: left source column (clamped) and the two weights.
    x_ofs: Vec<usize>,
    x_coef: Vec<[i32; 2]>,
    /// Per output row: top source row, unclamped (the edge row is replicated), and two weights.
    y_ofs: Vec<i64>,
    y_coef: Vec<[i32; 2]>,
    src_h: usize,
}

impl Cv2Tables {
    fn new(src_h: usize, src_w: usize, dst_h: usize, dst_w: usize) -> Self {
        // OpenCV computes scale as 1 / (dst / src), not src / dst; the f32 rounding matters.
        let scale_x = 1.0 / (dst_w as f64 / src_w as f64);
        let mut x_ofs = Vec::with_capacity(dst_w);
        let mut x_coef = Vec::with_capacity(dst_w);
        for dx in 0..dst_w {
            let mut f = ((dx as f64 + 0.5) * scale_x - 0.5) as f32;
            let mut sx = f.floor() as i64;
            f -= sx as f32;
            // Horizontally OpenCV clamps the fraction at both borders.
            if sx < 0 {
                f = 0.0;
                sx = 0;
            }
            if sx >= src_w as i64 - 1 {
                f = 0.0;
                sx = src_w as i64 - 1;
            }
            x_ofs.push(sx as usize);
            x_coef.push(cv_weights(f));
        }
        let scale_y = 1.0 / (dst_h as f64 / src_h as f64);
        let mut y_ofs = Vec::with_capacity(dst_h);
        let mut y_coef = Vec::with_capacity(dst_h);
        for dy in 0..dst_h {
            // Vertically the fraction is kept and rows are clamped (found empirically, see
            // research/data.md section 8.1: clamping the fraction gives +-1 on upscales).
            let mut f = ((dy as f64 + 0.5) * scale_y - 0.5) as f32;
            let sy = f.floor() as i64;
            f -= sy as f32;
            y_ofs.push(sy);
            y_coef.push(cv_weights(f));
        }
        Self {
            x_ofs,
            x_coef,
            y_ofs,
            y_coef,
            src_h,
        }
    }

    /// Horizontal pass of source row `y` into `out` (`dst_w * cn` values, scaled by 2048).
    fn hrow(&self, src: &[u8], y: usize, sw: usize, cn: usize, out: &mut [i32]) {
        let row = &src[y * sw * cn..(y + 1) * sw * cn];
        match cn {
            1 => self.hrow_n::<1>(row, sw, out),
            3 => self.hrow_n::<3>(row, sw, out),
            4 => self.hrow_n::<4>(row, sw, out),
            _ => {
                for (dx, (&sx, &[a0, a1])) in self.x_ofs.iter().zip(&self.x_coef).enumerate() {
                    let o = &mut out[dx * cn..(dx + 1) * cn];
                    for c in 0..cn {
                        o[c] = if sx + 1 < sw {
                            row[sx * cn + c] as i32 * a0 + row[(sx + 1) * cn + c] as i32 * a1
                        } else {
                            row[sx * cn + c] as i32 * 2048
                        };
                    }
                }
            }
        }
    }

    /// `hrow` for `CN` channels; a column without a right neighbour is the edge value x 2048.
    fn hrow_n<const CN: usize>(&self, row: &[u8], sw: usize, out: &mut [i32]) {
        for ((&sx, &[a0, a1]), o) in self
            .x_ofs
            .iter()
            .zip(&self.x_coef)
            .zip(out.chunks_exact_mut(CN))
        {
            let p0 = &row[sx * CN..(sx + 1) * CN];
            if sx + 1 < sw {
                let p1 = &row[(sx + 1) * CN..(sx + 2) * CN];
                for c in 0..CN {
                    o[c] = p0[c] as i32 * a0 + p1[c] as i32 * a1;
                }
            } else {
                for c in 0..CN {
                    o[c] = p0[c] as i32 * 2048;
                }
            }
        }
    }

    fn resize(&self, src: &[u8], sw: usize, cn: usize) -> Vec<u8> {
        let dw = self.x_ofs.len();
        let dh = self.y_ofs.len();
        let row_len = dw * cn;
        let last = self.src_h as i64 - 1;
        // Horizontal passes of every source row used, computed once each.
        let mut cache: Vec<Option<Vec<i32>>> = vec![None; self.src_h];
        let mut out = vec![0u8; dh * row_len];
        for dy in 0..dh {
            let sy = self.y_ofs[dy];
            let r0 = sy.clamp(0, last) as usize;
            let r1 = (sy + 1).clamp(0, last) as usize;
            for r in [r0, r1] {
                if cache[r].is_none() {
                    let mut buf = vec![0i32; row_len];
                    self.hrow(src, r, sw, cn, &mut buf);
                    cache[r] = Some(buf);
                }
            }
            let (Some(h0), Some(h1)) = (&cache[r0], &cache[r1]) else {
                continue;
            };
            let [b0, b1] = self.y_coef[dy];
            let o = &mut out[dy * row_len..(dy + 1) * row_len];
            for i in 0..row_len {
                // VResizeLinear<uchar, int, short, FixedPtCast<int, uchar, 22>>
                let v = (((b0 * (h0[i] >> 4)) >> 16) + ((b1 * (h1[i] >> 4)) >> 16) + 2) >> 2;
                o[i] = v.clamp(0, 255) as u8;
            }
        }
        out
    }
}

/// `[round((1 - f) * 2048), round(f * 2048)]` in f32 with ties to even (`saturate_cast<short>`).
fn cv_weights(f: f32) -> [i32; 2] {
    [
        ((1.0f32 - f) * CV_SCALE).round_ties_even() as i32,
        (f * CV_SCALE).round_ties_even() as i32,
    ]
}

// ---------------------------------------------------------------------------------------------
// Pillow Resample.c, 8 bits per channel, PRECISION_BITS = 32 - 8 - 2.

const PREC: u32 = 22;

#[derive(Clone, Copy, Debug)]
enum PilKernel {
    Box,
    Bilinear,
    Bicubic,
    Lanczos,
}

impl PilKernel {
    fn support(self) -> f64 {
        match self {
            PilKernel::Box => 0.5,
            PilKernel::Bilinear => 1.0,
            PilKernel::Bicubic => 2.0,
            PilKernel::Lanczos => 3.0,
        }
    }

    fn eval(self, x: f64) -> f64 {
        match self {
            PilKernel::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            PilKernel::Bilinear => {
                let x = x.abs();
                if x < 1.0 { 1.0 - x } else { 0.0 }
            }
            PilKernel::Bicubic => {
                // Keys cubic with a = -0.5, as Pillow's bicubic_filter.
                let a = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * a
                } else {
                    0.0
                }
            }
            PilKernel::Lanczos => {
                let sinc = |x: f64| {
                    if x == 0.0 {
                        1.0
                    } else {
                        let y = x * std::f64::consts::PI;
                        y.sin() / y
                    }
                };
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis.
#[derive(Clone, Debug)]
struct PilTable {
    /// Per output index: first input index and number of taps.
    bounds: Vec<(usize, usize)>,
    /// `ksize` fixed-point coefficients per output index.
    coeffs: Vec<i32>,
    ksize: usize,
}

impl PilTable {
    fn new(in_size: usize, out_size: usize, kernel: PilKernel) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = kernel.support() * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(out_size);
        let mut coeffs = vec![0i32; out_size * ksize];
        let mut w = vec![0f64; ksize];
        for xx in 0..out_size {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C `(int)` casts truncate toward zero, as `as i64` does.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let n = xmax.saturating_sub(xmin).min(ksize);
            let mut ww = 0.0;
            for (x, wx) in w.iter_mut().enumerate().take(n) {
                *wx = kernel.eval((x as f64 + xmin as f64 - center + 0.5) * ss);
                ww += *wx;
            }
            for x in 0..n {
                let k = if ww != 0.0 { w[x] / ww } else { w[x] };
                let v = k * (1u32 << PREC) as f64;
                coeffs[xx * ksize + x] = if k < 0.0 {
                    (-0.5 + v) as i32
                } else {
                    (0.5 + v) as i32
                };
            }
            bounds.push((xmin, n));
        }
        Self {
            bounds,
            coeffs,
            ksize,
        }
    }
}

fn clip8(v: i32) -> u8 {
    if v >= (1 << PREC << 8) {
        255
    } else if v <= 0 {
        0
    } else {
        (v >> PREC) as u8
    }
}

fn pil_resize(
    src: &[u8],
    sh: usize,
    sw: usize,
    cn: usize,
    horizontal: Option<&PilTable>,
    vertical: Option<&PilTable>,
) -> Vec<u8> {
    // Rows the vertical pass reads; the horizontal pass only produces those (Pillow's
    // ybox_first / ybox_last).
    let (first, last) = match vertical {
        Some(v) => {
            let first = v.bounds.first().map_or(0, |b| b.0);
            let last = v.bounds.last().map_or(sh, |b| b.0 + b.1);
            (first, last)
        }
        None => (0, sh),
    };
    let (tmp, w) = match horizontal {
        Some(hz) => {
            let dw = hz.bounds.len();
            let rows = last - first;
            let mut tmp = vec![0u8; dw * rows * cn];
            let src_rows = &src[first * sw * cn..last * sw * cn];
            match cn {
                1 => pil_horizontal::<1>(src_rows, sw, hz, &mut tmp),
                3 => pil_horizontal::<3>(src_rows, sw, hz, &mut tmp),
                4 => pil_horizontal::<4>(src_rows, sw, hz, &mut tmp),
                _ => pil_horizontal_any(src_rows, sw, cn, hz, &mut tmp),
            }
            (tmp, dw)
        }
        None => (src[first * sw * cn..last * sw * cn].to_vec(), sw),
    };
    match vertical {
        Some(v) => {
            let dh = v.bounds.len();
            let row_len = w * cn;
            let mut out = vec![0u8; row_len * dh];
            // Taps outer, row inner: the inner loop is a plain multiply-add over a row.
            let mut acc = vec![0i32; row_len];
            for (yy, &(ymin, n)) in v.bounds.iter().enumerate() {
                let k = &v.coeffs[yy * v.ksize..yy * v.ksize + n];
                acc.fill(1 << (PREC - 1));
                let base = ymin - first;
                for (y, &ky) in k.iter().enumerate() {
                    let row = &tmp[(base + y) * row_len..(base + y + 1) * row_len];
                    for (a, &p) in acc.iter_mut().zip(row) {
                        *a = a.wrapping_add((p as i32).wrapping_mul(ky));
                    }
                }
                for (o, &a) in out[yy * row_len..(yy + 1) * row_len].iter_mut().zip(&acc) {
                    *o = clip8(a);
                }
            }
            out
        }
        None => tmp,
    }
}

/// Horizontal pass for `CN` interleaved channels (Pillow's `ImagingResampleHorizontal_8bpc`).
fn pil_horizontal<const CN: usize>(rows: &[u8], sw: usize, hz: &PilTable, out: &mut [u8]) {
    let dw = hz.bounds.len();
    for (row, o) in rows
        .chunks_exact(sw * CN)
        .zip(out.chunks_exact_mut(dw * CN))
    {
        for ((xx, &(xmin, n)), px_out) in hz.bounds.iter().enumerate().zip(o.chunks_exact_mut(CN)) {
            let k = &hz.coeffs[xx * hz.ksize..xx * hz.ksize + n];
            let taps = &row[xmin * CN..(xmin + n) * CN];
            let mut acc = [1i32 << (PREC - 1); CN];
            for (px, &kx) in taps.chunks_exact(CN).zip(k) {
                for c in 0..CN {
                    acc[c] = acc[c].wrapping_add((px[c] as i32).wrapping_mul(kx));
                }
            }
            for c in 0..CN {
                px_out[c] = clip8(acc[c]);
            }
        }
    }
}

fn pil_horizontal_any(rows: &[u8], sw: usize, cn: usize, hz: &PilTable, out: &mut [u8]) {
    let dw = hz.bounds.len();
    for (row, o) in rows
        .chunks_exact(sw * cn)
        .zip(out.chunks_exact_mut(dw * cn))
    {
        for (xx, &(xmin, n)) in hz.bounds.iter().enumerate() {
            let k = &hz.coeffs[xx * hz.ksize..xx * hz.ksize + n];
            for c in 0..cn {
                let mut ss: i32 = 1 << (PREC - 1);
                for (x, &kx) in k.iter().enumerate() {
                    ss = ss.wrapping_add((row[(x + xmin) * cn + c] as i32).wrapping_mul(kx));
                }
                o[xx * cn + c] = clip8(ss);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(h: usize, w: usize, cn: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(h * w * cn);
        for y in 0..h {
            for x in 0..w {
                for c in 0..cn {
                    v.push(((c * 101 + y * 7 + x * 3 + (x * y) % 7) % 256) as u8);
                }
            }
        }
        v
    }

    #[test]
    fn constant_image_stays_constant_for_every_filter() {
        for filter in Filter::ALL {
            for (sh, sw, dh, dw) in [(37, 53, 16, 16), (16, 16, 37, 53), (96, 96, 48, 48)] {
                let img = Image::new(sh, sw, 3, vec![173; sh * sw * 3]);
                let out = resize(&img, dh, dw, filter);
                assert!(
                    out.pixels.iter().all(|&p| p == 173),
                    "{filter} {sh}x{sw}->{dh}x{dw}"
                );
            }
        }
    }

    #[test]
    fn cv2_linear_at_exactly_2x_is_the_2x2_mean() {
        let src = pattern(96, 96, 3);
        let out = Resizer::new(96, 96, 48, 48, Filter::Cv2Linear).resize_raw(&src, 3);
        // (a + b + c + d + 2) >> 2 at pixel (y=5, x=7), channel 1
        let p = |y: usize, x: usize| src[(y * 96 + x) * 3 + 1] as u32;
        let expected = (p(10, 14) + p(10, 15) + p(11, 14) + p(11, 15) + 2) >> 2;
        assert_eq!(out[(5 * 48 + 7) * 3 + 1] as u32, expected);
        assert_eq!(out, mean2x2(&src, 96, 96, 3));
    }

    #[test]
    fn pil_box_at_2x_is_the_two_stage_pairwise_mean() {
        let src = pattern(8, 10, 1);
        let out = Resizer::new(8, 10, 4, 5, Filter::PilBox).resize_raw(&src, 1);
        for y in 0..4 {
            for x in 0..5 {
                let p = |yy: usize, xx: usize| src[yy * 10 + xx] as u32;
                let top = (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + 1) >> 1;
                let bottom = (p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1) + 1) >> 1;
                assert_eq!(out[y * 5 + x] as u32, (top + bottom + 1) >> 1, "({y}, {x})");
            }
        }
    }

    #[test]
    fn identity_size_returns_the_input() {
        let src = pattern(9, 11, 3);
        for filter in Filter::ALL {
            assert_eq!(Resizer::new(9, 11, 9, 11, filter).resize_raw(&src, 3), src);
        }
    }

    #[test]
    fn filter_names_round_trip() {
        for filter in Filter::ALL {
            assert_eq!(filter.name().parse::<Filter>().ok(), Some(filter));
        }
        assert!("bilinear".parse::<Filter>().is_err());
    }
}
