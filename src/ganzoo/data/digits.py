"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download), resized to `image_size` and
scaled to [-1, 1]. Small enough to be held whole in memory and batched there."""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F

from ganzoo.data.base import GANDataModule, shuffled_batches
from ganzoo.errors import ConfigError


def load_digits_tensor(image_size: int) -> torch.Tensor:
    """All digits as a float tensor (N, 1, image_size, image_size) in [-1, 1]."""
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images).float().unsqueeze(1) / 16.0  # pixel values 0..16
    images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return (images * 2 - 1).clamp_(-1, 1)


class DigitsDataModule(GANDataModule):
    def __init__(self, image_size: int = 32, batch_size: int = 64, seed: int = 0):
        super().__init__(batch_size, seed)
        if image_size < 8:
            raise ConfigError(f"data.image_size must be >= 8 for digits (got {image_size})")
        self.image_size = int(image_size)
        self.shape = (1, self.image_size, self.image_size)
        self.images: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.images is None:
            self.images = load_digits_tensor(self.image_size)
            if len(self.images) < self.batch_size:
                raise ConfigError(f"data.batch_size {self.batch_size} exceeds the {len(self.images)} digits; use 64")

    def batches(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        self.setup()
        return shuffled_batches(self.images, self.batch_size, generator)

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.setup()
        return self.images[torch.randperm(len(self.images), generator=generator)[:n]]
