"""Weight clipping (Arjovsky, Chintala, Bottou 2017, Algorithm 1, line 7): after every critic update each
critic parameter is clamped to [-c, c] so that the critic stays K-Lipschitz for some K.

The critic also satisfies the clip from its first update on: its weights are projected into [-c, c] once, when
the nets are built. Algorithm 1 is silent on the initial weights; the authors' main.py clamps before every
critic step, so its first gradient is taken at clipped weights. Projecting once and then clipping after each
update (the paper's order) takes every critic gradient at clipped weights, as the reference does, and hands
the generator a critic inside the box. Without it the first gradient comes from the unclipped DCGAN init
(batch-norm scales near 1 against c = 0.01); that one large gradient fills RMSProp's running average of squares
and the critic then learns about ten times slower for hundreds of steps.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.constraints.base import Constraint


class WeightClip(Constraint):
    def __init__(self, clip_value: float = 0.01):  # c > 0, checked with the config (ganzoo/schema.py)
        self.clip_value = float(clip_value)

    def wrap_critic(self, critic: nn.Module) -> nn.Module:
        self.after_critic_step(critic)  # the initial projection (see the module docstring)
        return critic

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-self.clip_value, self.clip_value)
