"""Composable constraints on the critic. The `constraint` config holds one node per constraint, keyed by its
name, each with a `_target_` and its settings (`constraint.gp.weight`, `constraint.clip.clip_value`), so that
`constraint=[gp,instance_noise]` merges two nodes and both apply, in the order given."""

from __future__ import annotations

from typing import Mapping

from ganzoo.constraints.base import Constraint, Score
from ganzoo.constraints.clip import WeightClip
from ganzoo.constraints.gradient_penalty import GradientPenalty, OneSidedPenalty
from ganzoo.constraints.instance_noise import InstanceNoise
from ganzoo.constraints.spectral_norm import SpectralNorm
from ganzoo.constraints.zero_centered import R1, R2
from ganzoo.instantiation import make


def build_constraints(nodes: Mapping) -> list[Constraint]:
    """One constraint per node that names a `_target_`. A node without one holds settings for a constraint that
    is not on (a recipe's `constraint.gp.weight` under constraint=none); a null node is switched off."""
    return [make(node) for node in nodes.values() if node is not None and "_target_" in node]


__all__ = ["Constraint", "Score", "WeightClip", "GradientPenalty", "OneSidedPenalty", "InstanceNoise", "SpectralNorm",
           "R1", "R2", "build_constraints"]
