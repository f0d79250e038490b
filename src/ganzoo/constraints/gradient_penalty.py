"""Two-sided gradient penalty (Gulrajani et al. 2017, Algorithm 1, lines 6-8):
lambda * mean((||grad f(x^)||_2 - 1)^2) at x^ = e x + (1 - e) G(z), e ~ U[0, 1] drawn per sample.
One-sided (Petzka, Fischer, Lukovnikov 2018, "On the regularization of Wasserstein GANs", the LP penalty):
lambda * mean(max(0, ||grad f(x^)||_2 - 1)^2) at the same points; lambda 10, as WGAN-GP's.

The inner gradient uses torch.autograd.grad(create_graph=True) with respect to the input only, so DDP's
gradient hooks fire once, in the outer backward (which averages the penalty's gradient over the ranks); under
16-mixed it is taken at AMP's loss scale (`Score.input_gradient`).
"""

from __future__ import annotations

import torch

from ganzoo.constraints.base import Constraint, Score
from ganzoo.draws import Draws


def gradient_norms(score: Score, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """||grad_x score(x, y)||_2 for each sample, keeping the graph so the norm itself can be differentiated."""
    return score.input_gradient(x, y).flatten(1).norm(2, dim=1)


class GradientPenalty(Constraint):
    per_sample = True
    differentiates_critic = True
    pairs_real_and_fake = True

    def __init__(self, weight: float = 10.0):  # lambda >= 0, checked with the config (ganzoo/schema.py)
        self.weight = float(weight)

    def penalty(self, score: Score, real: torch.Tensor, fake: torch.Tensor, draws: Draws) -> tuple[torch.Tensor, dict]:
        eps = draws.uniform(len(real), *([1] * (real.dim() - 1)), dtype=real.dtype)
        x_hat = eps * real + (1 - eps) * fake.detach()
        term = self.term(gradient_norms(score, x_hat, score.y_real) - 1).mean()
        return self.weight * term, {f"train/{self.name}": term.detach()}

    name = "gp"

    def term(self, excess: torch.Tensor) -> torch.Tensor:
        return excess**2


class OneSidedPenalty(GradientPenalty):
    name = "lp"

    def term(self, excess: torch.Tensor) -> torch.Tensor:
        return excess.clamp(min=0) ** 2
