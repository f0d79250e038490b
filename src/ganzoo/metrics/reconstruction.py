"""How well a model that encodes reconstructs real data: O-GAN's critic (encoder=ogan) or a VAE's encoder.

    reconstruction_mse  mean squared error between n real samples x and their reconstructions (pixels in [-1, 1],
                        or a toy point's coordinates): G(s E(x)) for O-GAN, the decoder's mean at the posterior's
                        mean for a VAE
    random_pair_mse     the same error between x and other real samples, randomly paired: what a "reconstruction"
                        that ignored its input would score
    reconstruction_ratio  the first over the second (0: perfect; 1: no better than a random real sample)
"""

from __future__ import annotations

import torch

from ganzoo.metrics.reference import REAL_SEED
from ganzoo.metrics.registry import Metric, Run, register_metric


@register_metric
class Reconstruction(Metric):
    """val/reconstruction_mse, val/random_pair_mse and val/reconstruction_ratio of `n` real samples."""

    name = "reconstruction"
    figures = ("reconstruction_mse", "random_pair_mse", "reconstruction_ratio")

    @classmethod
    def measures(cls, module) -> bool:
        return bool(getattr(module, "encodes", False))

    @torch.no_grad()
    def measure(self, run: Run) -> dict[str, float]:
        generator = torch.Generator().manual_seed(REAL_SEED)
        real = run.keep(("real samples", self.n), lambda: run.data.real_samples(self.n, generator))
        paired = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(REAL_SEED))]
        reconstructions = torch.cat([run.module.reconstruct(chunk).cpu() for chunk in real.split(500)])
        mse = ((reconstructions - real) ** 2).mean().item()
        random_pairs = ((paired - real) ** 2).mean().item()
        return {"reconstruction_mse": mse, "random_pair_mse": random_pairs, "reconstruction_ratio": mse / random_pairs}
