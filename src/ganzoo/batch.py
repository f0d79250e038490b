"""What one training batch is: the samples and, where the data has classes, their labels.

Every datamodule yields `Batch`es (a toy mixture's mode index, a digit's class, a class folder's index; `y` is
None for data without classes), and every stage between the data and the nets keeps the two together: a DDP
rank's slice, the endless sampler, the resume skip. A run whose nets take no labels never reads `y`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Batch:
    x: torch.Tensor  # (N, *sample shape): points (N, 2) or images (N, C, H, W) in [-1, 1]
    y: torch.Tensor | None = None  # (N,) int64 class indices, or None

    def __len__(self) -> int:
        return len(self.x)

    def rows(self, index) -> Batch:
        """The samples at `index` (a slice or an index tensor), with their labels."""
        return Batch(self.x[index], None if self.y is None else self.y[index])

    def pin_memory(self) -> Batch:
        """Page-locked copies (DataLoader's pin_memory calls this), for faster copies to a GPU."""
        return Batch(self.x.pin_memory(), None if self.y is None else self.y.pin_memory())

    def to(self, device: torch.device, dtype: torch.dtype | None = None,
           memory_format: torch.memory_format = torch.preserve_format) -> Batch:
        """On `device`; the samples in `dtype` (the nets' precision), the labels stay integers."""
        x = self.x.to(device, dtype, non_blocking=True, memory_format=memory_format)
        return Batch(x, None if self.y is None else self.y.to(device, non_blocking=True))
