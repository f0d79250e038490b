"""DCGAN (Radford et al. 2016) as the WGAN reference code builds it for any power-of-two image size.

Generator: a transposed convolution from z to 4x4, then stride-2 transposed convolutions doubling the size
while halving the width, tanh output; `channels="constant"` keeps `width` filters at every layer instead, the
WGAN paper's no-batch-norm generator (its Figure 6: a bit more than ten times fewer parameters).
Critic: the mirror image with strided convolutions and LeakyReLU(0.2), no normalization on its first layer,
and a last 4x4 convolution to `outputs` values (1 score, or z_dim codes for an O-GAN encoder). No pooling, no hidden fully connected layers. `extra_layers` adds 3x3 convolutions at
the widest resolution, as the WGAN code's --n_extra_layers.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models import Nets
from ganzoo.models.conditional import (
    ConditionalBatchNorm,
    LabelConcatenation,
    LabelledSequential,
    conditional_critic,
    require_labels,
)
from ganzoo.models.init import dcgan_init
from ganzoo.models.mlp import MLPGenerator
from ganzoo.shapes import require_images

NORMS = ("batch", "layer", "none")
CHANNEL_LAYOUTS = ("halving", "constant")


def check_power_of_two_size(size: int) -> None:
    if size < 16 or size & (size - 1):
        raise ConfigError(
            f"model=dcgan needs data.image_size to be a power of two >= 16 (got {size}); use 32, 64 or 128"
        )


def norm_layer(kind: str, channels: int, num_classes: int | None = None) -> nn.Module:
    """Batch norm (conditional on the class, given `num_classes`), layer norm over (C, H, W) (GroupNorm with one
    group), or nothing."""
    if kind == "batch":
        return ConditionalBatchNorm(channels, num_classes) if num_classes else nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown normalization '{kind}': choose one of {', '.join(NORMS)}")


class DCGANGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        image_channels: int,
        size: int,
        width: int = 64,
        norm: str = "batch",
        extra_layers: int = 0,
        channels: str = "halving",
        num_classes: int | None = None,
    ):
        super().__init__()
        if norm != "batch":  # conditional batch norm needs batch norm; build() conditions the others through z
            num_classes = None
        check_power_of_two_size(size)
        if channels not in CHANNEL_LAYOUTS:
            raise ConfigError(f"unknown model.generator_channels '{channels}': choose halving or constant")
        # Halving: width * size / 8 channels at 4x4, halved at every doubling, so the last hidden layer has `width`.
        current = width * size // 8 if channels == "halving" else width
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, current, 4, 1, 0, bias=False), norm_layer(norm, current, num_classes), nn.ReLU(True)]
        resolution = 4
        while resolution < size // 2:
            following = current // 2 if channels == "halving" else current
            layers += [nn.ConvTranspose2d(current, following, 4, 2, 1, bias=False), norm_layer(norm, following, num_classes), nn.ReLU(True)]
            current = following
            resolution *= 2
        for _ in range(extra_layers):
            layers += [nn.Conv2d(current, current, 3, 1, 1, bias=False), norm_layer(norm, current, num_classes), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(current, image_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = LabelledSequential(*layers) if num_classes else nn.Sequential(*layers)
        self.takes_labels = bool(num_classes)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = z.view(len(z), -1, 1, 1)
        return self.net(z, y) if self.takes_labels else self.net(z)


class DCGANCritic(nn.Module):
    def __init__(
        self, channels: int, size: int, width: int = 64, norm: str = "batch", extra_layers: int = 0, outputs: int = 1
    ):
        super().__init__()
        check_power_of_two_size(size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        current, resolution = width, size // 2
        for _ in range(extra_layers):
            layers += [nn.Conv2d(current, current, 3, 1, 1, bias=False), norm_layer(norm, current), nn.LeakyReLU(0.2, True)]
        while resolution > 4:
            layers += [nn.Conv2d(current, current * 2, 4, 2, 1, bias=False), norm_layer(norm, current * 2), nn.LeakyReLU(0.2, True)]
            current *= 2
            resolution //= 2
        layers.append(nn.Conv2d(current, outputs, 4, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        self.feature_size = current * 4 * 4

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the last 4x4 map, which the final convolution reads (the projection head's features)."""
        return self.net[:-1](x)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.net[-1](h).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


GENERATORS = ("dcgan", "mlp")


def build(
    data_shape: tuple[int, ...],
    z_dim: int,
    critic_outputs: int = 1,
    generator: str = "dcgan",
    generator_width: int = 64,
    critic_width: int = 64,
    generator_norm: str = "batch",
    generator_channels: str = "halving",
    critic_norm: str = "batch",
    extra_layers: int = 0,
    mlp_generator_layers: int = 4,
    mlp_generator_output: str = "tanh",
    conditional: bool | str = False,
    num_classes: int | None = None,
) -> Nets:
    """model=dcgan: DCGAN generator and critic sized from `data_shape` (C, H, W), initialized as in the paper.
    `generator=mlp` puts the WGAN paper's MLP generator beside the DCGAN critic: as its text describes it (4
    hidden layers, and tanh since images are in [-1, 1]) or, with 3 layers and a linear output, as its code's
    --mlp_G builds it (models/mlp.py, MLP_G). `conditional`: class-conditional nets for data of `num_classes`
    classes (models/conditional.py): conditional batch norm in a batch-norm generator, the label's embedding
    beside z in any other, and the projection head on the critic."""
    require_images("dcgan", data_shape)
    channels, size = data_shape[0], data_shape[1]
    check_power_of_two_size(size)
    if generator_width is None or critic_width is None or critic_norm is None:
        raise ConfigError("model=dcgan needs a number for model.generator_width and model.critic_width and a "
                          "model.critic_norm (null means 'the layout's' for model=resnet only)")
    if generator not in GENERATORS:
        raise ConfigError(f"unknown model.generator '{generator}': choose one of {', '.join(GENERATORS)}")
    num_classes = require_labels("dcgan", conditional, num_classes)
    critic = DCGANCritic(channels, size, critic_width, critic_norm, extra_layers, critic_outputs)
    critic.apply(dcgan_init)
    critic = conditional_critic(critic, conditional, num_classes)
    concatenated = bool(num_classes) and (generator == "mlp" or generator_norm != "batch")  # no batch norm to condition
    inputs = 2 * z_dim if concatenated else z_dim
    if generator == "mlp":  # hidden layers of generator_width units (the paper's 512)
        net = MLPGenerator(inputs, data_shape, int(generator_width), int(mlp_generator_layers), mlp_generator_output)
    else:
        net = DCGANGenerator(inputs, channels, size, generator_width, generator_norm, extra_layers, generator_channels,
                             None if concatenated else num_classes)
        net.apply(dcgan_init)
    return Nets(LabelConcatenation(net, num_classes, z_dim) if concatenated else net, critic)
