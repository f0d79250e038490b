"""An exponential moving average of the generator's weights (runtime.ema=true).

Averaging the generator's iterates gives better samples than its last iterate (Yazici et al. 2019, "The
Unusual Effectiveness of Averaging in GAN Training", decay 0.999; ProGAN, StyleGAN and BigGAN sample from
such an average, BigGAN with 0.9999 from iteration 20,000). After the generator's k-th update the average is
a copy of the generator while k <= `start`, and decay * average + (1 - decay) * generator after. Buffers (batch
norm's running statistics) are copied from the generator, not averaged: they describe the generator's current
activations. The average is a submodule of the objective, so checkpoints keep it and a resumed run restores it
exactly; it is never trained (no gradients, in no optimizer).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def averaged_copy(generator: nn.Module) -> nn.Module:
    ema = copy.deepcopy(generator)
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_average(ema: nn.Module, generator: nn.Module, decay: float) -> None:
    for average, current in zip(ema.parameters(), generator.parameters()):
        average.lerp_(current, 1.0 - decay)  # average + (1 - decay) (current - average)
    for average, current in zip(ema.buffers(), generator.buffers()):
        average.copy_(current)
