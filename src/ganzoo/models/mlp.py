"""Fully connected generator and critic.

Toy points: 3 hidden layers of 512 ReLU units and 2-D noise, as in the WGAN-GP toy code (gan_toy.py); init=tflib
starts them as that code does (He-uniform, zero biases; models/init.py), init=torch (the default) from
PyTorch's default, which trains faster in short runs (README: 3 seeds of 600 steps each way).
Images: the WGAN paper's MLP (4 hidden layers of 512), with tanh on the generator's output since images are in
[-1, 1]; `output="linear"` leaves the output as the WGAN code's --mlp_G does.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models import Nets
from ganzoo.models.conditional import LabelConcatenation, conditional_critic, require_labels
from ganzoo.models.init import tflib_init


def relu_stack(inputs: int, width: int, hidden_layers: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(hidden_layers):
        layers += [nn.Linear(inputs if i == 0 else width, width), nn.ReLU(inplace=True)]
    return layers


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple[int, ...], width: int = 512, hidden_layers: int = 3,
                 output: str = "tanh"):
        super().__init__()
        self.out_shape = tuple(out_shape)
        head: list[nn.Module] = [nn.Linear(width, math.prod(out_shape))]
        if len(out_shape) == 3 and output == "tanh":
            head.append(nn.Tanh())
        self.net = nn.Sequential(*relu_stack(z_dim, width, hidden_layers), *head)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)


class MLPCritic(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], width: int = 512, hidden_layers: int = 3, outputs: int = 1):
        super().__init__()
        self.net = nn.Sequential(*relu_stack(math.prod(in_shape), width, hidden_layers), nn.Linear(width, outputs))
        self.feature_size = width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the last hidden layer (the projection head's features)."""
        return self.net[:-1](x.flatten(1))

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.net[-1](h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


INITS = ("torch", "tflib")


def build(data_shape: tuple[int, ...], z_dim: int, critic_outputs: int = 1, width: int = 512,
          hidden_layers: int | None = None, init: str = "torch", conditional: bool | str = False,
          num_classes: int | None = None) -> Nets:
    """model=mlp: `hidden_layers` null means 3 for toy points (WGAN-GP toy code) and 4 for images (WGAN paper).
    `init`: torch (PyTorch's default, the WGAN code's MLPs) or tflib (gan_toy.py's). `conditional`: the label's
    embedding beside z, and the projection head on the critic (models/conditional.py)."""
    if init not in INITS:
        raise ConfigError(f"unknown model.init '{init}': choose one of {', '.join(INITS)}")
    num_classes = require_labels("mlp", conditional, num_classes)
    points = len(data_shape) == 1
    hidden_layers = hidden_layers or (3 if points else 4)
    generator = MLPGenerator(2 * z_dim if num_classes else z_dim, data_shape, int(width), hidden_layers)
    critic = MLPCritic(data_shape, int(width), hidden_layers, critic_outputs)
    if init == "tflib":
        tflib_init(generator.net)
        tflib_init(critic.net)
    if num_classes:
        return Nets(LabelConcatenation(generator, num_classes, z_dim), conditional_critic(critic, conditional, num_classes))
    return Nets(generator, critic)
