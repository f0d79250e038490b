"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; the loss of SN-GAN, Miyato et al. 2018, and of BigGAN).

Critic:    minimize mean relu(1 - f(x)) + mean relu(1 + f(G(z)))
Generator: minimize -mean f(G(z))
Defaults: SN-GAN's CIFAR-10 ResNet setting, Adam 2e-4, betas (0, 0.9), n_critic 5, with constraint=spectral_norm.
"""

from __future__ import annotations

import torch.nn.functional as F

from ganzoo.objectives.objective import Objective, Scores


class Hinge(Objective):
    def critic_loss(self, s: Scores):
        loss = F.relu(1 - s.f_real).mean() + F.relu(1 + s.f_fake).mean()
        return loss, {"train/f_real": s.f_real.mean().detach(), "train/f_fake": s.f_fake.mean().detach()}

    def generator_loss(self, s: Scores):
        return -s.f_fake.mean(), {}
