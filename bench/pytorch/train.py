"""PyTorch twin of benches/train.rs and benches/gpu.rs: one GAN iteration (n_dis D steps on a
fresh real batch with G's output detached, then one G step with D frozen, Adam on both, the EMA
update where the experiment has one) of the experiments in configs/, written as the Rust presets
(crates/sngan-models/src/{std_cnn,resnet,sagan,biggan}.rs, crates/sngan-train/src/experiments.rs)
build them, on random batches. The parameter counts are checked against the published ones the
Rust zoo also matches.

  python bench/pytorch/train.py [NAME]                   # CPU: benches/train.rs's four experiments
  python bench/pytorch/train.py --device cuda --suite gpu  # benches/gpu.rs's six experiments

NAME runs only the cases whose name contains it.
CPU threads = SNGAN_THREADS or all cores. On CUDA: cudnn.benchmark on, TF32 off (Burn computes
fp32 matmuls and convs), the device synchronised at the end of every timed iteration.
Prints `bench: <key> <value>` lines for `cargo xtask bench train` and bench/gpu/check.sh.
Tested with torch 2.15.0 (CPU)."""
import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from common import setup

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
parser.add_argument("--suite", default="cpu", choices=["cpu", "gpu"])
parser.add_argument("only", nargs="?", default="", help="run only the cases whose name contains this")
args = parser.parse_args()
DEVICE = setup(args.device)


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def sn(module, eps):
    """torch.nn.utils.spectral_norm with `eps`, or the plain module when eps is None."""
    return module if eps is None else spectral_norm(module, eps=eps)


class CondBN(nn.Module):
    """BN without affine, then a per-class gain and bias (StudioGAN's ConditionalBatchNorm2d), or
    from a conditioning vector through bias-free linears (BigGAN's shared embedding + z chunk)."""

    def __init__(self, c, classes=None, vector=None, eps=1e-5, sn_eps=None):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, eps=eps, affine=classes is None and vector is None)
        self.conditional = classes is not None or vector is not None
        if classes is not None:
            self.gain = sn(nn.Embedding(classes, c), sn_eps)
            self.bias = sn(nn.Embedding(classes, c), sn_eps)
        elif vector is not None:
            self.gain = sn(nn.Linear(vector, c, bias=False), sn_eps)
            self.bias = sn(nn.Linear(vector, c, bias=False), sn_eps)

    def forward(self, x, y):
        h = self.bn(x)
        if not self.conditional:
            return h
        c = x.shape[1]
        return h * (1 + self.gain(y)).view(-1, c, 1, 1) + self.bias(y).view(-1, c, 1, 1)


class Generator(nn.Module):
    """SNGAN standard CNN G: dense -> 4x4x8w, three 4x4 stride-2 deconvs with (conditional) BN
    and ReLU, 3x3 conv to the image, tanh. `concat`: the class as a one-hot beside z and plain
    BN (`ClassInput::Concat`)."""

    def __init__(self, w, channels, classes, z_dim=128, bottom=4, concat=False):
        super().__init__()
        self.shape = (8 * w, bottom, bottom)
        self.concat = classes if concat else 0
        self.linear0 = nn.Linear(z_dim + self.concat, 8 * w * bottom * bottom)
        widths = [8 * w, 4 * w, 2 * w, w]
        self.deconvs = nn.ModuleList(nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in zip(widths, widths[1:]))
        self.bns = nn.ModuleList(CondBN(c, None if concat else classes) for c in widths[1:])
        self.conv_out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, z, y):
        if self.concat:
            z, y = torch.cat([z, F.one_hot(y, self.concat).to(z.dtype)], 1), None
        h = self.linear0(z).view(-1, *self.shape)
        for deconv, bn in zip(self.deconvs, self.bns):
            h = F.relu(bn(deconv(h), y))
        return torch.tanh(self.conv_out(h))


class Discriminator(nn.Module):
    """SNGAN standard CNN D (paper layout, leaky ReLU 0.1), SN on every layer, projection head."""

    def __init__(self, w, channels, classes, size=32):
        super().__init__()
        c = [w, w, 2 * w, 2 * w, 4 * w, 4 * w, 8 * w]
        layers = []
        for i in range(7):
            k, s = (4, 2) if i % 2 == 1 else (3, 1)
            layers.append(spectral_norm(nn.Conv2d(channels if i == 0 else c[i - 1], c[i], k, s, 1)))
        self.convs = nn.ModuleList(layers)
        features = 8 * w * (size // 8) ** 2
        self.linear = spectral_norm(nn.Linear(features, 1))
        self.embedding = spectral_norm(nn.Embedding(classes, features)) if classes else None

    def forward(self, x, y):
        h = x
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.1)
        h = h.flatten(1)
        out = self.linear(h)
        if self.embedding is not None:
            out = out + (self.embedding(y) * h).sum(1, keepdim=True)
        return out


class Attention(nn.Module):
    """SAGAN self-attention as crates/sngan-models/src/blocks/attention.rs (StudioGAN's)."""

    def __init__(self, c, sn_eps):
        super().__init__()
        self.theta = sn(nn.Conv2d(c, c // 8, 1, bias=False), sn_eps)
        self.phi = sn(nn.Conv2d(c, c // 8, 1, bias=False), sn_eps)
        self.g = sn(nn.Conv2d(c, c // 2, 1, bias=False), sn_eps)
        self.attn = sn(nn.Conv2d(c // 2, c, 1, bias=False), sn_eps)
        self.sigma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        theta = self.theta(x).view(b, c // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).view(b, c // 8, h * w // 4)
        attn = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        g = F.max_pool2d(self.g(x), 2).view(b, c // 2, h * w // 4)
        out = self.attn(torch.bmm(g, attn.transpose(1, 2)).view(b, c // 2, h, w))
        return x + self.sigma * out


class GenBlock(nn.Module):
    """BN-ReLU-up-conv3x3-BN-ReLU-conv3x3 plus up-conv1x1 (StudioGAN's GenBlock)."""

    def __init__(self, c_in, c_out, classes, vector, eps, sn_eps):
        super().__init__()
        self.bn1 = CondBN(c_in, classes, vector, eps, sn_eps)
        self.conv2d1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1), sn_eps)
        self.bn2 = CondBN(c_out, classes, vector, eps, sn_eps)
        self.conv2d2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1), sn_eps)
        self.conv2d0 = sn(nn.Conv2d(c_in, c_out, 1), sn_eps)

    def forward(self, x, y):
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode="nearest")
        h = self.conv2d2(F.relu(self.bn2(self.conv2d1(h), y)))
        return h + self.conv2d0(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResNetGenerator(nn.Module):
    """crates/sngan-models/src/resnet.rs's generator: dense, up-blocks, attention after block
    `attention`, BN-ReLU-conv3x3-tanh; BigGAN's shared embedding and hierarchical z with `shared`."""

    def __init__(self, z_dim, channels, classes=None, shared=None, attention=None, eps=1e-5, sn_eps=None, bottom=4):
        super().__init__()
        n = len(channels) - 1
        self.bottom, self.c0, self.n, self.attention_after = bottom, channels[0], n, attention
        z_in = z_dim // (n + 1) if shared else z_dim
        vector = shared + z_in if shared else None
        block_classes = None if shared else classes
        self.linear0 = sn(nn.Linear(z_in, channels[0] * bottom * bottom), sn_eps)
        self.shared = nn.Embedding(classes, shared) if shared else None
        self.blocks = nn.ModuleList(
            GenBlock(a, b, block_classes, vector, eps, sn_eps) for a, b in zip(channels, channels[1:])
        )
        self.attention = Attention(channels[attention], sn_eps) if attention else None
        self.bn4 = nn.BatchNorm2d(channels[-1], eps=eps)
        self.conv2d5 = sn(nn.Conv2d(channels[-1], 3, 3, padding=1), sn_eps)

    def forward(self, z, y):
        if self.shared is not None:
            chunks = z.chunk(self.n + 1, 1)
            e = self.shared(y)
            z, conds = chunks[0], [torch.cat([e, zi], 1) for zi in chunks[1:]]
        else:
            conds = [y] * self.n
        h = self.linear0(z).view(-1, self.c0, self.bottom, self.bottom)
        for i, (block, cond) in enumerate(zip(self.blocks, conds)):
            h = block(h, cond)
            if self.attention is not None and i + 1 == self.attention_after:
                h = self.attention(h)
        return torch.tanh(self.conv2d5(F.relu(self.bn4(h))))


class DiscBlock(nn.Module):
    """ReLU-conv3x3-ReLU-conv3x3-[pool] plus conv1x1-[pool]; the optimized first block is
    conv3x3-ReLU-conv3x3-pool plus pool-conv1x1 (StudioGAN's DiscOptBlock / DiscBlock)."""

    def __init__(self, c_in, c_out, downsample, optimized, hidden_in, sn_eps):
        super().__init__()
        self.downsample, self.optimized = downsample or optimized, optimized
        hidden = c_in if hidden_in and not optimized else c_out
        self.conv2d1 = sn(nn.Conv2d(c_in, hidden, 3, padding=1), sn_eps)
        self.conv2d2 = sn(nn.Conv2d(hidden, c_out, 3, padding=1), sn_eps)
        shortcut = optimized or self.downsample or c_in != c_out
        self.conv2d0 = sn(nn.Conv2d(c_in, c_out, 1), sn_eps) if shortcut else None

    def forward(self, x):
        pool = (lambda t: F.avg_pool2d(t, 2)) if self.downsample else (lambda t: t)
        h = x if self.optimized else F.relu(x)
        h = pool(self.conv2d2(F.relu(self.conv2d1(h))))
        if self.conv2d0 is None:
            return h + x
        return h + (self.conv2d0(pool(x)) if self.optimized else pool(self.conv2d0(x)))


class ResNetDiscriminator(nn.Module):
    """crates/sngan-models/src/resnet.rs's discriminator: down-blocks, attention, ReLU, global
    sum pool, linear, and the projection head when conditional."""

    def __init__(self, channels, downsample, classes=None, attention=None, hidden_in=False, linear_bias=True, sn_eps=1e-12):
        super().__init__()
        self.blocks = nn.ModuleList(
            DiscBlock(a, b, down, i == 0, hidden_in, sn_eps)
            for i, (a, b, down) in enumerate(zip(channels, channels[1:], downsample))
        )
        self.attention_after = attention
        self.attention = Attention(channels[attention], sn_eps) if attention else None
        self.linear1 = sn(nn.Linear(channels[-1], 1, bias=linear_bias), sn_eps)
        self.embedding = sn(nn.Embedding(classes, channels[-1]), sn_eps) if classes else None

    def forward(self, x, y):
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if self.attention is not None and i + 1 == self.attention_after:
                h = self.attention(h)
        h = F.relu(h).sum(dim=(2, 3))
        out = self.linear1(h)
        if self.embedding is not None:
            out = out + (self.embedding(y) * h).sum(1, keepdim=True)
        return out


def losses(kind):
    if kind == "hinge":
        return (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean())
    return (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), lambda f: F.softplus(-f).mean())


def parameters(module):
    return sum(p.numel() for p in module.parameters())


def bench(name, g, d, *, z_dim=128, classes=None, channels=3, size=32, loss="hinge", lr=(2e-4, 2e-4),
          betas=(0.0, 0.9), adam_eps=1e-8, n_dis=5, batch=64, g_batch=128, ema_decay=None, rounds=5,
          published=None, mode_seeking=None):
    """Times one iteration of G and D as `Gan::iteration` runs it (crates/sngan-train/src/gan.rs)."""
    if args.only not in name:
        return
    if published is not None:
        counts = (parameters(g), parameters(d))
        assert counts == published, f"{name}: parameters {counts}, published {published}"
    g, d = g.to(DEVICE), d.to(DEVICE)
    ema = copy.deepcopy(g) if ema_decay else None
    opt_g = torch.optim.Adam(g.parameters(), lr[0], betas=betas, eps=adam_eps)
    opt_d = torch.optim.Adam(d.parameters(), lr[1], betas=betas, eps=adam_eps)
    loss_d, loss_g = losses(loss)
    real = torch.rand(batch, channels, size, size, device=DEVICE) * 2 - 1
    labels = torch.arange(batch, device=DEVICE) % (classes or 10)

    def classes_of(n):
        return torch.randint(0, classes, (n,), device=DEVICE) if classes else None

    def iteration():
        for _ in range(n_dis):
            y_fake = classes_of(batch)
            with torch.no_grad():
                fake = g(torch.randn(batch, z_dim, device=DEVICE), y_fake)
            opt_d.zero_grad(set_to_none=True)
            y = labels if classes else None
            loss = loss_d(d(real, y), d(fake, y_fake))
            loss.item()
            loss.backward()
            opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        z = torch.randn(g_batch, z_dim, device=DEVICE)
        if mode_seeking:
            # MSGAN (crates/sngan-train/src/gan.rs): rows 2i and 2i + 1 share a class.
            y = classes_of(g_batch // 2).repeat_interleave(2)
            fake = g(z, y)
            gap = lambda t: (t[0::2] - t[1::2]).abs().mean()
            loss = loss_g(d(fake, y)) + mode_seeking / (gap(fake) / gap(z) + 1e-5)
        else:
            y = classes_of(g_batch)
            loss = loss_g(d(g(z, y), y))
        loss.item()
        loss.backward()
        opt_g.step()
        d.requires_grad_(True)
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema.state_dict().values(), g.state_dict().values()):
                    if e.is_floating_point():
                        e.lerp_(p, 1 - ema_decay)

    def timed():
        start, start_cpu = time.perf_counter(), time.process_time()
        iteration()
        sync()
        return (time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3

    timed()
    times = [timed() for _ in range(rounds)]
    ms = statistics.median(t for t, _ in times)
    print(f"bench: train/{name}_iteration_cpu_ms {statistics.median(c for _, c in times):.2f}", flush=True)
    print(f"bench: train/{name}_iteration_ms {ms:.2f}", flush=True)
    print(f"bench: train/{name}_real_images_per_s {n_dis * batch / ms * 1e3:.1f}", flush=True)


def quickstart(rounds):
    bench("quickstart", Generator(8, 1, 10, concat=True), Discriminator(8, 1, 10), classes=10, channels=1,
          lr=(4e-4, 4e-4), betas=(0.5, 0.999), n_dis=1, batch=32, g_batch=32, ema_decay=0.999, rounds=rounds,
          mode_seeking=0.75)


def sngan_cifar10_resnet(rounds=5):
    bench("sngan_cifar10_resnet", ResNetGenerator(128, [256] * 4),
          ResNetDiscriminator([3, 128, 128, 128, 128], [True, True, False, False], hidden_in=True, linear_bias=False),
          rounds=rounds, published=(4_276_739, 1_053_824))


def sagan_cifar10(rounds=5):
    bench("sagan_cifar10", ResNetGenerator(128, [256] * 4, classes=10, attention=2, eps=1e-4, sn_eps=1e-6),
          ResNetDiscriminator([3, 128, 128, 128, 128], [True, True, False, False], classes=10, attention=1, sn_eps=1e-6),
          classes=10, betas=(0.5, 0.999), g_batch=64, rounds=rounds, published=(4_386_308, 1_075_586))


if args.suite == "cpu":
    quickstart(15)
    bench("sngan_cifar10_std_cnn", Generator(64, 3, None), Discriminator(64, 3, None), loss="ns",
          betas=(0.5, 0.999), n_dis=1, g_batch=64, rounds=5, published=(3_812_355, 2_935_873))
    sngan_cifar10_resnet(3)
    sagan_cifar10(3)
else:
    quickstart(10)
    bench("sngan_cifar10_std_cnn_ndis5", Generator(64, 3, None), Discriminator(64, 3, None), loss="ns",
          betas=(0.5, 0.999), n_dis=5, g_batch=128, published=(3_812_355, 2_935_873))
    sngan_cifar10_resnet()
    sagan_cifar10()
    bench("biggan_cifar10", ResNetGenerator(128, [256] * 4, classes=10, sn_eps=1e-8),
          ResNetDiscriminator([3, 256, 256, 256, 256], [True, True, False, False], classes=10, sn_eps=1e-8),
          classes=10, betas=(0.0, 0.999), n_dis=4, batch=50, g_batch=50, ema_decay=0.9999,
          published=(4_304_387, 4_207_361))
    bench("biggan_imagenet128_b64",
          ResNetGenerator(120, [1536, 1536, 768, 384, 192, 96], classes=1000, shared=128, attention=4, eps=1e-4, sn_eps=1e-6),
          ResNetDiscriminator([3, 96, 192, 384, 768, 1536, 1536], [True] * 5 + [False], classes=1000, attention=1, sn_eps=1e-6),
          z_dim=120, classes=1000, size=128, lr=(1e-4, 4e-4), betas=(0.0, 0.999), adam_eps=1e-6, n_dis=1,
          batch=64, g_batch=64, ema_decay=0.9999, rounds=3, published=(70_433_988, 87_982_370))
