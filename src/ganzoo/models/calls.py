"""The one place where the nets are called: `generate(generator, z, y)` and `score(critic, x, y)`.

Training, penalties, the encoder, sampling and plots all ask these two, so that a net's calling convention (a
label beside the input, several critic outputs) is decided here and nowhere else. Everything that calls them
outside a training step (samples, plots, metrics, the memory check) does so inside `evaluating(...)`, so that a
run trains the same weights however often it plots. A net that takes labels says
so with a class attribute `takes_labels = True` and is called `net(input, y)`; every other net is called
`net(input)` and never sees a label, so labelled data change nothing for it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, NamedTuple

import torch
from torch import nn


class CriticOutput(NamedTuple):
    score: torch.Tensor  # (N,) one score per sample: the mean of the outputs (O-GAN's T = avg E(x))
    outputs: torch.Tensor  # (N, k) the critic's k outputs (k = 1, or z_dim when the critic is also an encoder)
    logits: torch.Tensor | None = None  # (N, classes) an auxiliary classifier's class logits (ACGAN), else None


def takes_labels(net: nn.Module) -> bool:
    return bool(getattr(net, "takes_labels", False))


def generate(generator: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    return generator(z, y) if takes_labels(generator) else generator(z)


def score(critic: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> CriticOutput:
    """The critic's outputs; the last `critic.class_outputs` of them (set where an objective carries ACGAN's
    classifier) are class logits, apart from the score."""
    outputs = (critic(x, y) if takes_labels(critic) else critic(x)).flatten(1)
    classes = getattr(critic, "class_outputs", 0)
    if classes:
        outputs, logits = outputs[:, :-classes], outputs[:, -classes:]
        return CriticOutput(outputs.mean(1), outputs, logits)
    return CriticOutput(outputs.mean(1), outputs)


@contextmanager
def evaluating(*nets: nn.Module) -> Iterator[None]:
    """Within: `nets` in evaluation mode and no gradients recorded; after: every layer in the mode it was in.
    In evaluation mode spectral norm runs no power iteration and batch norm neither reads nor moves its batch
    statistics, so a plot or a metric leaves the training state (u and v, running averages) as it found it; a
    critic scored in training mode for a plot would have trained a different critic from then on."""
    modes = [(layer, layer.training) for net in nets for layer in net.modules()]
    try:
        with torch.no_grad():
            for net in nets:
                net.eval()
            yield
    finally:
        for layer, training in modes:
            layer.training = training
