"""PyTorch twin of benches/conv.rs: the model zoo's convolutions one by one (forward alone,
forward + input gradient, forward + weight and bias gradients), same cases in the same order,
CPU, threads = SNGAN_THREADS or all cores.
Prints `bench: <key> <ms>` lines for `cargo xtask bench conv`."""
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("SNGAN_THREADS", os.cpu_count())))
torch.manual_seed(0)
ROUNDS = 5

# name, transposed, [batch, c_in, c_out, size], [k, stride, padding]
CASES = [
    ("c3_128_32", False, [64, 128, 128, 32], [3, 1, 1]),
    ("c3_3to64_32", False, [64, 3, 64, 32], [3, 1, 1]),
    ("c4s2_64_32", False, [64, 64, 64, 32], [4, 2, 1]),
    ("c3_128to256_8", False, [64, 128, 256, 8], [3, 1, 1]),
    ("c4s2_256_8", False, [64, 256, 256, 8], [4, 2, 1]),
    ("c3_64to128_16", False, [64, 64, 128, 16], [3, 1, 1]),
    ("c4s2_128_16", False, [64, 128, 128, 16], [4, 2, 1]),
    ("c3_256to512_4", False, [64, 256, 512, 4], [3, 1, 1]),
    ("c3_256_16", False, [128, 256, 256, 16], [3, 1, 1]),
    ("c1_256_16", False, [128, 256, 256, 16], [1, 1, 0]),
    ("t4s2_512to256_4", True, [64, 512, 256, 4], [4, 2, 1]),
    ("t4s2_256to128_8", True, [64, 256, 128, 8], [4, 2, 1]),
    ("t4s2_128to64_16", True, [64, 128, 64, 16], [4, 2, 1]),
    ("c3_64to3_32", False, [64, 64, 3, 32], [3, 1, 1]),
]


def timed(f):
    """Wall and CPU time of f() in ms."""
    start, start_cpu = time.perf_counter(), time.process_time()
    f()
    return (time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3

ONLY = sys.argv[1] if len(sys.argv) > 1 else ""  # run only the cases whose name contains it
for name, transposed, (batch, c_in, c_out, size), (k, stride, padding) in CASES:
    if ONLY not in name:
        continue
    x = torch.randn(batch, c_in, size, size)
    w = torch.randn(*((c_in, c_out) if transposed else (c_out, c_in)), k, k)
    b = torch.randn(c_out)
    op = F.conv_transpose2d if transposed else F.conv2d

    def forward(x, w, b):
        return op(x, w, b, stride=stride, padding=padding)

    def fwd():
        with torch.no_grad():
            return forward(x, w, b)

    def dx():
        xg = x.detach().requires_grad_()
        forward(xg, w, b).sum().backward()
        return xg.grad

    def dw():
        wg, bg = w.detach().requires_grad_(), b.detach().requires_grad_()
        forward(x, wg, bg).sum().backward()
        return wg.grad, bg.grad

    fwd(), dx(), dw()
    t_fwd, t_dx, t_dw = [], [], []
    for _ in range(ROUNDS):
        t_fwd.append(timed(fwd))
        t_dx.append(timed(dx))
        t_dw.append(timed(dw))
    for what, t in (("fwd", t_fwd), ("fwd_dx", t_dx), ("fwd_dw", t_dw)):
        print(f"bench: conv/{name}_{what}_ms {statistics.median(w for w, _ in t):.2f}")
        print(f"bench: conv/{name}_{what}_cpu_ms {statistics.median(c for _, c in t):.2f}")
