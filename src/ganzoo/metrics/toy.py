"""Figures for 2-D toy data: modes covered, share of high-quality samples, and the exact W1 distance.

A sample is high quality when it lies within 3 std of its nearest mode (as in VEEGAN and PacGAN); a mode is
covered when at least 1% of the samples are high-quality samples of that mode. W1 between two equal-sized point
sets is the mean distance of the optimal one-to-one matching (an exact assignment problem, not an estimate).
"""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment

MIN_SHARE = 0.01


def mode_figures(samples: torch.Tensor, modes: torch.Tensor, std: float) -> dict[str, float]:
    distances = torch.cdist(samples.double(), modes.double())
    nearest_distance, nearest = distances.min(dim=1)
    high_quality = nearest_distance <= 3 * std
    counts = torch.bincount(nearest[high_quality], minlength=len(modes))
    return {
        "modes": float((counts >= MIN_SHARE * len(samples)).sum()),
        "hq": float(high_quality.double().mean()),
    }


def exact_w1(a: torch.Tensor, b: torch.Tensor) -> float:
    """Exact W1 (Euclidean ground cost) between two point sets of the same size, by optimal assignment."""
    if len(a) != len(b):
        raise ValueError(f"exact_w1 needs sets of equal size (got {len(a)} and {len(b)})")
    cost = torch.cdist(a.double(), b.double()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())
