"""Large image datasets decoded by DataLoader workers: CelebA, LSUN (lmdb) and any folder of images (FFHQ ...).

Each image becomes a square of `image_size`, scaled to [-1, 1], by one of two pipelines (`data.pipeline`):
reference (the default): the shorter side resized to `image_size` (bilinear), then the center cropped, as the
WGAN code prepares LSUN and CelebA (torchvision's Scale then CenterCrop; here torchvision's resize and
center_crop), so that FIDs compare with statistics computed that way; fast: the center square cropped, then
resized bicubic, with JPEGs decoded at a reduced scale when that is still at least `image_size` (PIL's draft
mode), several times faster on CelebA and LSUN and sharper (benchmarks/decode_pipelines.py).

Sampling is ganzoo's own: `EndlessSampler` walks one stream of global batches, a fresh permutation per pass
seeded by data.seed alone, and each DDP rank keeps its own slice of every global batch, so the stream never ends
and ranks draw different images (conf/trainer/default.yaml turns off Lightning's DistributedSampler, which would
make it finite).

A folder whose images all lie in subfolders of its top level is a labelled dataset, one class per subfolder in
sorted order (torchvision's ImageFolder convention); batches then carry each image's class. Workers are persistent and batches go to pinned memory.

An image that cannot be decoded is replaced by the next one in the dataset and flagged, so that it is counted once
however often it is drawn and never decoded again; the count is reported once, when training ends.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from ganzoo.batch import Batch
from ganzoo.data.base import GANDataModule, check_min_image_size, shuffled_batches, to_unit_range
from ganzoo.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PIPELINES = ("reference", "fast")


def decode(source: str | bytes, image_size: int, channels: int, pipeline: str = "reference") -> torch.Tensor:
    """An image file (path) or its bytes -> uint8 (channels, image_size, image_size) by `pipeline` (see above)."""
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        mode = "L" if channels == 1 else "RGB"
        if pipeline == "reference":
            image = image.convert(mode)
            image = TF.resize(image, image_size, InterpolationMode.BILINEAR)  # the shorter side to image_size
            image = TF.center_crop(image, image_size)
        else:
            image.draft(mode, (image_size, image_size))  # JPEG: decode at 1/2, 1/4, 1/8 scale if still big enough
            image = image.convert(mode)
            w, h = image.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            image = image.resize((image_size, image_size), Image.BICUBIC, box=(left, top, left + side, top + side))
        array = np.asarray(image)
    return torch.from_numpy(array.copy()).view(image_size, image_size, -1).permute(2, 0, 1)


class DecodedImages(Dataset):
    """Map-style dataset over a list of sources; an undecodable one is replaced by the next and flagged."""

    def __init__(self, store: "ImageStore", image_size: int, channels: int, pipeline: str = "reference"):
        self.store, self.image_size, self.channels, self.pipeline = store, image_size, channels, pipeline
        # One flag per source in shared memory, inherited by the DataLoader workers (1 byte an image: 3 MB for LSUN).
        self.unreadable = multiprocessing.Array("b", len(store), lock=False)

    def unreadable_count(self) -> int:
        return int(np.frombuffer(self.unreadable, dtype=np.int8).sum())

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """The image and its class (-1 without classes); an unreadable image's successor with its own class."""
        for offset in range(len(self.store)):
            i = (index + offset) % len(self.store)
            if self.unreadable[i]:
                continue
            try:
                image = decode(self.store.read(i), self.image_size, self.channels, self.pipeline)
                return image, (-1 if self.store.labels is None else self.store.labels[i])
            except (OSError, SyntaxError, ValueError, KeyError, Image.DecompressionBombError):
                # what PIL raises on a truncated, corrupt or unknown file; KeyError: an lmdb key without a value
                self.unreadable[i] = 1
        raise DataError(f"none of the {len(self.store)} images in {self.store.location} can be decoded")


def collate(items: list[tuple[torch.Tensor, int]]) -> Batch:
    images, labels = zip(*items)
    return Batch(to_unit_range(torch.stack(images)), None if labels[0] < 0 else torch.tensor(labels))


class EndlessSampler(Sampler[int]):
    """Random indices forever, a fresh permutation each pass (evaluated in the main process). The stream is the
    same on every DDP rank; of each global batch (world x batch_size indices) a rank yields its own slice. The
    first `skip` global batches are passed over (a resumed run's images already seen), without decoding them."""

    def __init__(self, size: int, seed: int, batch_size: int, skip: int = 0, rank: int = 0, world: int = 1):
        self.size, self.seed, self.batch_size, self.skip = size, seed, batch_size, skip
        self.rank, self.world = rank, world

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed)
        width = self.batch_size * self.world
        skip, pending = self.skip * width, []
        while True:
            order = torch.randperm(self.size, generator=generator).tolist()
            pending += order[skip:]
            skip = max(0, skip - self.size)
            while len(pending) >= width:
                yield from pending[self.rank * self.batch_size : (self.rank + 1) * self.batch_size]
                del pending[:width]


class ImageStore:
    """Where the images are: `len`, `read(i)` (a path or the encoded bytes) and `location` for messages; `labels`,
    the class of each image, where the store has classes."""

    location: Path
    labels: list[int] | None = None
    num_classes: int | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def read(self, index: int) -> str | bytes:
        raise NotImplementedError


class FileList(ImageStore):
    def __init__(self, location: Path, files: list[str], classes: list[str] | None = None):
        """`classes`: the class folders' names; each file is then labelled by the first folder of its path."""
        self.location, self.files = location, files
        if classes:
            index = {name: i for i, name in enumerate(classes)}
            self.labels = [index[Path(f).relative_to(location).parts[0]] for f in files]
            self.num_classes = len(classes)

    def __len__(self) -> int:
        return len(self.files)

    def read(self, index: int) -> str:
        return self.files[index]


def image_files(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[str]:
    """Every image file under `folder`, recursively, in a fixed (sorted) order."""
    found = []
    for parent, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        found += [os.path.join(parent, n) for n in sorted(names) if n.lower().endswith(suffixes)]
    return found


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, cores - 1))


class ImageFilesDataModule(GANDataModule):
    """Subclasses define `store()`, which finds the images or raises DataError saying how to get them."""

    name = "images"

    def __init__(self, root: str, image_size: int = 64, channels: int = 3, batch_size: int = 64,
                 num_workers: int | None = None, seed: int = 0, pipeline: str = "reference"):
        super().__init__(batch_size, seed)
        if pipeline not in PIPELINES:
            raise ConfigError(f"unknown data.pipeline '{pipeline}': choose one of {', '.join(PIPELINES)}")
        self.pipeline = pipeline
        self.root = Path(root).expanduser().absolute()  # messages name the folder looked in, wherever the run started
        self.image_size, self.channels = int(image_size), int(channels)
        self.num_workers = default_workers() if num_workers is None else int(num_workers)
        self.shape = (self.channels, self.image_size, self.image_size)
        self.dataset: DecodedImages | None = None
        self.reported = False

    def store(self) -> ImageStore:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is None:
            check_min_image_size(self.image_size, self.name)
            if self.channels not in (1, 3):
                raise ConfigError(f"data.channels must be 1 (grayscale) or 3 (RGB), got {self.channels}")
            store = self.store()
            if len(store) < self.batch_size:
                raise ConfigError(f"data.batch_size {self.batch_size} exceeds the {len(store)} images in {store.location}")
            self.dataset = DecodedImages(store, self.image_size, self.channels, self.pipeline)
            self.num_classes = store.num_classes

    def train_dataloader(self) -> DataLoader:
        self.setup()
        workers = self.num_workers
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=EndlessSampler(len(self.dataset), self.seed, self.batch_size, self.batches_to_skip, *self.share()),
            collate_fn=collate,
            drop_last=True,
            num_workers=workers,
            pin_memory=self.training_device().type == "cuda",
            persistent_workers=workers > 0,
            prefetch_factor=4 if workers > 0 else None,
        )

    def batches(self, generator: torch.Generator, skip: int = 0, size: int | None = None) -> Iterator[Batch]:
        """A stream of the same kind in this process, without workers (for benchmarks and scripts)."""
        self.setup()
        for batch in shuffled_batches(torch.arange(len(self.dataset)), size or self.batch_size, generator, skip):
            yield collate([self.dataset[i] for i in batch.tolist()])

    def real_samples(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.setup()
        order = torch.randperm(len(self.dataset), generator=generator)[:n].tolist()
        return collate([self.dataset[i] for i in order]).x

    def report_skipped(self) -> None:
        """Warn once about the images that could not be decoded."""
        skipped = self.dataset.unreadable_count() if self.dataset is not None else 0
        if skipped and not self.reported:
            self.reported = True
            warnings.warn(f"skipped {skipped} unreadable or corrupt image(s) in {self.dataset.store.location}")

    def teardown(self, stage: str | None = None) -> None:
        if self.trainer is None or self.trainer.is_global_zero:
            self.report_skipped()


def class_folders(root: Path, files: list[str]) -> list[str] | None:
    """The sorted names of the top-level subfolders when every image lies in one of them; else None."""
    tops = [Path(f).relative_to(root).parts for f in files]
    if any(len(parts) < 2 for parts in tops):
        return None
    return sorted({parts[0] for parts in tops})


class FolderDataModule(ImageFilesDataModule):
    """Any folder tree of PNG, JPEG or WebP images, e.g. FFHQ's images1024x1024. Images all in top-level
    subfolders are labelled by subfolder (FFHQ's thousand-image folders too: a run whose nets take no labels
    never reads them)."""

    name = "folder"

    def store(self) -> ImageStore:
        if not self.root.is_dir():
            raise DataError(f"image folder {self.root} does not exist; set data.root=PATH to a folder of PNG/JPEG/WebP images")
        files = image_files(self.root)
        if not files:
            raise DataError(f"no PNG/JPEG/WebP images under {self.root}; set data.root=PATH to a folder of images")
        return FileList(self.root, files, class_folders(self.root, files))


class CelebADataModule(ImageFilesDataModule):
    """The aligned-and-cropped CelebA images (img_align_celeba, 202,599 JPEGs of 178x218)."""

    name = "CelebA"
    # torchvision's layout first, then a bare img_align_celeba folder, then data.root itself
    LAYOUTS = ("celeba/img_align_celeba", "img_align_celeba", ".")

    def store(self) -> ImageStore:
        for layout in self.LAYOUTS:
            folder = (self.root / layout).resolve()
            files = image_files(folder, (".jpg", ".jpeg", ".png")) if folder.is_dir() else []
            if files:
                return FileList(folder, files)
        raise DataError(
            f"no CelebA images in {self.root} (expected {self.root}/celeba/img_align_celeba/*.jpg or a folder of the "
            f"JPEGs); download img_align_celeba.zip from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html and unzip it "
            f"there, or set data.root=PATH to the folder that holds it"
        )


_OPEN_LMDB: dict[tuple[int, str], object] = {}


def open_lmdb(location: Path):
    """The process's read-only handle on an lmdb (lmdb allows one per process and path, and none may cross a
    fork: a DataLoader worker opens its own)."""
    import lmdb

    key = (os.getpid(), str(location))
    if key not in _OPEN_LMDB:
        for inherited in [k for k in _OPEN_LMDB if k[1] == key[1]]:  # the parent's handle, after a fork
            _OPEN_LMDB.pop(inherited).close()
        _OPEN_LMDB[key] = lmdb.open(str(location), readonly=True, lock=False, readahead=False, meminit=False, max_readers=64)
    return _OPEN_LMDB[key]


class LMDBStore(ImageStore):
    """An LSUN lmdb export: keys are image ids, values the encoded images (WebP or JPEG). The list of keys is
    cached next to the database (`<db>.keys`, one hex key per line), so only the first start walks the lmdb."""

    def __init__(self, location: Path):
        self.location = location
        env = open_lmdb(location)
        self.keys = self.cached_keys(env.stat()["entries"])
        if self.keys is None:
            with env.begin(write=False) as txn:
                self.keys = [key for key in txn.cursor().iternext(keys=True, values=False)]
            self.write_cache()

    @property
    def cache_path(self) -> Path:
        return self.location.with_name(self.location.name + ".keys")

    def cached_keys(self, entries: int) -> list[bytes] | None:
        try:
            keys = [bytes.fromhex(line) for line in self.cache_path.read_text().split()]
        except (OSError, ValueError):
            return None
        return keys if len(keys) == entries else None  # a stale cache (the database changed) is rebuilt

    def write_cache(self) -> None:
        try:
            tmp = self.cache_path.with_suffix(".keys.tmp")
            tmp.write_text("".join(key.hex() + "\n" for key in self.keys))
            tmp.replace(self.cache_path)
        except OSError as err:  # a read-only dataset folder: every start lists the keys again
            warnings.warn(f"cannot cache the LSUN key list at {self.cache_path} ({err}); each start will list the keys")

    def __len__(self) -> int:
        return len(self.keys)

    def read(self, index: int) -> bytes:
        with open_lmdb(self.location).begin(write=False, buffers=False) as txn:
            value = txn.get(self.keys[index])
        if value is None:
            raise KeyError(self.keys[index])
        return value


class LSUNDataModule(ImageFilesDataModule):
    """One LSUN scene category from the lmdb exports the LSUN project distributes (<category>_<split>_lmdb)."""

    name = "LSUN"

    def __init__(self, root: str, category: str = "bedroom", split: str = "train", **kwargs):
        super().__init__(root, **kwargs)
        self.category, self.split = str(category), str(split)

    def store(self) -> ImageStore:
        location = self.root / f"{self.category}_{self.split}_lmdb"
        if not (location / "data.mdb").is_file():
            raise DataError(
                f"no LSUN lmdb at {location} (expected data.mdb from {self.category}_{self.split}_lmdb.zip); download it "
                f"with the LSUN project's download.py -c {self.category} (https://github.com/fyu/lsun) and unzip it in {self.root}, "
                f"or set data.root=PATH to the folder that holds {location.name}"
            )
        store = LMDBStore(location)
        if len(store) == 0:
            raise DataError(f"the LSUN lmdb at {location} holds no images; download {self.category} again")
        return store
