"""PyTorch twin of the FID features/s in benches/gpu.rs: pytorch-fid's FID Inception (its
`fid_inception_v3` graph: torchvision's Inception v3 with the FIDInceptionA/C/E_1/E_2 pools, and
`InceptionV3`'s bilinear resize to 299 and 2x - 1 input scaling) written out in plain torch, so it
runs where neither pytorch-fid nor torchvision is installed; random weights (the cost does not
depend on them). The graph is checked by loading the key layout of the real weights file
(crates/sngan-metrics/tests/it/fixtures/inception/layout.pth) strictly and reproducing
pytorch-fid's pool3 on it (`--check`).

  python bench/pytorch/fid.py --device cuda --fid-images 10000

Features per second of N uint8 32x32 NHWC images in batches of 200 (pool3 and the fc logits,
copied to the host as ours are); on CUDA cudnn.benchmark on, TF32 off. Prints
`bench: fid/inception_images_per_s <value>` for bench/gpu/check.sh. Tested with torch 2.15.0."""
import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from common import setup


class BasicConv2d(nn.Module):
    def __init__(self, c_in, c_out, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg3(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, c_in, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(c_in, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(c_in, pool_features, kernel_size=1)

    def forward(self, x):
        dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)), dbl,
                          self.branch_pool(avg3(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, c_in):
        super().__init__()
        self.branch3x3 = BasicConv2d(c_in, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), dbl, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, c_in, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(avg3(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, c_in):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """FIDInceptionE_1 (average pool without the padding) or FIDInceptionE_2 (max pool)."""

    def __init__(self, c_in, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(c_in, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(c_in, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(c_in, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pool = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else avg3(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pool)], 1)


class FidInception(nn.Module):
    """uint8-range float images `[n, 3, h, w]` / 255 in; pool3 `[n, 2048]` and logits out."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x):
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
        x = F.max_pool2d(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))), 3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
        for name in ["5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"]:
            x = getattr(self, f"Mixed_{name}")(x)
        pool3 = x.mean(dim=(2, 3))
        return pool3, self.fc(pool3)


def check():
    """The real file's 472-key layout loads strictly, and on the metrics fixtures' hash-init
    weights and inputs (crates/sngan-metrics/tests/it/fixtures/inception/export.py, whose hash
    is repeated here) this net gives pytorch-fid's pool3."""
    import pathlib

    import numpy as np

    fixtures = pathlib.Path(__file__).parents[2] / "crates/sngan-metrics/tests/it/fixtures/inception"
    net = FidInception().eval()
    missing = net.load_state_dict(torch.load(fixtures / "layout.pth"), strict=False)
    assert not missing.unexpected_keys, missing.unexpected_keys
    assert all(k.endswith("num_batches_tracked") for k in missing.missing_keys), missing.missing_keys

    def hash_uniform(key, n):
        h = 0xCBF29CE484222325
        for b in key.encode():
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        with np.errstate(over="ignore"):
            z = np.arange(n, dtype=np.uint64) + np.uint64(h) + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53

    def hash_value(key, shape):
        u = hash_uniform(key, int(np.prod(shape)))
        if key.endswith(".conv.weight"):
            v = (2 * u - 1) * np.sqrt(3.0) * np.sqrt(2.0 / int(np.prod(shape[1:])))
        elif key.endswith((".bn.weight", ".bn.running_var")):
            v = 0.5 + u
        elif key.endswith(".bn.bias"):
            v = 0.2 * (u - 0.5)
        elif key.endswith(".bn.running_mean"):
            v = 0.1 * (u - 0.5)
        else:
            v = (2 * u - 1) * np.sqrt(3.0) * (0.005 if key == "fc.weight" else 0.1)
        return torch.from_numpy(v.astype(np.float32).reshape(shape))

    def hash_u8(key, shape):
        return np.floor(hash_uniform(key, int(np.prod(shape))) * 256).astype(np.uint8).reshape(shape)

    state = {k: hash_value(k, tuple(v.shape)) for k, v in net.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    net.load_state_dict(state, strict=False)
    x32 = np.zeros((4, 3, 32, 32), np.uint8)
    x32[:2] = hash_u8("inputs/32", (2, 3, 32, 32))
    i, j = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    for c in range(3):
        x32[2, c] = (8 * i + 4 * j + 40 * c) % 256
    x32[3] = 255
    x299 = hash_u8("inputs/299", (1, 3, 299, 299))
    with torch.no_grad():
        pool3 = torch.cat([net(torch.from_numpy(x).float() / 255)[0] for x in (x32, x299)]).numpy()
    expected = np.load(fixtures / "pytorch_fid_pool3.npy")
    err = np.abs(pool3 - expected).max() / np.abs(expected).max()
    print(f"pool3 against pytorch-fid's on the hash-init weights: max |diff| / max = {err:.2e}")
    assert err < 1e-4, err


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--fid-images", type=int, default=10_000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check()
    device = setup(args.device)
    net = FidInception().eval().to(device)
    n = args.fid_images
    images = torch.randint(0, 256, (n, 32, 32, 3), dtype=torch.uint8)  # NHWC, as ours

    def features(batch):
        with torch.no_grad():
            pool3, logits = net(batch.to(device).permute(0, 3, 1, 2).float() / 255)
            return pool3.cpu().numpy(), logits.cpu().numpy()

    features(images[:200])
    start = time.perf_counter()
    for lo in range(0, n, 200):
        features(images[lo:lo + 200])
    print(f"bench: fid/inception_images_per_s {n / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    main()
