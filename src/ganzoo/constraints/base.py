"""The hooks a constraint may use. The training loop and `build_objective` call each of them at one place; a
constraint overrides the ones it needs, so that an objective never carries an `if` for a constraint."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ganzoo.draws import Draws


class Score:
    """The critic as a penalty sees it: one score per sample, and the gradient of the scores with respect to the
    input, kept differentiable (create_graph) so that a penalty on it trains the critic. `y_real` and `y_fake` are
    the step's labels (None without them), for a critic that takes labels: a penalty passes the labels of the
    samples it scores (the gradient penalty's interpolates take the real sample's).

    Under 16-mixed precision the inner gradient is taken of the scores times AMP's loss scale and divided by it
    afterwards (PyTorch's recipe for gradient penalties under AMP), so that small float16 gradients do not
    underflow; the outer loss is scaled by Lightning as usual. `loss_scale` is the scaler's scale as a tensor on
    the device (no host sync), or None when nothing is scaled (32-bit, bf16)."""

    def __init__(self, score: Callable[..., torch.Tensor], loss_scale: torch.Tensor | None = None,
                 y_real: torch.Tensor | None = None, y_fake: torch.Tensor | None = None):
        self.score, self.loss_scale = score, loss_scale
        self.y_real, self.y_fake = y_real, y_fake

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.score(x) if y is None else self.score(x, y)

    def input_gradient(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """d sum(score(x, y)) / dx, one row per sample; x itself is detached first."""
        x = x.detach().requires_grad_(True)
        total = self(x, y).sum()
        if self.loss_scale is None:
            return torch.autograd.grad(total, x, create_graph=True)[0]
        (scaled,) = torch.autograd.grad(total * self.loss_scale, x, create_graph=True)
        return scaled / self.loss_scale


class Constraint:
    # True when the term is computed per sample, so batch norm in the critic would break it.
    per_sample = False
    # True when the term differentiates the critic with respect to its input (double backward): the critic then
    # stays eager under runtime.compile.
    differentiates_critic = False
    # False when torch.compile's inductor cannot be trusted with the critic this constraint leaves: the critic then
    # stays eager under runtime.compile too.
    critic_compiles = True
    # True when the penalty pairs real i with fake i (interpolates between them): under a conditional critic its
    # `fake` is then of real i's class (objectives/training.py, fake_paired_with).
    pairs_real_and_fake = False
    # A lazy penalty is computed on every `every`-th critic step only, and weighted by `every` (base.py, penalties).
    every = 1

    def wrap_critic(self, critic: nn.Module) -> nn.Module:
        """Called once when the nets are built: wrap, re-parametrize (spectral norm) or project (clipping) the critic."""
        return critic

    def critic_input(self, x: torch.Tensor, step: int, draws: Draws) -> torch.Tensor:
        """Transform what the critic sees, real or generated, in its own step and in the generator's; random
        numbers come from `draws` (ganzoo/draws.py), never from torch's global state."""
        return x

    def penalty(self, score: Score, real: torch.Tensor, fake: torch.Tensor, draws: Draws) -> tuple[torch.Tensor, dict]:
        """A term added to the critic's loss, and figures to log."""
        return real.new_zeros(()), {}

    def after_critic_step(self, critic: nn.Module) -> None:
        """A projection applied to the critic's weights after each of its updates."""

    def logs(self, step: int) -> dict:
        """Figures to log once per generator iteration."""
        return {}
