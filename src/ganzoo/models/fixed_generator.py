"""A generator held fixed at the real data plus unit Gaussian noise: gan_toy.py's FIXED_GENERATOR flag, the setting
of the WGAN-GP paper's Figure 1, where critics are trained to optimality against this P_g and their value surfaces,
gradient norms and weights are compared between weight clipping and the gradient penalty (model.fixed_generator).

The noise is z itself (2-D, unit variance, as the toy code's), so fixed z give fixed noise; the data points under
it are fresh draws of the toy distribution from the generator's own random stream.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.data.toy import ToyDistribution


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
