"""The 2-D toy distributions of the WGAN-GP toy code (gan_toy.py), scaled as it scales them.

gaussians8:  8 centers on a circle of radius 2, std 0.02, all divided by 1.414.
gaussians25: a 5x5 grid at spacing 2, std 0.05, all divided by 2.828.
swissroll:   scikit-learn's swiss roll (noise 0.25), coordinates 0 and 2, divided by 7.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch

from ganzoo.batch import Batch
from ganzoo.data.base import GANDataModule
from ganzoo.errors import ConfigError


@dataclass(frozen=True)
class ToyDistribution:
    name: str
    modes: torch.Tensor | None  # (M, 2) centers, or None for the swiss roll
    std: float  # per-coordinate std around each center, after scaling

    @property
    def num_classes(self) -> int | None:
        """A mixture's classes are its modes; the swiss roll has none."""
        return None if self.modes is None else len(self.modes)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.draw(n, generator).x

    def draw(self, n: int, generator: torch.Generator) -> Batch:
        """n points and, for a mixture, the index of the mode each was drawn from."""
        if self.modes is None:
            return Batch(swiss_roll(n, generator))
        which = torch.randint(len(self.modes), (n,), generator=generator)
        return Batch(self.modes[which] + self.std * torch.randn(n, 2, generator=generator), which)


def gaussians8() -> ToyDistribution:
    scale, r = 2.0, 1.0 / math.sqrt(2)
    centers = torch.tensor([(1, 0), (-1, 0), (0, 1), (0, -1), (r, r), (r, -r), (-r, r), (-r, -r)], dtype=torch.float32)
    return ToyDistribution("gaussians8", centers * scale / 1.414, 0.02 / 1.414)


def gaussians25() -> ToyDistribution:
    centers = torch.tensor([(2.0 * x, 2.0 * y) for x in range(-2, 3) for y in range(-2, 3)])
    return ToyDistribution("gaussians25", centers / 2.828, 0.05 / 2.828)


def swiss_roll(n: int, generator: torch.Generator) -> torch.Tensor:
    # scikit-learn's make_swiss_roll (t ~ 1.5 pi (1 + 2 U), point (t cos t, t sin t), noise 0.25), drawn with torch's RNG
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) + 0.25 * torch.randn(n, 2, generator=generator)
    return points / 7.5


TOY_SETS = {"gaussians8": gaussians8, "gaussians25": gaussians25, "swissroll": lambda: ToyDistribution("swissroll", None, 0.0)}


def toy_distribution(name: str) -> ToyDistribution:
    if name not in TOY_SETS:
        raise ConfigError(f"unknown toy data '{name}': choose one of {', '.join(TOY_SETS)}")
    return TOY_SETS[name]()


class ToyDataModule(GANDataModule):
    shape = (2,)
    main_metric = "val/w1"

    def __init__(self, name: str, batch_size: int = 256, seed: int = 0):
        super().__init__(batch_size, seed)
        self.distribution = toy_distribution(name)
        self.num_classes = self.distribution.num_classes  # labels: the mode each point was drawn from

    def batches(self, generator: torch.Generator, skip: int = 0, size: int | None = None) -> Iterator[Batch]:
        size = size or self.batch_size
        for _ in range(skip):  # drawn only to advance the generator, as the skipped batches did
            self.distribution.draw(size, generator)
        while True:
            yield self.distribution.draw(size, generator)

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.distribution.sample(n, generator)

    def modes(self) -> tuple[torch.Tensor, float] | None:
        if self.distribution.modes is None:
            return None
        return self.distribution.modes, self.distribution.std
