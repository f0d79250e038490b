"""The relativistic pairing GAN of R3GAN (Huang, Gokaslan, Kuleshov, Tompkin 2024, "The GAN is dead; long live
the GAN!", eq. 2; its code: R3GAN/Trainer.py). Each real sample i of the batch is paired with fake sample i, and
the critic is asked how much more real the real one looks than its partner:

Critic:    minimize mean softplus(-(f(x_i) - f(G(z_i))))
Generator: minimize mean softplus(-(f(G(z_i)) - f(x_i)))     f(x_i) on the iteration's real batch, a constant

With constraint=[r1,r2] this is R3GAN's regularized critic: gamma/2 * (R1 + R2), each ||grad_x f||^2 summed over
the sample and averaged over the batch, on every critic step (r1 and r2 share ganzoo's convention with R3GAN's
code: a config's gamma is R3GAN's Gamma). Defaults: R3GAN's optimizer, Adam with beta1 0, n_critic 1.
"""

from __future__ import annotations

import torch.nn.functional as F

from ganzoo.objectives.objective import Objective, Scores


class RpGAN(Objective):
    generator_needs_real = True  # the generator's term is relative to the real partner of each fake

    def critic_loss(self, s: Scores):
        relativistic = s.f_real - s.f_fake
        return F.softplus(-relativistic).mean(), {"train/relativistic": relativistic.mean().detach()}

    def generator_loss(self, s: Scores):
        return F.softplus(-(s.f_fake - s.f_real)).mean(), {}
