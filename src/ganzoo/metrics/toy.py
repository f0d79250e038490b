"""Figures for 2-D toy data: modes covered, share of high-quality samples, and the exact W1 distance, as two
registered metrics: `w1` on any point data, `modes` (val/modes, val/hq) on mixtures of Gaussians.

A sample is high quality when it lies within 3 std of its nearest mode (as in VEEGAN and PacGAN); a mode is
covered when at least 1% of the samples are high-quality samples of that mode. W1 between two equal-sized point
sets is the mean distance of the optimal one-to-one matching (an exact assignment problem, not an estimate).
"""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment

from ganzoo.metrics.reference import REAL_SEED
from ganzoo.metrics.registry import Metric, Run, register_metric

MIN_SHARE = 0.01


def nearest_modes(samples: torch.Tensor, modes: torch.Tensor, std: float) -> torch.Tensor:
    """The mode each sample is a high-quality sample of (its nearest, when within 3 std of it), -1 for none."""
    nearest_distance, nearest = torch.cdist(samples.double(), modes.double()).min(dim=1)
    return torch.where(nearest_distance <= 3 * std, nearest, -1)


def mode_counts(samples: torch.Tensor, modes: torch.Tensor, std: float) -> torch.Tensor:
    """How many samples are high-quality samples of each mode: nearest to it, and within 3 std of it."""
    nearest = nearest_modes(samples, modes, std)
    return torch.bincount(nearest[nearest >= 0], minlength=len(modes))


def mode_figures(samples: torch.Tensor, modes: torch.Tensor, std: float) -> dict[str, float]:
    counts = mode_counts(samples, modes, std)
    return {
        "modes": float((counts >= MIN_SHARE * len(samples)).sum()),
        "hq": float(counts.sum().double() / len(samples)),
    }


def exact_w1(a: torch.Tensor, b: torch.Tensor) -> float:
    """Exact W1 (Euclidean ground cost) between two point sets of the same size, by optimal assignment."""
    if len(a) != len(b):
        raise ValueError(f"exact_w1 needs sets of equal size (got {len(a)} and {len(b)})")
    cost = torch.cdist(a.double(), b.double()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


@register_metric
class W1(Metric):
    """val/w1: exact W1 between `n` generated points and `n` real points drawn once per run."""

    name = "w1"
    figures = ("w1",)

    def applies_to(self, data) -> bool:
        return not data.is_image_data

    def measure(self, run: Run) -> dict[str, float]:
        real = run.keep(("real points", self.n), lambda: run.data.real_samples(self.n, torch.Generator().manual_seed(REAL_SEED)))
        return {"w1": exact_w1(run.samples(self.n).cpu().float(), real)}


@register_metric
class Modes(Metric):
    """val/modes and val/hq of `n` generated points, on data that is a mixture with known modes."""

    name = "modes"
    figures = ("modes", "hq")

    def applies_to(self, data) -> bool:
        return data.modes() is not None

    def measure(self, run: Run) -> dict[str, float]:
        return mode_figures(run.samples(self.n).cpu().float(), *run.data.modes())
