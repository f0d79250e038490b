"""Mode coverage as VEEGAN and PacGAN measure it: how many of the data's modes the samples reach, and the reverse
KL divergence KL(p_generated || uniform) of the samples' distribution over the modes (0: every mode equally
often; log M: a single mode).

`stacked_modes` on stacked digits (1,000 modes): the bundled digit classifier labels each channel of each of `n`
samples (26,000 in that protocol); a triple of classes is a mode, `val/modes_covered` counts the distinct triples
met and `val/reverse_kl` is the KL of their histogram (every sample counts, as in PacGAN's code).

`toy_reverse_kl` on mixtures of Gaussians: `n` samples (2,500 in VEEGAN's protocol), each belonging to its nearest
mode when within 3 standard deviations of it; `val/reverse_kl` is the KL of the histogram of the samples that
belong to a mode (log M when none does: no better than a single mode).
"""

from __future__ import annotations

import math

import torch

from ganzoo.data.stacked import triple_label
from ganzoo.metrics.digits import load_classifier
from ganzoo.metrics.registry import Metric, Run, register_metric
from ganzoo.metrics.toy import mode_counts


def reverse_kl(counts: torch.Tensor) -> float:
    """KL(p || uniform) of a histogram over all M modes (empty modes included): sum p log(p M)."""
    total = counts.sum()
    if total == 0:
        return math.log(len(counts))
    p = counts[counts > 0].double() / total
    return float((p * (p * len(counts)).log()).sum())


@torch.no_grad()
def digit_triples(images: torch.Tensor, classifier, chunk: int = 1000) -> torch.Tensor:
    """The classifier's class of each channel of (N, 3, H, W) images in [-1, 1], as 100 * c0 + 10 * c1 + c2."""
    codes = []
    for part in images.split(chunk):
        n = len(part)
        classes = classifier(part.float().cpu().reshape(n * 3, 1, *part.shape[-2:])).argmax(1).reshape(n, 3)
        codes.append(triple_label(classes))
    return torch.cat(codes)


@register_metric
class StackedModes(Metric):
    """val/modes_covered and val/reverse_kl of `n` generated stacks of three digits."""

    name = "stacked_modes"
    figures = ("modes_covered", "reverse_kl")

    def __init__(self, every_n_steps: int = 500, n: int = 26000):
        super().__init__(every_n_steps, n)

    def applies_to(self, data) -> bool:
        return data.channels_are_digits

    def measure(self, run: Run) -> dict[str, float]:
        codes = digit_triples(run.samples(self.n), run.keep("digit classifier", load_classifier))
        counts = torch.bincount(codes, minlength=1000)
        return {"modes_covered": float((counts > 0).sum()), "reverse_kl": reverse_kl(counts)}


@register_metric
class ToyReverseKL(Metric):
    """val/reverse_kl of `n` generated points over a Gaussian mixture's modes."""

    name = "toy_reverse_kl"
    figures = ("reverse_kl",)

    def __init__(self, every_n_steps: int = 500, n: int = 2500):
        super().__init__(every_n_steps, n)

    def applies_to(self, data) -> bool:
        return data.modes() is not None

    def measure(self, run: Run) -> dict[str, float]:
        return {"reverse_kl": reverse_kl(mode_counts(run.samples(self.n).cpu().float(), *run.data.modes()))}
