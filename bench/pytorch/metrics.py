"""PyTorch twin of crates/sngan-metrics/benches/metrics.rs (work in progress)."""
