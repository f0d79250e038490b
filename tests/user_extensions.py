"""What a user writes to extend ganzoo without forking it: an objective, a constraint and a model of their own, in their own
module (this one), selected from the command line or from a config group of their own (tests/user_conf).
tests/test_extensions.py trains with them; the README's "Add your own" section is written from them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.constraints import Constraint, Score
from ganzoo.draws import Draws
from ganzoo.models import Nets
from ganzoo.models.mlp import build as mlp
from ganzoo.objectives import Objective, Scores


class Relativistic(Objective):
    """A relativistic pairing loss (R3GAN's RpGAN, without its penalties): real i against fake i of the batch.
    critic:    softplus(f(G(z_i)) - f(x_i))
    generator: softplus(f(x_i) - f(G(z_i))), f(x_i) a constant"""

    generator_needs_real = True

    def critic_loss(self, s: Scores):
        gap = s.f_real - s.f_fake
        return F.softplus(-gap).mean(), {"train/gap": gap.mean().detach()}

    def generator_loss(self, s: Scores):
        return F.softplus(s.f_real - s.f_fake).mean(), {}


class Drift(Constraint):
    """ProGAN's drift penalty (Karras et al. 2018, section A.1): eps * mean f(x)^2 on real data, which keeps the
    critic's scores from drifting far from 0."""

    def __init__(self, eps: float = 0.001):
        self.eps = float(eps)

    def penalty(self, score: Score, real: torch.Tensor, fake: torch.Tensor, draws: Draws):
        drift = (score(real, score.y_real) ** 2).mean()
        return self.eps * drift, {"train/drift": drift.detach()}


class LabelledCritic(nn.Module):
    """A critic that takes labels (`takes_labels = True`): an MLP on the sample and its label, which it also
    records, so that a test can see which labels the loop handed it."""

    takes_labels = True

    def __init__(self, critic: nn.Module):
        super().__init__()
        self.body = critic
        self.label_gain = nn.Parameter(torch.zeros(()))
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.seen.append((x.detach().clone(), y.clone()))
        return self.body(x) + self.label_gain * y.to(x.dtype)[:, None]


def build(data_shape, z_dim: int, critic_outputs: int = 1, **mlp_settings) -> Nets:
    """model._target_=user_extensions.build: ganzoo's MLPs (model=mlp's settings), the critic taking labels."""
    generator, critic = mlp(data_shape, z_dim, critic_outputs, **mlp_settings)
    return Nets(generator, LabelledCritic(critic))
