"""The WGAN-GP paper's ResNets (Gulrajani et al. 2017, appendix), with the number of resolution steps taken from
data.image_size (4 x 2^k), in the two layouts of the authors' code (`model.layout`; auto: cifar up to 32x32,
widening from 64x64 on):

cifar (gan_cifar_resnet.py): every block has the same width (128). Generator: a linear layer from z to
width x 4 x 4, then k residual blocks that double the resolution (nearest upsampling before the convolution,
as tflib's UpsampleConv), then norm, ReLU, a 3x3 convolution to the image's channels and tanh. Critic: an
optimized first block (conv, ReLU, conv, mean pool; shortcut: mean pool, 1x1 conv), k - 1 blocks that halve the
resolution, two blocks that keep it (at 8x8 for 32x32 images), ReLU, a global mean over the pixels and a linear
layer to `outputs` values. As in the paper's CIFAR-10 run the generator normalizes with batch norm and the
critic not at all.

widening (gan_64x64.py's GoodGenerator and GoodDiscriminator, dim = 64): the generator's blocks narrow from
8 dim to dim (64x64: 8, 8, 4, 2, 1 x dim) and the critic's widen from dim to 8 dim (a 3x3 input convolution,
then blocks to 2, 4, 8, 8 x dim, each halving the resolution), which ends with a linear layer over the
flattened 4x4 map. Under WGAN-GP the authors' critic normalizes its blocks with layer norm (over C, H, W).

Every block is pre-activation: [norm] ReLU conv [norm] ReLU conv, plus a shortcut (a 1x1 convolution when the
block resamples or changes width). Departures from both: PyTorch's default initialization instead of tflib's,
and the generator's batch equals the critic's (the authors' code draws twice as many z for the generator).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models import Nets
from ganzoo.models.conditional import LabelConcatenation, LabelledSequential, conditional_critic, require_labels
from ganzoo.models.dcgan import norm_layer
from ganzoo.shapes import require_images


def conv(c_in: int, c_out: int, kernel: int = 3) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)


class ResidualBlock(nn.Module):
    """[norm] ReLU conv [norm] ReLU conv, plus a shortcut; `resample` up (before the first conv), down (after the
    second, a 2x2 mean pool) or None. Given `num_classes`, its batch norms are conditional and it takes labels."""

    def __init__(self, c_in: int, c_out: int, resample: str | None, norm: str, num_classes: int | None = None):
        super().__init__()
        self.c_in, self.c_out = c_in, c_out
        self.takes_labels = bool(num_classes)
        up = [nn.Upsample(scale_factor=2, mode="nearest")] if resample == "up" else []
        down = [nn.AvgPool2d(2)] if resample == "down" else []
        middle = c_out if resample == "up" else c_in  # tflib: up widens in the first conv, down in the second
        layers = [norm_layer(norm, c_in, num_classes), nn.ReLU(), *up, conv(c_in, middle),
                  norm_layer(norm, middle, num_classes), nn.ReLU(), conv(middle, c_out), *down]
        self.main = LabelledSequential(*layers) if num_classes else nn.Sequential(*layers)
        if resample is None and c_in == c_out:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(*up, *down, conv(c_in, c_out, kernel=1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.shortcut(x) + (self.main(x, y) if self.takes_labels else self.main(x))


class FirstCriticBlock(nn.Module):
    """The critic's optimized first block: no activation before its first convolution."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.main = nn.Sequential(conv(c_in, c_out), nn.ReLU(), conv(c_out, c_out), nn.AvgPool2d(2))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), conv(c_in, c_out, kernel=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.main(x)


class ResNetGenerator(nn.Module):
    """z -> widths[0] x 4 x 4, then one upsampling block per entry of `widths` (its output width). Given
    `num_classes` (with batch norm), every batch norm is conditional and the generator takes labels."""

    def __init__(self, z_dim: int, channels: int, widths: list[int], norm: str, num_classes: int | None = None):
        super().__init__()
        self.width = widths[0]
        self.takes_labels = bool(num_classes)
        sequence = LabelledSequential if num_classes else nn.Sequential
        self.linear = nn.Linear(z_dim, self.width * 4 * 4)
        self.blocks = sequence(*[ResidualBlock(a, b, "up", norm, num_classes) for a, b in zip([widths[0], *widths], widths)])
        self.out = sequence(norm_layer(norm, widths[-1], num_classes), nn.ReLU(), conv(widths[-1], channels), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.linear(z).view(len(z), self.width, 4, 4)
        if self.takes_labels:
            return self.out(self.blocks(h, y), y)
        return self.out(self.blocks(h))


class ResNetCritic(nn.Module):
    """gan_cifar_resnet.py's critic: one width, two blocks at the last resolution, a global mean (or, with
    `pooling="sum"`, SN-GAN's and cGAN-PD's global sum)."""

    def __init__(self, channels: int, steps: int, width: int, norm: str, outputs: int, pooling: str = "mean"):
        super().__init__()
        self.pool = torch.sum if pooling == "sum" else torch.mean
        down = [ResidualBlock(width, width, "down", norm) for _ in range(steps - 1)]
        same = [ResidualBlock(width, width, None, norm) for _ in range(2)]
        self.blocks = nn.Sequential(FirstCriticBlock(channels, width), *down, *same, nn.ReLU())
        self.linear = nn.Linear(width, outputs)
        self.feature_size = width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the pooled features the last linear layer reads (the projection head's)."""
        return self.pool(self.blocks(x), dim=(2, 3))

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class WideningResNetCritic(nn.Module):
    """gan_64x64.py's critic: a 3x3 convolution to widths[0], then one halving block per later width, and a linear
    layer over the flattened 4x4 map."""

    def __init__(self, channels: int, widths: list[int], norm: str, outputs: int):
        super().__init__()
        self.input = conv(channels, widths[0])
        self.blocks = nn.Sequential(*[ResidualBlock(a, b, "down", norm) for a, b in zip(widths, widths[1:])])
        self.linear = nn.Linear(widths[-1] * 4 * 4, outputs)
        self.feature_size = widths[-1] * 4 * 4

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the flattened 4x4 map the last linear layer reads (the projection head's features)."""
        return self.blocks(self.input(x)).flatten(1)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


POOLINGS = ("mean", "sum")
LAYOUTS = {  # the paper's width and critic normalization for each layout (used where the config says null)
    "cifar": {"width": 128, "critic_norm": "none"},
    "widening": {"width": 64, "critic_norm": "layer"},
}


def widening_widths(steps: int, dim: int) -> tuple[list[int], list[int]]:
    """gan_64x64.py's widths for k = `steps` blocks, capped at 8 dim: the generator's block outputs
    (64x64: 8, 4, 2, 1 x dim, its input 8 dim) and the critic's input width then block outputs (1; 2, 4, 8, 8)."""
    generator = [dim * min(2 ** (steps - 1 - i), 8) for i in range(steps)]
    critic = [dim] + [dim * min(2 ** (i + 1), 8) for i in range(steps)]
    return generator, critic


def resolution_steps(size: int, model: str = "resnet") -> int:
    """k for a size of 4 x 2^k: the doublings from the 4x4 map (one block or layer each)."""
    steps = math.log2(size / 4) if size >= 8 else 0
    if steps < 1 or steps != int(steps):
        raise ConfigError(f"model={model} needs data.image_size = 4 x a power of two >= 8 (got {size}); use 32 or 64")
    return int(steps)


def build(
    data_shape: tuple[int, ...],
    z_dim: int,
    critic_outputs: int = 1,
    layout: str = "auto",
    generator_width: int | None = None,
    critic_width: int | None = None,
    generator_norm: str = "batch",
    critic_norm: str | None = None,
    conditional: bool | str = False,
    num_classes: int | None = None,
    pooling: str = "mean",
) -> Nets:
    """model=resnet: the WGAN-GP paper's ResNet generator and critic sized from `data_shape` (C, H, W). A null
    width or critic_norm takes the layout's value from the authors' code. `conditional`: conditional batch norm
    in the generator (the label's embedding beside z without batch norm) and the projection head on the critic
    (models/conditional.py), cGAN-PD's conditional ResNets. `pooling` (cifar layout): the critic's global
    `mean` over the pixels (gan_cifar_resnet.py) or `sum` (SN-GAN, cGAN-PD): under spectral norm the sum leaves
    the critic's scale H x W times larger."""
    if pooling not in POOLINGS:
        raise ConfigError(f"unknown model.pooling '{pooling}': choose one of {', '.join(POOLINGS)}")
    require_images("resnet", data_shape)
    num_classes = require_labels("resnet", conditional, num_classes)
    channels, size = data_shape[0], data_shape[1]
    steps = resolution_steps(size)
    layout = ("cifar" if size <= 32 else "widening") if layout == "auto" else layout
    paper = LAYOUTS[layout]
    g_width, c_width = int(generator_width or paper["width"]), int(critic_width or paper["width"])
    critic_norm = critic_norm or paper["critic_norm"]
    concatenated = bool(num_classes) and generator_norm != "batch"  # no batch norm to condition: z and the label
    inputs, batch_classes = (2 * z_dim, None) if concatenated else (z_dim, num_classes)
    if layout == "cifar":
        generator = ResNetGenerator(inputs, channels, [g_width] * steps, generator_norm, batch_classes)
        critic = ResNetCritic(channels, steps, c_width, critic_norm, critic_outputs, pooling)
    else:
        if pooling != "mean":  # its critic flattens the last 4x4 map: there is no pooling to choose
            raise ConfigError("model.pooling applies to model.layout=cifar only (widening flattens the 4x4 map); "
                              "leave model.pooling=mean")
        g_widths, _ = widening_widths(steps, g_width)
        _, c_widths = widening_widths(steps, c_width)
        generator = ResNetGenerator(inputs, channels, g_widths, generator_norm, batch_classes)
        critic = WideningResNetCritic(channels, c_widths, critic_norm, critic_outputs)
    if not num_classes:
        return Nets(generator, critic)
    generator = LabelConcatenation(generator, num_classes, z_dim) if concatenated else generator
    return Nets(generator, conditional_critic(critic, conditional, num_classes))
