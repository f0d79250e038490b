"""Least squares GAN (Mao et al. 2017). The critic's output f(x) is a score regressed onto targets.

Critic:    minimize 1/2 mean (f(x) - b)^2 + 1/2 mean (f(G(z)) - a)^2
Generator: minimize 1/2 mean (f(G(z)) - c)^2
a is the fake target, b the real one, c the value the generator wants the critic to give its samples. Default:
the 0-1 coding of the paper's Eq. 10 (a = 0, b = c = 1), which the authors' released code uses; Eq. 9's
a = -1, b = 1, c = 0 (b - c = 1, b - a = 2) is the setting under which the objective is the Pearson chi^2
divergence. Adam with beta1 0.5, as in the released code; 2e-4 is DCGAN's rate.
"""

from __future__ import annotations

from ganzoo.objectives.objective import Objective, Scores


class LSGAN(Objective):
    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0, **loop):
        super().__init__(**loop)
        self.a, self.b, self.c = float(a), float(b), float(c)

    def critic_loss(self, s: Scores):
        loss = 0.5 * ((s.f_real - self.b) ** 2).mean() + 0.5 * ((s.f_fake - self.a) ** 2).mean()
        return loss, {"train/f_real": s.f_real.mean().detach(), "train/f_fake": s.f_fake.mean().detach()}

    def generator_loss(self, s: Scores):
        return 0.5 * ((s.f_fake - self.c) ** 2).mean(), {}
