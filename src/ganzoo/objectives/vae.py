"""The variational autoencoder's objective (Kingma & Welling 2014), as arithmetic on what its two nets return.

An encoder gives each x a Gaussian posterior q(z|x) = N(mu, diag(exp(logvar))); z = mu + exp(logvar / 2) * eps
with eps ~ N(0, I) (the reparameterization trick: the draw is differentiable in mu and logvar); a decoder gives
the mean of a Gaussian likelihood p(x|z) = N(decoder(z), sigma^2 I). Training maximizes the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),

estimated with one z per x, and minimizes  -(E_q[log p(x|z)] - beta KL)  averaged over the batch (beta = 1: the
ELBO itself; beta > 1: Higgins et al. 2017's beta-VAE).

KL warm-up (`kl_warmup` = N steps): the KL's weight rises linearly from 0 to beta over the first N steps (Bowman
et al. 2016; Sonderby et al. 2016). Without it a VAE can stay in posterior collapse, the encoder ignoring x and
the decoder drawing the data's mean: on 8 Gaussians (MLPs 3x512, batch 256, Adam 1e-3, seed 0) ganzoo without
warm-up ended 2,000 steps at KL 3e-9 and ELBO -2.84, the likelihood of one Gaussian fitted to the data (a plain
PyTorch loop of the same nets did the same), where 300 steps of warm-up gave KL 4.4 and ELBO -0.82 by step 200.
The logged train/elbo is the ELBO itself (beta 1) whatever the weight, so it stays a bound.

The likelihood's variance: `sigma: optimal` (the default) sets sigma^2, one variance shared by every dimension, to
the value that maximizes the batch's likelihood, the mean squared error of the reconstructions (Rybkin et al.
2021, "Simple and Effective VAE Training with Calibrated Decoders"); a number fixes sigma instead. With a fixed
sigma the weight of the reconstruction against the KL is a choice of units (sigma = 1 on pixels in [-1, 1] lets
the KL win and the posterior collapse); the optimal one removes that choice. The optimum is taken without a
gradient: the loss's derivative in sigma is 0 there, so the nets' gradient is the same either way, and with
several processes the ranks average their squared errors first (`mean_over_ranks`), so that sigma is the global
batch's and DDP trains what one process trains. Samples are the decoder's mean, as VAE samples are usually shown.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample, in closed form: 1/2 sum(mu^2 + var - 1 - logvar)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).flatten(1).sum(1)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, variance I) per sample, summed over the sample's dimensions."""
    squared = (x - mean).pow(2).flatten(1)
    return -0.5 * (squared / variance + torch.log(variance) + LOG_2PI).sum(1)


class ELBO:
    """`beta`: the KL's weight (>= 0; 1: the ELBO); `kl_warmup`: steps over which that weight rises from 0 (0:
    none); `sigma`: "optimal" or a fixed standard deviation of p(x|z). `lr_decay` "linear": the learning rates
    fall linearly to 0 at the last step, as the GAN objectives offer."""

    def __init__(self, beta: float = 1.0, kl_warmup: int = 0, sigma: float | str = "optimal",
                 lr_decay: str | None = None):
        self.beta = float(beta)
        self.kl_warmup = int(kl_warmup)
        self.sigma = sigma if sigma == "optimal" else float(sigma)
        self.lr_decay = lr_decay

    def kl_weight(self, step: int) -> float:
        """beta, times step / kl_warmup during the warm-up."""
        return self.beta * min(1.0, step / self.kl_warmup) if self.kl_warmup else self.beta

    def variance(self, x: torch.Tensor, mean: torch.Tensor, mean_over_ranks: Callable = lambda t: t) -> torch.Tensor:
        if self.sigma == "optimal":  # argmax over a shared variance of the (global) batch's likelihood
            return mean_over_ranks((x - mean).detach().pow(2).mean()).clamp_min(1e-12)
        return torch.tensor(self.sigma**2, dtype=x.dtype, device=x.device)

    def loss(self, x: torch.Tensor, mean: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, step: int = 0,
             mean_over_ranks: Callable = lambda t: t) -> tuple[torch.Tensor, dict]:
        """The loss at generator iteration `step` on a batch x, its decoded means (of one z per x) and q(z|x)'s
        parameters; with the figures to log: the ELBO and its two terms per sample, in nats, and sigma.
        `mean_over_ranks` averages a figure over the processes (DDP), for the optimal sigma."""
        variance = self.variance(x, mean, mean_over_ranks)
        reconstruction = gaussian_log_likelihood(x, mean, variance).mean()
        kl = gaussian_kl(mu, logvar).mean()
        logs = {"train/elbo": (reconstruction - kl).detach(), "train/reconstruction": reconstruction.detach(),
                "train/kl": kl.detach(), "train/sigma": variance.detach().sqrt()}
        return -(reconstruction - self.kl_weight(step) * kl), logs
