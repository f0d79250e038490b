"""What one sample is: a point, shape (d,), or an image, shape (C, H, W). The one test for it, used by the
datamodules, the objectives, the callbacks and the entry points alike."""

from __future__ import annotations

from typing import Sequence

from ganzoo.errors import ConfigError


def is_image_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 3


def require_images(model: str, shape: Sequence[int]) -> None:
    """An image model asked to fit points: one line naming both ways out."""
    if not is_image_shape(shape):
        raise ConfigError(f"model={model} needs image data but the data are {shape[0]}-D points; use model=mlp for "
                          "toy data, or image data such as data=digits for this model")
