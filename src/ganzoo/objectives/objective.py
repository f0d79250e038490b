"""What an objective is: its paper's two losses, written on the critic's scores, and its n_critic schedule.

The training loop (objectives/training.py) calls the nets once per batch and hands the objective what came out
as `Scores`; the objective does arithmetic on them and never calls a net. So a loss can be checked against a
hand computation with made-up scores, and a loss whose generator term needs the critic's scores of real data (a
relativistic loss) says `generator_needs_real = True` and gets them, while the others pay no extra critic pass.

A new objective is one class here plus its config node, conf/loss/<name>.yaml, whose `_target_` names the class
and whose other keys are its constructor's arguments; it may live in any importable module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganzoo.objectives.classifier import AuxiliaryClassifier


@dataclass(frozen=True)
class Scores:
    """One step's batches as the critic saw them and what it made of them. In the critic step every field is
    set; in the generator step `f_real` and `real_outputs` are None unless the objective asks for them, and
    `real` is the iteration's last real batch (scored, when asked, as a constant: it carries no gradient)."""

    real: torch.Tensor  # the critic's input: real samples after any constraint's input transform (instance noise)
    fake: torch.Tensor  # the same for G(z)
    z: torch.Tensor
    f_fake: torch.Tensor  # (N,) one score per sample
    f_real: torch.Tensor | None = None
    fake_outputs: torch.Tensor | None = None  # (N, k) every output of the critic (O-GAN's encoder reads them)
    real_outputs: torch.Tensor | None = None
    y_real: torch.Tensor | None = None  # labels, where the data has classes
    y_fake: torch.Tensor | None = None  # labels the fakes were generated for, where a net takes labels


class Objective:
    """`critic_loss` and `generator_loss`, each returning (loss, figures to log as `train/<name>`).

    n_critic critic steps per generator step; `critic_warmup` ({n_critic, first, every}: the WGAN authors'
    schedule, more critic steps for the first generator iterations and every `every`-th); `lr_decay` "linear":
    both learning rates fall to 0 at the last step (gan_cifar_resnet.py); `auxiliary_classifier`: the weight of
    ACGAN's class terms (objectives/classifier.py), which the loop adds to either loss; null: none."""

    generator_needs_real = False  # True: the generator step also scores the (constant) real batch

    def __init__(self, n_critic: int = 1, critic_warmup: dict | None = None, lr_decay: str | None = None,
                 auxiliary_classifier: float | None = None):
        self.n_critic = int(n_critic)
        self.critic_warmup = dict(critic_warmup) if critic_warmup else None
        self.lr_decay = lr_decay
        self.classifier = AuxiliaryClassifier(auxiliary_classifier) if auxiliary_classifier is not None else None

    def critic_iters(self, step: int) -> int:
        """Critic steps before generator iteration `step`."""
        w = self.critic_warmup
        if w and (step < w["first"] or step % w["every"] == 0):
            return int(w["n_critic"])
        return self.n_critic

    def critic_loss(self, s: Scores) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def generator_loss(self, s: Scores) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError
