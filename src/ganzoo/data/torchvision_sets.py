"""MNIST, Fashion-MNIST and CIFAR-10 (training splits) through torchvision, which reads their on-disk formats
and downloads them (`data.download=true`). Each is held whole on the training device (see `InMemoryImages`)."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision import datasets

from ganzoo.data.base import InMemoryImages, resize_uint8
from ganzoo.errors import DataError


class _CIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR-10 checking that the files are there rather than re-hashing 170 MB at every start;
    torchvision verifies the MD5 sums when it downloads them."""

    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return all((folder / name).is_file() for name, _ in self.train_list) and (folder / self.meta["filename"]).is_file()

    def _load_meta(self) -> None:  # class names: not needed for a GAN
        self.classes = []


class TorchvisionImages(InMemoryImages):
    """One of torchvision's small datasets: `dataset` is the torchvision class, `expected` what must be on disk."""

    dataset: type
    folder: str  # where under root torchvision keeps the files
    expected: str
    channels: int

    def __init__(self, root: str = "data", download: bool = False, image_size: int = 32, batch_size: int = 64, seed: int = 0):
        super().__init__(image_size, self.channels, batch_size, seed)
        self.root = Path(root).expanduser().absolute()  # messages name the folder looked in, wherever the run started
        self.download = bool(download)

    num_classes = 10  # all three have ten classes

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            dataset = self.dataset(str(self.root), train=True, download=self.download)
        except RuntimeError as err:  # torchvision: "Dataset not found ..."
            raise DataError(
                f"{self.name} not found in {self.root / self.folder} (expected {self.expected}); "
                f"add data.download=true to fetch it, or set data.root=PATH to the folder that holds {self.folder.split('/')[0]}"
            ) from err
        except OSError as err:  # no network, or a half-written file
            raise DataError(f"cannot read or download {self.name} into {self.root / self.folder}: {err}") from err
        images = torch.as_tensor(dataset.data)
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)  # (N, H, W[, C]) -> NCHW
        if len(images) == 0:
            raise DataError(f"{self.name} in {self.root / self.folder} holds no images; delete it and add data.download=true")
        return resize_uint8(images, self.image_size), torch.as_tensor(dataset.targets, dtype=torch.int64)


class MNISTDataModule(TorchvisionImages):
    name, dataset, folder, channels = "MNIST", datasets.MNIST, "MNIST/raw", 1
    expected = "train-images-idx3-ubyte, train-labels-idx1-ubyte and the t10k files"


class FashionMNISTDataModule(TorchvisionImages):
    name, dataset, folder, channels = "Fashion-MNIST", datasets.FashionMNIST, "FashionMNIST/raw", 1
    expected = "train-images-idx3-ubyte, train-labels-idx1-ubyte and the t10k files"


class CIFAR10DataModule(TorchvisionImages):
    name, dataset, folder, channels = "CIFAR-10", _CIFAR10, "cifar-10-batches-py", 3
    expected = "data_batch_1 ... data_batch_5 and batches.meta of the python version"
