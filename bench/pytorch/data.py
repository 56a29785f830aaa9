"""PyTorch/numpy/PIL/OpenCV twin of crates/sngan-data/benches/loader.rs: synthetic inputs of
the same sizes and formulas (numpy's generator for the noise) and the same work, images per second on one core and on all cores (threads = all cores
for the all-core lines; torch.set_num_threads(1) and one process for the per-core lines).

- CIFAR-10: 10,000 binary records -> (N, 32, 32, 3) uint8 (numpy reshape/transpose, as
  tensorflow-datasets reads them); then batches of 64: flip half, ToTensor + Normalize(0.5, 0.5)
  into an NCHW float tensor.
- ImageNet BSSN .npy: np.load of 512 files of (128, 128, 3) uint8; then to float.
- CelebA: 512 JPEGs of 178x218 (quality 90, 4:2:2 chroma like the image crate encoder the Rust
  bench uses, same synthetic faces):
  BSSN = cv2.imdecode + crop (25, 45, 128) + cv2.resize to 64 (+ BGR->RGB);
  mimicry = PIL open + CenterCrop(178) + Resize(64) bilinear.
- Resizes alone: 375x375 -> 128x128 with cv2 INTER_LINEAR, PIL bilinear, PIL bicubic.

Prints `bench: data/<key> <value>` lines with the keys of the Rust bench.
Needs numpy, torch, Pillow, opencv-python-headless (pip install pillow opencv-python-headless).
"""
import io
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
import torch
from PIL import Image

ROUNDS = int(os.environ.get("ROUNDS", "5"))
CORES = os.cpu_count()


def timed(f):
    f()
    ts = []
    for _ in range(ROUNDS):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)


def photo(seed, h, w):
    """The Rust bench's synthetic face (a blob, ramps, a sine), noise from numpy's generator."""
    rng = np.random.default_rng(seed)
    cx, cy = w / 2.0 + (seed % 7), h / 2.2
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    blob = np.exp(-(((x - cx) / 45.0) ** 2 + ((y - cy) / 60.0) ** 2))
    base = np.stack([60 + 150 * blob + 0.2 * y, 40 + 120 * blob + 0.3 * x, 30 + 90 * blob + 20 * np.sin(x / 9.0)], -1)
    noisy = base + (rng.integers(0, 8, size=base.shape) - 4)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def to_tensor(batch_hwc, flips):
    b = batch_hwc.copy()
    b[flips] = b[flips, :, ::-1]
    t = torch.from_numpy(b).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
    return t.contiguous()


def bssn_one(path):
    buf = np.fromfile(path, np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    img = img[45:45 + 128, 25:25 + 128]
    return cv2.cvtColor(cv2.resize(img, (64, 64)), cv2.COLOR_BGR2RGB)


def mimicry_one(path):
    with Image.open(path) as im:
        im = im.convert("RGB").crop((0, 20, 178, 198))
        return np.asarray(im.resize((64, 64), Image.Resampling.BILINEAR))


def run_all(fn, paths):
    return [fn(p) for p in paths]


def main():
    tmp = tempfile.mkdtemp(prefix="sngan-data-bench-py-")
    torch.set_num_threads(1)
    cv2.setNumThreads(1)

    # CIFAR (the record bytes are noise: generating them in Python is slow, use numpy's RNG).
    n = 10_000
    rng = np.random.default_rng(7)
    recs = rng.integers(0, 256, size=(n, 3073), dtype=np.uint8)
    recs[:, 0] = np.arange(n) % 10
    raw = recs.tobytes()

    def parse():
        a = np.frombuffer(raw, np.uint8).reshape(n, 3073)
        labels = a[:, 0].astype(np.int64)
        imgs = a[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        return imgs, labels

    imgs, _ = parse()
    t_decode = timed(parse)
    flips = np.arange(64) % 2 == 0

    def batches():
        for b in range(n // 64):
            to_tensor(imgs[b * 64:(b + 1) * 64], flips)

    t_batch1 = timed(batches)
    nb = (n // 64) * 64
    print(f"bench: data/cifar_decode_images_per_s_per_core {n / t_decode:.0f}")
    print(f"bench: data/cifar_flip_to_tensor_images_per_s_per_core {nb / t_batch1:.0f}")
    print(f"bench: data/cifar_pipeline_images_per_s_per_core {1 / (t_decode / n + t_batch1 / nb):.0f}")
    torch.set_num_threads(CORES)
    t_batch_all = timed(batches)
    print(f"bench: data/cifar_flip_to_tensor_images_per_s_{CORES}cores {nb / t_batch_all:.0f}")
    torch.set_num_threads(1)

    # ImageNet npy
    root = os.path.join(tmp, "npy")
    paths = []
    for k in range(512):
        d = os.path.join(root, f"n{k % 8:08d}")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"{k}.npy")
        np.save(p, rng.integers(0, 256, size=(128, 128, 3), dtype=np.uint8))
        paths.append(p)
    t_npy = timed(lambda: [np.load(p) for p in paths])
    t_npy_f = timed(lambda: to_tensor(np.stack([np.load(p) for p in paths]), np.zeros(512, bool)))
    print(f"bench: data/imagenet_npy_images_per_s_per_core {512 / t_npy:.0f}")
    print(f"bench: data/imagenet_npy_to_float_images_per_s_per_core {512 / t_npy_f:.0f}")

    # CelebA JPEGs
    cdir = os.path.join(tmp, "celeba")
    os.makedirs(cdir)
    jpaths, total = [], 0
    for k in range(512):
        buf = io.BytesIO()
        Image.fromarray(photo(k, 218, 178)).save(buf, format="JPEG", quality=90, subsampling=1)
        total += buf.tell()
        p = os.path.join(cdir, f"{k + 1:06d}.jpg")
        with open(p, "wb") as f:
            f.write(buf.getvalue())
        jpaths.append(p)
    print(f"bench: data/celeba_mean_jpeg_bytes {total / 512:.0f}")
    for fn, key in [(bssn_one, "bssn128_to64"), (mimicry_one, "pilbilinear178_to64")]:
        t1 = timed(lambda: run_all(fn, jpaths))
        print(f"bench: data/celeba_jpeg_{key}_images_per_s_per_core {512 / t1:.0f}")
        chunks = [jpaths[i::CORES] for i in range(CORES)]
        with ProcessPoolExecutor(CORES) as ex:
            tn = timed(lambda: list(ex.map(run_all, [fn] * CORES, chunks)))
        print(f"bench: data/celeba_jpeg_{key}_images_per_s_{CORES}cores {512 / tn:.0f}")

    # Resizes alone
    sq = photo(1, 375, 500)[:, 62:62 + 375].copy()
    pil = Image.fromarray(sq)
    for key, f in [
        ("cv2linear", lambda: cv2.resize(sq, (128, 128))),
        ("pilbilinear", lambda: pil.resize((128, 128), Image.Resampling.BILINEAR)),
        ("pilbicubic", lambda: pil.resize((128, 128), Image.Resampling.BICUBIC)),
    ]:
        t = timed(lambda: [f() for _ in range(20)])
        print(f"bench: data/resize_{key}_375_to_128_ms {t / 20 * 1e3:.3f}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
