//! 2D convolutions as one GEMM per chunk of output positions around im2col / col2im: the
//! forward pass, both gradients, and the transposed convolution with its gradients.
//!
//! Burn's generic `ModuleOps` defaults compute a conv2d's weight gradient as a convolution
//! whose kernel is the output gradient (for a 3x3 conv at 32x32, a 32x32 kernel and one skinny
//! product per input channel) and its input gradient through `conv_transpose2d`, which
//! multiplied one image at a time. Here each of these operations is one well-shaped product
//! over the unfolded image, the "columns": column `j` holds the receptive field of output
//! position `j`, and rows run over `(c, kh, kw)` in the order of the weight's last three axes.
//! With `W` the weight `[O, C/g, kh, kw]` seen as `[O, C/g * kh * kw]` (one group at a time):
//!
//! - forward:         `y[O, n]      = W · cols[C k², n]`
//! - weight gradient: `dW          += dy[O, n] · colsᵀ`, summed over every position
//! - fold:            `cols[C k², n] = Wᵀ · dy[O, n]`, then col2im adds the columns back
//!   onto the image: the input gradient, and the transposed convolution's forward pass
//!   (whose weight `[C_in, C_out/g, kh, kw]` is the `W` of the convolution it transposes).
//!
//! The positions of several images make one chunk, so the product keeps its shape at 4x4 and
//! 8x8; chunks are capped at about [`COLUMN_ELEMS`] elements of columns so they stay in the
//! outer caches. The batch is split into contiguous ranges of images ([`split_batch`]: cut
//! at chunk boundaries, a few per thread, each taken by whichever thread is free), each
//! running its own chunk loop around a single-threaded GEMM; a batch smaller than the
//! thread count lets the GEMM use the threads instead.
//!
//! Padding is given at the beginning of each axis only: the end padding is implied by the
//! image and output sizes, which makes asymmetric padding and `padding_out` free.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::DType;
use burn_backend::ops::conv::{
    calculate_conv_output_size_asymmetric, calculate_conv_transpose_output_size,
};
use burn_backend::ops::{ConvOptions, ConvTransposeOptions};
use burn_std::{Bytes, Shape, f16};
use num_traits::Num;

use super::conv2d_winograd::{self as winograd, Pass};
use super::par::{planes, sums, zeros};
use crate::{FlexTensor, Layout};

/// Target size of one chunk's columns, in elements (1 MiB of f32: they stay in L2).
const COLUMN_ELEMS: usize = 1 << 18;

/// Fewest positions in a chunk.
const MIN_CHUNK: usize = 256;

/// Below this many multiply-adds a product runs on one thread even when the batch leaves
/// threads idle.
#[cfg(feature = "rayon")]
const PARALLEL_GEMM_WORK: usize = 128 * 128 * 128;

/// The element types the kernels run on natively (bf16 goes through f32).
pub(crate) trait Elem: bytemuck::Pod + Num + Send + Sync + 'static {
    /// Whether Winograd's transforms keep this type's rounding near the direct sum's.
    const WINOGRAD: bool;

    /// Runs `f` with this thread's [`Scratch`] for this type: the buffers of the previous
    /// call, already grown and faulted in, instead of fresh ones whose zero fill and first
    /// touch cost more than a small convolution's arithmetic. A fresh set where the thread's
    /// own is in use (a kernel stolen by a thread that waits inside another) or without std.
    fn with_scratch<R>(f: impl FnOnce(&mut Scratch<Self>) -> R) -> R;
}

/// Implements [`Elem`] for `$t` with a thread-local [`Scratch`].
macro_rules! elem {
    ($t:ty, $winograd:expr) => {
        impl Elem for $t {
            const WINOGRAD: bool = $winograd;

            fn with_scratch<R>(f: impl FnOnce(&mut Scratch<Self>) -> R) -> R {
                #[cfg(feature = "std")]
                {
                    std::thread_local! {
                        static SCRATCH: core::cell::RefCell<Scratch<$t>> =
                            const { core::cell::RefCell::new(Scratch::new()) };
                    }
                    SCRATCH.with(|cell| match cell.try_borrow_mut() {
                        Ok(mut scratch) => f(&mut scratch),
                        Err(_) => f(&mut Scratch::new()),
                    })
                }
                #[cfg(not(feature = "std"))]
                f(&mut Scratch::new())
            }
        }
    };
}

elem!(f32, true);
elem!(f64, true);
elem!(f16, false);

/// How an image `[batch, channels, in_h, in_w]` is swept by a `kernel` with `stride`,
/// `padding` (at the beginning of each axis) and `dilation` at `out_h x out_w` positions, in
/// `groups` channel groups.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unfold {
    pub batch: usize,
    pub channels: usize,
    pub in_size: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub out_size: [usize; 2],
    pub groups: usize,
}

impl Unfold {
    fn positions(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    fn image_len(&self) -> usize {
        self.channels * self.in_size[0] * self.in_size[1]
    }

    /// Rows of one group's columns: `C/g * kh * kw`.
    fn group_rows(&self) -> usize {
        self.channels / self.groups * self.kernel[0] * self.kernel[1]
    }

    /// Whether the columns are the image itself (a 1x1 kernel at stride 1 without padding).
    fn is_identity(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.padding == [0, 0]
            && self.in_size == self.out_size
    }
}

/// A run of output positions: `images` whole images from `first_image`, or (when `images` is
/// 1) the positions `[start, start + len)` of one image.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    first_image: usize,
    images: usize,
    start: usize,
    len: usize,
}

impl Chunk {
    fn columns(&self) -> usize {
        self.images * self.len
    }
}

/// The chunks covering `images` images of `positions` positions each, with about
/// `COLUMN_ELEMS / rows` columns per chunk but at least [`MIN_CHUNK`] (the product re-reads
/// the whole weight once per chunk): whole images together when they are small, equal tiles of
/// one image when it is large.
fn chunks(images: usize, positions: usize, rows: usize) -> Vec<Chunk> {
    let cap = (COLUMN_ELEMS / rows.max(1)).max(MIN_CHUNK);
    let mut out = Vec::new();
    if positions == 0 || images == 0 {
        return out;
    }
    if positions >= cap {
        let tiles = positions.div_ceil(cap);
        let len = positions.div_ceil(tiles);
        for image in 0..images {
            for start in (0..positions).step_by(len) {
                out.push(Chunk {
                    first_image: image,
                    images: 1,
                    start,
                    len: len.min(positions - start),
                });
            }
        }
    } else {
        let per = (cap / positions).clamp(1, images);
        let groups = images.div_ceil(per);
        let per = images.div_ceil(groups);
        for first_image in (0..images).step_by(per) {
            out.push(Chunk {
                first_image,
                images: per.min(images - first_image),
                start: 0,
                len: positions,
            });
        }
    }
    out
}

/// Images per chunk of [`chunks`] (one when a chunk is a tile of one image): the grain at
/// which [`split_batch`] may cut the batch without changing the chunks' shapes.
fn chunk_images(positions: usize, rows: usize) -> usize {
    let cap = (COLUMN_ELEMS / rows.max(1)).max(MIN_CHUNK);
    (cap / positions.max(1)).max(1)
}

/// `dst[c * rows + r] = src[r * cols + c]`: one image `[rows, cols]` transposed.
pub(super) fn transpose<T: Elem>(src: &[T], rows: usize, cols: usize, dst: &mut [T]) {
    transpose_into(src, rows, cols, dst, rows);
}

/// `dst[c * ld + r] = src[r * cols + c]`: `src` `[rows, cols]` transposed into the first
/// `rows` elements of `cols` rows `ld` apart, through 8x8 blocks held in registers
/// (contiguous loads and stores; AVX shuffles for f32 where the CPU has them).
pub(super) fn transpose_into<T: Elem>(
    src: &[T],
    rows: usize,
    cols: usize,
    dst: &mut [T],
    ld: usize,
) {
    const B: usize = 8;
    let (rows_b, cols_b) = (rows - rows % B, cols - cols % B);
    assert!(src.len() >= rows * cols && (cols == 0 || dst.len() >= (cols - 1) * ld + rows));
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    let avx = core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()
        && std::arch::is_x86_feature_detected!("avx");
    for r0 in (0..rows_b).step_by(B) {
        for c0 in (0..cols_b).step_by(B) {
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            if avx {
                let (s, d) = (
                    bytemuck::cast_slice::<T, f32>(src),
                    bytemuck::cast_slice_mut::<T, f32>(dst),
                );
                // SAFETY: AVX is present; the block's 8 rows of 8 lie inside `src` (rows
                // `r0 + 7 < rows`, columns `c0 + 7 < cols`) and `dst` (checked above).
                unsafe {
                    transpose_8x8_avx(
                        s[r0 * cols + c0..].as_ptr(),
                        cols,
                        d[c0 * ld + r0..].as_mut_ptr(),
                        ld,
                    )
                };
                continue;
            }
            let mut block = [[T::zero(); B]; B];
            for (i, line) in block.iter_mut().enumerate() {
                line.copy_from_slice(&src[(r0 + i) * cols + c0..][..B]);
            }
            for j in 0..B {
                let out = &mut dst[(c0 + j) * ld + r0..][..B];
                for (i, o) in out.iter_mut().enumerate() {
                    *o = block[i][j];
                }
            }
        }
    }
    // The ragged right and bottom edges.
    for r in 0..rows {
        let c_start = if r < rows_b { cols_b } else { 0 };
        for c in c_start..cols {
            dst[c * ld + r] = src[r * cols + c];
        }
    }
}

/// One 8x8 f32 block, rows `src_ld` apart, transposed into rows `dst_ld` apart: pairs of rows
/// interleaved, then pairs of pairs, then the 128-bit halves swapped across.
///
/// # Safety
/// AVX must be present; 8 rows of 8 must be readable at `src` and writable at `dst`.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[target_feature(enable = "avx")]
unsafe fn transpose_8x8_avx(src: *const f32, src_ld: usize, dst: *mut f32, dst_ld: usize) {
    use core::arch::x86_64::*;
    unsafe {
        let r: [__m256; 8] = core::array::from_fn(|i| _mm256_loadu_ps(src.add(i * src_ld)));
        // [a0 b0 a1 b1 | a4 b4 a5 b5], [a2 b2 a3 b3 | a6 b6 a7 b7], ... for row pairs.
        let lo = |i: usize| _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        let hi = |i: usize| _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        let (t0, t1, t2, t3) = (lo(0), hi(0), lo(1), hi(1));
        let (t4, t5, t6, t7) = (lo(2), hi(2), lo(3), hi(3));
        // [a0 b0 c0 d0 | a4 b4 c4 d4], [a1 b1 c1 d1 | a5 ...], ...
        let s = [
            _mm256_shuffle_ps::<0x44>(t0, t2),
            _mm256_shuffle_ps::<0xEE>(t0, t2),
            _mm256_shuffle_ps::<0x44>(t1, t3),
            _mm256_shuffle_ps::<0xEE>(t1, t3),
            _mm256_shuffle_ps::<0x44>(t4, t6),
            _mm256_shuffle_ps::<0xEE>(t4, t6),
            _mm256_shuffle_ps::<0x44>(t5, t7),
            _mm256_shuffle_ps::<0xEE>(t5, t7),
        ];
        for j in 0..4 {
            let low = _mm256_permute2f128_ps::<0x20>(s[j], s[j + 4]);
            let high = _mm256_permute2f128_ps::<0x31>(s[j], s[j + 4]);
            _mm256_storeu_ps(dst.add(j * dst_ld), low);
            _mm256_storeu_ps(dst.add((j + 4) * dst_ld), high);
        }
    }
}

/// Per-task buffers of a chunk loop, grown once and reused (across calls, per thread: see
/// [`Elem::with_scratch`]); every user writes what it reads.
///
/// Winograd's kernels (`conv2d_winograd`) keep their own buffers in the same four: the
/// images channels-last, the transformed input, the products, and the output rows or the
/// output gradient channels-last.
pub(crate) struct Scratch<T> {
    /// The chunk's images channels-last, `[images, in_h, in_w, C]`.
    pub(super) nhwc: Vec<T>,
    /// The columns, `[positions, kh * kw * C/g]`.
    pub(super) cols: Vec<T>,
    /// A gathered position block (see [`position_block`]).
    pub(super) block: Vec<T>,
    /// A product waiting to be scattered to its images.
    pub(super) out: Vec<T>,
}

impl<T: Elem> Scratch<T> {
    const fn new() -> Self {
        Scratch {
            nhwc: Vec::new(),
            cols: Vec::new(),
            block: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Loads the chunk's images of `x` (`[images, C, in_h, in_w]`) channels-last, unless the
    /// chunk continues the image already loaded.
    fn load_nhwc(&mut self, x: &[T], u: &Unfold, chunk: Chunk) {
        if chunk.start > 0 {
            return;
        }
        let plane = u.in_size[0] * u.in_size[1];
        let image_len = u.image_len();
        let src = &x[chunk.first_image * image_len..][..chunk.images * image_len];
        self.nhwc.resize(src.len(), T::zero());
        for (src, dst) in src
            .chunks_exact(image_len)
            .zip(self.nhwc.chunks_exact_mut(image_len))
        {
            transpose(src, u.channels, plane, dst);
        }
    }
}

/// Calls `f(position index in the chunk, image, [ih or None per kernel row], ow)` for every
/// position of the chunk.
#[inline(always)]
fn for_each_position(u: &Unfold, chunk: Chunk, mut f: impl FnMut(usize, usize, usize, usize)) {
    let out_w = u.out_size[1];
    for image in 0..chunk.images {
        for (i, p) in (chunk.start..chunk.start + chunk.len).enumerate() {
            f(image * chunk.len + i, image, p / out_w, p % out_w);
        }
    }
}

/// The input coordinate that tap `k` of output coordinate `o` reads along `axis`, if inside.
#[inline(always)]
fn tap(u: &Unfold, axis: usize, o: usize, k: usize) -> Option<usize> {
    (o * u.stride[axis] + k * u.dilation[axis])
        .checked_sub(u.padding[axis])
        .filter(|&i| i < u.in_size[axis])
}

/// The row stride of the columns for rows of `len`: `len`, unless a multiple of 128 elements,
/// which the GEMM's packing would read 16 rows at a time from the same L1 sets (strides of
/// 2 or 4 KiB); those get 16 elements more.
fn column_stride(len: usize) -> usize {
    if len % 128 == 0 { len + 16 } else { len }
}

/// Fills the columns `[chunk.columns(), kh * kw * C/g]` from the channels-last images:
/// position `j`'s row holds, tap by tap, channels `[c0, c0 + C/g)` of the pixel it reads
/// (zeros in the padding). A row of taps that reads consecutive pixels of all channels is one
/// copy.
fn im2col<T: Elem>(nhwc: &[T], u: &Unfold, c0: usize, chunk: Chunk, cols: &mut [T]) {
    let [kh, kw] = u.kernel;
    let [in_h, in_w] = u.in_size;
    let (c, cg) = (u.channels, u.channels / u.groups);
    let k_len = kh * kw * cg;
    let ld = column_stride(k_len);
    let image_len = u.image_len();
    let whole_rows = cg == c && u.dilation[1] == 1;
    let zero = T::zero();
    for_each_position(u, chunk, |j, image, oh, ow| {
        let src = &nhwc[image * image_len..][..image_len];
        let row = &mut cols[j * ld..][..k_len];
        for ki in 0..kh {
            let taps = &mut row[ki * kw * cg..][..kw * cg];
            let Some(ih) = tap(u, 0, oh, ki) else {
                taps.fill(zero);
                continue;
            };
            let line = &src[ih * in_w * c..][..in_w * c];
            if whole_rows && let (Some(a), Some(_)) = (tap(u, 1, ow, 0), tap(u, 1, ow, kw - 1)) {
                taps.copy_from_slice(&line[a * c..][..kw * c]);
                continue;
            }
            for (kj, dst) in taps.chunks_exact_mut(cg).enumerate() {
                match tap(u, 1, ow, kj) {
                    Some(iw) => dst.copy_from_slice(&line[iw * c + c0..][..cg]),
                    None => dst.fill(zero),
                }
            }
        }
        let _ = in_h;
    });
}

/// Adds the columns `[chunk.columns(), kh * kw * C/g]` back onto channels `[c0, c0 + C/g)` of
/// the channels-last images (col2im, the adjoint of [`im2col`]).
fn col2im<T: Elem>(cols: &[T], u: &Unfold, c0: usize, chunk: Chunk, nhwc: &mut [T]) {
    let [kh, kw] = u.kernel;
    let in_w = u.in_size[1];
    let (c, cg) = (u.channels, u.channels / u.groups);
    let k_len = kh * kw * cg;
    let ld = column_stride(k_len);
    let image_len = u.image_len();
    for_each_position(u, chunk, |j, image, oh, ow| {
        let dst = &mut nhwc[image * image_len..][..image_len];
        let row = &cols[j * ld..][..k_len];
        for ki in 0..kh {
            let Some(ih) = tap(u, 0, oh, ki) else {
                continue;
            };
            let line = &mut dst[ih * in_w * c..][..in_w * c];
            for (kj, src) in row[ki * kw * cg..][..kw * cg].chunks_exact(cg).enumerate() {
                if let Some(iw) = tap(u, 1, ow, kj) {
                    for (d, &s) in line[iw * c + c0..][..cg].iter_mut().zip(src) {
                        *d = *d + s;
                    }
                }
            }
        }
    });
}

/// A matrix operand: pointer and row / column strides in elements.
#[derive(Clone, Copy)]
pub(super) struct Mat<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Mat<T> {
    fn transposed(self) -> Self {
        Mat {
            ptr: self.ptr,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// `dst[m, n] = lhs[m, k] · rhs[k, n]`, or `dst += ...` with `accumulate`; `dst` has unit
/// column stride.
///
/// f32 and f64 on x86-64 go through `private-gemm-x86` (the kernels `faer` uses), whose
/// AVX-512 / AVX2 microkernels keep a larger register tile than the `gemm` crate's and ran
/// the zoo's products 1.1-1.8x faster, one thread each (`BENCHMARKS.md`); the rest through
/// the `gemm` crate.
///
/// # Safety
/// Every operand must be valid for its extent and `dst` must not alias the others.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn matmul<T: Elem>(
    [m, n, k]: [usize; 3],
    dst: *mut T,
    dst_rs: usize,
    accumulate: bool,
    lhs: Mat<T>,
    rhs: Mat<T>,
    threads: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    #[cfg(feature = "rayon")]
    let threads = match threads && m * n * k >= PARALLEL_GEMM_WORK {
        true => rayon::current_num_threads(),
        false => 1,
    };
    #[cfg(not(feature = "rayon"))]
    let threads = {
        let _ = threads;
        1
    };
    // SAFETY: the caller's contract.
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if unsafe { x86_matmul([m, n, k], dst, dst_rs, accumulate, lhs, rhs, threads) } {
        return;
    }
    let parallelism = match threads {
        1 => gemm::Parallelism::None,
        #[cfg(feature = "rayon")]
        t => gemm::Parallelism::Rayon(t),
        #[cfg(not(feature = "rayon"))]
        _ => gemm::Parallelism::None,
    };
    let one = T::one();
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs.ptr,
            lhs.cs,
            lhs.rs,
            rhs.ptr,
            rhs.cs,
            rhs.rs,
            one,
            one,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// [`matmul`] through `private-gemm-x86` on `threads` threads; false (nothing done) for
/// another element type or a CPU without AVX2 and FMA.
///
/// # Safety
/// As [`matmul`].
#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[allow(clippy::too_many_arguments)]
unsafe fn x86_matmul<T: Elem>(
    [m, n, k]: [usize; 3],
    dst: *mut T,
    dst_rs: usize,
    accumulate: bool,
    lhs: Mat<T>,
    rhs: Mat<T>,
    threads: usize,
) -> bool {
    use core::any::TypeId;
    use private_gemm_x86 as x86;
    let dtype = match TypeId::of::<T>() {
        t if t == TypeId::of::<f32>() => x86::DType::F32,
        t if t == TypeId::of::<f64>() => x86::DType::F64,
        _ => return false,
    };
    let instr = if std::arch::is_x86_feature_detected!("avx512f") {
        x86::InstrSet::Avx512
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        x86::InstrSet::Avx256
    } else {
        return false;
    };
    let one = T::one();
    // SAFETY: `dtype` is `T`'s; strides are in elements, as the crate takes them.
    unsafe {
        x86::gemm(
            dtype,
            x86::IType::U64,
            instr,
            m,
            n,
            k,
            dst.cast(),
            dst_rs as isize,
            1,
            core::ptr::null(),
            core::ptr::null(),
            x86::DstKind::Full,
            match accumulate {
                true => x86::Accum::Add,
                false => x86::Accum::Replace,
            },
            lhs.ptr.cast(),
            lhs.rs,
            lhs.cs,
            false,
            core::ptr::null(),
            0,
            rhs.ptr.cast(),
            rhs.rs,
            rhs.cs,
            false,
            (&raw const one).cast(),
            threads,
        );
    }
    true
}

/// The `[channels.len(), chunk.columns()]` block of a `[batch, C, positions]` tensor: a view
/// when the chunk lies in one image, else gathered into `scratch`.
fn position_block<T: Elem>(
    t: &[T],
    c_total: usize,
    positions: usize,
    channels: core::ops::Range<usize>,
    chunk: Chunk,
    scratch: &mut Vec<T>,
) -> Mat<T> {
    if chunk.images == 1 {
        let at = (chunk.first_image * c_total + channels.start) * positions + chunk.start;
        return Mat {
            ptr: t[at..].as_ptr(),
            rs: positions as isize,
            cs: 1,
        };
    }
    let n = chunk.columns();
    scratch.clear();
    scratch.resize(channels.len() * n, T::zero());
    for (c, row) in channels.zip(scratch.chunks_mut(n)) {
        for (image, dst) in row.chunks_mut(positions).enumerate() {
            let at = ((chunk.first_image + image) * c_total + c) * positions;
            dst.copy_from_slice(&t[at..at + positions]);
        }
    }
    Mat {
        ptr: scratch.as_ptr(),
        rs: n as isize,
        cs: 1,
    }
}

/// Writes `block[channels.len(), chunk.columns()]` (row stride `chunk.columns()`) into
/// channels `channels` of the chunk's positions of a `[batch, C, positions]` tensor.
fn scatter_block<T: Elem>(
    block: &[T],
    c_total: usize,
    positions: usize,
    channels: core::ops::Range<usize>,
    chunk: Chunk,
    t: &mut [T],
) {
    let n = chunk.columns();
    for (c, row) in channels.zip(block.chunks(n)) {
        for (image, src) in row.chunks(chunk.len).enumerate() {
            let at = ((chunk.first_image + image) * c_total + c) * positions + chunk.start;
            t[at..at + chunk.len].copy_from_slice(src);
        }
    }
}

/// The chunk's columns as a `[kh * kw * C/g, chunk.columns()]` operand for channels
/// `[c0, c0 + C/g)`: the image block itself for a 1x1 kernel, else unfolded channels-last
/// into `scratch.cols` (then stored transposed, one row per position).
fn columns<T: Elem>(
    x: &[T],
    u: &Unfold,
    c0: usize,
    chunk: Chunk,
    scratch: &mut Scratch<T>,
) -> Mat<T> {
    let cg = u.channels / u.groups;
    if u.is_identity() {
        let positions = u.positions();
        return position_block(
            x,
            u.channels,
            positions,
            c0..c0 + cg,
            chunk,
            &mut scratch.cols,
        );
    }
    scratch.load_nhwc(x, u, chunk);
    let ld = column_stride(u.group_rows());
    scratch.cols.resize(chunk.columns() * ld, T::zero());
    im2col(&scratch.nhwc, u, c0, chunk, &mut scratch.cols);
    Mat {
        ptr: scratch.cols.as_ptr(),
        rs: 1,
        cs: ld as isize,
    }
}

/// The weight `[O, C/g, kh, kw]` as `[O, kh, kw, C/g]`, the columns' row order (a 1x1 kernel
/// keeps it).
fn taps_last<T: Elem>(w: &[T], u: &Unfold) -> Vec<T> {
    let (cg, k) = (u.channels / u.groups, u.kernel[0] * u.kernel[1]);
    let mut out = vec![T::zero(); w.len()];
    for (src, dst) in w.chunks_exact(cg * k).zip(out.chunks_exact_mut(cg * k)) {
        transpose(src, cg, k, dst);
    }
    out
}

/// Parts per thread that [`split_batch`] cuts a batch of many chunks into.
const PARTS_PER_THREAD: usize = 4;

/// Runs `task(first_image, part, alongside)` on the images of the batch split into
/// contiguous ranges, `part` being that range's share of `out` (`per_image` elements an
/// image) and `alongside` whether other tasks run at the same time (if not, the task's
/// products may use the threads).
///
/// A batch of at least one chunk (`grain` images) per thread is cut into equal parts, as
/// many as it has chunks rounded down to a multiple of the threads and at most
/// [`PARTS_PER_THREAD`] a thread, which rayon hands to whichever thread is free: with one
/// part per thread, a thread that started late or lost its core for a while left the other
/// idle at the end (10 % of the std CNN's wall time had one thread running). Parts cut at
/// chunk boundaries left a short last part (8 of 64 images for the 256-channel 4x4 stride-2
/// convolution at 8x8), which repacked every transformed filter for a few tiles. A smaller
/// batch is split evenly, one range per thread.
pub(super) fn split_batch<T: Elem>(
    out: &mut [T],
    batch: usize,
    per_image: usize,
    grain: usize,
    task: impl Fn(usize, &mut [T], bool) + Sync,
) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads();
        let groups = batch.div_ceil(grain.max(1));
        let bounds: Vec<usize> = match groups >= threads {
            true => {
                let parts = groups.min(PARTS_PER_THREAD * threads) / threads * threads;
                (0..=parts).map(|t| t * batch / parts).collect()
            }
            false => {
                let parts = threads.min(batch).max(1);
                (0..=parts).map(|t| t * batch / parts).collect()
            }
        };
        if bounds.len() > 2 {
            let mut parts = Vec::with_capacity(bounds.len() - 1);
            let mut rest = out;
            for range in bounds.windows(2) {
                let (part, tail) = rest.split_at_mut((range[1] - range[0]) * per_image);
                parts.push((range[0], part));
                rest = tail;
            }
            parts
                .into_par_iter()
                .for_each(|(first, part)| task(first, part, true));
            return;
        }
    }
    let _ = (batch, per_image, grain);
    task(0, out, false);
}

/// The image range `[first, first + len)` of the batch as a sub-geometry.
fn sub_batch(u: &Unfold, len: usize) -> Unfold {
    Unfold { batch: len, ..*u }
}

/// `y[batch, O, out_h, out_w] = conv2d(x, w) + bias` for `x` laid out as `u` describes and `w`
/// `[O, C/g, kh, kw]`.
pub(crate) fn forward<T: Elem>(
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let positions = u.positions();
    let per_image = out_channels * positions;
    let mut y = zeros(u.batch * per_image, T::zero());
    let (rows, og) = (u.group_rows(), out_channels / u.groups);
    let w = taps_last(w, u);
    let grain = chunk_images(positions, rows);
    split_batch(&mut y, u.batch, per_image, grain, |first, y, alongside| {
        let images = y.len() / per_image.max(1);
        let x = &x[first * u.image_len()..][..images * u.image_len()];
        let part = sub_batch(u, images);
        T::with_scratch(|scratch| {
            for chunk in chunks(images, positions, rows) {
                let n = chunk.columns();
                for g in 0..u.groups {
                    let rhs = columns(x, &part, g * u.channels / u.groups, chunk, scratch);
                    let lhs = Mat {
                        ptr: w[g * og * rows..].as_ptr(),
                        rs: rows as isize,
                        cs: 1,
                    };
                    let channels = g * og..(g + 1) * og;
                    if chunk.images == 1 {
                        let at =
                            (chunk.first_image * out_channels + g * og) * positions + chunk.start;
                        let dst = y[at..].as_mut_ptr();
                        // SAFETY: rows of `n` at stride `positions` from `at` lie inside `y`.
                        unsafe {
                            matmul([og, n, rows], dst, positions, false, lhs, rhs, !alongside)
                        };
                    } else {
                        scratch.out.resize(og * n, T::zero());
                        let dst = scratch.out.as_mut_ptr();
                        // SAFETY: `out` holds `og x n`; `w` and the columns hold their blocks.
                        unsafe { matmul([og, n, rows], dst, n, false, lhs, rhs, !alongside) };
                        scatter_block(&scratch.out, out_channels, positions, channels, chunk, y);
                    }
                }
            }
        });
        if let Some(bias) = bias {
            add_bias(y, bias, positions);
        }
    });
    y
}

/// `dW[O, C/g, kh, kw]`: the weight gradient of `conv2d(x, W)` given the output gradient `dy`
/// `[batch, O, out_h, out_w]`.
pub(crate) fn weight_grad<T: Elem>(x: &[T], dy: &[T], u: &Unfold, out_channels: usize) -> Vec<T> {
    let positions = u.positions();
    let (rows, og) = (u.group_rows(), out_channels / u.groups);
    let len = out_channels * rows;
    // One accumulator `[O, kh, kw, C/g]` per task, summed at the end.
    let tasks = task_count(u.batch);
    let mut grads = zeros(tasks * len, T::zero());
    split_batch(&mut grads, tasks, len, 1, |task, grad, alongside| {
        let (first, end) = (task * u.batch / tasks, (task + 1) * u.batch / tasks);
        let images = end - first;
        let x = &x[first * u.image_len()..][..images * u.image_len()];
        let dy = &dy[first * out_channels * positions..][..images * out_channels * positions];
        let part = sub_batch(u, images);
        T::with_scratch(|scratch| {
            for chunk in chunks(images, positions, rows) {
                let n = chunk.columns();
                for g in 0..u.groups {
                    let rhs = columns(x, &part, g * u.channels / u.groups, chunk, scratch);
                    let channels = g * og..(g + 1) * og;
                    let lhs = position_block(
                        dy,
                        out_channels,
                        positions,
                        channels,
                        chunk,
                        &mut scratch.block,
                    );
                    let dst = grad[g * og * rows..].as_mut_ptr();
                    // SAFETY: `grad` holds `O x rows`, the operands their blocks.
                    let rhs = rhs.transposed();
                    unsafe { matmul([og, rows, n], dst, rows, true, lhs, rhs, !alongside) };
                }
            }
        });
    });
    // The tasks' accumulators summed in task order, then each filter back from [kh, kw, C/g]
    // to [C/g, kh, kw]; the filters on all threads.
    let (cg, k) = (u.channels / u.groups, u.kernel[0] * u.kernel[1]);
    let mut dw = zeros(len, T::zero());
    planes(&mut dw, 1, out_channels, rows, |first, dw| {
        let mut total = vec![T::zero(); rows];
        for (o, dst) in (first..).zip(dw[0].chunks_exact_mut(rows)) {
            let at = o * rows;
            total.copy_from_slice(&grads[at..at + rows]);
            for part in grads[len..].chunks_exact(len) {
                for (t, &p) in total.iter_mut().zip(&part[at..at + rows]) {
                    *t = *t + p;
                }
            }
            transpose(&total, k, cg, dst);
        }
    });
    dw
}

/// The image `[batch, C, in_h, in_w]` that col2im builds from `Wᵀ · z` for `z` `[batch, O,
/// out_h, out_w]` and `w` `[O, C/g, kh, kw]`, plus `bias` per channel: conv2d's input gradient
/// when `z` is its output gradient, and the transposed convolution of `z`.
pub(crate) fn fold<T: Elem>(
    z: &[T],
    w: &[T],
    bias: Option<&[T]>,
    u: &Unfold,
    out_channels: usize,
) -> Vec<T> {
    let positions = u.positions();
    let per_image = u.image_len();
    let plane = u.in_size[0] * u.in_size[1];
    let mut image = zeros(u.batch * per_image, T::zero());
    let (rows, og, cg) = (
        u.group_rows(),
        out_channels / u.groups,
        u.channels / u.groups,
    );
    let w = taps_last(w, u);
    let grain = chunk_images(positions, rows);
    split_batch(
        &mut image,
        u.batch,
        per_image,
        grain,
        |first, image, alongside| {
            let images = image.len() / per_image.max(1);
            let z = &z[first * out_channels * positions..][..images * out_channels * positions];
            T::with_scratch(|scratch| {
                for chunk in chunks(images, positions, rows) {
                    let n = chunk.columns();
                    if chunk.start == 0 && !u.is_identity() {
                        scratch.nhwc.clear();
                        scratch.nhwc.resize(chunk.images * per_image, T::zero());
                    }
                    for g in 0..u.groups {
                        let channels = g * og..(g + 1) * og;
                        let dz = position_block(
                            z,
                            out_channels,
                            positions,
                            channels,
                            chunk,
                            &mut scratch.block,
                        );
                        let w_g = Mat {
                            ptr: w[g * og * rows..].as_ptr(),
                            rs: rows as isize,
                            cs: 1,
                        };
                        let c0 = g * cg;
                        if u.is_identity() {
                            // The columns are the image block: `[C/g, n] = W_gᵀ · dz`.
                            let lhs = w_g.transposed();
                            scratch.out.resize(rows * n, T::zero());
                            let dst = scratch.out.as_mut_ptr();
                            // SAFETY: `out` holds `rows x n`, the operands their blocks.
                            unsafe { matmul([rows, n, og], dst, n, false, lhs, dz, !alongside) };
                            scatter_block(
                                &scratch.out,
                                u.channels,
                                plane,
                                c0..c0 + cg,
                                chunk,
                                image,
                            );
                            continue;
                        }
                        // One row of columns per position: `[n, rows] = dzᵀ · W_g`.
                        let ld = column_stride(rows);
                        scratch.cols.resize(n * ld, T::zero());
                        let dst = scratch.cols.as_mut_ptr();
                        // SAFETY: `cols` holds `n` rows of `ld >= rows`, the operands their blocks.
                        unsafe {
                            matmul(
                                [n, rows, og],
                                dst,
                                ld,
                                false,
                                dz.transposed(),
                                w_g,
                                !alongside,
                            )
                        };
                        col2im(&scratch.cols, u, c0, chunk, &mut scratch.nhwc);
                    }
                    if !u.is_identity() && chunk.start + chunk.len == positions {
                        let out =
                            &mut image[chunk.first_image * per_image..][..chunk.images * per_image];
                        for (src, dst) in scratch
                            .nhwc
                            .chunks_exact(per_image)
                            .zip(out.chunks_exact_mut(per_image))
                        {
                            transpose(src, plane, u.channels, dst);
                        }
                    }
                }
            });
            if let Some(bias) = bias {
                add_bias(image, bias, plane);
            }
        },
    );
    image
}

/// How many tasks [`split_batch`] runs for a batch.
pub(super) fn task_count(batch: usize) -> usize {
    #[cfg(feature = "rayon")]
    {
        rayon::current_num_threads().min(batch).max(1)
    }
    #[cfg(not(feature = "rayon"))]
    {
        let _ = batch;
        1
    }
}

/// `t[b, c, :] += bias[c]` for `t` `[images, channels, spatial]`.
pub(super) fn add_bias<T: Elem>(t: &mut [T], bias: &[T], spatial: usize) {
    for (i, plane) in t.chunks_mut(spatial.max(1)).enumerate() {
        let b = bias[i % bias.len()];
        for v in plane {
            *v = *v + b;
        }
    }
}

/// `db[C] = Σ_{b, h, w} dy[b, C, h, w]`: the bias gradient of a convolution or transposed
/// convolution. Channels in parallel, each summing its planes image by image in one running
/// sum: after batch norm this gradient is rounding noise, which Adam scales up to full steps,
/// so its summation order is kept as it was (the GPU parity suite compares those steps).
pub(crate) fn bias_grad<T: Elem>(dy: &[T], channels: usize, spatial: usize) -> Vec<T> {
    let planes = dy.chunks(spatial.max(1));
    super::par::map_items(channels, dy.len(), |c| {
        planes
            .clone()
            .skip(c)
            .step_by(channels)
            .fold(T::zero(), |acc, plane| {
                acc + sums(plane, plane, T::zero(), |v, _| [v])[0]
            })
    })
}

/// One of this module's kernels, run on its input tensors' data as one element type.
trait Kernel {
    fn run<T: Elem>(&self, inputs: &[&[T]]) -> Vec<T>;
}

/// Runs `kernel` on `inputs` (one float dtype: f32, f64 and f16 natively, bf16 through f32)
/// into a contiguous tensor of `shape`.
fn launch<const D: usize>(
    kernel: impl Kernel,
    inputs: &[&FlexTensor],
    shape: [usize; D],
) -> FlexTensor {
    fn native<T: Elem + burn_backend::Element>(
        kernel: &impl Kernel,
        inputs: &[&FlexTensor],
        shape: Shape,
        dtype: DType,
    ) -> FlexTensor {
        let held: Vec<FlexTensor> = inputs.iter().map(|t| t.to_contiguous()).collect();
        let data: Vec<&[T]> = held.iter().map(|t| t.storage::<T>()).collect();
        FlexTensor::new(
            Bytes::from_elems(kernel.run(&data)),
            Layout::contiguous(shape),
            dtype,
        )
    }
    let shape = Shape::from(shape.to_vec());
    let dtype = inputs[0].dtype();
    match dtype {
        DType::F32 => native::<f32>(&kernel, inputs, shape, dtype),
        DType::F64 => native::<f64>(&kernel, inputs, shape, dtype),
        DType::F16 => native::<f16>(&kernel, inputs, shape, dtype),
        DType::BF16 => {
            let wide: Vec<FlexTensor> = inputs
                .iter()
                .map(|t| super::conv_common::convert_bf16_to_f32(t))
                .collect();
            let wide: Vec<&FlexTensor> = wide.iter().collect();
            let out = native::<f32>(&kernel, &wide, shape, DType::F32);
            super::conv_common::convert_f32_to_bf16(&out)
        }
        other => panic!("conv2d: unsupported dtype {other:?}"),
    }
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}

/// [`forward`] as a [`Kernel`] computing `Pass`: inputs `[x, w]` or `[x, w, bias]`.
struct Forward(Unfold, usize, Pass);

impl Kernel for Forward {
    fn run<T: Elem>(&self, inputs: &[&[T]]) -> Vec<T> {
        let (x, w, bias) = (inputs[0], inputs[1], inputs.get(2).copied());
        match winograd::Algorithm::of::<T>(&self.0, self.1, self.2) {
            Some(a) => winograd::forward(a, x, w, bias, &self.0, self.1),
            None => forward(x, w, bias, &self.0, self.1),
        }
    }
}

/// [`weight_grad`] as a [`Kernel`]: inputs `[x, dy]`.
struct WeightGrad(Unfold, usize);

impl Kernel for WeightGrad {
    fn run<T: Elem>(&self, inputs: &[&[T]]) -> Vec<T> {
        match winograd::Algorithm::of_weight_grad::<T>(&self.0, self.1) {
            Some(a) => winograd::weight_grad(a, inputs[0], inputs[1], &self.0, self.1),
            None => weight_grad(inputs[0], inputs[1], &self.0, self.1),
        }
    }
}

/// [`fold`] as a [`Kernel`] computing `Pass`: inputs `[z, w]` or `[z, w, bias]`.
struct Fold(Unfold, usize, Pass);

impl Kernel for Fold {
    fn run<T: Elem>(&self, inputs: &[&[T]]) -> Vec<T> {
        let (z, w, bias) = (inputs[0], inputs[1], inputs.get(2).copied());
        match winograd::Algorithm::of::<T>(&self.0, self.1, self.2) {
            Some(winograd::Algorithm::F22Phases) => {
                winograd::phase_input_grad(z, w, bias, &self.0, self.1)
            }
            Some(_) => winograd::input_grad(z, w, bias, &self.0, self.1, self.2),
            None => fold(z, w, bias, &self.0, self.1),
        }
    }
}

/// [`bias_grad`] as a [`Kernel`]: input `[dy]` with `channels` channels of `spatial` elements.
struct BiasGrad {
    channels: usize,
    spatial: usize,
}

impl Kernel for BiasGrad {
    fn run<T: Elem>(&self, inputs: &[&[T]]) -> Vec<T> {
        bias_grad(inputs[0], self.channels, self.spatial)
    }
}

/// The sweep of conv2d's input `x` by `weight` with `options`, producing `out_size` positions.
fn conv_unfold(
    x: [usize; 4],
    weight: [usize; 4],
    options: &ConvOptions<2>,
    out_size: [usize; 2],
) -> Unfold {
    Unfold {
        batch: x[0],
        channels: x[1],
        in_size: [x[2], x[3]],
        kernel: [weight[2], weight[3]],
        stride: options.stride,
        padding: options.padding_begin(),
        dilation: options.dilation,
        out_size,
        groups: options.groups,
    }
}

/// The sweep of a transposed convolution's output `[batch, C_out, out_h, out_w]` by its
/// `weight` `[C_in, C_out/g, kh, kw]` at the input's `in_size` positions.
fn transpose_unfold(
    batch: usize,
    weight: [usize; 4],
    options: &ConvTransposeOptions<2>,
    in_size: [usize; 2],
) -> Unfold {
    let out = [0, 1].map(|a| {
        calculate_conv_transpose_output_size(
            weight[2 + a],
            options.stride[a],
            options.padding[a],
            options.padding_out[a],
            options.dilation[a],
            in_size[a],
        )
    });
    Unfold {
        batch,
        channels: weight[1] * options.groups,
        in_size: out,
        kernel: [weight[2], weight[3]],
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        out_size: in_size,
        groups: options.groups,
    }
}

/// conv2d: `[batch, C, h, w]` through `weight` `[O, C/g, kh, kw]` to `[batch, O, oh, ow]`.
pub(crate) fn conv2d(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (xs, ws) = (dims4(&x), dims4(&weight));
    let out = [0, 1].map(|a| {
        calculate_conv_output_size_asymmetric(
            ws[2 + a],
            options.stride[a],
            options.padding[a],
            options.dilation[a],
            xs[2 + a],
        )
    });
    let u = conv_unfold(xs, ws, options, out);
    let mut inputs = vec![&x, &weight];
    inputs.extend(bias.as_ref());
    launch(
        Forward(u, ws[0], Pass::Forward),
        &inputs,
        [xs[0], ws[0], out[0], out[1]],
    )
}

/// conv2d's input gradient.
pub(crate) fn conv2d_x_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (xs, ws, gs) = (dims4(&x), dims4(&weight), dims4(&output_grad));
    let u = conv_unfold(xs, ws, options, [gs[2], gs[3]]);
    launch(Fold(u, ws[0], Pass::Gradient), &[&output_grad, &weight], xs)
}

/// conv2d's weight gradient.
pub(crate) fn conv2d_weight_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (xs, ws, gs) = (dims4(&x), dims4(&weight), dims4(&output_grad));
    let u = conv_unfold(xs, ws, options, [gs[2], gs[3]]);
    launch(WeightGrad(u, ws[0]), &[&x, &output_grad], ws)
}

/// The bias gradient of a 2D convolution or transposed convolution: `output_grad` summed over
/// every axis but the channels.
pub(crate) fn conv2d_bias_backward(output_grad: FlexTensor) -> FlexTensor {
    let gs = dims4(&output_grad);
    let kernel = BiasGrad {
        channels: gs[1],
        spatial: gs[2] * gs[3],
    };
    launch(kernel, &[&output_grad], [gs[1]])
}

/// conv_transpose2d: `[batch, C_in, h, w]` through `weight` `[C_in, C_out/g, kh, kw]`.
pub(crate) fn conv_transpose2d(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: &ConvTransposeOptions<2>,
) -> FlexTensor {
    let (xs, ws) = (dims4(&x), dims4(&weight));
    let u = transpose_unfold(xs[0], ws, options, [xs[2], xs[3]]);
    let mut inputs = vec![&x, &weight];
    inputs.extend(bias.as_ref());
    let shape = [xs[0], u.channels, u.in_size[0], u.in_size[1]];
    launch(Fold(u, ws[0], Pass::Forward), &inputs, shape)
}

/// conv_transpose2d's input gradient: the convolution of `output_grad` by the same weight,
/// at the input's size.
pub(crate) fn conv_transpose2d_x_backward(
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvTransposeOptions<2>,
) -> FlexTensor {
    let (ws, gs) = (dims4(&weight), dims4(&output_grad));
    // Solves out = (in - 1) * stride + dilation * (k - 1) + 1 + padding_out - 2 * padding.
    let in_size = [0, 1].map(|a| {
        (gs[2 + a] + 2 * options.padding[a]
            - options.dilation[a] * (ws[2 + a] - 1)
            - options.padding_out[a]
            - 1)
            / options.stride[a]
            + 1
    });
    let u = transpose_unfold(gs[0], ws, options, in_size);
    launch(
        Forward(u, ws[0], Pass::Gradient),
        &[&output_grad, &weight],
        [gs[0], ws[0], in_size[0], in_size[1]],
    )
}

/// conv_transpose2d's weight gradient.
pub(crate) fn conv_transpose2d_weight_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvTransposeOptions<2>,
) -> FlexTensor {
    let (xs, ws) = (dims4(&x), dims4(&weight));
    let u = transpose_unfold(xs[0], ws, options, [xs[2], xs[3]]);
    launch(WeightGrad(u, ws[0]), &[&output_grad, &x], ws)
}
