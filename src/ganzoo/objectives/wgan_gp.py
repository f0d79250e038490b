"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1): WGAN's losses with a gradient penalty instead of clipping.

The penalty lambda * mean((||grad f(x^)||_2 - 1)^2) is constraints/gradient_penalty.py, selected by this
objective's config (constraint=gp, lambda 10). `loss=wgan constraint=gp` has the same losses and penalty but
not the same algorithm: it keeps WGAN's RMSProp(5e-5), its critic warm-up on images, and lambda 10 on toy data
too (the toy recipe is picked by the loss's name, wgan_gp_<data>).
Paper defaults: n_critic 5, Adam(1e-4, betas 0, 0.9), batch 64, no batch norm in the critic.
"""

from __future__ import annotations

from ganzoo.objectives.wgan import WGAN


class WGANGP(WGAN):
    pass
