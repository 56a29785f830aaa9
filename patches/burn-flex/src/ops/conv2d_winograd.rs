//! Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", CVPR 2016): the forward pass, and the weight
//! gradient as its adjoint; the input gradient is the forward pass of the output gradient
//! through the flipped, transposed weight.
//!
//! Each m x m output tile is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for the (m + 2)² input patch `d`
//! and the 3x3 filter `g`; summed over input channels, the (m + 2)² elementwise products
//! become as many GEMMs `M[ξ][tiles, O] = V[ξ][tiles, C] · U[ξ][O, C]ᵀ`: F(2x2, 3x3) does 16
//! multiplies per 4 outputs instead of 36, F(4x4, 3x3) 36 per 16 instead of 144 (for the
//! gradients, from 8x8 outputs up: [`Algorithm::three_by_three`]). The weight gradient is the
//! same identity read backwards, `dg = Gᵀ [(A dy Aᵀ) ⊙ (Bᵀ d B)] G`, summed over tiles: one
//! GEMM `[tiles, O]ᵀ · [tiles, C]` per point.
//!
//! A 4x4 stride-2 convolution with padding 1 (the standard CNN's down-sampling, and the
//! input gradient of its up-sampling deconvolutions) runs forward as a 2x2 stride-1 one over
//! the input's four phases by F(2x2, 2x2) ([`Algorithm::F22Phases`]): 9 products `[tiles,
//! 4C] · [4C, O]` instead of im2col's 16 taps. Its input gradient (and so the deconvolutions'
//! forward pass) runs by the adjoint of the same identity ([`phase_input_grad`]), its weight
//! gradient from 8x8 outputs up too ([`weight_grad`]).
//!
//! The transforms run on the images channels-last, each step along the channels, so their
//! loops are as long at 4x4 and 8x8 (the standard CNN's deep layers, 2-4 tiles a row) as at
//! 32x32; transforms along tile rows made those layers 1.3-1.6x slower than PyTorch.

use alloc::vec;
use alloc::vec::Vec;

use super::conv2d_gemm::{
    Elem, Mat, Unfold, add_bias, matmul, split_batch, task_count, transpose, transpose_into,
};
use super::par::{planes, zeros};

/// Target size of one chunk's transformed input, in elements.
const TRANSFORM_ELEMS: usize = 1 << 20;

/// Fewest input and output channels for which Winograd beats im2col + GEMM (measured on a
/// 2-core AVX2 machine: even at 32, faster at 64 and up).
const MIN_CHANNELS: usize = 32;

/// Smallest output side at which F(4x4, 3x3) replaces F(2x2, 3x3) (measured on a 2-core
/// AVX-512 machine, batch 64: 15-30 % less time at 16x16 and 32x32, about even at 8x8; at 4x4
/// its 36 products of a quarter of the rows ran 1.4-2.1x slower than F(2x2, 3x3)'s 16, the
/// transformed filters 2.25x larger and read for fewer rows).
const F43_MIN_SIZE: usize = 8;

/// Smallest output side at which the weight gradient of a 4x4 stride-2 convolution runs by
/// [`Algorithm::F22Phases`] (measured on a 2-core AVX-512 machine, batch 64: 20-25 % less
/// time at 8x8 to 16x16 outputs; at 4x4 even for 256 -> 256 and 1.3x slower for the 512 ->
/// 256 deconvolution, whose 9 accumulators `[O, 4C]` a thread, 2.25x im2col's, are summed
/// over only 128 tiles).
const PHASE_WEIGHT_GRAD_MIN_SIZE: usize = 8;

/// Whether Winograd (F(2x2, 3x3) or F(4x4, 3x3)) computes this convolution: a 3x3 kernel at
/// stride 1 without dilation or groups, padding at most 2 (every tile's patch starts at most
/// 2 before the image), and at least [`MIN_CHANNELS`] channels on both sides (below that the
/// products are too thin for the transforms to pay).
pub(super) fn applies(u: &Unfold, out_channels: usize) -> bool {
    u.kernel == [3, 3]
        && u.stride == [1, 1]
        && u.dilation == [1, 1]
        && u.groups == 1
        && u.padding[0] <= 2
        && u.padding[1] <= 2
        && u.channels.min(out_channels) >= MIN_CHANNELS
}

/// What a convolution computes in a training step, which decides how much rounding its
/// tiling may add ([`Algorithm::three_by_three`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pass {
    /// A layer's output (conv2d's, or conv_transpose2d's).
    Forward,
    /// A gradient (of the input or of the weight).
    Gradient,
}

/// The tiling [`forward`] computes a convolution with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Algorithm {
    /// F(2x2, 3x3) for a 3x3 stride-1 kernel ([`applies`]): 16 multiplies per 4 outputs.
    F23,
    /// F(4x4, 3x3) for a 3x3 stride-1 kernel ([`applies`]): a 6x6 transformed tile, 36
    /// multiplies per 16 outputs (1.78x fewer than F(2x2, 3x3)), at the price of transforms
    /// with coefficients up to 8 (rounding checked in `tests/it/kernels.rs`).
    F43,
    /// A 4x4 stride-2 kernel with padding 1 (the standard CNN's) as a 2x2 stride-1 one over
    /// the input's four phases, `X[p, q][i, j] = x[2i + p - 1, 2j + q - 1]` on `4C` channels
    /// (`W'[o, (p, q, c), a, b] = W[o, c, 2a + p, 2b + q]`), by F(2x2, 2x2): 9 multiplies per
    /// 4 outputs instead of 16.
    F22Phases,
}

impl Algorithm {
    /// The tiling for this convolution, if Winograd computes it (f32 and f64 only: see
    /// [`Elem::WINOGRAD`]).
    pub(super) fn of<T: Elem>(u: &Unfold, out_channels: usize, pass: Pass) -> Option<Self> {
        let common = T::WINOGRAD
            && u.dilation == [1, 1]
            && u.groups == 1
            && u.channels.min(out_channels) >= MIN_CHANNELS;
        if common && u.kernel == [4, 4] && u.stride == [2, 2] && u.padding == [1, 1] {
            return Some(Algorithm::F22Phases);
        }
        let tiling = Self::three_by_three(pass, u.out_size);
        applies(u, out_channels)
            .then_some(tiling)
            .filter(|_| T::WINOGRAD)
    }

    /// The tiling of this convolution's weight gradient, if Winograd computes it: as [`of`]
    /// for a gradient, the 4x4 stride-2 phases only from [`PHASE_WEIGHT_GRAD_MIN_SIZE`]
    /// outputs a side.
    ///
    /// [`of`]: Algorithm::of
    pub(super) fn of_weight_grad<T: Elem>(u: &Unfold, out_channels: usize) -> Option<Self> {
        let small = u.out_size[0].min(u.out_size[1]) < PHASE_WEIGHT_GRAD_MIN_SIZE;
        Self::of::<T>(u, out_channels, Pass::Gradient)
            .filter(|&a| !(a == Algorithm::F22Phases && small))
    }

    /// The tiling of a 3x3 stride-1 convolution ([`applies`]) with outputs `out_size` in
    /// `pass`: for a gradient F(4x4, 3x3) from [`F43_MIN_SIZE`] up, otherwise F(2x2, 3x3).
    ///
    /// Forward passes stay on F(2x2, 3x3): F(4x4, 3x3)'s rounding, about 5x F(2x2, 3x3)'s
    /// relative error (its transforms scale by up to 8 and 100 before the sums cancel), took
    /// a converted Chainer SNGAN generator's images 1.5e-5 from the reference's, over the
    /// 1e-5 at which imported checkpoints are checked. A gradient's rounding at that level is
    /// far below the noise of a minibatch's, and its kernels are checked against the
    /// definition at the same tolerance as the rest.
    fn three_by_three(pass: Pass, out_size: [usize; 2]) -> Self {
        if pass == Pass::Gradient && out_size[0].min(out_size[1]) >= F43_MIN_SIZE {
            Algorithm::F43
        } else {
            Algorithm::F23
        }
    }

    /// Outputs along each side of a tile.
    fn tile(self) -> usize {
        match self {
            Algorithm::F43 => 4,
            Algorithm::F23 | Algorithm::F22Phases => 2,
        }
    }

    /// Points of the transformed tile (products per tile).
    fn points(self) -> usize {
        match self {
            Algorithm::F23 => 16,
            Algorithm::F43 => 36,
            Algorithm::F22Phases => 9,
        }
    }

    /// The products' depth for `c` input channels.
    fn depth(self, c: usize) -> usize {
        match self {
            Algorithm::F23 | Algorithm::F43 => c,
            Algorithm::F22Phases => 4 * c,
        }
    }
}

/// `U[ξ][o][(p, q, c)] = (G g Gᵀ)[ξ]` for the 2x2 phase filters `g[a][b] = w[o, c, 2a + p,
/// 2b + q]` of a 4x4 kernel, `ξ` over the 3x3 tile, with `G = [[1, 0], [1, 1], [0, 1]]`;
/// [`LANES`] channels at a time.
fn phase_filter_transform<T: Elem>(w: &[T], o_n: usize, c_n: usize) -> Vec<T> {
    let k = 4 * c_n;
    let mut u = zeros(9 * o_n * k, T::zero());
    planes(&mut u, 9, o_n, k, |first, u| {
        for o in first..first + u[0].len() / k {
            for (p, q) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                for c0 in (0..c_n).step_by(LANES) {
                    let n = (c_n - c0).min(LANES);
                    let filters = &w[(o * c_n + c0) * 16..][..n * 16];
                    let tap = |a: usize, b: usize| {
                        lanes(|l| match l < n {
                            true => filters[l * 16 + (2 * a + p) * 4 + 2 * b + q],
                            false => T::zero(),
                        })
                    };
                    // G g over a (rows of the 3x2 product), then over b.
                    let cols = [0, 1].map(|b| {
                        let (g0, g1) = (tap(0, b), tap(1, b));
                        [g0, lanes(|l| g0[l] + g1[l]), g1]
                    });
                    let at = (o - first) * k + (2 * p + q) * c_n + c0;
                    for i in 0..3 {
                        let (g0, g1) = (&cols[0][i], &cols[1][i]);
                        let row = [*g0, lanes(|l| g0[l] + g1[l]), *g1];
                        for (j, v) in row.iter().enumerate() {
                            u[3 * i + j][at..at + n].copy_from_slice(&v[..n]);
                        }
                    }
                }
            }
        }
    });
    u
}

/// Output tiles per image for tiles of `m x m` outputs: `[ceil(out_h / m), ceil(out_w / m)]`.
fn tiles(u: &Unfold, m: usize) -> [usize; 2] {
    [u.out_size[0].div_ceil(m), u.out_size[1].div_ceil(m)]
}

/// Tiles per chunk: a transformed input of about `TRANSFORM_ELEMS` (points x rows x tiles).
fn chunk_tiles(points: usize, rows: usize) -> usize {
    (TRANSFORM_ELEMS / (points * rows.max(1))).max(16)
}

/// Filters transformed at a time: one vector of f32 lanes on AVX2 (the transforms' loops
/// over them vectorise; one filter at a time they ran 5 % of the std CNN's step).
const LANES: usize = 8;

/// One value per lane of [`LANES`] filters.
type Lanes<T> = [T; LANES];

/// `[f(0), f(1), ..]` over the lanes.
#[inline(always)]
fn lanes<T: Elem>(f: impl FnMut(usize) -> T) -> Lanes<T> {
    core::array::from_fn(f)
}

/// `G x` for F(2x2, 3x3)'s `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]`,
/// lane by lane.
#[inline(always)]
fn g_times<T: Elem>(half: T, [a, b, c]: [&Lanes<T>; 3]) -> [Lanes<T>; 4] {
    [
        *a,
        lanes(|l| half * (a[l] + b[l] + c[l])),
        lanes(|l| half * (a[l] - b[l] + c[l])),
        *c,
    ]
}

/// `G x` for F(4x4, 3x3)'s `G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24,
/// 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]` (interpolation at 0, ±1, ±2 and ∞), lane by
/// lane; `k = [1/4, 1/6, 1/12, 1/24]`.
#[inline(always)]
fn g43_times<T: Elem>(k: [T; 4], [a, b, c]: [&Lanes<T>; 3]) -> [Lanes<T>; 6] {
    let [quarter, sixth, twelfth, twentyfourth] = k;
    [
        lanes(|l| quarter * a[l]),
        lanes(|l| T::zero() - sixth * (a[l] + b[l] + c[l])),
        lanes(|l| T::zero() - sixth * (a[l] - b[l] + c[l])),
        lanes(|l| twentyfourth * a[l] + twelfth * b[l] + sixth * c[l]),
        lanes(|l| twentyfourth * a[l] - twelfth * b[l] + sixth * c[l]),
        *c,
    ]
}

/// The integer `n` as a `T` (exact: a sum of ones).
fn int<T: Elem>(n: u8) -> T {
    (0..n).fold(T::zero(), |s, _| s + T::one())
}

/// Which filter transform [`forward`] runs its products with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filters {
    /// `U[ξ][o][c]` of the weight `[O, C, 3, 3]` itself.
    Weight,
    /// `U[ξ][c][o]` of the weight flipped in space and transposed in channels: the input
    /// gradient's (see [`input_grad`]).
    FlippedTransposed,
}

/// `U[ξ][o][c] = (G g Gᵀ)[ξ]` for every filter `g = w[o, c]`, `ξ` over the tile of
/// `tiling` (F(2x2, 3x3) or F(4x4, 3x3)); with [`Filters::FlippedTransposed`], the same for
/// `g = w[o, c]` rotated by 180° (its taps read in reverse) and stored at `[ξ][c][o]`.
fn filter_transform<T: Elem>(
    tiling: Algorithm,
    w: &[T],
    o_n: usize,
    c_n: usize,
    filters: Filters,
) -> Vec<T> {
    let one = T::one();
    match tiling {
        Algorithm::F43 => {
            let k = [4, 6, 12, 24].map(|d| one / int(d));
            filter_transform_n::<T, 6>(w, o_n, c_n, filters, |g| g43_times(k, g))
        }
        _ => filter_transform_n::<T, 4>(w, o_n, c_n, filters, |g| g_times(one / int(2), g)),
    }
}

/// [`filter_transform`] for an `N`-point tile whose `G x` is `g_times`, [`LANES`] filters at
/// a time.
fn filter_transform_n<T: Elem, const N: usize>(
    w: &[T],
    o_n: usize,
    c_n: usize,
    filters: Filters,
    g_times: impl Fn([&Lanes<T>; 3]) -> [Lanes<T>; N] + Sync,
) -> Vec<T> {
    let plane = o_n * c_n;
    let mut u = zeros(N * N * plane, T::zero());
    planes(&mut u, N * N, plane, 1, |first, u| {
        let count = u[0].len();
        for start in (0..count).step_by(LANES) {
            let n = (count - start).min(LANES);
            // Tap t of plane entries `first + start + l`, lane l.
            let mut g = [[T::zero(); LANES]; 9];
            for l in 0..n {
                let at = first + start + l;
                let (filter, flipped) = match filters {
                    Filters::Weight => (at, false),
                    Filters::FlippedTransposed => ((at % o_n) * c_n + at / o_n, true),
                };
                for (t, &v) in w[filter * 9..][..9].iter().enumerate() {
                    g[if flipped { 8 - t } else { t }][l] = v;
                }
            }
            // G g: column j of the Nx3 product, then each row i times Gᵀ.
            let cols: [[Lanes<T>; N]; 3] =
                core::array::from_fn(|j| g_times([&g[j], &g[3 + j], &g[6 + j]]));
            for i in 0..N {
                let row = g_times([&cols[0][i], &cols[1][i], &cols[2][i]]);
                for (j, v) in row.iter().enumerate() {
                    u[N * i + j][start..start + n].copy_from_slice(&v[..n]);
                }
            }
        }
    });
    u
}

/// A chunk of tile rows: rows `[start, end)` of the task's images, numbered image by image
/// (`image * tile_rows + ti`).
#[derive(Clone, Copy)]
struct RowChunk {
    start: usize,
    end: usize,
}

impl RowChunk {
    /// The images the chunk's tile rows lie in.
    fn images(self, th: usize) -> core::ops::Range<usize> {
        self.start / th..(self.end - 1) / th + 1
    }
}

/// The task's `rows` tile rows in equal chunks of about `per_tiles` tiles (at least one row
/// each, at most 1.5x `per_tiles` where the rows are not a multiple): every chunk's products
/// pack the transformed filters anew, so a short last chunk would cost as much packing as a
/// full one.
fn row_chunks(rows: usize, tw: usize, per_tiles: usize) -> impl Iterator<Item = RowChunk> {
    let per = (per_tiles / tw.max(1)).max(1);
    let per = rows.div_ceil(((rows + per / 2) / per).max(1)).max(1);
    (0..rows).step_by(per).map(move |start| RowChunk {
        start,
        end: (start + per).min(rows),
    })
}

/// `out[k] = f(a[k], b[k])` over the shortest of the three (a loop LLVM vectorises).
#[inline(always)]
fn zip2<T: Elem>(out: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// `out[k] = f(a[k], b[k], c[k])` over the shortest of the four.
#[inline(always)]
fn zip3<T: Elem>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    for (((o, &a), &b), &c) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(a, b, c);
    }
}

/// `out[k] = f([ins[0][k], ins[1][k], ..])` over `out` (a loop LLVM vectorises: `out` is the
/// only slice written, and every input is at least as long).
#[inline(always)]
fn combine<T: Elem, const I: usize>(out: &mut [T], ins: [&[T]; I], f: impl Fn([T; I]) -> T) {
    let ins = ins.map(|s| &s[..out.len()]);
    for (k, o) in out.iter_mut().enumerate() {
        *o = f(ins.map(|s| s[k]));
    }
}

/// `out[k] += f([ins[0][k], ins[1][k], ..])` over `out` (as [`combine`]).
#[inline(always)]
fn add_into<T: Elem, const I: usize>(out: &mut [T], ins: [&[T]; I], f: impl Fn([T; I]) -> T) {
    let ins = ins.map(|s| &s[..out.len()]);
    for (k, o) in out.iter_mut().enumerate() {
        *o = *o + f(ins.map(|s| s[k]));
    }
}

/// `out` (`N` runs of `len`) as its `N` runs.
fn runs<T, const N: usize>(out: &mut [T], len: usize) -> [&mut [T]; N] {
    let mut runs = out.chunks_exact_mut(len.max(1));
    core::array::from_fn(|_| runs.next().unwrap_or_default())
}

/// `Bᵀ d` for F(4x4, 3x3)'s `Bᵀ = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1,
/// 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]` along the
/// channels of six vectors `d` into the six `t`; `k = [2, 4, 5]`.
#[inline(always)]
fn bt6<T: Elem>(t: [&mut [T]; 6], d: [&[T]; 6], [two, four, five]: [T; 3]) {
    let [t0, t1, t2, t3, t4, t5] = t;
    let [d0, d1, d2, d3, d4, d5] = d;
    combine(t0, [d0, d2, d4], |[a, c, e]| four * a - five * c + e);
    combine(t1, [d1, d2, d3, d4], |[b, c, d, e]| {
        (d + e) - four * (b + c)
    });
    combine(t2, [d1, d2, d3, d4], |[b, c, d, e]| {
        (e - d) + four * (b - c)
    });
    combine(t3, [d1, d2, d3, d4], |[b, c, d, e]| (e - c) + two * (d - b));
    combine(t4, [d1, d2, d3, d4], |[b, c, d, e]| (e - c) - two * (d - b));
    combine(t5, [d1, d3, d5], |[b, d, f]| four * b - five * d + f);
}

/// `Aᵀ m` for F(4x4, 3x3)'s `Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4,
/// 0], [0, 1, -1, 8, -8, 1]]` along the channels of six vectors `m` into the four `y`; `k =
/// [2, 4, 8]`.
#[inline(always)]
fn at4<T: Elem>(y: [&mut [T]; 4], m: [&[T]; 6], [two, four, eight]: [T; 3]) {
    let [y0, y1, y2, y3] = y;
    let [m0, m1, m2, m3, m4, m5] = m;
    combine(y0, [m0, m1, m2, m3, m4], |[a, b, c, d, e]| {
        a + (b + c) + (d + e)
    });
    combine(y1, [m1, m2, m3, m4], |[b, c, d, e]| (b - c) + two * (d - e));
    combine(y2, [m1, m2, m3, m4], |[b, c, d, e]| {
        (b + c) + four * (d + e)
    });
    combine(y3, [m1, m2, m3, m4, m5], |[b, c, d, e, f]| {
        (b - c) + eight * (d - e) + f
    });
}

/// Pixel `(h, w)` of the channels-last image `src` (`size`, `zeros.len()` channels), or
/// `zeros` outside it: the transforms' patches run past the image by the padding on the
/// top and left (an index wrapped below 0) and past the last tile on the bottom and right.
#[inline(always)]
fn pixel_or_zeros<'a, T>(
    src: &'a [T],
    size: [usize; 2],
    zeros: &'a [T],
    h: usize,
    w: usize,
) -> &'a [T] {
    let c_n = zeros.len();
    match h < size[0] && w < size[1] {
        true => &src[(h * size[1] + w) * c_n..][..c_n],
        false => zeros,
    }
}

/// Loads images `images` of `t` (`[batch, C, plane]`) channels-last into `dst` (`[images,
/// plane, C]`), unless `loaded` says they already are there.
fn load_channels_last<T: Elem>(
    t: &[T],
    channels: usize,
    plane: usize,
    images: core::ops::Range<usize>,
    loaded: &mut core::ops::Range<usize>,
    dst: &mut Vec<T>,
) {
    if *loaded == images {
        return;
    }
    let len = channels * plane;
    dst.resize(images.len() * len, T::zero());
    let src = &t[images.start * len..images.end * len];
    for (src, dst) in src.chunks_exact(len).zip(dst.chunks_exact_mut(len)) {
        transpose(src, channels, plane, dst);
    }
    *loaded = images;
}

/// `V[ξ][t][c] = (Bᵀ d B)[ξ]` for the 4x4 patch `d` under each tile `t` of the chunk (zero
/// outside the image), from the chunk's images channels-last (`nhwc`, the first being image
/// `first`); `v` holds `16 x tiles x C`.
///
/// Every step runs along the channels (a vector of `C` per pixel), so the loops are as long
/// at 4x4 as at 32x32: `Bᵀ d` over the patch rows, `t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1,
/// t3 = d1 - d3`, then the same over the columns of each.
fn input_transform<T: Elem>(nhwc: &[T], first: usize, u: &Unfold, chunk: RowChunk, v: &mut [T]) {
    let [th, tw] = tiles(u, 2);
    let [in_h, in_w] = u.in_size;
    let [ph, pw] = u.padding;
    let c_n = u.channels;
    let n = (chunk.end - chunk.start) * tw;
    let zeros = vec![T::zero(); c_n];
    // Bᵀ d: 4 rows x 4 columns of C.
    let mut t = vec![T::zero(); 16 * c_n];
    for g in chunk.start..chunk.end {
        let (image, ti) = (g / th, g % th);
        let src = &nhwc[(image - first) * in_h * in_w * c_n..][..in_h * in_w * c_n];
        for tj in 0..tw {
            let pixel = |i: usize, j: usize| {
                let (h, w) = ((2 * ti + i).wrapping_sub(ph), (2 * tj + j).wrapping_sub(pw));
                pixel_or_zeros(src, u.in_size, &zeros, h, w)
            };
            for j in 0..4 {
                let (d0, d1, d2, d3) = (pixel(0, j), pixel(1, j), pixel(2, j), pixel(3, j));
                let row = |i: usize| (4 * i + j) * c_n..(4 * i + j + 1) * c_n;
                zip2(&mut t[row(0)], d0, d2, |a, b| a - b);
                zip2(&mut t[row(1)], d1, d2, |a, b| a + b);
                zip2(&mut t[row(2)], d2, d1, |a, b| a - b);
                zip2(&mut t[row(3)], d1, d3, |a, b| a - b);
            }
            let at = (g - chunk.start) * tw + tj;
            for i in 0..4 {
                let col = |j: usize| &t[(4 * i + j) * c_n..][..c_n];
                let out = |j: usize| ((4 * i + j) * n + at) * c_n..((4 * i + j) * n + at + 1) * c_n;
                zip2(&mut v[out(0)], col(0), col(2), |a, b| a - b);
                zip2(&mut v[out(1)], col(1), col(2), |a, b| a + b);
                zip2(&mut v[out(2)], col(2), col(1), |a, b| a - b);
                zip2(&mut v[out(3)], col(1), col(3), |a, b| a - b);
            }
        }
    }
}

/// `y[2x2 tile][o] = (Aᵀ m A)` for `m[ξ] = M[ξ][t][o]`, into the chunk's output rows
/// channels-last (`out`, `[tile rows, 2, out_w, O]`; the row past an odd height and the
/// column past an odd width are dropped): `Aᵀ m` over rows, `y0 = m0 + m1 + m2, y1 = m1 - m2
/// - m3`, then the same over columns, along the output channels.
fn output_transform<T: Elem>(m: &[T], u: &Unfold, o_n: usize, chunk: RowChunk, out: &mut [T]) {
    let [th, tw] = tiles(u, 2);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let mut r = vec![T::zero(); 8 * o_n];
    for g in chunk.start..chunk.end {
        let ti = g % th;
        for tj in 0..tw {
            let at = (g - chunk.start) * tw + tj;
            let mm = |xi: usize| &m[(xi * n + at) * o_n..][..o_n];
            for j in 0..4 {
                let (r0, r1) = r[2 * j * o_n..][..2 * o_n].split_at_mut(o_n);
                zip3(r0, mm(j), mm(4 + j), mm(8 + j), |a, b, c| a + b + c);
                zip3(r1, mm(4 + j), mm(8 + j), mm(12 + j), |b, c, d| b - c - d);
            }
            for a in 0..(out_h - 2 * ti).min(2) {
                let col = |j: usize| &r[(2 * j + a) * o_n..][..o_n];
                let row = &mut out[((g - chunk.start) * 2 + a) * out_w * o_n..][..out_w * o_n];
                let (y0, y1) = row[2 * tj * o_n..].split_at_mut(o_n);
                zip3(y0, col(0), col(1), col(2), |a, b, c| a + b + c);
                if 2 * tj + 1 < out_w {
                    zip3(&mut y1[..o_n], col(1), col(2), col(3), |b, c, d| b - c - d);
                }
            }
        }
    }
}

/// [`input_transform`] for F(4x4, 3x3): `V[ξ][t][c] = (Bᵀ d B)[ξ]` for the 6x6 patch `d`
/// under each 4x4 tile `t` (patch pixel `(i, j)` is input pixel `(4 ti + i - ph, 4 tj + j -
/// pw)`, zero outside the image), [`bt6`] down each patch column, then along each row.
fn input_transform_43<T: Elem>(nhwc: &[T], first: usize, u: &Unfold, chunk: RowChunk, v: &mut [T]) {
    let [th, tw] = tiles(u, 4);
    let [in_h, in_w] = u.in_size;
    let [ph, pw] = u.padding;
    let c_n = u.channels;
    let n = (chunk.end - chunk.start) * tw;
    let k = [2, 4, 5].map(int);
    let zeros = vec![T::zero(); c_n];
    // Bᵀ d, column by column: `t[(6 j + i) C..]` is row i of column j.
    let mut t = vec![T::zero(); 36 * c_n];
    for g in chunk.start..chunk.end {
        let (image, ti) = (g / th, g % th);
        let src = &nhwc[(image - first) * in_h * in_w * c_n..][..in_h * in_w * c_n];
        for tj in 0..tw {
            let pixel = |i: usize, j: usize| {
                let (h, w) = ((4 * ti + i).wrapping_sub(ph), (4 * tj + j).wrapping_sub(pw));
                pixel_or_zeros(src, u.in_size, &zeros, h, w)
            };
            for (j, column) in t.chunks_exact_mut(6 * c_n.max(1)).enumerate() {
                bt6(runs(column, c_n), core::array::from_fn(|i| pixel(i, j)), k);
            }
            let at = (g - chunk.start) * tw + tj;
            for i in 0..6 {
                let out = |j: usize| ((6 * i + j) * n + at) * c_n..((6 * i + j) * n + at + 1) * c_n;
                let outs = v.get_disjoint_mut(core::array::from_fn::<_, 6, _>(out));
                let row = core::array::from_fn(|j| &t[(6 * j + i) * c_n..][..c_n]);
                bt6(outs.expect("six distinct points"), row, k);
            }
        }
    }
}

/// [`output_transform`] for F(4x4, 3x3): `y[4x4 tile][o] = (Aᵀ m A)` for `m[ξ] = M[ξ][t][o]`,
/// into the chunk's output rows channels-last (`out`, `[tile rows, 4, out_w, O]`; rows and
/// columns past the output dropped), [`at4`] down each column of `m`, then along each row.
fn output_transform_43<T: Elem>(m: &[T], u: &Unfold, o_n: usize, chunk: RowChunk, out: &mut [T]) {
    let [th, tw] = tiles(u, 4);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let k = [2, 4, 8].map(int);
    // Aᵀ m, column by column: `r[(4 j + a) O..]` is row a of column j; `edge` holds a tile
    // row that runs past the output's last column.
    let mut r = vec![T::zero(); 24 * o_n];
    let mut edge = vec![T::zero(); 4 * o_n];
    for g in chunk.start..chunk.end {
        let ti = g % th;
        for tj in 0..tw {
            let at = (g - chunk.start) * tw + tj;
            let mm = |xi: usize| &m[(xi * n + at) * o_n..][..o_n];
            for (j, column) in r.chunks_exact_mut(4 * o_n.max(1)).enumerate() {
                at4(
                    runs(column, o_n),
                    core::array::from_fn(|i| mm(6 * i + j)),
                    k,
                );
            }
            let cols = (out_w - 4 * tj).min(4);
            for a in 0..(out_h - 4 * ti).min(4) {
                let row = core::array::from_fn(|j| &r[(4 * j + a) * o_n..][..o_n]);
                let line = &mut out[((g - chunk.start) * 4 + a) * out_w * o_n..][..out_w * o_n];
                let dst = &mut line[4 * tj * o_n..][..cols * o_n];
                match cols {
                    4 => at4(runs(dst, o_n), row, k),
                    _ => {
                        at4(runs(&mut edge, o_n), row, k);
                        dst.copy_from_slice(&edge[..cols * o_n]);
                    }
                }
            }
        }
    }
}

/// `V[ξ][t][(p, q, c)] = (Bᵀ d B)[ξ]` for the 3x3 patch `d` of the phase images under each
/// 2x2 output tile `t` of a 4x4 stride-2 convolution (see [`Algorithm::F22Phases`]), with `Bᵀ
/// = [[1, -1, 0], [0, 1, 0], [0, -1, 1]]`: `t0 = d0 - d1, t1 = d1, t2 = d2 - d1` over the
/// patch rows, then over the columns, along the channels of each phase. Patch pixel `(a,
/// b)` of phase `(p, q)` is input pixel `(4 ti + 2a + p - 1, 4 tj + 2b + q - 1)`.
fn phase_input_transform<T: Elem>(
    nhwc: &[T],
    first: usize,
    u: &Unfold,
    chunk: RowChunk,
    v: &mut [T],
) {
    let [th, tw] = tiles(u, 2);
    let [in_h, in_w] = u.in_size;
    let c_n = u.channels;
    let k = 4 * c_n;
    let n = (chunk.end - chunk.start) * tw;
    let zeros = vec![T::zero(); c_n];
    let mut t = vec![T::zero(); 9 * c_n];
    for g in chunk.start..chunk.end {
        let (image, ti) = (g / th, g % th);
        let src = &nhwc[(image - first) * in_h * in_w * c_n..][..in_h * in_w * c_n];
        for tj in 0..tw {
            let at = (g - chunk.start) * tw + tj;
            for (p, q) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let pixel = |a: usize, b: usize| {
                    let (h, w) = (4 * ti + 2 * a + p, 4 * tj + 2 * b + q);
                    pixel_or_zeros(src, u.in_size, &zeros, h.wrapping_sub(1), w.wrapping_sub(1))
                };
                for b in 0..3 {
                    let (d0, d1, d2) = (pixel(0, b), pixel(1, b), pixel(2, b));
                    let row = |i: usize| (3 * i + b) * c_n..(3 * i + b + 1) * c_n;
                    zip2(&mut t[row(0)], d0, d1, |x, y| x - y);
                    t[row(1)].copy_from_slice(d1);
                    zip2(&mut t[row(2)], d2, d1, |x, y| x - y);
                }
                let phase = (2 * p + q) * c_n;
                for i in 0..3 {
                    let col = |j: usize| &t[(3 * i + j) * c_n..][..c_n];
                    let out = |j: usize| {
                        let from = ((3 * i + j) * n + at) * k + phase;
                        from..from + c_n
                    };
                    zip2(&mut v[out(0)], col(0), col(1), |x, y| x - y);
                    v[out(1)].copy_from_slice(col(1));
                    zip2(&mut v[out(2)], col(2), col(1), |x, y| x - y);
                }
            }
        }
    }
}

/// [`output_transform`] for F(2x2, 2x2): `Aᵀ = [[1, 1, 0], [0, 1, 1]]`, `y0 = m0 + m1, y1 =
/// m1 + m2` over the rows of the 3x3 `m`, then over the columns.
fn phase_output_transform<T: Elem>(
    m: &[T],
    u: &Unfold,
    o_n: usize,
    chunk: RowChunk,
    out: &mut [T],
) {
    let [th, tw] = tiles(u, 2);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let mut r = vec![T::zero(); 6 * o_n];
    for g in chunk.start..chunk.end {
        let ti = g % th;
        for tj in 0..tw {
            let at = (g - chunk.start) * tw + tj;
            let mm = |xi: usize| &m[(xi * n + at) * o_n..][..o_n];
            for j in 0..3 {
                let (r0, r1) = r[2 * j * o_n..][..2 * o_n].split_at_mut(o_n);
                zip2(r0, mm(j), mm(3 + j), |a, b| a + b);
                zip2(r1, mm(3 + j), mm(6 + j), |a, b| a + b);
            }
            for a in 0..(out_h - 2 * ti).min(2) {
                let col = |j: usize| &r[(2 * j + a) * o_n..][..o_n];
                let row = &mut out[((g - chunk.start) * 2 + a) * out_w * o_n..][..out_w * o_n];
                let (y0, y1) = row[2 * tj * o_n..].split_at_mut(o_n);
                zip2(y0, col(0), col(1), |a, b| a + b);
                if 2 * tj + 1 < out_w {
                    zip2(&mut y1[..o_n], col(1), col(2), |a, b| a + b);
                }
            }
        }
    }
}

/// Stores the chunk's output rows (channels-last, `m` a tile row, as [`output_transform`]
/// leaves them) into the task's images `y` (`[images, O, out_h, out_w]`).
fn store_rows<T: Elem>(out: &[T], u: &Unfold, o_n: usize, m: usize, chunk: RowChunk, y: &mut [T]) {
    let [th, _] = tiles(u, m);
    let [out_h, out_w] = u.out_size;
    let plane = out_h * out_w;
    for image in chunk.images(th) {
        // This image's tile rows in the chunk: consecutive output rows, here and in `y`.
        let (g0, g1) = (chunk.start.max(image * th), chunk.end.min((image + 1) * th));
        let (oh0, oh1) = (m * (g0 % th), (m * ((g1 - 1) % th) + m).min(out_h));
        let src = &out[(g0 - chunk.start) * m * out_w * o_n..][..(oh1 - oh0) * out_w * o_n];
        let dst = &mut y[image * o_n * plane + oh0 * out_w..];
        transpose_into(src, (oh1 - oh0) * out_w, o_n, dst, plane);
    }
}

/// `y = conv2d(x, w) + bias` by Winograd with `algorithm` ([`Algorithm::of`]).
///
/// Per chunk of tile rows: the images channels-last, their transform `V[ξ][tiles, C]`, one
/// product per point `M[ξ][tiles, O] = V[ξ] · U[ξ]ᵀ`, the output transform channels-last,
/// and the rows back to `[O, out_h, out_w]`.
pub(super) fn forward<T: Elem>(
    algorithm: Algorithm,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let filters = match algorithm {
        Algorithm::F22Phases => phase_filter_transform(w, out_channels, u.channels),
        tiling => filter_transform(tiling, w, out_channels, u.channels, Filters::Weight),
    };
    transformed_forward(algorithm, x, &filters, bias, u, out_channels)
}

/// [`forward`] with the filters already transformed.
fn transformed_forward<T: Elem>(
    algorithm: Algorithm,
    x: &[T],
    filters: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let m = algorithm.tile();
    let [th, tw] = tiles(u, m);
    let [out_h, out_w] = u.out_size;
    let plane = u.in_size[0] * u.in_size[1];
    let per_image = out_channels * out_h * out_w;
    let mut y = zeros(u.batch * per_image, T::zero());
    let (c_n, o_n) = (u.channels, out_channels);
    let (points, k) = (algorithm.points(), algorithm.depth(c_n));
    let per_chunk = chunk_tiles(points, k.max(o_n));
    // Images per chunk (see `split_batch`): whole tile rows of about `per_chunk` tiles.
    let grain = (per_chunk / tw.max(1)).max(1) / th.max(1);
    split_batch(&mut y, u.batch, per_image, grain, |first, y, alongside| {
        let images = y.len() / per_image.max(1);
        let x = &x[first * c_n * plane..][..images * c_n * plane];
        T::with_scratch(|s| {
            let mut loaded = 0..0;
            for chunk in row_chunks(images * th, tw, per_chunk) {
                let n = (chunk.end - chunk.start) * tw;
                let spanned = chunk.images(th);
                let first_image = spanned.start;
                load_channels_last(x, c_n, plane, spanned, &mut loaded, &mut s.nhwc);
                s.cols.resize(points * n * k, T::zero());
                s.out.resize(points * n * o_n, T::zero());
                match algorithm {
                    Algorithm::F23 => input_transform(&s.nhwc, first_image, u, chunk, &mut s.cols),
                    Algorithm::F43 => {
                        input_transform_43(&s.nhwc, first_image, u, chunk, &mut s.cols)
                    }
                    Algorithm::F22Phases => {
                        phase_input_transform(&s.nhwc, first_image, u, chunk, &mut s.cols)
                    }
                }
                for xi in 0..points {
                    let lhs = Mat {
                        ptr: s.cols[xi * n * k..].as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    };
                    let rhs = Mat {
                        ptr: filters[xi * o_n * k..].as_ptr(),
                        rs: 1,
                        cs: k as isize,
                    };
                    let dst = s.out[xi * n * o_n..].as_mut_ptr();
                    // SAFETY: the blocks are `n x k`, `k x o_n` (transposed), `n x o_n`.
                    unsafe { matmul([n, o_n, k], dst, o_n, false, lhs, rhs, !alongside) };
                }
                s.block
                    .resize((chunk.end - chunk.start) * m * out_w * o_n, T::zero());
                match algorithm {
                    Algorithm::F23 => output_transform(&s.out, u, o_n, chunk, &mut s.block),
                    Algorithm::F43 => output_transform_43(&s.out, u, o_n, chunk, &mut s.block),
                    Algorithm::F22Phases => {
                        phase_output_transform(&s.out, u, o_n, chunk, &mut s.block)
                    }
                }
                store_rows(&s.block, u, o_n, m, chunk, y);
            }
        });
        if let Some(bias) = bias {
            add_bias(y, bias, out_h * out_w);
        }
    });
    y
}

/// `DY[ξ][t][o] = (A dy Aᵀ)[ξ]` for the 2x2 output-gradient tile `t` (zero beyond the output),
/// from the chunk's output gradients channels-last (`nhwc`, the first being image `first`),
/// along the output channels: `A d` over rows, `[d0, d0 + d1, d0 - d1, -d1]`, then over
/// columns.
fn grad_transform<T: Elem>(
    nhwc: &[T],
    first: usize,
    u: &Unfold,
    o_n: usize,
    chunk: RowChunk,
    g: &mut [T],
) {
    let [th, tw] = tiles(u, 2);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let zero = T::zero();
    let zeros = vec![zero; o_n];
    // A d: 4 rows x 2 columns of O.
    let mut a = vec![zero; 8 * o_n];
    for row in chunk.start..chunk.end {
        let (image, ti) = (row / th, row % th);
        let src = &nhwc[(image - first) * out_h * out_w * o_n..][..out_h * out_w * o_n];
        for tj in 0..tw {
            let pixel = |i: usize, j: usize| {
                pixel_or_zeros(src, u.out_size, &zeros, 2 * ti + i, 2 * tj + j)
            };
            for j in 0..2 {
                let (d0, d1) = (pixel(0, j), pixel(1, j));
                let at = |i: usize| (2 * i + j) * o_n..(2 * i + j + 1) * o_n;
                a[at(0)].copy_from_slice(d0);
                zip2(&mut a[at(1)], d0, d1, |x, y| x + y);
                zip2(&mut a[at(2)], d0, d1, |x, y| x - y);
                zip2(&mut a[at(3)], d1, d1, |_, y| zero - y);
            }
            let t = (row - chunk.start) * tw + tj;
            for i in 0..4 {
                let (e, od) = a[2 * i * o_n..][..2 * o_n].split_at(o_n);
                let out = |j: usize| ((4 * i + j) * n + t) * o_n..((4 * i + j) * n + t + 1) * o_n;
                g[out(0)].copy_from_slice(e);
                zip2(&mut g[out(1)], e, od, |x, y| x + y);
                zip2(&mut g[out(2)], e, od, |x, y| x - y);
                zip2(&mut g[out(3)], od, od, |_, y| zero - y);
            }
        }
    }
}

/// [`grad_transform`] for F(2x2, 2x2) ([`Algorithm::F22Phases`]): `DY[ξ][t][o] = (A dy
/// Aᵀ)[ξ]` for `A = [[1, 0], [1, 1], [0, 1]]` (the adjoint of [`phase_output_transform`]),
/// `[d0, d0 + d1, d1]` over rows, then over columns.
fn phase_grad_transform<T: Elem>(
    nhwc: &[T],
    first: usize,
    u: &Unfold,
    o_n: usize,
    chunk: RowChunk,
    g: &mut [T],
) {
    let [th, tw] = tiles(u, 2);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let zeros = vec![T::zero(); o_n];
    // A d: 3 rows x 2 columns of O.
    let mut a = vec![T::zero(); 6 * o_n];
    for row in chunk.start..chunk.end {
        let (image, ti) = (row / th, row % th);
        let src = &nhwc[(image - first) * out_h * out_w * o_n..][..out_h * out_w * o_n];
        for tj in 0..tw {
            let pixel = |i: usize, j: usize| {
                pixel_or_zeros(src, u.out_size, &zeros, 2 * ti + i, 2 * tj + j)
            };
            for j in 0..2 {
                let (d0, d1) = (pixel(0, j), pixel(1, j));
                let at = |i: usize| (2 * i + j) * o_n..(2 * i + j + 1) * o_n;
                a[at(0)].copy_from_slice(d0);
                zip2(&mut a[at(1)], d0, d1, |x, y| x + y);
                a[at(2)].copy_from_slice(d1);
            }
            let t = (row - chunk.start) * tw + tj;
            for i in 0..3 {
                let (e, od) = a[2 * i * o_n..][..2 * o_n].split_at(o_n);
                let out = |j: usize| ((3 * i + j) * n + t) * o_n..((3 * i + j) * n + t + 1) * o_n;
                g[out(0)].copy_from_slice(e);
                zip2(&mut g[out(1)], e, od, |x, y| x + y);
                g[out(2)].copy_from_slice(od);
            }
        }
    }
}

/// `A d` for F(4x4, 3x3)'s `A` (`Aᵀ` of [`at4`] transposed) along the channels of four
/// vectors `d` into the six `t`: `[d0, d0 + d1 + d2 + d3, d0 - d1 + d2 - d3, d0 + 2 d1 + 4 d2
/// + 8 d3, d0 - 2 d1 + 4 d2 - 8 d3, d3]`; `k = [2, 4, 8]`.
#[inline(always)]
fn a6<T: Elem>(t: [&mut [T]; 6], d: [&[T]; 4], [two, four, eight]: [T; 3]) {
    let [t0, t1, t2, t3, t4, t5] = t;
    let [d0, d1, d2, d3] = d;
    t0.copy_from_slice(d0);
    combine(t1, [d0, d1, d2, d3], |[a, b, c, d]| (a + c) + (b + d));
    combine(t2, [d0, d1, d2, d3], |[a, b, c, d]| (a + c) - (b + d));
    combine(t3, [d0, d1, d2, d3], |[a, b, c, d]| {
        (a + four * c) + (two * b + eight * d)
    });
    combine(t4, [d0, d1, d2, d3], |[a, b, c, d]| {
        (a + four * c) - (two * b + eight * d)
    });
    t5.copy_from_slice(d3);
}

/// [`grad_transform`] for F(4x4, 3x3): `DY[ξ][t][o] = (A dy Aᵀ)[ξ]` for the 4x4
/// output-gradient tile `t` (zero beyond the output), [`a6`] down each tile column, then
/// along each row.
fn grad_transform_43<T: Elem>(
    nhwc: &[T],
    first: usize,
    u: &Unfold,
    o_n: usize,
    chunk: RowChunk,
    g: &mut [T],
) {
    let [th, tw] = tiles(u, 4);
    let [out_h, out_w] = u.out_size;
    let n = (chunk.end - chunk.start) * tw;
    let k = [2, 4, 8].map(int);
    let zeros = vec![T::zero(); o_n];
    // A d, column by column: `a[(6 j + i) O..]` is row i of column j.
    let mut a = vec![T::zero(); 24 * o_n];
    for row in chunk.start..chunk.end {
        let (image, ti) = (row / th, row % th);
        let src = &nhwc[(image - first) * out_h * out_w * o_n..][..out_h * out_w * o_n];
        for tj in 0..tw {
            let pixel = |i: usize, j: usize| {
                pixel_or_zeros(src, u.out_size, &zeros, 4 * ti + i, 4 * tj + j)
            };
            for (j, column) in a.chunks_exact_mut(6 * o_n.max(1)).enumerate() {
                a6(runs(column, o_n), core::array::from_fn(|i| pixel(i, j)), k);
            }
            let t = (row - chunk.start) * tw + tj;
            for i in 0..6 {
                let out = |j: usize| ((6 * i + j) * n + t) * o_n..((6 * i + j) * n + t + 1) * o_n;
                let outs = g.get_disjoint_mut(core::array::from_fn::<_, 6, _>(out));
                let row = core::array::from_fn(|j| &a[(6 * j + i) * o_n..][..o_n]);
                a6(outs.expect("six distinct points"), row, k);
            }
        }
    }
}

/// `dW[o, c] = Gᵀ M[o][c] G` for the `N x N` sums `M[ξ][o][c]` of the tasks' accumulators
/// (`sums`, `[tasks][N²][O][C]`), `N` = 4 for F(2x2, 3x3) and 6 for F(4x4, 3x3), [`LANES`]
/// filters at a time.
fn filter_grad_transform<T: Elem>(tiling: Algorithm, sums: &[T], o_n: usize, c_n: usize) -> Vec<T> {
    let one = T::one();
    match tiling {
        Algorithm::F43 => {
            // `Gᵀ x = [x0 / 4 - (x1 + x2) / 6 + (x3 + x4) / 24, (x2 - x1) / 6 + (x3 - x4) /
            // 12, (x3 + x4 - x1 - x2) / 6 + x5]`.
            let [quarter, sixth, twelfth, twentyfourth] = [4, 6, 12, 24].map(|d| one / int(d));
            filter_grad_transform_n::<T, 6>(sums, o_n, c_n, |[a, b, c, d, e, f]| {
                [
                    lanes(|l| {
                        quarter * a[l] - sixth * (b[l] + c[l]) + twentyfourth * (d[l] + e[l])
                    }),
                    lanes(|l| sixth * (c[l] - b[l]) + twelfth * (d[l] - e[l])),
                    lanes(|l| sixth * ((d[l] + e[l]) - (b[l] + c[l])) + f[l]),
                ]
            })
        }
        _ => {
            // `Gᵀ x = [x0 + (x1 + x2) / 2, (x1 - x2) / 2, (x1 + x2) / 2 + x3]`.
            let half = one / int(2);
            filter_grad_transform_n::<T, 4>(sums, o_n, c_n, |[a, b, c, d]| {
                [
                    lanes(|l| a[l] + half * (b[l] + c[l])),
                    lanes(|l| half * (b[l] - c[l])),
                    lanes(|l| half * (b[l] + c[l]) + d[l]),
                ]
            })
        }
    }
}

/// [`filter_grad_transform`] for an `N`-point tile whose `Gᵀ x` is `gt_times`.
fn filter_grad_transform_n<T: Elem, const N: usize>(
    sums: &[T],
    o_n: usize,
    c_n: usize,
    gt_times: impl Fn([&Lanes<T>; N]) -> [Lanes<T>; 3] + Sync,
) -> Vec<T> {
    let plane = o_n * c_n;
    let len = N * N * plane;
    let mut dw = zeros(9 * plane, T::zero());
    // Filters `[first, first + part.len() / 9)`, on all threads (see [`planes`]).
    let run = |first: usize, part: &mut [T]| {
        for (start, dw) in (first..).step_by(LANES).zip(part.chunks_mut(9 * LANES)) {
            let n = dw.len() / 9;
            // The tasks' accumulators summed in task order, as one loop over them would.
            let mm: [[Lanes<T>; N]; N] = core::array::from_fn(|i| {
                core::array::from_fn(|j| {
                    let at = (N * i + j) * plane + start;
                    let mut v = [T::zero(); LANES];
                    v[..n].copy_from_slice(&sums[at..at + n]);
                    for task in sums[len..].chunks_exact(len) {
                        for (v, &t) in v.iter_mut().zip(&task[at..at + n]) {
                            *v = *v + t;
                        }
                    }
                    v
                })
            });
            // Gᵀ m over the rows (column j), then each row i times G.
            let cols: [[Lanes<T>; 3]; N] =
                core::array::from_fn(|j| gt_times(core::array::from_fn(|i| &mm[i][j])));
            for i in 0..3 {
                let row = gt_times(core::array::from_fn(|j| &cols[j][i]));
                for (j, v) in row.iter().enumerate() {
                    for (l, &v) in v[..n].iter().enumerate() {
                        dw[l * 9 + 3 * i + j] = v;
                    }
                }
            }
        }
    };
    planes(&mut dw, 1, plane, 9, |first, dw| run(first, dw[0]));
    dw
}

/// `dW[o, c, 2a + p, 2b + q] = (Gᵀ M G)[a][b]` for the 3x3 sums `M[ξ][o][(p, q, c)]` of the
/// tasks' accumulators (`sums`, `[tasks][9][O][4C]`), `Gᵀ x = [x0 + x1, x1 + x2]`: the
/// adjoint of [`phase_filter_transform`], [`LANES`] channels at a time.
fn phase_filter_grad_transform<T: Elem>(sums: &[T], o_n: usize, c_n: usize) -> Vec<T> {
    let k = 4 * c_n;
    let plane = o_n * k;
    let mut dw = zeros(o_n * c_n * 16, T::zero());
    let gt_times = |[a, b, c]: [&Lanes<T>; 3]| -> [Lanes<T>; 2] {
        [lanes(|l| a[l] + b[l]), lanes(|l| b[l] + c[l])]
    };
    planes(&mut dw, 1, o_n, 16 * c_n, |first, dw| {
        for (o, dw) in (first..).zip(dw[0].chunks_mut(16 * c_n.max(1))) {
            for (phase, (p, q)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                for c0 in (0..c_n).step_by(LANES) {
                    let n = (c_n - c0).min(LANES);
                    let at = o * k + phase * c_n + c0;
                    // The tasks' accumulators summed in task order.
                    let mm: [Lanes<T>; 9] = core::array::from_fn(|xi| {
                        let mut v = [T::zero(); LANES];
                        for task in sums.chunks_exact(9 * plane) {
                            for (v, &t) in v.iter_mut().zip(&task[xi * plane + at..][..n]) {
                                *v = *v + t;
                            }
                        }
                        v
                    });
                    // Gᵀ m over the rows (column j), then each row a times G.
                    let cols: [[Lanes<T>; 2]; 3] =
                        core::array::from_fn(|j| gt_times([&mm[j], &mm[3 + j], &mm[6 + j]]));
                    for a in 0..2 {
                        let row = gt_times([&cols[0][a], &cols[1][a], &cols[2][a]]);
                        for (b, v) in row.iter().enumerate() {
                            for (l, &v) in v[..n].iter().enumerate() {
                                dw[(c0 + l) * 16 + (2 * a + p) * 4 + 2 * b + q] = v;
                            }
                        }
                    }
                }
            }
        }
    });
    dw
}

/// The weight gradient of `conv2d(x, W)` by the adjoint of Winograd with `tiling`
/// ([`Algorithm::of_weight_grad`]): per chunk of tile rows, `V[ξ][tiles, K]`
/// from the images (`K` = C, or 4C over the phases of [`Algorithm::F22Phases`]) and
/// `DY[ξ][tiles, O]` from the output gradient, both channels-last, and one product `M[ξ][O,
/// K] += DY[ξ]ᵀ · V[ξ]` per point `ξ`, one accumulator per task.
pub(super) fn weight_grad<T: Elem>(
    tiling: Algorithm,
    x: &[T],
    dy: &[T],
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let (m, points) = (tiling.tile(), tiling.points());
    let [th, tw] = tiles(u, m);
    let (c_n, o_n) = (u.channels, out_channels);
    let k = tiling.depth(c_n);
    let len = points * o_n * k;
    let tasks = task_count(u.batch);
    let mut sums = zeros(tasks * len, T::zero());
    let plane = u.in_size[0] * u.in_size[1];
    let out_plane = u.out_size[0] * u.out_size[1];
    split_batch(&mut sums, tasks, len, 1, |task, sum, alongside| {
        let (first, end) = (task * u.batch / tasks, (task + 1) * u.batch / tasks);
        let x = &x[first * c_n * plane..end * c_n * plane];
        let dy = &dy[first * o_n * out_plane..end * o_n * out_plane];
        T::with_scratch(|s| {
            let (mut x_loaded, mut dy_loaded) = (0..0, 0..0);
            let per_chunk = chunk_tiles(points, k.max(o_n));
            for chunk in row_chunks((end - first) * th, tw, per_chunk) {
                let n = (chunk.end - chunk.start) * tw;
                let spanned = chunk.images(th);
                let first_image = spanned.start;
                load_channels_last(x, c_n, plane, spanned.clone(), &mut x_loaded, &mut s.nhwc);
                load_channels_last(dy, o_n, out_plane, spanned, &mut dy_loaded, &mut s.block);
                s.cols.resize(points * n * k, T::zero());
                s.out.resize(points * n * o_n, T::zero());
                let (nhwc, dy) = (&s.nhwc, &s.block);
                match tiling {
                    Algorithm::F23 => {
                        input_transform(nhwc, first_image, u, chunk, &mut s.cols);
                        grad_transform(dy, first_image, u, o_n, chunk, &mut s.out);
                    }
                    Algorithm::F43 => {
                        input_transform_43(nhwc, first_image, u, chunk, &mut s.cols);
                        grad_transform_43(dy, first_image, u, o_n, chunk, &mut s.out);
                    }
                    Algorithm::F22Phases => {
                        phase_input_transform(nhwc, first_image, u, chunk, &mut s.cols);
                        phase_grad_transform(dy, first_image, u, o_n, chunk, &mut s.out);
                    }
                }
                for xi in 0..points {
                    let lhs = Mat {
                        ptr: s.out[xi * n * o_n..].as_ptr(),
                        rs: 1,
                        cs: o_n as isize,
                    };
                    let rhs = Mat {
                        ptr: s.cols[xi * n * k..].as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    };
                    let dst = sum[xi * o_n * k..].as_mut_ptr();
                    // SAFETY: the blocks are `o_n x n` (transposed), `n x k`, `o_n x k`.
                    unsafe { matmul([o_n, k, n], dst, k, true, lhs, rhs, !alongside) };
                }
            }
        });
    });
    match tiling {
        Algorithm::F22Phases => phase_filter_grad_transform(&sums, o_n, c_n),
        three_by_three => filter_grad_transform(three_by_three, &sums, o_n, c_n),
    }
}

/// conv2d's input gradient (the transposed convolution of `dy`, plus `bias`: in `pass`, the
/// input gradient or conv_transpose2d's output) by [`forward`]: `dy` convolved with the
/// weight flipped in space and transposed in channels, with padding `2 - p`.
pub(super) fn input_grad<T: Elem>(
    dy: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
    pass: Pass,
) -> Vec<T> {
    let (c_n, o_n) = (u.channels, out_channels);
    let v = Unfold {
        batch: u.batch,
        channels: o_n,
        in_size: u.out_size,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [2 - u.padding[0], 2 - u.padding[1]],
        dilation: [1, 1],
        out_size: u.in_size,
        groups: 1,
    };
    let tiling = Algorithm::three_by_three(pass, v.out_size);
    let filters = filter_transform(tiling, w, o_n, c_n, Filters::FlippedTransposed);
    transformed_forward(tiling, dy, &filters, bias, &v, c_n)
}

/// `dx += B P Bᵀ` for the 3x3 products `P[ξ][t][(p, q, c)]` of each 2x2 output tile `t`, with
/// `B = [[1, 0, 0], [-1, 1, -1], [0, 0, 1]]` (the adjoint of [`phase_input_transform`]'s `Bᵀ`):
/// `e0 = p0, e1 = p1 - p0 - p2, e2 = p2` over the rows, then over the columns, each patch
/// pixel `(a, b)` of phase `(p, q)` added into input pixel `(4 ti + 2a + p - 1, 4 tj + 2b + q
/// - 1)` of `acc` (the task's images channels-last; pixels outside the image dropped, as the
/// forward pass read zeros there). Neighbouring tiles' patches share a row or column.
fn phase_input_scatter<T: Elem>(prods: &[T], u: &Unfold, chunk: RowChunk, acc: &mut [T]) {
    let [th, tw] = tiles(u, 2);
    let [in_h, in_w] = u.in_size;
    let c_n = u.channels;
    let k = 4 * c_n;
    let n = (chunk.end - chunk.start) * tw;
    // B P over the rows: `r[(3 a + j) C..]` is row a of column j.
    let mut r = vec![T::zero(); 9 * c_n];
    for g in chunk.start..chunk.end {
        let (image, ti) = (g / th, g % th);
        let dst = &mut acc[image * in_h * in_w * c_n..][..in_h * in_w * c_n];
        for tj in 0..tw {
            let at = (g - chunk.start) * tw + tj;
            for (p, q) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let phase = (2 * p + q) * c_n;
                let pp = |xi: usize| &prods[(xi * n + at) * k + phase..][..c_n];
                for j in 0..3 {
                    let row = |a: usize| (3 * a + j) * c_n..(3 * a + j + 1) * c_n;
                    r[row(0)].copy_from_slice(pp(j));
                    zip3(&mut r[row(1)], pp(3 + j), pp(j), pp(6 + j), |b, a, c| {
                        b - a - c
                    });
                    r[row(2)].copy_from_slice(pp(6 + j));
                }
                for a in 0..3 {
                    let h = (4 * ti + 2 * a + p).wrapping_sub(1);
                    if h >= in_h {
                        continue;
                    }
                    let col = |j: usize| &r[(3 * a + j) * c_n..][..c_n];
                    for b in 0..3 {
                        let w = (4 * tj + 2 * b + q).wrapping_sub(1);
                        if w >= in_w {
                            continue;
                        }
                        let px = &mut dst[(h * in_w + w) * c_n..][..c_n];
                        match b {
                            1 => add_into(px, [col(1), col(0), col(2)], |[y, x, z]| y - x - z),
                            _ => add_into(px, [col(b)], |[v]| v),
                        }
                    }
                }
            }
        }
    }
}

/// conv2d's input gradient (or, in the conv2d frame, conv_transpose2d's output) for a 4x4
/// stride-2 kernel with padding 1, plus `bias`: the adjoint of [`forward`] by
/// [`Algorithm::F22Phases`], 9 products `[tiles, O] · [O, 4C]` per chunk instead of
/// col2im's 16 taps.
///
/// Per chunk of tile rows of `z` (`[batch, O, out_h, out_w]`): `DZ[ξ][tiles, O]` by
/// [`phase_grad_transform`], `P[ξ] = DZ[ξ] · U[ξ]` with the forward pass's transformed
/// filters, and [`phase_input_scatter`] into the images channels-last, each stored `[C, in_h,
/// in_w]` once its last tile row is in.
pub(super) fn phase_input_grad<T: Elem>(
    z: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let (c_n, o_n) = (u.channels, out_channels);
    let k = 4 * c_n;
    let filters = phase_filter_transform(w, o_n, c_n);
    let [th, tw] = tiles(u, 2);
    let plane = u.in_size[0] * u.in_size[1];
    let out_plane = u.out_size[0] * u.out_size[1];
    let per_image = c_n * plane;
    let mut x = zeros(u.batch * per_image, T::zero());
    let per_chunk = chunk_tiles(9, k.max(o_n));
    let grain = (per_chunk / tw.max(1)).max(1) / th.max(1);
    split_batch(&mut x, u.batch, per_image, grain, |first, x, alongside| {
        let images = x.len() / per_image.max(1);
        let z = &z[first * o_n * out_plane..][..images * o_n * out_plane];
        T::with_scratch(|s| {
            let mut loaded = 0..0;
            s.nhwc.clear();
            s.nhwc.resize(images * per_image, T::zero());
            let mut stored = 0;
            for chunk in row_chunks(images * th, tw, per_chunk) {
                let n = (chunk.end - chunk.start) * tw;
                let spanned = chunk.images(th);
                let first_image = spanned.start;
                load_channels_last(z, o_n, out_plane, spanned, &mut loaded, &mut s.block);
                s.out.resize(9 * n * o_n, T::zero());
                s.cols.resize(9 * n * k, T::zero());
                phase_grad_transform(&s.block, first_image, u, o_n, chunk, &mut s.out);
                for xi in 0..9 {
                    let lhs = Mat {
                        ptr: s.out[xi * n * o_n..].as_ptr(),
                        rs: o_n as isize,
                        cs: 1,
                    };
                    let rhs = Mat {
                        ptr: filters[xi * o_n * k..].as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    };
                    let dst = s.cols[xi * n * k..].as_mut_ptr();
                    // SAFETY: the blocks are `n x o_n`, `o_n x k`, `n x k`.
                    unsafe { matmul([n, k, o_n], dst, k, false, lhs, rhs, !alongside) };
                }
                phase_input_scatter(&s.cols, u, chunk, &mut s.nhwc);
                for image in stored..chunk.end / th {
                    let at = image * per_image..(image + 1) * per_image;
                    transpose(&s.nhwc[at.clone()], plane, c_n, &mut x[at]);
                }
                stored = chunk.end / th;
            }
        });
        if let Some(bias) = bias {
            add_bias(x, bias, plane);
        }
    });
    x
}
