"""Stacked digits: three digits drawn independently as the red, green and blue channels of one image, so that
the data has 10 x 10 x 10 = 1,000 modes (the Stacked-MNIST test of mode coverage, Metz et al. 2016; the protocol
of VEEGAN and PacGAN, Lin et al. 2018, whose code draws 128,000 stacks once before training).

`source=digits` stacks scikit-learn's bundled 1,797 digits (no download), `source=mnist` the 60,000 MNIST training
images as torchvision keeps them (data.root, data.download). The stacks are fixed by `seed` (the table of
`size` triples of digit indices is drawn once from it), each batch indexes that table, and the label of a stack
is its triple of classes as one number, 100 * red + 10 * green + blue.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader

from ganzoo.batch import Batch
from ganzoo.data.base import GANDataModule, check_min_image_size, shuffled_batches, to_unit_range
from ganzoo.data.digits import load_digit_labels, load_digits_uint8
from ganzoo.errors import ConfigError


def triple_label(classes: torch.Tensor) -> torch.Tensor:
    """(N, 3) classes of the red, green and blue digits -> one label each, 100 * red + 10 * green + blue."""
    return classes[:, 0] * 100 + classes[:, 1] * 10 + classes[:, 2]


class StackedDigitsDataModule(GANDataModule):
    name = "stacked digits"
    num_classes = 1000
    channels_are_digits = True  # the stacked_modes metric labels each channel with the digit classifier
    main_metric = "val/reverse_kl"

    def __init__(self, image_size: int = 32, batch_size: int = 64, seed: int = 0, size: int = 128000,
                 source: str = "digits", root: str = "data", download: bool = False):
        super().__init__(batch_size, seed)
        self.image_size, self.size, self.source = int(image_size), int(size), str(source)
        self.root, self.download = root, bool(download)
        self.shape = (3, self.image_size, self.image_size)
        self.digits: torch.Tensor | None = None  # uint8 (M, image_size, image_size), one channel each
        self.classes: torch.Tensor | None = None  # (M,) the class of each digit
        self.triples: torch.Tensor | None = None  # (size, 3) indices into digits: the stacks

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The single digits the stacks are made of, uint8 (M, 1, image_size, image_size), and their classes."""
        if self.source == "digits":
            return load_digits_uint8(self.image_size), load_digit_labels()
        from ganzoo.data.torchvision_sets import MNISTDataModule

        return MNISTDataModule(self.root, self.download, self.image_size, self.batch_size, self.seed).load()

    def setup(self, stage: str | None = None) -> None:
        if self.triples is not None:
            return
        check_min_image_size(self.image_size, self.name)
        if self.batch_size > self.size:
            raise ConfigError(f"data.batch_size {self.batch_size} exceeds the {self.size} stacks; raise data.size")
        digits, classes = self.load()
        self.digits, self.classes = digits[:, 0].contiguous(), classes.long()
        draw = torch.Generator().manual_seed(self.seed)
        self.triples = torch.randint(len(self.digits), (self.size, 3), generator=draw)

    def stacks(self, rows: torch.Tensor) -> Batch:
        """The stacks of `rows` of the triple table, as images in [-1, 1] and their triples' labels."""
        triple = self.triples[rows]
        return Batch(to_unit_range(self.digits[triple]), triple_label(self.classes[triple]))

    def train_dataloader(self) -> DataLoader:
        self.setup()
        device = self.training_device()
        self.digits, self.classes, self.triples = (t.to(device) for t in (self.digits, self.classes, self.triples))
        return super().train_dataloader()

    def batches(self, generator: torch.Generator, skip: int = 0, size: int | None = None) -> Iterator[Batch]:
        self.setup()
        rows = torch.arange(self.size, device=self.triples.device)
        return (self.stacks(index) for index in shuffled_batches(rows, size or self.batch_size, generator, skip))

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.setup()
        rows = torch.randperm(self.size, generator=generator)[:n].to(self.triples.device)
        return self.stacks(rows).x.cpu()
