"""The WGAN-GP authors' DCGAN-style nets for CIFAR-10 (gan_cifar.py, on tflib), one layer per doubling of
data.image_size (4 x 2^k; 32 gives the code's nets, k = 3, DIM = `width` = 128, z_dim 128).

Generator: a linear layer from z to 4 x 4 x 2^(k-1) DIM units, batch norm over those units, ReLU; then 5x5
transposed convolutions of stride 2 that halve the width (batch norm and ReLU after each), the last to the
image's channels, and tanh. Critic: 5x5 convolutions of stride 2 from DIM to 2^(k-1) DIM with LeakyReLU(0.2),
normalized after the first only when `critic_norm` says so (gan_cifar.py: none under WGAN-GP, batch norm in its
dcgan and wgan modes), then a linear layer over the flattened 4x4 map. Every layer has a bias (tflib's default),
and the weights start as tflib's (models/init.py, tflib_conv_init). Departure: PyTorch pads a stride-2 5x5
convolution symmetrically (2 and 2) where TensorFlow's SAME pads 1 and 2, so feature maps are shifted by at most
one pixel against the code's.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.models import Nets
from ganzoo.models.dcgan import norm_layer
from ganzoo.models.init import tflib_conv_init
from ganzoo.models.resnet import resolution_steps
from ganzoo.shapes import require_images


def widths(steps: int, dim: int) -> list[int]:
    """DIM x 2^(k-1) ... DIM: the generator's widths from 4x4 up (the critic's, reversed, from the image down)."""
    return [dim * 2 ** (steps - 1 - i) for i in range(steps)]


def up(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1)  # doubles H and W


def down(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 5, stride=2, padding=2)  # halves H and W


class GanCifarGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, steps: int, dim: int, norm: str):
        super().__init__()
        w = widths(steps, dim)
        self.first = w[0]
        units = 4 * 4 * w[0]
        unit_norm = nn.BatchNorm1d(units) if norm == "batch" else nn.LayerNorm(units) if norm == "layer" else nn.Identity()
        self.input = nn.Sequential(nn.Linear(z_dim, units), unit_norm, nn.ReLU(True))
        layers: list[nn.Module] = []
        for a, b in zip(w, w[1:]):
            layers += [up(a, b), norm_layer(norm, b), nn.ReLU(True)]
        self.blocks = nn.Sequential(*layers, up(w[-1], channels), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.input(z).view(len(z), self.first, 4, 4))


class GanCifarCritic(nn.Module):
    def __init__(self, channels: int, steps: int, dim: int, norm: str, outputs: int):
        super().__init__()
        w = list(reversed(widths(steps, dim)))
        layers: list[nn.Module] = [down(channels, w[0]), nn.LeakyReLU(0.2, True)]
        for a, b in zip(w, w[1:]):
            layers += [down(a, b), norm_layer(norm, b), nn.LeakyReLU(0.2, True)]
        self.blocks = nn.Sequential(*layers)
        self.output = nn.Linear(4 * 4 * w[-1], outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.blocks(x).flatten(1))


def build(
    data_shape: tuple[int, ...],
    z_dim: int,
    critic_outputs: int = 1,
    width: int = 128,
    generator_norm: str = "batch",
    critic_norm: str = "none",
) -> Nets:
    """model=gan_cifar: gan_cifar.py's generator and critic, sized from `data_shape` (C, H, W)."""
    require_images("gan_cifar", data_shape)
    channels, size = data_shape[0], data_shape[1]
    steps = resolution_steps(size, "gan_cifar")
    generator = GanCifarGenerator(z_dim, channels, steps, int(width), generator_norm)
    critic = GanCifarCritic(channels, steps, int(width), critic_norm, critic_outputs)
    generator.apply(tflib_conv_init)
    critic.apply(tflib_conv_init)
    return Nets(generator, critic)
