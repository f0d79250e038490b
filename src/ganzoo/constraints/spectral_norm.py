"""Spectral normalization (Miyato et al. 2018): every linear and convolutional weight of the critic divided by
its largest singular value, estimated by one power iteration per forward pass in training mode, through
torch's parametrization (torch.nn.utils.parametrizations.spectral_norm). Applied once, when the nets are built
(`wrap_critic`), so that training and a loaded checkpoint hold the same parametrized critic."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.constraints.base import Constraint

# nn.Embedding: a projection critic's class embedding, normalized as cGAN-PD's critic normalizes it
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Embedding)


class SpectralNorm(Constraint):
    # The power iteration updates u and v in place at every training forward, and the critic is called twice
    # (real, fake) before one backward: under inductor (torch 2.14) the MLP critic's backward then fails with
    # "modified by an inplace operation", which eager mode avoids by cloning u and v. So it stays eager.
    critic_compiles = False

    def __init__(self, power_iterations: int = 1):
        self.power_iterations = int(power_iterations)

    def wrap_critic(self, critic: nn.Module) -> nn.Module:
        for module in list(critic.modules()):
            if isinstance(module, LAYERS):
                spectral_norm(module, n_power_iterations=self.power_iterations)
        return critic
