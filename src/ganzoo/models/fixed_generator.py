"""A generator held fixed at the real data plus unit Gaussian noise: gan_toy.py's FIXED_GENERATOR flag, the setting
of the WGAN-GP paper's Figure 1, where critics are trained to optimality against this P_g and their value surfaces,
gradient norms and weights are compared between weight clipping and the gradient penalty (model=fixed_generator,
with model=mlp's critic and settings).

The noise is z itself (2-D, unit variance, as the toy code's), so fixed z give fixed noise; the data points under
it are fresh draws of the toy distribution from the generator's own random stream.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.data.toy import ToyDistribution, toy_distribution
from ganzoo.errors import ConfigError
from ganzoo.models import Nets
from ganzoo.models.mlp import build as build_mlp


class DataPlusNoise(nn.Module):
    def __init__(self, distribution: ToyDistribution, seed: int = 0):
        super().__init__()
        self.distribution = distribution
        self.rng = torch.Generator().manual_seed(int(seed))
        # The noise's scale, frozen: the generator's optimizer gets a parameter that never receives a gradient,
        # so that the loop (which steps it to count the iteration) and checkpoints work as in any run.
        self.noise_scale = nn.Parameter(torch.ones(()), requires_grad=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        data = self.distribution.sample(len(z), self.rng).to(z.device, z.dtype)
        return data + self.noise_scale * z


def build(data_shape, z_dim: int, critic_outputs: int = 1, data: str | None = None, seed: int = 0,
          **mlp_settings) -> Nets:
    """model=fixed_generator: model=mlp's nets with the generator replaced by the data (`data`, a toy set's name)
    plus the noise z. The MLP generator is still built, so that the critic's initial weights are drawn from the
    same point of the random stream as in a run with a generator."""
    if len(data_shape) != 1 or data is None:
        raise ConfigError("model=fixed_generator is for toy points (data=gaussians8, gaussians25 or swissroll): "
                          "it adds 2-D noise to the data; choose another model for images")
    if z_dim != data_shape[0]:
        raise ConfigError(f"model=fixed_generator adds z to the data and needs model.z_dim = {data_shape[0]} "
                          f"(this run has {z_dim}): set model.z_dim=null")
    _, critic = build_mlp(data_shape, z_dim, critic_outputs, **mlp_settings)
    return Nets(DataPlusNoise(toy_distribution(data), seed=seed), critic)
