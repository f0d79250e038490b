"""Weight clipping (Arjovsky, Chintala, Bottou 2017, Algorithm 1, line 7): after every critic update each
critic parameter is clamped to [-c, c] so that the critic stays K-Lipschitz for some K."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.constraints.base import Constraint
from ganzoo.errors import ConfigError


class WeightClip(Constraint):
    def __init__(self, clip_value: float = 0.01):
        if clip_value <= 0:
            raise ConfigError(f"constraint.clip.clip_value must be > 0 (got {clip_value}); the WGAN paper uses 0.01")
        self.clip_value = float(clip_value)

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-self.clip_value, self.clip_value)
