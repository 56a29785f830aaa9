//! Elementwise loops split across rayon's threads from PyTorch's grain size up (its
//! `at::internal::GRAIN_SIZE`, 32,768 elements), one contiguous range per thread.
//!
//! flex ran its scalar, unary and generic binary loops on one thread at every size (its SIMD
//! kernels from 4 Mi elements up), so in a GAN step on the CPU the activations, their
//! gradients and the optimiser's updates left all but one core idle between convolutions.
//! Each element is computed by the same expression as before, so results are bit for bit
//! those of the serial loops.
//!
//! Also the kernels' sums in interleaved partial sums ([`sums`]), which one core runs at its
//! adders' throughput instead of one add's latency at a time.

use alloc::vec::Vec;

/// Fewest elements worth splitting.
pub(crate) const GRAIN: usize = 32 * 1024;

/// Elements per part: `len` split into one part per thread, but at least half a grain.
#[cfg(feature = "rayon")]
fn part_len(len: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    (len >= GRAIN && threads > 1).then(|| len.div_ceil(threads).max(GRAIN / 2))
}

/// `f(part)` over `a` in contiguous parts, in parallel when `a` is large enough.
pub(crate) fn for_each_mut<E: Send>(a: &mut [E], f: impl Fn(&mut [E]) + Sync) {
    #[cfg(feature = "rayon")]
    if let Some(part) = part_len(a.len()) {
        use rayon::prelude::*;
        a.par_chunks_mut(part).for_each(&f);
        return;
    }
    f(a)
}

/// `f(a_part, b_part)` over `a` and `b` (of the same length) in matching contiguous parts.
pub(crate) fn zip_mut<E: Send, R: Sync>(a: &mut [E], b: &[R], f: impl Fn(&mut [E], &[R]) + Sync) {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(feature = "rayon")]
    if let Some(part) = part_len(a.len()) {
        use rayon::prelude::*;
        a.par_chunks_mut(part)
            .zip(b.par_chunks(part))
            .for_each(|(a, b)| f(a, b));
        return;
    }
    f(a, b)
}

/// `vec![zero; len]`, filled in contiguous parts in parallel when `len` is large enough. The
/// convolutions allocate their outputs and accumulators on the calling thread, where the
/// fill (calloc's memset of reused memory) ran alone: 3 % of the std CNN's step, the other
/// thread idle.
pub(crate) fn zeros<E: Copy + Send + Sync>(len: usize, zero: E) -> Vec<E> {
    let mut out = Vec::with_capacity(len);
    for_each_mut(&mut out.spare_capacity_mut()[..len], |part| {
        part.fill(core::mem::MaybeUninit::new(zero))
    });
    // SAFETY: every one of the first `len` elements was written above.
    unsafe { out.set_len(len) };
    out
}

/// `[f(x) for x in src]`, written in contiguous parts in parallel when `src` is large enough.
pub(crate) fn map<E: Copy + Sync, R: Send>(src: &[E], f: impl Fn(E) -> R + Sync) -> Vec<R> {
    map2(src, src, |a, _| f(a))
}

/// `[f(a, b) for (a, b) in zip(lhs, rhs)]` over the shorter of the two, in parallel when
/// large enough.
pub(crate) fn map2<E: Copy + Sync, F: Copy + Sync, R: Send>(
    lhs: &[E],
    rhs: &[F],
    f: impl Fn(E, F) -> R + Sync,
) -> Vec<R> {
    let len = lhs.len().min(rhs.len());
    let (lhs, rhs) = (&lhs[..len], &rhs[..len]);
    let mut out = Vec::with_capacity(len);
    let fill = |dst: &mut [core::mem::MaybeUninit<R>], lhs: &[E], rhs: &[F]| {
        for ((d, &a), &b) in dst.iter_mut().zip(lhs).zip(rhs) {
            d.write(f(a, b));
        }
    };
    let dst = &mut out.spare_capacity_mut()[..len];
    #[cfg(feature = "rayon")]
    if let Some(part) = part_len(len) {
        use rayon::prelude::*;
        dst.par_chunks_mut(part)
            .zip(lhs.par_chunks(part))
            .zip(rhs.par_chunks(part))
            .for_each(|((d, l), r)| fill(d, l, r));
    } else {
        fill(dst, lhs, rhs);
    }
    #[cfg(not(feature = "rayon"))]
    fill(dst, lhs, rhs);
    // SAFETY: every one of the first `len` elements was written above.
    unsafe { out.set_len(len) };
    out
}

/// `[f(i) for i in 0..n]`, the items in parallel when together they touch at least a grain
/// of `work` elements.
pub(crate) fn map_items<R: Send>(n: usize, work: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    #[cfg(feature = "rayon")]
    if work >= GRAIN && n > 1 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        return (0..n).into_par_iter().map(&f).collect();
    }
    let _ = work;
    (0..n).map(f).collect()
}

/// Runs `f(first, planes)` over `u`, `count` planes of `units` units of `unit` elements,
/// split along the planes into one range of units per thread: `planes[i]` is plane `i`'s
/// units `[first, first + planes[i].len() / unit)`. The convolutions' filter transforms
/// write a few strided planes from each filter, and their weight gradients sum the threads'
/// accumulators; on the calling thread alone they left the other idle (222 of that thread's
/// 8,162 samples in the std CNN's step).
pub(crate) fn planes<E: Send>(
    u: &mut [E],
    count: usize,
    units: usize,
    unit: usize,
    f: impl Fn(usize, &mut [&mut [E]]) + Sync,
) {
    #[cfg(feature = "rayon")]
    let threads = rayon::current_num_threads();
    #[cfg(not(feature = "rayon"))]
    let threads = 1;
    let per = units.div_ceil(threads.min(units).max(1)).max(1);
    let mut parts: Vec<(usize, Vec<&mut [E]>)> = (0..units.div_ceil(per))
        .map(|part| (part * per, Vec::with_capacity(count)))
        .collect();
    for plane in u.chunks_mut((units * unit).max(1)).take(count) {
        for ((_, planes), piece) in parts.iter_mut().zip(plane.chunks_mut(per * unit)) {
            planes.push(piece);
        }
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        parts
            .into_par_iter()
            .for_each(|(first, mut planes)| f(first, &mut planes));
    }
    #[cfg(not(feature = "rayon"))]
    for (first, mut planes) in parts {
        f(first, &mut planes);
    }
}

/// Partial sums of [`sums`].
const SUM_LANES: usize = 8;

/// `Σ_i f(a[i], b[i])`, `K` sums at once, over the shorter of `a` and `b`: element `i` goes
/// to partial sum `i % 8` and the eight are added in order at the end. One running sum
/// waits for each add (4 cycles) before the next; eight independent ones keep the adders
/// busy (batch norm's statistics and the bias gradients summed one element at a time).
pub(crate) fn sums<A: Copy, B: Copy, S: Copy + core::ops::Add<Output = S>, const K: usize>(
    a: &[A],
    b: &[B],
    zero: S,
    f: impl Fn(A, B) -> [S; K],
) -> [S; K] {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    let add = |acc: &mut [S; K], v: [S; K]| {
        for (s, v) in acc.iter_mut().zip(v) {
            *s = *s + v;
        }
    };
    let mut acc = [[zero; K]; SUM_LANES];
    for (a, b) in a.chunks_exact(SUM_LANES).zip(b.chunks_exact(SUM_LANES)) {
        for (acc, (&a, &b)) in acc.iter_mut().zip(a.iter().zip(b)) {
            add(acc, f(a, b));
        }
    }
    let tail = len - len % SUM_LANES;
    for (acc, (&a, &b)) in acc.iter_mut().zip(a[tail..].iter().zip(&b[tail..])) {
        add(acc, f(a, b));
    }
    let mut total = [zero; K];
    for lane in acc {
        add(&mut total, lane);
    }
    total
}
