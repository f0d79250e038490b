"""ACGAN's auxiliary classifier (Odena, Olah, Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier
GANs", eq. 2 and 3) as a piece any objective can carry: `loss.auxiliary_classifier=<weight>`.

The critic gets num_classes more outputs, the logits of P(C | x), beside its score. With L_C the cross-entropy
of those logits against the class of real samples and against the class fakes were generated for:

    critic:    the objective's loss + w (L_C(real) + L_C(fake))
    generator: the objective's loss + w L_C(fake)            (the critic frozen)

which is the paper's: the discriminator maximizes L_S + L_C, the generator L_C - L_S (its adversarial part is
the objective's). w = 1 is the paper's. The fakes' classes need a generator that takes labels
(model.conditional=true, or =generator for the paper's critic, which reads no label and predicts it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class AuxiliaryClassifier:
    def __init__(self, weight: float = 1.0):
        self.weight = float(weight)

    def critic_term(self, real_logits: torch.Tensor, y_real: torch.Tensor, fake_logits: torch.Tensor,
                    y_fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        on_real, on_fake = F.cross_entropy(real_logits, y_real), F.cross_entropy(fake_logits, y_fake)
        accuracy = (real_logits.argmax(1) == y_real).float().mean()
        return self.weight * (on_real + on_fake), {"train/ac_real": on_real.detach(), "train/ac_fake": on_fake.detach(),
                                                   "train/ac_accuracy_real": accuracy.detach()}

    def generator_term(self, fake_logits: torch.Tensor, y_fake: torch.Tensor) -> torch.Tensor:
        return self.weight * F.cross_entropy(fake_logits, y_fake)
