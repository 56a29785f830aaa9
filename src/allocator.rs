//! The process's memory allocator, set up for a training loop: every step allocates and
//! frees the same tens of megabytes of tensors.

/// Free bytes at the top of the heap that glibc's `malloc` keeps rather than returning: the
/// most it takes (2 GiB), so a step's peak stays mapped for the next step.
const TRIM_THRESHOLD: i32 = i32::MAX;

/// Has glibc's `malloc` (Linux with glibc; elsewhere this does nothing) keep the memory a
/// step frees for the next step, instead of handing it back to the kernel and faulting in
/// zeroed pages again: one arena for all threads (rayon's workers otherwise get their own,
/// which shrink as soon as a step's tensors are freed), every block from the heap (glibc
/// maps blocks of 32 MiB and more, such as a batch of 128 256-channel 16x16 activations,
/// afresh each time, whatever its threshold), and up to 2 GiB of free heap kept (at 512 MiB
/// the ResNet-32 iteration, whose peak is 1.9 GB, still faulted 1.2 GB of pages back in).
///
/// Call it first thing in `main`, before any thread starts; the `sngan` binary, the examples
/// and the benchmarks do. Measured on a 2-core EPYC (`BENCHMARKS.md`): the 1x1 256-channel
/// convolution at 16x16, batch 128, forward and input gradient 2.2x faster; the ResNet-32
/// CIFAR-10 iteration 15.5 -> 11.9 s, the standard CNN's 4-8 % faster, with the same peak
/// resident memory. PyTorch gains from the same settings too (through `GLIBC_TUNABLES`:
/// its ResNet-32 iteration 26.8 -> 19.8 s, its standard CNN's 2-3 %), so `BENCHMARKS.md`
/// gives both ratios: against PyTorch as shipped and against PyTorch so tuned.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets malloc's parameters; these are in their valid ranges.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
