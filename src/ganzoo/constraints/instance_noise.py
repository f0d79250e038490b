"""Instance noise (Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs", section 3.1):
N(0, sigma^2 I) added to every input of the critic, real and generated, so that the two distributions
overlap and the critic's gradients stay informative; sigma is annealed from sigma0 to 0.

linear:      sigma0 * (1 - step / anneal_steps)
exponential: sigma0 * exp(-5 step / anneal_steps)  (0.7% of sigma0 at the end)
and 0 from `anneal_steps` on, in generator iterations.
"""

from __future__ import annotations

import math

import torch

from ganzoo.constraints.base import Constraint
from ganzoo.draws import Draws

SCHEDULES = ("linear", "exponential")


class InstanceNoise(Constraint):
    def __init__(self, sigma: float = 0.1, anneal_steps: int = 1000, schedule: str = "linear"):
        # schedule in SCHEDULES, sigma >= 0, anneal_steps >= 1: checked with the config (ganzoo/schema.py)
        self.sigma0, self.anneal_steps, self.schedule = float(sigma), int(anneal_steps), schedule

    def sigma(self, step: int) -> float:
        if step >= self.anneal_steps:
            return 0.0
        progress = step / self.anneal_steps
        if self.schedule == "linear":
            return self.sigma0 * (1 - progress)
        return self.sigma0 * math.exp(-5 * progress)

    def critic_input(self, x: torch.Tensor, step: int, draws: Draws) -> torch.Tensor:
        sigma = self.sigma(step)
        return x + sigma * draws.normal(*x.shape, dtype=x.dtype) if sigma > 0 else x

    def logs(self, step: int) -> dict:
        return {"train/noise_sigma": self.sigma(step)}
