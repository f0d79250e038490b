"""WGAN (Arjovsky, Chintala, Bottou 2017, Algorithm 1). The critic has no sigmoid.

Critic:    minimize mean f(G(z)) - mean f(x), then clip every parameter to [-c, c] (constraint=clip, c = 0.01)
Generator: minimize -mean f(G(z))
W = mean f(x) - mean f(G(z)) on the critic's batch is the paper's training curve, logged every iteration.
Paper defaults: RMSProp 5e-5, batch 64, n_critic 5, and the authors' code's warm-up: 100 critic steps for the
first 25 generator iterations and every 500th (that code's loop also ends with a pass over the data, which cuts
the 100 short on a small data set; ganzoo runs the 100). The critic is projected into [-c, c] once when it is
built (constraints/clip.py), so that its first gradient, like the reference's, is taken at clipped weights.
"""

from __future__ import annotations

from ganzoo.objectives.objective import Objective, Scores


class WGAN(Objective):
    def critic_loss(self, s: Scores):
        w_estimate = s.f_real.mean() - s.f_fake.mean()
        return -w_estimate, {"train/w_estimate": w_estimate.detach()}

    def generator_loss(self, s: Scores):
        return -s.f_fake.mean(), {}
