"""What every ganzoo datamodule offers: an endless stream of whole batches (`ganzoo.batch.Batch`: samples and,
where the data has classes, their labels), its sample shape and its number of classes.

The training loop draws as many batches per generator iteration as its critic needs (n_critic, or 100 during
WGAN's warm-up), so the stream never ends; one Lightning epoch is the whole run. Under DDP every rank draws the
same stream of global batches (world size x data.batch_size, seeded by data.seed alone) and keeps its own slice
of each, as the training loop does with z (ganzoo/draws.py): ranks see different images, and W ranks see together
what one process sees with a W times larger batch.

Two ways to feed images, one class each:
* `InMemoryImages`: small datasets (digits, MNIST, Fashion-MNIST, CIFAR-10) held whole as one uint8 tensor on
  the training device; a batch is an index into it and a conversion to float, no per-step Python decoding.
* `ImageFilesDataModule` (in `files.py`): large datasets decoded by DataLoader workers from files or lmdb.
"""

from __future__ import annotations

from typing import Callable, Iterator

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset

from ganzoo.batch import Batch
from ganzoo.errors import ConfigError
from ganzoo.shapes import is_image_shape


class BatchStream(IterableDataset):
    """This rank's slices of the global batches `batches(generator, skip, size)` yields; `skip` global batches are
    passed over first, so that a resumed run goes on with the batches an unbroken run would have drawn."""

    def __init__(self, batches: Callable[..., Iterator[Batch]], seed: int, batch_size: int, skip: int = 0,
                 rank: int = 0, world: int = 1):
        self.batches, self.seed, self.batch_size, self.skip = batches, seed, batch_size, skip
        self.rank, self.world = rank, world

    def __iter__(self) -> Iterator[Batch]:
        mine = slice(self.rank * self.batch_size, (self.rank + 1) * self.batch_size)
        generator = torch.Generator().manual_seed(self.seed)
        return (batch.rows(mine) for batch in self.batches(generator, self.skip, self.batch_size * self.world))


def shuffled_batches(
    data: torch.Tensor, batch_size: int, generator: torch.Generator, skip: int = 0
) -> Iterator[torch.Tensor]:
    """Batches of a tensor held in memory, a fresh permutation each pass, no batch repeated within a pass.
    The first `skip` batches are passed over by drawing only their passes' permutations."""
    if batch_size > len(data):
        raise ConfigError(f"the global batch ({batch_size}) exceeds the {len(data)} samples; lower data.batch_size")
    per_pass = len(data) // batch_size
    passes, first = divmod(skip, per_pass)
    for _ in range(passes):
        torch.randperm(len(data), generator=generator)
    while True:
        order = torch.randperm(len(data), generator=generator).to(data.device)
        for start in range(first * batch_size, len(data) - batch_size + 1, batch_size):
            yield data[order[start : start + batch_size]]
        first = 0


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 -> float in [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Resize (N, C, H, W) uint8 images to size x size (bilinear, antialiased when shrinking), in chunks so that
    the float copy of a 50,000-image dataset never sits in memory at once."""
    if images.shape[-2:] == (size, size):
        return images.contiguous()
    out = torch.empty((len(images), images.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk].float()
        part = F.interpolate(part, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[start : start + chunk] = part.round_().clamp_(0, 255).to(torch.uint8)
    return out


class GANDataModule(L.LightningDataModule):
    """Subclasses set `shape` and define `batches(generator)`; `real_samples` feeds the evaluation callbacks."""

    shape: tuple[int, ...]
    num_classes: int | None = None  # classes of the labels its batches carry; None: unlabelled data
    main_metric: str | None = None  # the figure the best checkpoint is chosen by
    judged_by_digit_classifier: bool = False  # the bundled digits: ganzoo's digit classifier knows their classes
    channels_are_digits: bool = False  # stacked digits: each channel one digit the classifier can label

    @property
    def is_image_data(self) -> bool:
        return is_image_shape(self.shape)

    def modes(self) -> tuple[torch.Tensor, float] | None:
        """For a mixture of Gaussians: its (M, d) centers and per-coordinate std, to count modes covered."""
        return None

    def __init__(self, batch_size: int, seed: int = 0):
        super().__init__()
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.batches_to_skip = 0  # set when resuming: the batches the checkpointed run had drawn

    def setup(self, stage: str | None = None) -> None:
        """Load what must be loaded; data generated on the fly need nothing."""

    def batches(self, generator: torch.Generator, skip: int = 0, size: int | None = None) -> Iterator[Batch]:
        """The endless stream of batches of `size` (data.batch_size unless given: DDP draws global batches);
        `skip` of them passed over first (those a resumed run already drew)."""
        raise NotImplementedError

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        stream = BatchStream(self.batches, self.seed, self.batch_size, self.batches_to_skip, *self.share())
        return DataLoader(stream, batch_size=None, num_workers=0)

    def training_device(self) -> torch.device:
        """The device the trainer trains on; the CPU when no trainer is attached (tests, benchmarks)."""
        trainer = getattr(self, "trainer", None)
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def share(self) -> tuple[int, int]:
        """(this process's rank, the number of processes) of the trainer; (0, 1) without one."""
        trainer = getattr(self, "trainer", None)
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)


def check_min_image_size(image_size: int, name: str) -> int:
    if int(image_size) < 8:
        raise ConfigError(f"data.image_size must be >= 8 for {name} (got {image_size}); use 32 or 64")
    return int(image_size)


class InMemoryImages(GANDataModule):
    """A dataset small enough to live whole on the training device as uint8 (N, C, image_size, image_size).

    Subclasses define `load()`, which returns that tensor on the CPU and the images' labels (int64, one per image;
    None for data without classes). `train_dataloader` moves both to the trainer's device once; each batch is
    then a random index into them and a conversion to [-1, 1] done there.
    """

    name = "images"

    def __init__(self, image_size: int, channels: int, batch_size: int, seed: int = 0):
        super().__init__(batch_size, seed)
        self.image_size = int(image_size)
        self.shape = (int(channels), self.image_size, self.image_size)
        self.images: torch.Tensor | None = None  # uint8, on self.images.device
        self.labels: torch.Tensor | None = None  # int64, on the same device; None without classes

    def load(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.images is None:
            check_min_image_size(self.image_size, self.name)  # here, not in __init__: Hydra's instantiate would wrap it
            images, labels = self.load()
            assert images.dtype == torch.uint8 and tuple(images.shape[1:]) == self.shape, (images.dtype, images.shape)
            if len(images) < self.batch_size:
                raise ConfigError(
                    f"data.batch_size {self.batch_size} exceeds the {len(images)} images of {self.name}; use 64"
                )
            self.images, self.labels = images, labels

    def train_dataloader(self) -> DataLoader:
        self.setup()
        self.images = self.images.to(self.training_device())
        self.labels = None if self.labels is None else self.labels.to(self.images.device)
        return super().train_dataloader()

    def batches(self, generator: torch.Generator, skip: int = 0, size: int | None = None) -> Iterator[Batch]:
        self.setup()
        size = size or self.batch_size
        rows = torch.arange(len(self.images), device=self.images.device)
        return (self.batch(index) for index in shuffled_batches(rows, size, generator, skip))

    def batch(self, index: torch.Tensor) -> Batch:
        return Batch(to_unit_range(self.images[index]), None if self.labels is None else self.labels[index])

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.setup()
        index = torch.randperm(len(self.images), generator=generator)[:n].to(self.images.device)
        return to_unit_range(self.images[index]).cpu()
