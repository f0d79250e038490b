"""O-GAN's encoder (Su 2019, "O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial
Networks") as a piece any objective can carry: `encoder=ogan`.

The critic gets z_dim outputs E(x) and its score becomes their mean, T(x) = avg E(x), so every objective reads
one score per sample as before. The article's observation is that this costs the adversarial game nothing, and
that adding the Pearson correlation rho(z, E(G(z))) (per sample, averaged over the batch) to the losses makes E
an encoder of the generator's latent space. With x_f = G(z):

    critic:    the objective's loss - w rho(z, E(sg(x_f)))
    generator: the objective's loss - w rho(z, E(x_f))     (E frozen)

w = `encoder.correlation_weight` (0.5 in the article). `loss=ogan` is the article's GAN-QP loss with this piece;
`loss=wgan_gp encoder=ogan` or `loss=hinge encoder=ogan` encode the same way. A trained critic encodes:
encode(x) standardizes E(x) per sample, reconstruct(x) = G(s encode(x)) with s = `encoder.reconstruction_scale`.
"""

from __future__ import annotations

import torch


def standardize(v: torch.Tensor) -> torch.Tensor:
    """Each row to zero mean and unit standard deviation, the population's (numpy's std, ddof 0), as the
    released code (o_gan_celeba.py, sample_ae) does before it reconstructs."""
    v = v - v.mean(dim=1, keepdim=True)
    return v / v.std(dim=1, keepdim=True, correction=0).clamp_min(1e-8)


def pearson(z: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """Per-sample Pearson correlation of z and e, averaged over the batch."""
    z = z - z.mean(dim=1, keepdim=True)
    e = e - e.mean(dim=1, keepdim=True)
    return (torch.nn.functional.normalize(z, dim=1) * torch.nn.functional.normalize(e, dim=1)).sum(1).mean()


class CorrelationEncoder:
    """The two terms the encoder adds, given z and the critic's outputs on G(z) (one row of z_dim per sample)."""

    def __init__(self, correlation_weight: float = 0.5, reconstruction_scale: float = 0.9):
        self.correlation_weight = float(correlation_weight)
        self.reconstruction_scale = float(reconstruction_scale)

    def critic_term(self, z: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """-w rho(z, E(sg(G(z)))): codes of generated samples that carry no gradient to the generator."""
        rho = pearson(z, codes)
        return -self.correlation_weight * rho, {"train/z_corr": rho.detach()}

    def generator_term(self, z: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """-w rho(z, E(G(z))), its gradient reaching the generator through the frozen critic."""
        return -self.correlation_weight * pearson(z, codes)
