"""How sharp generated images are: the variance of the Laplacian (Pech-Pacheco et al. 2000), against real images'.

A blurred image has little high-frequency energy, and the Laplacian (the 3x3 kernel 0 1 0 / 1 -4 1 / 0 1 0)
measures exactly that: the variance of its response over an image is a standard focus measure. The VAE's samples
are said to be blurry where a GAN's are sharp (the mode-covering KL against the GAN's divergences); this metric is
how ganzoo puts a figure on it, on any image data and without a download.

    sharpness        the mean over n samples of the variance of the Laplacian of each (channels averaged to gray,
                     pixels in [-1, 1])
    sharpness_ratio  that mean divided by the same of n real images (1: as sharp as the data; below 1: blurrier)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.metrics.reference import REAL_SEED
from ganzoo.metrics.registry import Metric, Run, register_metric

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def laplacian_variance(images: torch.Tensor) -> torch.Tensor:
    """(N,) the variance of the Laplacian over each image's interior (no padding: the border is not an edge)."""
    gray = images.double().mean(1, keepdim=True)
    response = F.conv2d(gray, LAPLACIAN.to(gray).view(1, 1, 3, 3))
    return response.flatten(1).var(1, correction=0)


@register_metric
class Sharpness(Metric):
    """val/sharpness and val/sharpness_ratio of `n` generated images."""

    name = "sharpness"
    figures = ("sharpness", "sharpness_ratio")

    def applies_to(self, data) -> bool:
        return data.is_image_data

    def measure(self, run: Run) -> dict[str, float]:
        real = run.keep(("real sharpness", self.n), lambda: float(laplacian_variance(
            run.data.real_samples(self.n, torch.Generator().manual_seed(REAL_SEED))).mean()))
        fake = float(laplacian_variance(run.samples(self.n).cpu()).mean())
        return {"sharpness": fake, "sharpness_ratio": fake / max(real, 1e-12)}
