"""What one sample is: a point, shape (d,), or an image, shape (C, H, W). The one test for it, used by the
datamodules, the objectives, the callbacks and the entry points alike."""

from __future__ import annotations

from typing import Sequence


def is_image_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 3
