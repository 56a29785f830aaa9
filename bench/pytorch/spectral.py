"""PyTorch twin of benches/spectral.rs: spectral_norm(Conv2d) vs Conv2d, forward + backward,
128 -> 128 channels, 3x3, 32x32, batch 64, CPU, threads = SNGAN_THREADS or all cores.
Prints `bench: <key> <ms>` lines for `cargo xtask bench spectral`."""
import os
import statistics
import time

import torch
from torch import nn

torch.set_num_threads(int(os.environ.get("SNGAN_THREADS", os.cpu_count())))
torch.manual_seed(0)
ROUNDS = 7
x = torch.randn(64, 128, 32, 32)
conv = nn.Conv2d(128, 128, 3, padding=1)
sn_conv = nn.utils.spectral_norm(nn.Conv2d(128, 128, 3, padding=1))


def step(layer, weight):
    layer.zero_grad(set_to_none=True)
    layer(x).sum().backward()
    return weight().grad


def timed(f):
    start = time.perf_counter()
    f()
    return (time.perf_counter() - start) * 1e3


plain = lambda: step(conv, lambda: conv.weight)
normalised = lambda: step(sn_conv, lambda: sn_conv.weight_orig)
plain(), normalised()
t_plain, t_sn = [], []
for _ in range(ROUNDS):
    t_plain.append(timed(plain))
    t_sn.append(timed(normalised))
m_plain, m_sn = statistics.median(t_plain), statistics.median(t_sn)
print(f"bench: spectral/conv2d_fwd_bwd_ms {m_plain:.2f}")
print(f"bench: spectral/sn_conv2d_fwd_bwd_ms {m_sn:.2f}")
print(f"bench: spectral/sn_overhead_percent {100 * (m_sn / m_plain - 1):.2f}")
