//! What the benchmarks share: the median of their rounds and the process's CPU time.

/// The median of `v`, reordering it.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// This process's CPU time, user + system over all threads, in ms (Linux's `/proc/self/stat`
/// in clock ticks of 10 ms; `None` elsewhere). Unlike the wall time, it hardly depends on what
/// else the machine runs, which matters on a shared one.
pub fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) * 10.0)
}
