"""The hooks a constraint may use. The training loop and `build_objective` call each of them at one place; a
constraint overrides the ones it needs, so that an objective never carries an `if` for a constraint."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ganzoo.draws import Draws

Score = Callable[[torch.Tensor], torch.Tensor]  # x -> one critic score per sample


class Constraint:
    # True when the term is computed per sample, so batch norm in the critic would break it.
    per_sample = False

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
