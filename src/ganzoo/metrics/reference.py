"""The real side of FID and KID: features of a dataset's images, computed once per dataset, image size, sample
count and feature extractor, and cached on disk for later runs; or the images of a folder, read as
torch-fidelity reads them (PNG, JPEG or WebP; sorted paths, PIL convert("RGB"), no resizing)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Iterable, Iterator

import torch
from torch.utils.data import DataLoader
from torch_fidelity.datasets import ImagesPathDataset, TransformPILtoRGBTensor
from torch_fidelity.utils import glob_samples_paths
from tqdm import tqdm

from ganzoo.data.files import IMAGE_SUFFIXES
from ganzoo.errors import DataError

REAL_SEED = 12345  # which real images are drawn; fixed so that the cache and every run use the same ones
DEFAULT_CACHE = "~/.cache/ganzoo/reference"


def data_identity(datamodule) -> dict:
    """What makes a datamodule's images what they are: its class and settings, minus batching and seeds."""
    skip = {"batch_size", "seed", "num_workers"}
    settings = {
        k: v
        for k, v in sorted(vars(datamodule).items())
        if not k.startswith("_") and k not in skip and isinstance(v, (bool, int, float, str)) and not hasattr(type(datamodule), k)
    }
    return {"class": f"{type(datamodule).__module__}.{type(datamodule).__qualname__}", "shape": list(datamodule.shape), **settings}


def cache_path(cache_dir: str | Path, datamodule, n: int, extractor_identity: str) -> Path:
    key = {"data": data_identity(datamodule), "n": n, "extractor": extractor_identity, "real_seed": REAL_SEED}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    name = type(datamodule).__name__.removesuffix("DataModule").lower()
    size = "x".join(str(s) for s in datamodule.shape)
    return Path(cache_dir).expanduser() / f"{name}_{size}_n{n}_{digest}.pt"


def in_progress(batches: Iterable[torch.Tensor], images: int, batch_size: int, what: str, shown: bool = True) -> Iterator[torch.Tensor]:
    """The batches, with a progress bar in images (a metrics pass on 10,000 images takes minutes on a CPU)."""
    with tqdm(total=images, desc=what, unit="img", leave=False, file=sys.stdout, disable=not shown) as bar:
        for batch in batches:
            yield batch
            bar.update(len(batch))


def dataset_features(metrics, datamodule, n: int, batch_size: int, cache_dir: str | Path | None, write: bool = True,
                     progress: bool = False) -> tuple[torch.Tensor, str]:
    """Pool features of n real images of `datamodule`, from the cache when there; returns (features, source).

    `write` is False on every rank but 0, so that one process alone writes the file; `progress` shows a bar."""
    path = cache_path(cache_dir, datamodule, n, metrics.settings()["feature_extractor"]) if cache_dir else None
    if path is not None and path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)["features"], str(path)
    real = datamodule.real_samples(n, torch.Generator().manual_seed(REAL_SEED))
    features = metrics.features(in_progress(real.split(batch_size), len(real), batch_size, "reference features", progress))
    if path is not None and write:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        torch.save({"features": features, "data": data_identity(datamodule), "n": len(features)}, partial)
        partial.replace(path)  # never a half-written cache file
    return features, str(path) if path else "computed"


def folder_images(path: str | Path) -> ImagesPathDataset:
    """The images directly inside `path`, as torch-fidelity reads a folder input (uint8 RGB tensors)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}; pass a folder of .png/.jpg/.webp files (e.g. from ganzoo.sample out=dir/)")
    files = glob_samples_paths(str(folder), False, ",".join(s.lstrip(".") for s in IMAGE_SUFFIXES), verbose=False)
    if not files:
        raise DataError(f"no .png/.jpg/.webp images in {folder}")
    return ImagesPathDataset(files, TransformPILtoRGBTensor())


def folder_batches(images: ImagesPathDataset, batch_size: int, n: int | None = None) -> Iterator[torch.Tensor]:
    """Batches of the first n images (all when n is None), in torch-fidelity's order."""
    if n is not None and n < len(images):
        images = torch.utils.data.Subset(images, range(n))
    return iter(DataLoader(images, batch_size=batch_size, shuffle=False, num_workers=0))
