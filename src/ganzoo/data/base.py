"""What every ganzoo datamodule offers: an endless stream of whole batches, and its sample shape.

The training loop draws as many batches per generator iteration as its critic needs (n_critic, or 100 during
WGAN's warm-up), so the stream never ends; one Lightning epoch is the whole run. Each process (DDP rank) and
each loader worker seeds its own random stream so that no two draw the same batches.
"""

from __future__ import annotations

from typing import Callable, Iterator

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info


def process_seed(seed: int) -> int:
    """A seed distinct per DDP rank and per DataLoader worker."""
    rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() else 0
    worker = get_worker_info()
    return seed + 1_000_003 * rank + 7_919 * (worker.id if worker else 0)


class BatchStream(IterableDataset):
    """Yields batches from `batches(generator)`, an endless iterator, seeded per process."""

    def __init__(self, batches: Callable[[torch.Generator], Iterator[torch.Tensor]], seed: int):
        self.batches = batches
        self.seed = seed

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self.batches(torch.Generator().manual_seed(process_seed(self.seed)))


def shuffled_batches(data: torch.Tensor, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Batches of a tensor held in memory, a fresh permutation each pass, no batch repeated within a pass."""
    while True:
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data) - batch_size + 1, batch_size):
            yield data[order[start : start + batch_size]]


class GANDataModule(L.LightningDataModule):
    """Subclasses set `shape` and define `batches(generator)`; `real_samples` feeds the evaluation callbacks."""

    shape: tuple[int, ...]
    main_metric: str | None = None  # the figure the best checkpoint is chosen by

    def __init__(self, batch_size: int, seed: int = 0):
        super().__init__()
        self.batch_size = int(batch_size)
        self.seed = int(seed)

    def setup(self, stage: str | None = None) -> None:
        """Load what must be loaded; data generated on the fly need nothing."""

    def batches(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        raise NotImplementedError

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        return DataLoader(BatchStream(self.batches, self.seed), batch_size=None, num_workers=0)
