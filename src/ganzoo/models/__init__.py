"""Generator/critic pairs. Models know nothing of losses.

A model is one file here with a `build` function and one config, conf/model/<name>.yaml, whose `_target_` names
that function and whose other keys are its settings. `objectives.build_objective` calls it with the data's shape,
the latent size and the critic's output width (1 score, or z_dim codes for a critic that is also an encoder).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import nn


class Nets(NamedTuple):
    generator: nn.Module
    critic: nn.Module


def default_z_dim(z_dim: int | None, data_shape: tuple[int, ...]) -> int:
    """model.z_dim, or the papers' choice when it is null: 2-D noise for toy points (WGAN-GP toy code), 100 for images."""
    if z_dim is not None:
        return int(z_dim)
    return 2 if len(data_shape) == 1 else 100


__all__ = ["Nets", "default_z_dim"]
