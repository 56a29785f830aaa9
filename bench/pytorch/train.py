"""PyTorch twin of benches/train.rs: one GAN iteration (n_dis D steps on a fresh real batch with
G's output detached, then one G step with D frozen, Adam on both, the EMA update where the
experiment has one) of the MNIST quick-start and SNGAN's CIFAR-10 standard CNN, written as
configs/mnist_quickstart.json and configs/sngan_cifar10_std_cnn.json specify them, on random
batches, CPU, threads = SNGAN_THREADS or all cores.
Prints `bench: <key> <value>` lines for `cargo xtask bench train`."""
import copy
import os
import statistics
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


def losses(kind):
    if kind == "hinge":
        return (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean())
    return (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), lambda f: F.softplus(-f).mean())


def bench(name, w, channels, classes, loss, lr_g, lr_d, n_dis, batch, g_batch, ema_decay, rounds):
    g, d = Generator(w, channels, classes), Discriminator(w, channels, classes)
    ema = copy.deepcopy(g) if ema_decay else None
    opt_g = torch.optim.Adam(g.parameters(), lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr_d, betas=(0.5, 0.999))
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
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        iteration()
        times.append((time.perf_counter() - start) * 1e3)
    ms = statistics.median(times)
    print(f"bench: train/{name}_iteration_ms {ms:.2f}")
    print(f"bench: train/{name}_real_images_per_s {n_dis * batch / ms * 1e3:.1f}")


bench("quickstart", 8, 1, 10, "hinge", 1e-3, 2e-4, 1, 64, 64, 0.99, 15)
bench("sngan_cifar10_std_cnn", 64, 3, None, "ns", 2e-4, 2e-4, 1, 64, 64, None, 5)
