"""Zero-centered gradient penalties (Mescheder, Geiger, Nowozin 2018, "Which Training Methods for GANs do
actually Converge?", eq. 9 and 10):

r1: gamma/2 * mean ||grad f(x)||^2 on real data
r2: gamma/2 * mean ||grad f(G(z))||^2 on generated data
Defaults: gamma 10, the paper's setting for its image experiments. `every` = k > 1 is StyleGAN2's lazy
regularization (Karras et al. 2020, section 3.1; k = 16 there): the term on every k-th critic step only, times k.
"""

from __future__ import annotations

import torch

from ganzoo.constraints.base import Constraint, Score
from ganzoo.draws import Draws


class ZeroCenteredPenalty(Constraint):
    per_sample = True
    differentiates_critic = True
    on: str  # "real" or "fake": the samples the gradient is taken at (R1, R2)
    name: str

    def __init__(self, gamma: float = 10.0, every: int = 1):
        self.gamma = float(gamma)
        self.every = int(every)

    def penalty(self, score: Score, real: torch.Tensor, fake: torch.Tensor, draws: Draws) -> tuple[torch.Tensor, dict]:
        x, y = (real, score.y_real) if self.on == "real" else (fake, score.y_fake)
        squared = score.input_gradient(x, y).flatten(1).pow(2).sum(1).mean()
        return 0.5 * self.gamma * squared, {f"train/{self.name}": squared.detach()}


class R1(ZeroCenteredPenalty):
    on, name = "real", "r1"


class R2(ZeroCenteredPenalty):
    on, name = "fake", "r2"
