"""O-GAN (Su 2019, "O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial Networks").

The critic is an encoder E: x -> R^z_dim and the critic score is T(x) = avg(E(x)), lower meaning more real.
rho(z, e) is the Pearson correlation of the two vectors of one sample, averaged over the batch. The reference
loss, in the GAN-QP form, with x_f = G(z) and sg = stop-gradient:

    t1 = T(x) - T(sg(x_f));  t2 = T(x_f) - T(sg(x_f))  (value 0; its gradient reaches G only)
    qp = 0.25 t1^2 / mean_pixels((x - sg(x_f))^2)
    total = mean(t1 + t2 - 0.5 rho(z, E(x_f))) + mean(qp)

Split into the alternating loop, E's gradient of `total` is the critic step's and G's is the generator step's:
    critic:    mean(t1 + qp) - 0.5 mean rho(z, E(sg(x_f)))
    generator: mean T(x_f) - 0.5 mean rho(z, E(x_f))
Paper defaults: RMSProp(1e-4, alpha 0.99), batch 64, z_dim 128. Since E(G(z)) correlates with z, E encodes:
encode(x) standardizes E(x) per sample, reconstruct(x) = G(0.8 encode(x)).
"""

from __future__ import annotations

import torch

from ganzoo.objectives.base import GANObjective

RECONSTRUCTION_SCALE = 0.8  # the paper reconstructs from 0.8 times the standardized code


def standardize(v: torch.Tensor) -> torch.Tensor:
    """Each row to zero mean and unit standard deviation."""
    v = v - v.mean(dim=1, keepdim=True)
    return v / v.std(dim=1, keepdim=True).clamp_min(1e-8)


def pearson(z: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """Per-sample Pearson correlation of z and e, averaged over the batch."""
    z = z - z.mean(dim=1, keepdim=True)
    e = e - e.mean(dim=1, keepdim=True)
    return (torch.nn.functional.normalize(z, dim=1) * torch.nn.functional.normalize(e, dim=1)).sum(1).mean()


class OGAN(GANObjective):
    encodes = True  # the critic is the encoder: z_dim outputs

    def __init__(self, *args, correlation_weight: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.correlation_weight = float(correlation_weight)

    def critic_loss(self, real, fake, z):
        fake = fake.detach()
        e_fake = self.critic(fake).flatten(1)
        t_real, t_fake = self.critic_score(real), e_fake.mean(1)
        t1 = t_real - t_fake
        qp = 0.25 * t1**2 / ((real - fake) ** 2).flatten(1).mean(1)
        z_corr = pearson(z, e_fake)
        loss = (t1 + qp).mean() - self.correlation_weight * z_corr
        return loss, {"train/w_estimate": -t1.mean().detach(), "train/z_corr": z_corr.detach()}

    def generator_loss(self, fake, z):
        e_fake = self.critic(fake).flatten(1)
        return e_fake.mean(1).mean() - self.correlation_weight * pearson(z, e_fake), {}

    # ----- the encoder ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Standardized codes E(x), one row per image in [-1, 1]."""
        was_training = self.critic.training
        self.critic.eval()
        try:
            return standardize(self.critic(x.to(self.device, self.dtype)).flatten(1).float())
        finally:
            self.critic.train(was_training)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(0.8 E(x)): the paper's reconstruction."""
        return self.sample(len(x), z=RECONSTRUCTION_SCALE * self.encode(x))

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, points: int = 8) -> torch.Tensor:
        """For each pair (a_i, b_i), `points` images along the line between their codes: (len(a) * points, C, H, W)."""
        code_a, code_b = self.encode(a), self.encode(b)
        t = torch.linspace(0, 1, points, device=code_a.device).view(1, points, 1)
        codes = (1 - t) * code_a[:, None] + t * code_b[:, None]
        return self.sample(len(a) * points, z=RECONSTRUCTION_SCALE * codes.flatten(0, 1))
