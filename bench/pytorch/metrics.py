"""PyTorch twin of crates/sngan-metrics/benches/metrics.rs, on the CPU: pytorch-fid's FID
Inception (random weights: the cost does not depend on them) on 16 uint8 32x32 images per batch
(x/255, its own bilinear resize to 299, pool3, plus the fc for logits), and pytorch-fid's
`calculate_frechet_distance` (scipy `sqrtm`) on 2048-d statistics of 2500 samples, and clovaai
`prdc.py`'s `compute_prdc` (k = 5) on 10,000 x 128 float32 features per side, in NumPy (its
`sklearn.metrics.pairwise_distances` is the same |a|^2 + |b|^2 - 2ab in the inputs' float32).
Threads = SNGAN_THREADS or all cores. Prints `bench: metrics/<key> <value>` lines for
`cargo xtask bench metrics`."""
import os
import statistics
import time

import numpy as np
import torch
from pytorch_fid import inception as pfi
from pytorch_fid.fid_score import calculate_frechet_distance

torch.set_num_threads(int(os.environ.get("SNGAN_THREADS", os.cpu_count())))
torch.manual_seed(0)
ROUNDS = 3
BATCH = 16


def fid_net():
    """pytorch-fid's fid_inception_v3 structure with its state dict (random init) reloaded."""
    inc = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    inc.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
    inc.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
    inc.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
    inc.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
    inc.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
    inc.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
    inc.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
    inc.Mixed_7b = pfi.FIDInceptionE_1(1280)
    inc.Mixed_7c = pfi.FIDInceptionE_2(2048)
    return inc


state = fid_net().state_dict()
pfi.load_state_dict_from_url = lambda *a, **k: state
model = pfi.InceptionV3([3]).eval()
fc = fid_net().fc.eval()
x = torch.randint(0, 256, (BATCH, 3, 32, 32), dtype=torch.uint8)


def extract():
    with torch.no_grad():
        pool3 = model(x.float() / 255)[0].flatten(1)
        logits = fc(pool3)
    return pool3.numpy(), logits.numpy()


def timed(f):
    start = time.perf_counter()
    f()
    return (time.perf_counter() - start) * 1e3


extract()
ms = statistics.median(timed(extract) for _ in range(ROUNDS))
print(f"bench: metrics/inception_batch16_ms {ms:.2f}")
print(f"bench: metrics/inception_images_per_s {BATCH * 1e3 / ms:.2f}")

rng = np.random.default_rng(1)
n, d = 2500, 2048
scale = 1.0 + (np.arange(n * d) % 7) * 0.25


def stats(shift):
    act = ((rng.random(n * d) - 0.5) * scale + shift).astype(np.float32).reshape(n, d).astype(np.float64)
    t = time.perf_counter()
    mu, sigma = np.mean(act, axis=0), np.cov(act, rowvar=False)
    return mu, sigma, (time.perf_counter() - t) * 1e3


mu1, s1, stats_ms = stats(0.0)
mu2, s2, _ = stats(0.1)
print(f"bench: metrics/stats_2500x2048_ms {stats_ms:.2f}")
ms = timed(lambda: calculate_frechet_distance(mu1, s1, mu2, s2))
print(f"bench: metrics/fid_2048_ms {ms:.2f}")


def pairwise(a, b):
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0))


def kth(d, k):
    """prdc.py's get_kth_value: the k-th smallest per row (after itself, column 0 of the sort)."""
    idx = np.argpartition(d, k, axis=-1)[..., :k + 1]
    return np.take_along_axis(d, idx, axis=-1).max(axis=-1)


def compute_prdc(real, fake, k):
    real_r, fake_r = kth(pairwise(real, real), k), kth(pairwise(fake, fake), k)
    d = pairwise(real, fake)
    inside = d < real_r[:, None]
    return (inside.any(0).mean(), (d < fake_r[None, :]).any(1).mean(),
            inside.sum(0).mean() / k, (d.min(1) < real_r).mean())


n, d = 10_000, 128
real = rng.random((n, d), dtype=np.float32)
fake = rng.random((n, d), dtype=np.float32) + np.float32(0.05)
ms = statistics.median(timed(lambda: compute_prdc(real, fake, 5)) for _ in range(ROUNDS))
print(f"bench: metrics/prdc_10000x128_ms {ms:.2f}")
