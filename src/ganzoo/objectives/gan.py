"""GAN (Goodfellow et al. 2014). The critic's output f(x) is the discriminator's logit, D = sigmoid(f).

Critic:    minimize softplus(-f(x)) + softplus(f(G(z)))       (= -log D(x) - log(1 - D(G(z))))
Generator: nonsaturating (the "-log D trick", default): softplus(-f(G(z)))  (= -log D(G(z)))
           minimax (the original, saturating):         -softplus(f(G(z))) (= log(1 - D(G(z))))
Paper defaults (DCGAN): n_critic 1, Adam(2e-4, betas 0.5, 0.999), batch 64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.objectives.base import GANObjective


class GAN(GANObjective):
    def __init__(self, *args, generator: str = "nonsaturating", **kwargs):
        super().__init__(*args, **kwargs)
        self.generator_form = generator  # nonsaturating | minimax, checked with the config (ganzoo/schema.py)

    def critic_loss(self, real, fake, z):
        f_real, f_fake = self.critic_score(real), self.critic_score(fake)
        loss = F.softplus(-f_real).mean() + F.softplus(f_fake).mean()
        return loss, {"train/d_real": torch.sigmoid(f_real).mean().detach(), "train/d_fake": torch.sigmoid(f_fake).mean().detach()}

    def generator_loss(self, fake, z):
        f_fake = self.critic_score(fake)
        if self.generator_form == "nonsaturating":
            return F.softplus(-f_fake).mean(), {}
        return -F.softplus(f_fake).mean(), {}
