"""GAN (Goodfellow et al. 2014). The critic's output f(x) is the discriminator's logit, D = sigmoid(f).

Critic:    minimize softplus(-f(x)) + softplus(f(G(z)))       (= -log D(x) - log(1 - D(G(z))))
Generator: nonsaturating (the "-log D trick", default): softplus(-f(G(z)))  (= -log D(G(z)))
           minimax (the original, saturating):         -softplus(f(G(z))) (= log(1 - D(G(z))))
Paper defaults (DCGAN): n_critic 1, Adam(2e-4, betas 0.5, 0.999), batch 64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.objectives.objective import Objective, Scores


class GAN(Objective):
    def __init__(self, generator: str = "nonsaturating", **loop):
        super().__init__(**loop)
        self.generator_form = generator  # nonsaturating | minimax, checked with the config (ganzoo/schema.py)

    def critic_loss(self, s: Scores):
        loss = F.softplus(-s.f_real).mean() + F.softplus(s.f_fake).mean()
        d_real, d_fake = torch.sigmoid(s.f_real).mean().detach(), torch.sigmoid(s.f_fake).mean().detach()
        return loss, {"train/d_real": d_real, "train/d_fake": d_fake}

    def generator_loss(self, s: Scores):
        if self.generator_form == "nonsaturating":
            return F.softplus(-s.f_fake).mean(), {}
        return -F.softplus(s.f_fake).mean(), {}
