"""scikit-learn's bundled 8x8 digits (1,797 images, no download), resized to `image_size` and scaled to
[-1, 1]. Held whole on the training device and batched there (see `InMemoryImages`)."""

from __future__ import annotations

import torch

from ganzoo.data.base import InMemoryImages, resize_uint8


def load_digits_uint8(image_size: int) -> torch.Tensor:
    """All digits as uint8 (N, 1, image_size, image_size), pixel values 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits

    images = (torch.from_numpy(load_digits().images).unsqueeze(1) * (255.0 / 16.0)).round().to(torch.uint8)
    return resize_uint8(images, image_size)


def load_digit_labels() -> torch.Tensor:
    """The class (0..9) of each digit, in load_digits_uint8's order."""
    from sklearn.datasets import load_digits

    return torch.from_numpy(load_digits().target).long()


class DigitsDataModule(InMemoryImages):
    name = "digits"
    judged_by_digit_classifier = True  # the digits metric's val/digits_* figures (metrics/digits.py)
    main_metric = "val/digits_fid"
    num_classes = 10

    def __init__(self, image_size: int = 32, batch_size: int = 64, seed: int = 0):
        super().__init__(image_size, 1, batch_size, seed)

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        return load_digits_uint8(self.image_size), load_digit_labels()
