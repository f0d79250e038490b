"""The pieces that make a model class-conditional (`model.conditional=true`), shared by every model that offers it.

Generator, where it has batch norm: conditional batch norm (Dumoulin, Shlens, Kudlur 2017; de Vries et al. 2017),
batch norm without its own affine whose gain and bias are looked up per class, gain starting at 1 and bias at 0
so that a new conditional net starts as the unconditional one. Where it has none (an MLP, a DCGAN without
norm): a learned embedding of the label, z_dim wide, concatenated to z.

Critic: the projection head (Miyato & Koyama 2018, "cGANs with Projection Discriminator", eq. 3),
f(x, y) = psi(phi(x)) + <embed(y), phi(x)>, where phi is the critic's body up to its last layer and psi that layer.
Every output of a critic with several gets the same projection term: O-GAN's codes, whose correlation with z
subtracts their mean, and ACGAN's class logits, whose softmax a constant added to all of them leaves unchanged. The embedding is an
`nn.Embedding`, so constraint=spectral_norm normalizes it with the critic's other layers, as cGAN-PD's critic does.

`model.conditional=generator` conditions the generator alone, for ACGAN (loss.auxiliary_classifier), whose critic
predicts the class instead of reading it. Nets that take labels say so (`takes_labels`), and models/calls.py
hands them y.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.errors import ConfigError


def require_labels(model: str, conditional: bool, num_classes: int | None) -> int | None:
    """The number of classes for a conditional model, None for an unconditional one."""
    if not conditional:
        return None
    if not num_classes:
        raise ConfigError(f"model={model} with model.conditional=true needs labelled data; this data has no "
                          f"labels: choose data=digits, mnist, cifar10, gaussians8 or a folder of class folders, "
                          f"or set model.conditional=false")
    return int(num_classes)


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose gain and bias are those of the sample's class: (x - mean) / std * gain[y] + bias[y]."""

    takes_labels = True

    def __init__(self, features: int, num_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(features, affine=False)
        self.gain = nn.Embedding(num_classes, features)
        self.bias = nn.Embedding(num_classes, features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        shape = (len(x), -1) + (1,) * (x.dim() - 2)
        return self.norm(x) * self.gain(y).view(shape) + self.bias(y).view(shape)


class LabelledSequential(nn.Sequential):
    """A Sequential that hands the labels to the layers that take them (conditional batch norm, blocks holding it)."""

    takes_labels = True

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, y) if getattr(layer, "takes_labels", False) else layer(x)
        return x


class LabelConcatenation(nn.Module):
    """A generator without batch norm made conditional: net(cat(z, embed(y))), net built for 2 x z_dim inputs."""

    takes_labels = True

    def __init__(self, net: nn.Module, num_classes: int, width: int):
        super().__init__()
        self.embed = nn.Embedding(num_classes, width)
        self.net = net

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(y).to(z.dtype)], dim=1))


class ProjectionCritic(nn.Module):
    """f(x, y) = head(features(x)) + <embed(y), features(x)>, on a critic that exposes `features(x)` (phi: the
    body's output, any shape) and `head(h)` (psi: its last layer, to (N, outputs)) with `feature_size` numbers."""

    takes_labels = True

    def __init__(self, critic: nn.Module, num_classes: int):
        super().__init__()
        self.critic = critic
        self.embed = nn.Embedding(num_classes, critic.feature_size)
        # cGAN-PD's initialization of the class embedding (mimicry's SNEmbedding, Xavier uniform)
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.critic.features(x)
        projection = (self.embed(y) * h.flatten(1)).sum(1, keepdim=True)
        return self.critic.head(h).flatten(1) + projection


def conditional_critic(critic: nn.Module, conditional: bool | str, num_classes: int | None) -> nn.Module:
    """The critic with the projection head under model.conditional=true; as it is under false, and under
    `generator` (ACGAN's critic reads no label: with loss.auxiliary_classifier it predicts it)."""
    return ProjectionCritic(critic, num_classes) if num_classes and conditional is True else critic


def check_classes(y: torch.Tensor, num_classes: int) -> None:
    """A label outside [0, num_classes), asked for by a user (sampling a class), in one line."""
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ConfigError(f"class {int(y.min()) if int(y.min()) < 0 else int(y.max())} is outside this model's "
                          f"classes 0 to {num_classes - 1}; choose one of them")
