"""The WGAN-GP paper's ResNet (Gulrajani et al. 2017, appendix; gan_cifar_resnet.py in the authors' code), with
the number of resolution steps taken from data.image_size (4 x 2^k: 32 gives the paper's CIFAR-10 nets).

Generator: a linear layer from z to width x 4 x 4, then k residual blocks that double the resolution (nearest
upsampling before the convolution, as tflib's UpsampleConv), then norm, ReLU, a 3x3 convolution to the image's
channels and tanh. Critic: an optimized first block (conv, ReLU, conv, mean pool; shortcut: mean pool, 1x1 conv),
k - 1 blocks that halve the resolution, two blocks that keep it (at 8x8 for 32x32 images), ReLU, a global mean over the pixels and
a linear layer to `outputs` values. Every block is pre-activation: [norm] ReLU conv [norm] ReLU conv, plus a
shortcut (a 1x1 convolution when the block resamples or changes width). As in the paper's CIFAR-10 run the
generator normalizes with batch norm and the critic not at all (critic_norm=none; layer norm under a penalty if
batch is asked for). Departures: PyTorch's default initialization instead of tflib's, and the generator's batch
equals the critic's (the authors' code draws twice as many z for the generator's update); at 64x64 this is the
CIFAR-10 layout with one more block each, not gan_64x64.py's nets, whose widths grow from 64 to 512.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models import Nets
from ganzoo.models.dcgan import norm_layer


def conv(c_in: int, c_out: int, kernel: int = 3) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)


class ResidualBlock(nn.Module):
    """[norm] ReLU conv [norm] ReLU conv, plus a shortcut; `resample` up (before the first conv), down (after the
    second, a 2x2 mean pool) or None."""

    def __init__(self, c_in: int, c_out: int, resample: str | None, norm: str):
        super().__init__()
        up = [nn.Upsample(scale_factor=2, mode="nearest")] if resample == "up" else []
        down = [nn.AvgPool2d(2)] if resample == "down" else []
        middle = c_out if resample == "up" else c_in  # tflib: up widens in the first conv, down in the second
        self.main = nn.Sequential(norm_layer(norm, c_in), nn.ReLU(), *up, conv(c_in, middle),
                                  norm_layer(norm, middle), nn.ReLU(), conv(middle, c_out), *down)
        if resample is None and c_in == c_out:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(*up, *down, conv(c_in, c_out, kernel=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.main(x)


class FirstCriticBlock(nn.Module):
    """The critic's optimized first block: no activation before its first convolution."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.main = nn.Sequential(conv(c_in, c_out), nn.ReLU(), conv(c_out, c_out), nn.AvgPool2d(2))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), conv(c_in, c_out, kernel=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.main(x)


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, steps: int, width: int, norm: str):
        super().__init__()
        self.width = width
        self.linear = nn.Linear(z_dim, width * 4 * 4)
        self.blocks = nn.Sequential(*[ResidualBlock(width, width, "up", norm) for _ in range(steps)])
        self.out = nn.Sequential(norm_layer(norm, width), nn.ReLU(), conv(width, channels), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.linear(z).view(len(z), self.width, 4, 4)))


class ResNetCritic(nn.Module):
    def __init__(self, channels: int, steps: int, width: int, norm: str, outputs: int):
        super().__init__()
        down = [ResidualBlock(width, width, "down", norm) for _ in range(steps - 1)]
        same = [ResidualBlock(width, width, None, norm) for _ in range(2)]
        self.blocks = nn.Sequential(FirstCriticBlock(channels, width), *down, *same, nn.ReLU())
        self.linear = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.blocks(x).mean(dim=(2, 3)))


def resolution_steps(size: int) -> int:
    steps = math.log2(size / 4) if size >= 8 else 0
    if steps < 1 or steps != int(steps):
        raise ConfigError(f"model=resnet needs data.image_size = 4 x a power of two >= 8 (got {size}); use 32 or 64")
    return int(steps)


def build(
    data_shape: tuple[int, ...],
    z_dim: int,
    critic_outputs: int = 1,
    generator_width: int = 128,
    critic_width: int = 128,
    generator_norm: str = "batch",
    critic_norm: str = "none",
) -> Nets:
    """model=resnet: the WGAN-GP paper's ResNet generator and critic sized from `data_shape` (C, H, W)."""
    if len(data_shape) != 3:
        raise ConfigError("model=resnet needs image data but the data are 2-D points; use model=mlp for toy data")
    channels, size = data_shape[0], data_shape[1]
    steps = resolution_steps(size)
    return Nets(
        ResNetGenerator(z_dim, channels, steps, int(generator_width), generator_norm),
        ResNetCritic(channels, steps, int(critic_width), critic_norm, critic_outputs),
    )
