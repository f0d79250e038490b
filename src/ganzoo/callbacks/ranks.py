"""What the ranks of a DDP run decide together at the end of an iteration, so that all take the same branch (a
save, a stop) and none waits alone at a collective."""

from __future__ import annotations

import torch


def largest_on_any_rank(trainer, value: int) -> int:
    """The largest of `value` over the ranks (one process: `value` itself, with no collective)."""
    if trainer.world_size == 1:
        return value
    flag = torch.tensor([value], device=trainer.strategy.root_device)
    return int(trainer.strategy.reduce(flag, reduce_op="max").item())
