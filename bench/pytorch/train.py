"""PyTorch twin of benches/train.rs: one GAN iteration (n_dis D steps on a fresh real batch with
G's output detached, then one G step with D frozen, Adam on both, the EMA update where the
experiment has one) of the MNIST quick-start, SNGAN's CIFAR-10 standard CNN and ResNet-32, and
SAGAN-32, written as configs/{mnist_quickstart,sngan_cifar10_std_cnn,sngan_cifar10_resnet,
sagan_cifar10}.json specify them, on random batches, CPU, threads = SNGAN_THREADS or all cores.
`python train.py NAME` runs only the cases whose name contains NAME.
Prints `bench: <key> <value>` lines for `cargo xtask bench train`."""
import copy
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

torch.set_num_threads(int(os.environ.get("SNGAN_THREADS", os.cpu_count())))
torch.manual_seed(0)


class CondBN(nn.Module):
    """BN without affine, then a per-class gain and bias (StudioGAN's ConditionalBatchNorm2d)."""

    def __init__(self, c, classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=classes is None)
        self.classes = classes
        if classes is not None:
            self.gain = nn.Embedding(classes, c)
            self.bias = nn.Embedding(classes, c)

    def forward(self, x, y):
        h = self.bn(x)
        if self.classes is None:
            return h
        c = x.shape[1]
        return h * (1 + self.gain(y)).view(-1, c, 1, 1) + self.bias(y).view(-1, c, 1, 1)


class Generator(nn.Module):
    """SNGAN standard CNN G: dense -> 4x4x8w, three 4x4 stride-2 deconvs with (conditional) BN
    and ReLU, 3x3 conv to the image, tanh."""

    def __init__(self, w, channels, classes, z_dim=128, bottom=4):
        super().__init__()
        self.shape = (8 * w, bottom, bottom)
        self.linear0 = nn.Linear(z_dim, 8 * w * bottom * bottom)
        widths = [8 * w, 4 * w, 2 * w, w]
        self.deconvs = nn.ModuleList(nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in zip(widths, widths[1:]))
        self.bns = nn.ModuleList(CondBN(c, classes) for c in widths[1:])
        self.conv_out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, z, y):
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


def sn(module, on, eps=1e-12):
    return spectral_norm(module, eps=eps) if on else module


class GenNorm(nn.Module):
    """BN, or (with classes) BN without affine times 1 + a class embedding plus another (the
    embeddings spectrally normalised where G is), as sngan-models' GenNorm."""

    def __init__(self, c, classes, eps, sn_eps):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, eps=eps, affine=classes is None)
        if classes is not None:
            self.embed0 = sn(nn.Embedding(classes, c), sn_eps is not None, sn_eps or 0)
            self.embed1 = sn(nn.Embedding(classes, c), sn_eps is not None, sn_eps or 0)
        self.classes = classes

    def forward(self, x, y):
        h = self.bn(x)
        if self.classes is None:
            return h
        c = x.shape[1]
        return h * (1 + self.embed0(y)).view(-1, c, 1, 1) + self.embed1(y).view(-1, c, 1, 1)


class GenBlock(nn.Module):
    def __init__(self, c_in, c_out, classes, eps, sn_eps):
        super().__init__()
        on = sn_eps is not None
        self.bn1, self.bn2 = GenNorm(c_in, classes, eps, sn_eps), GenNorm(c_out, classes, eps, sn_eps)
        self.conv2d1 = sn(nn.Conv2d(c_in, c_out, 3, padding=1), on, sn_eps or 0)
        self.conv2d2 = sn(nn.Conv2d(c_out, c_out, 3, padding=1), on, sn_eps or 0)
        self.conv2d0 = sn(nn.Conv2d(c_in, c_out, 1), on, sn_eps or 0)

    def forward(self, x, y):
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
        h = self.conv2d1(up(F.relu(self.bn1(x, y))))
        h = self.conv2d2(F.relu(self.bn2(h, y)))
        return h + self.conv2d0(up(x))


class DiscBlock(nn.Module):
    def __init__(self, c_in, c_out, downsample, optimized, hidden_input, sn_eps):
        super().__init__()
        self.downsample = downsample or optimized
        self.optimized = optimized
        hidden = c_in if hidden_input and not optimized else c_out
        self.conv2d1 = sn(nn.Conv2d(c_in, hidden, 3, padding=1), True, sn_eps)
        self.conv2d2 = sn(nn.Conv2d(hidden, c_out, 3, padding=1), True, sn_eps)
        shortcut = optimized or self.downsample or c_in != c_out
        self.conv2d0 = sn(nn.Conv2d(c_in, c_out, 1), True, sn_eps) if shortcut else None

    def forward(self, x):
        pool = lambda t: F.avg_pool2d(t, 2) if self.downsample else t
        h = x if self.optimized else F.relu(x)
        h = pool(self.conv2d2(F.relu(self.conv2d1(h))))
        if self.conv2d0 is None:
            return h + x
        if self.optimized:
            return h + self.conv2d0(pool(x))
        return h + pool(self.conv2d0(x))


class SelfAttention(nn.Module):
    """SAGAN's block as sngan-models' SelfAttention (StudioGAN's layout)."""

    def __init__(self, c, sn_eps):
        super().__init__()
        conv = lambda a, b: sn(nn.Conv2d(a, b, 1, bias=False), sn_eps is not None, sn_eps or 0)
        self.theta, self.phi, self.g, self.attn = conv(c, c // 8), conv(c, c // 8), conv(c, c // 2), conv(c // 2, c)
        self.sigma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        theta = self.theta(x).view(b, c // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).view(b, c // 8, h * w // 4)
        attn = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        g = F.max_pool2d(self.g(x), 2).view(b, c // 2, h * w // 4)
        out = self.attn(torch.bmm(g, attn.transpose(1, 2)).view(b, c // 2, h, w))
        return x + self.sigma * out


class ResNetGenerator(nn.Module):
    """SNGAN ResNet-32 G (256 channels, 3 up-blocks), optionally conditional with SN and
    self-attention after a block (SAGAN-32)."""

    def __init__(self, classes=None, attention_after=None, eps=1e-5, sn_eps=None, c=256):
        super().__init__()
        self.linear0 = sn(nn.Linear(128, 4 * 4 * c), sn_eps is not None, sn_eps or 0)
        self.blocks = nn.ModuleList(GenBlock(c, c, classes, eps, sn_eps) for _ in range(3))
        self.attention_after = attention_after
        self.attention = SelfAttention(c, sn_eps) if attention_after else None
        self.bn4 = nn.BatchNorm2d(c, eps=eps)
        self.conv2d5 = sn(nn.Conv2d(c, 3, 3, padding=1), sn_eps is not None, sn_eps or 0)
        self.c = c

    def forward(self, z, y):
        h = self.linear0(z).view(-1, self.c, 4, 4)
        for i, block in enumerate(self.blocks):
            h = block(h, y)
            if i + 1 == self.attention_after:
                h = self.attention(h)
        return torch.tanh(self.conv2d5(F.relu(self.bn4(h))))


class ResNetDiscriminator(nn.Module):
    """SNGAN ResNet-32 D (128 channels, 4 blocks, the first two down-sampling), optionally with
    the projection head and self-attention after a block (SAGAN-32)."""

    def __init__(self, classes=None, attention_after=None, hidden_input=True, bias=False, sn_eps=1e-12):
        super().__init__()
        channels, down = [3, 128, 128, 128, 128], [True, True, False, False]
        self.blocks = nn.ModuleList(
            DiscBlock(channels[i], channels[i + 1], down[i], i == 0, hidden_input, sn_eps) for i in range(4))
        self.attention_after = attention_after
        self.attention = SelfAttention(128, sn_eps) if attention_after else None
        self.linear1 = sn(nn.Linear(128, 1, bias=bias), True, sn_eps)
        self.embedding = sn(nn.Embedding(classes, 128), True, sn_eps) if classes else None

    def forward(self, x, y):
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i + 1 == self.attention_after:
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


def bench(name, g, d, classes, loss, adam_g, adam_d, n_dis, batch, g_batch, ema_decay, rounds, channels=3):
    ema = copy.deepcopy(g) if ema_decay else None
    opt_g = torch.optim.Adam(g.parameters(), adam_g[0], betas=adam_g[1:])
    opt_d = torch.optim.Adam(d.parameters(), adam_d[0], betas=adam_d[1:])
    loss_d, loss_g = losses(loss)
    real = torch.rand(batch, channels, 32, 32) * 2 - 1
    labels = torch.arange(batch) % 10

    def classes_of(n):
        return torch.randint(0, classes, (n,)) if classes else None

    def iteration():
        for _ in range(n_dis):
            with torch.no_grad():
                fake = g(torch.randn(batch, 128), classes_of(batch))
            opt_d.zero_grad(set_to_none=True)
            y = labels if classes else None
            loss = loss_d(d(real, y), d(fake, classes_of(batch) if classes else None))
            loss.item()
            loss.backward()
            opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        y = classes_of(g_batch)
        loss = loss_g(d(g(torch.randn(g_batch, 128), y), y))
        loss.item()
        loss.backward()
        opt_g.step()
        d.requires_grad_(True)
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema.state_dict().values(), g.state_dict().values()):
                    if e.is_floating_point():
                        e.lerp_(p, 1 - ema_decay)

    iteration()
    times, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        iteration()
        times.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    ms = statistics.median(times)
    print(f"bench: train/{name}_iteration_cpu_ms {statistics.median(cpu):.2f}", flush=True)
    print(f"bench: train/{name}_iteration_ms {ms:.2f}", flush=True)
    print(f"bench: train/{name}_real_images_per_s {n_dis * batch / ms * 1e3:.1f}", flush=True)


only = sys.argv[1] if len(sys.argv) > 1 else ""
cases = {
    "quickstart": lambda: bench(
        "quickstart", Generator(8, 1, 10), Discriminator(8, 1, 10), 10, "hinge",
        (1e-3, 0.5, 0.999), (2e-4, 0.5, 0.999), 1, 64, 64, 0.99, 15, channels=1),
    "sngan_cifar10_std_cnn": lambda: bench(
        "sngan_cifar10_std_cnn", Generator(64, 3, None), Discriminator(64, 3, None), None, "ns",
        (2e-4, 0.5, 0.999), (2e-4, 0.5, 0.999), 1, 64, 64, None, 5),
    "sngan_cifar10_resnet": lambda: bench(
        "sngan_cifar10_resnet", ResNetGenerator(), ResNetDiscriminator(), None, "hinge",
        (2e-4, 0.0, 0.9), (2e-4, 0.0, 0.9), 5, 64, 128, None, 3),
    "sagan_cifar10": lambda: bench(
        "sagan_cifar10",
        ResNetGenerator(classes=10, attention_after=2, eps=1e-4, sn_eps=1e-6),
        ResNetDiscriminator(classes=10, attention_after=1, hidden_input=False, bias=True, sn_eps=1e-6),
        10, "hinge", (2e-4, 0.5, 0.999), (2e-4, 0.5, 0.999), 5, 64, 64, None, 3),
}
for case_name, run in cases.items():
    if only in case_name:
        run()
