"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; the loss of SN-GAN, Miyato et al. 2018, and of BigGAN).

Critic:    minimize mean relu(1 - f(x)) + mean relu(1 + f(G(z)))
Generator: minimize -mean f(G(z))
Defaults: SN-GAN's CIFAR-10 ResNet setting, Adam 2e-4, betas (0, 0.9), n_critic 5, with constraint=spectral_norm.
"""

from __future__ import annotations

import torch.nn.functional as F

from ganzoo.objectives.base import GANObjective


class Hinge(GANObjective):
    def critic_loss(self, real, fake, z):
        f_real, f_fake = self.critic_score(real), self.critic_score(fake)
        loss = F.relu(1 - f_real).mean() + F.relu(1 + f_fake).mean()
        return loss, {"train/f_real": f_real.mean().detach(), "train/f_fake": f_fake.mean().detach()}

    def generator_loss(self, fake, z):
        return -self.critic_score(fake).mean(), {}
