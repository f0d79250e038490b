"""Composable constraints on the critic. A `constraint` config names the ones to use by a flag each
(`gp: true`, `clip: true`), with their parameters beside it, so that `constraint=[gp,instance_noise]` merges."""

from __future__ import annotations

from ganzoo.constraints.base import Constraint
from ganzoo.constraints.clip import WeightClip
from ganzoo.constraints.gradient_penalty import GradientPenalty
from ganzoo.constraints.instance_noise import InstanceNoise

# name -> (class, the config keys it takes)
REGISTRY: dict[str, tuple[type[Constraint], tuple[str, ...]]] = {
    "clip": (WeightClip, ("clip_value",)),
    "gp": (GradientPenalty, ("weight",)),
    "instance_noise": (InstanceNoise, ("sigma", "anneal_steps", "schedule")),
}


def build_constraints(cfg: dict) -> list[Constraint]:
    """The constraints whose flag is set in `cfg`, in registry order."""
    return [
        cls(**{key: cfg[key] for key in keys if key in cfg})
        for name, (cls, keys) in REGISTRY.items()
        if cfg.get(name)
    ]

__all__ = ["Constraint", "WeightClip", "GradientPenalty", "InstanceNoise", "build_constraints"]
