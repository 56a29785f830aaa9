//! Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, "Fast Algorithms for
//! Convolutional Neural Networks", CVPR 2016): the forward pass, and the weight gradient as its
//! adjoint; the input gradient is the forward pass of the output gradient through the flipped,
//! transposed weight.
//!
//! Each 2x2 output tile is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for the 4x4 input patch `d` and the 3x3
//! filter `g`; summed over input channels, the 16 elementwise products become 16 GEMMs
//! `M[ξ][O, tiles] = U[ξ][O, C] · V[ξ][C, tiles]`: 16 multiplies per 4 outputs instead of 36.
//! The weight gradient is the same identity read backwards, `dg = Gᵀ [(A dy Aᵀ) ⊙ (Bᵀ d B)] G`,
//! summed over tiles: 16 GEMMs `[O, tiles] · [tiles, C]`.

use alloc::vec;
use alloc::vec::Vec;

use super::conv2d_gemm::{Elem, Mat, Unfold, add_bias, matmul, split_batch, task_count};

/// Target size of one chunk's transformed input, in elements.
const TRANSFORM_ELEMS: usize = 1 << 20;

/// Fewest input and output channels for which Winograd beats im2col + GEMM (measured on a
/// 2-core AVX2 machine: even at 32, faster at 64 and up).
const MIN_CHANNELS: usize = 32;

/// Whether Winograd F(2x2, 3x3) computes this convolution: a 3x3 kernel at stride 1 without
/// dilation or groups, padding at most 2 (every tile's patch starts at most 2 before the
/// image), and at least [`MIN_CHANNELS`] channels on both sides (below that the products are
/// too thin for the transforms to pay).
pub(super) fn applies(u: &Unfold, out_channels: usize) -> bool {
    u.kernel == [3, 3]
        && u.stride == [1, 1]
        && u.dilation == [1, 1]
        && u.groups == 1
        && u.padding[0] <= 2
        && u.padding[1] <= 2
        && u.channels.min(out_channels) >= MIN_CHANNELS
}

/// Output tiles per image: `[ceil(out_h / 2), ceil(out_w / 2)]`.
fn tiles(u: &Unfold) -> [usize; 2] {
    [u.out_size[0].div_ceil(2), u.out_size[1].div_ceil(2)]
}

/// Tiles per chunk: a transformed input of about `TRANSFORM_ELEMS` (16 x rows x tiles).
fn chunk_tiles(rows: usize) -> usize {
    (TRANSFORM_ELEMS / (16 * rows.max(1))).max(16)
}

/// `U[ξ][o][c] = (G g Gᵀ)[ξ]` for every filter `g = w[o, c]`, `ξ` over the 4x4 tile.
fn filter_transform<T: Elem>(w: &[T], o_n: usize, c_n: usize) -> Vec<T> {
    let half = T::one() / (T::one() + T::one());
    let mut u = vec![T::zero(); 16 * o_n * c_n];
    let plane = o_n * c_n;
    for (oc, g) in w.chunks_exact(9).enumerate() {
        // G g: rows of the 4x3 product.
        let mut gg = [[T::zero(); 3]; 4];
        for j in 0..3 {
            let (a, b, c) = (g[j], g[3 + j], g[6 + j]);
            gg[0][j] = a;
            gg[1][j] = half * (a + b + c);
            gg[2][j] = half * (a - b + c);
            gg[3][j] = c;
        }
        for (i, row) in gg.iter().enumerate() {
            let (a, b, c) = (row[0], row[1], row[2]);
            let out = [a, half * (a + b + c), half * (a - b + c), c];
            for (j, v) in out.into_iter().enumerate() {
                u[(i * 4 + j) * plane + oc] = v;
            }
        }
    }
    u
}

/// A chunk of tiles: tiles `[start, start + len)` of the task's images, numbered image by
/// image, row by row.
#[derive(Clone, Copy)]
struct TileChunk {
    start: usize,
    len: usize,
}

fn tile_chunks(total: usize, per: usize) -> impl Iterator<Item = TileChunk> {
    (0..total).step_by(per.max(1)).map(move |start| TileChunk {
        start,
        len: per.min(total - start),
    })
}

/// The runs of the chunk's tiles that share an image and a tile row: `(image, ti, tj0, tj1,
/// first index in the chunk)`.
fn tile_rows(u: &Unfold, chunk: TileChunk) -> Vec<(usize, usize, usize, usize, usize)> {
    let [th, tw] = tiles(u);
    let per_image = th * tw;
    let mut runs = Vec::new();
    let mut t = chunk.start;
    while t < chunk.start + chunk.len {
        let tj0 = t % tw;
        let tj1 = tw.min(tj0 + chunk.start + chunk.len - t);
        runs.push((t / per_image, t % per_image / tw, tj0, tj1, t - chunk.start));
        t += tj1 - tj0;
    }
    runs
}

/// `out[k] = f(a[k], b[k])` over the shortest of the three (a loop LLVM vectorises).
#[inline(always)]
fn zip2<T: Elem>(out: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// Splits the padded row `2 * even.len()` columns wide starting at column `-pad` of `line`
/// (zeros outside it) into its even and odd columns.
fn deinterleave<T: Elem>(line: Option<&[T]>, pad: usize, even: &mut [T], odd: &mut [T]) {
    let zero = T::zero();
    let Some(line) = line else {
        even.fill(zero);
        odd.fill(zero);
        return;
    };
    let at = |col: usize| {
        col.checked_sub(pad)
            .and_then(|c| line.get(c).copied())
            .unwrap_or(zero)
    };
    // Inside: 2q - pad >= 0 and 2q + 1 - pad < line.len().
    let len = even.len();
    let lo = pad.div_ceil(2).min(len);
    let hi = ((line.len() + pad) / 2).clamp(lo, len);
    for q in (0..lo).chain(hi..len) {
        even[q] = at(2 * q);
        odd[q] = at(2 * q + 1);
    }
    let pairs = line[2 * lo - pad..][..2 * (hi - lo)].chunks_exact(2);
    for ((e, o), pair) in even[lo..hi].iter_mut().zip(&mut odd[lo..hi]).zip(pairs) {
        *e = pair[0];
        *o = pair[1];
    }
}

/// `V[ξ][c][t] = (Bᵀ d B)[ξ]` for the 4x4 patch `d` of channel `c` under each tile `t` of the
/// chunk (zero outside the image), `v` holding `16 x channels x chunk.len`.
///
/// A tile row at a time, on the even and odd columns of the 4 patch rows, so that every step
/// runs over consecutive tiles: with `E`, `O` the even and odd columns of a row, tile `j`'s
/// columns are `E[j], O[j], E[j + 1], O[j + 1]`. Each padded input row is split once per
/// channel and image, for the tile rows of the chunk that read it.
fn input_transform<T: Elem>(x: &[T], u: &Unfold, chunk: TileChunk, v: &mut [T]) {
    let [th, tw] = tiles(u);
    let [in_h, in_w] = u.in_size;
    let [ph, pw] = u.padding;
    let n = chunk.len;
    let plane = u.channels * n;
    let w = tw + 1;
    // The chunk's padded rows split in even / odd halves (`2 * w` each, rows `2 ti0 ..`), and
    // Bᵀ d for one tile row.
    let mut d = vec![T::zero(); (2 * th + 2) * 2 * w];
    let mut t = vec![T::zero(); 8 * w];
    let runs = tile_rows(u, chunk);
    for c in 0..u.channels {
        let mut first = 0;
        while first < runs.len() {
            let image = runs[first].0;
            let last = runs[first..].iter().take_while(|r| r.0 == image).count() + first;
            let (ti0, ti1) = (runs[first].1, runs[last - 1].1);
            let src = &x[(image * u.channels + c) * in_h * in_w..][..in_h * in_w];
            for r in 2 * ti0..2 * ti1 + 4 {
                let ih = r.checked_sub(ph).filter(|&i| i < in_h);
                let line = ih.map(|i| &src[i * in_w..][..in_w]);
                let (even, odd) = d[(r - 2 * ti0) * 2 * w..][..2 * w].split_at_mut(w);
                deinterleave(line, pw, even, odd);
            }
            for &(_, ti, tj0, tj1, at) in &runs[first..last] {
                // Bᵀ d over rows: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3, on
                // the even and odd halves at once.
                let row = |i: usize| &d[(2 * (ti - ti0) + i) * 2 * w..][..2 * w];
                zip2(&mut t[..2 * w], row(0), row(2), |a, b| a - b);
                zip2(&mut t[2 * w..4 * w], row(1), row(2), |a, b| a + b);
                zip2(&mut t[4 * w..6 * w], row(2), row(1), |a, b| a - b);
                zip2(&mut t[6 * w..], row(1), row(3), |a, b| a - b);
                // ... then over columns: [E0 - E1, O0 + E1, E1 - O0, O0 - O1] per tile.
                let len = tj1 - tj0;
                for i in 0..4 {
                    let (e, o) = t[2 * i * w..][..2 * w].split_at(w);
                    let (e0, e1) = (&e[tj0..tj1], &e[tj0 + 1..=tj1]);
                    let (o0, o1) = (&o[tj0..tj1], &o[tj0 + 1..=tj1]);
                    let out = |j: usize| (i * 4 + j) * plane + c * n + at;
                    zip2(&mut v[out(0)..][..len], e0, e1, |a, b| a - b);
                    zip2(&mut v[out(1)..][..len], o0, e1, |a, b| a + b);
                    zip2(&mut v[out(2)..][..len], e1, o0, |a, b| a - b);
                    zip2(&mut v[out(3)..][..len], o0, o1, |a, b| a - b);
                }
            }
            first = last;
        }
    }
}

/// `y[o, 2x2 tile] = (Aᵀ m A)` for `m[ξ] = M[ξ][o][t]`, written into the task's output images
/// (partial tiles at the bottom and right edges cropped).
fn output_transform<T: Elem>(
    m: &[T],
    u: &Unfold,
    out_channels: usize,
    chunk: TileChunk,
    y: &mut [T],
) {
    let [_, tw] = tiles(u);
    let [out_h, out_w] = u.out_size;
    let n = chunk.len;
    let plane = out_channels * n;
    let runs = tile_rows(u, chunk);
    // r: Aᵀ m (2 rows x 4 columns), then the 2x2 outputs.
    let mut r = vec![T::zero(); 8 * tw];
    let mut out = vec![T::zero(); 2 * tw];
    for o in 0..out_channels {
        for &(image, ti, tj0, tj1, at) in &runs {
            let len = tj1 - tj0;
            let mm = |xi: usize| &m[xi * plane + o * n + at..][..len];
            // Aᵀ m over rows: y0 = m0 + m1 + m2, y1 = m1 - m2 - m3, column by column.
            for j in 0..4 {
                let (r0, r1) = r[2 * j * tw..][..2 * tw].split_at_mut(tw);
                for (((r0, r1), (&a, &b)), (&c, &d)) in r0
                    .iter_mut()
                    .zip(r1.iter_mut())
                    .zip(mm(j).iter().zip(mm(4 + j)))
                    .zip(mm(8 + j).iter().zip(mm(12 + j)))
                {
                    *r0 = a + b + c;
                    *r1 = b - c - d;
                }
            }
            let dst = &mut y[(image * out_channels + o) * out_h * out_w..][..out_h * out_w];
            for i in 0..(out_h - 2 * ti).min(2) {
                let col = |j: usize| &r[(2 * j + i) * tw..][..len];
                let (y0, y1) = out.split_at_mut(tw);
                for (((y0, y1), (&a, &b)), (&c, &d)) in y0
                    .iter_mut()
                    .zip(y1.iter_mut())
                    .zip(col(0).iter().zip(col(1)))
                    .zip(col(2).iter().zip(col(3)))
                {
                    *y0 = a + b + c;
                    *y1 = b - c - d;
                }
                let row = &mut dst[(2 * ti + i) * out_w..][..out_w];
                for k in 0..len {
                    let q = 2 * (tj0 + k);
                    row[q] = y0[k];
                    if q + 1 < out_w {
                        row[q + 1] = y1[k];
                    }
                }
            }
        }
    }
}

/// `y = conv2d(x, w) + bias` by Winograd F(2x2, 3x3); `u` must satisfy [`applies`].
pub(super) fn forward<T: Elem>(
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let [th, tw] = tiles(u);
    let [out_h, out_w] = u.out_size;
    let per_image = out_channels * out_h * out_w;
    let mut y = vec![T::zero(); u.batch * per_image];
    let filters = filter_transform(w, out_channels, u.channels);
    let (c_n, o_n) = (u.channels, out_channels);
    split_batch(&mut y, u.batch, per_image, |first, y, alongside| {
        let images = y.len() / per_image.max(1);
        let x = &x[first * u.channels * u.in_size[0] * u.in_size[1]..];
        let per = chunk_tiles(c_n.max(o_n));
        let mut v = Vec::new();
        let mut m = Vec::new();
        for chunk in tile_chunks(images * th * tw, per) {
            let n = chunk.len;
            v.resize(16 * c_n * n, T::zero());
            m.resize(16 * o_n * n, T::zero());
            input_transform(x, u, chunk, &mut v);
            for xi in 0..16 {
                let lhs = Mat {
                    ptr: filters[xi * o_n * c_n..].as_ptr(),
                    rs: c_n as isize,
                    cs: 1,
                };
                let rhs = Mat {
                    ptr: v[xi * c_n * n..].as_ptr(),
                    rs: n as isize,
                    cs: 1,
                };
                let dst = m[xi * o_n * n..].as_mut_ptr();
                // SAFETY: each block is `o_n x c_n`, `c_n x n`, `o_n x n` inside its buffer.
                unsafe { matmul([o_n, n, c_n], dst, n, false, lhs, rhs, !alongside) };
            }
            output_transform(&m, u, o_n, chunk, y);
        }
        if let Some(bias) = bias {
            add_bias(y, bias, out_h * out_w);
        }
    });
    y
}

/// `DY[ξ][o][t] = (A dy Aᵀ)[ξ]` for the 2x2 output-gradient tile `t` (zero beyond the output).
fn grad_transform<T: Elem>(
    dy: &[T],
    u: &Unfold,
    out_channels: usize,
    chunk: TileChunk,
    g: &mut [T],
) {
    let [_, tw] = tiles(u);
    let [out_h, out_w] = u.out_size;
    let n = chunk.len;
    let plane = out_channels * n;
    let runs = tile_rows(u, chunk);
    let zero = T::zero();
    // The tile rows' two output rows in even / odd columns, then A d's 4 rows likewise.
    let mut d = vec![zero; 4 * tw];
    let mut a = vec![zero; 8 * tw];
    for o in 0..out_channels {
        for &(image, ti, tj0, tj1, at) in &runs {
            let len = tj1 - tj0;
            let src = &dy[(image * out_channels + o) * out_h * out_w..][..out_h * out_w];
            for i in 0..2 {
                let (even, odd) = d[2 * i * tw..][..2 * tw].split_at_mut(tw);
                let line = (2 * ti + i < out_h).then(|| &src[(2 * ti + i) * out_w..][..out_w]);
                for k in 0..len {
                    let q = 2 * (tj0 + k);
                    even[k] = line.map_or(zero, |l| l[q]);
                    odd[k] = line.and_then(|l| l.get(q + 1).copied()).unwrap_or(zero);
                }
            }
            // A d over rows: [d0, d0 + d1, d0 - d1, -d1].
            let (d0, d1) = d.split_at(2 * tw);
            a[..2 * tw].copy_from_slice(d0);
            zip2(&mut a[2 * tw..4 * tw], d0, d1, |x, y| x + y);
            zip2(&mut a[4 * tw..6 * tw], d0, d1, |x, y| x - y);
            zip2(&mut a[6 * tw..], d1, d1, |_, y| zero - y);
            // ... then over columns: [E, E + O, E - O, -O].
            for i in 0..4 {
                let (e, od) = a[2 * i * tw..][..2 * tw].split_at(tw);
                let (e, od) = (&e[..len], &od[..len]);
                let out = |j: usize| (i * 4 + j) * plane + o * n + at;
                g[out(0)..][..len].copy_from_slice(e);
                zip2(&mut g[out(1)..][..len], e, od, |x, y| x + y);
                zip2(&mut g[out(2)..][..len], e, od, |x, y| x - y);
                zip2(&mut g[out(3)..][..len], od, od, |_, y| zero - y);
            }
        }
    }
}

/// `dW[o, c] = Gᵀ M[o][c] G` for the 4x4 sums `M[ξ][o][c]`.
fn filter_grad_transform<T: Elem>(m: &[T], o_n: usize, c_n: usize) -> Vec<T> {
    let half = T::one() / (T::one() + T::one());
    let plane = o_n * c_n;
    let mut dw = vec![T::zero(); 9 * plane];
    for oc in 0..plane {
        let mut mm = [[T::zero(); 4]; 4];
        for (xi, v) in mm.iter_mut().flatten().enumerate() {
            *v = m[xi * plane + oc];
        }
        // Gᵀ m: [m0 + (m1 + m2) / 2, (m1 - m2) / 2, (m1 + m2) / 2 + m3], rows then columns.
        let mut r = [[T::zero(); 4]; 3];
        for j in 0..4 {
            let (a, b, c, d) = (mm[0][j], mm[1][j], mm[2][j], mm[3][j]);
            r[0][j] = a + half * (b + c);
            r[1][j] = half * (b - c);
            r[2][j] = half * (b + c) + d;
        }
        for (i, row) in r.iter().enumerate() {
            let (a, b, c, d) = (row[0], row[1], row[2], row[3]);
            let out = [a + half * (b + c), half * (b - c), half * (b + c) + d];
            dw[oc * 9 + i * 3..][..3].copy_from_slice(&out);
        }
    }
    dw
}

/// The weight gradient of `conv2d(x, W)` by the adjoint of Winograd F(2x2, 3x3); `u` must
/// satisfy [`applies`].
pub(super) fn weight_grad<T: Elem>(x: &[T], dy: &[T], u: &Unfold, out_channels: usize) -> Vec<T> {
    let [th, tw] = tiles(u);
    let (c_n, o_n) = (u.channels, out_channels);
    let len = 16 * o_n * c_n;
    let tasks = task_count(u.batch);
    let mut sums = vec![T::zero(); tasks * len];
    let image_len = c_n * u.in_size[0] * u.in_size[1];
    let grad_len = o_n * u.out_size[0] * u.out_size[1];
    split_batch(&mut sums, tasks, len, |task, sum, alongside| {
        let (first, end) = (task * u.batch / tasks, (task + 1) * u.batch / tasks);
        let x = &x[first * image_len..];
        let dy = &dy[first * grad_len..];
        let per = chunk_tiles(c_n.max(o_n));
        let mut v = Vec::new();
        let mut g = Vec::new();
        for chunk in tile_chunks((end - first) * th * tw, per) {
            let n = chunk.len;
            v.resize(16 * c_n * n, T::zero());
            g.resize(16 * o_n * n, T::zero());
            input_transform(x, u, chunk, &mut v);
            grad_transform(dy, u, o_n, chunk, &mut g);
            for xi in 0..16 {
                let lhs = Mat {
                    ptr: g[xi * o_n * n..].as_ptr(),
                    rs: n as isize,
                    cs: 1,
                };
                let rhs = Mat {
                    ptr: v[xi * c_n * n..].as_ptr(),
                    rs: 1,
                    cs: n as isize,
                };
                let dst = sum[xi * o_n * c_n..].as_mut_ptr();
                // SAFETY: each block is `o_n x n`, `n x c_n` (transposed), `o_n x c_n`.
                unsafe { matmul([o_n, c_n, n], dst, c_n, true, lhs, rhs, !alongside) };
            }
        }
    });
    let (total, rest) = sums.split_at_mut(len);
    for part in rest.chunks(len) {
        for (t, &p) in total.iter_mut().zip(part) {
            *t = *t + p;
        }
    }
    filter_grad_transform(total, o_n, c_n)
}

/// conv2d's input gradient (the transposed convolution of `dy`, plus `bias`) by [`forward`]:
/// `dy` convolved with the weight flipped in space and transposed in channels, with padding
/// `2 - p`.
pub(super) fn input_grad<T: Elem>(
    dy: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let (c_n, o_n) = (u.channels, out_channels);
    let mut flipped = vec![T::zero(); w.len()];
    for o in 0..o_n {
        for c in 0..c_n {
            for k in 0..9 {
                flipped[(c * o_n + o) * 9 + 8 - k] = w[(o * c_n + c) * 9 + k];
            }
        }
    }
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
    forward(dy, &flipped, bias, &v, c_n)
}
