"""A user's own metrics, each one registered unit in a file of the user's (tests/test_registry.py selects them from
the command line): a class that applies to any data, and a function for point data."""

from __future__ import annotations

import torch

from ganzoo.metrics.registry import Metric, Run, register_metric


@register_metric
class SampleSpread(Metric):
    """val/spread: the mean over coordinates (points) or pixels (images) of the samples' standard deviation."""

    name = "spread"
    figures = ("spread",)

    def measure(self, run: Run) -> dict[str, float]:
        return {"spread": run.samples(self.n).flatten(1).std(0).mean().item()}


@register_metric(figures=("mean_norm",), applies_to=lambda data: not data.is_image_data)
def mean_norm(samples: torch.Tensor, data) -> dict[str, float]:
    """val/mean_norm: how far the generated points lie from the origin on average."""
    return {"mean_norm": samples.norm(dim=1).mean().item()}


class Unregistered(Metric):
    name = "unregistered"
    figures = ("unregistered",)
