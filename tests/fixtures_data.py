"""Tiny datasets written in each dataset's real on-disk format, for tests and the loader benchmark."""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def write_idx(root: Path, images: np.ndarray, folder: str = "MNIST") -> Path:
    """MNIST / Fashion-MNIST: uncompressed idx files in root/<folder>/raw, as torchvision leaves them (the test
    split holds the first image)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, part in (("train", images), ("t10k", images[:1])):
        n, h, w = part.shape
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">iiii", 0x803, n, h, w) + part.astype(np.uint8).tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 0x801, n) + bytes(n))
    return root


def write_cifar10(root: Path, images: np.ndarray) -> Path:
    """CIFAR-10 python version: five pickled batches of (n, 3072) rows (channel-major) and batches.meta.
    `images` is (N, 32, 32, 3) uint8, split over the five batches."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(images, 5), start=1):
        rows = part.transpose(0, 3, 1, 2).reshape(len(part), -1)
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({"data": rows, "labels": [0] * len(part)}, f)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": images[:1].transpose(0, 3, 1, 2).reshape(1, -1), "labels": [0]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    return root


def encoded(array: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, quality=95) if fmt != "PNG" else Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def random_images(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour images (JPEG-friendly), (n, h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(b).resize((w, h), Image.BILINEAR)) for b in base])


def write_celeba(root: Path, images: np.ndarray, layout: str = "celeba/img_align_celeba") -> Path:
    """CelebA's aligned JPEGs (000001.jpg ...), in torchvision's layout or any folder."""
    folder = root / layout
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images, start=1):
        (folder / f"{i:06d}.jpg").write_bytes(encoded(image))
    return root


def write_lsun(root: Path, images: np.ndarray, category: str = "bedroom", fmt: str = "WEBP") -> Path:
    """An LSUN lmdb export: root/<category>_train_lmdb, keys 40-hex-digit ids, values the encoded images."""
    import hashlib

    import lmdb

    location = root / f"{category}_train_lmdb"
    location.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(location), map_size=1 << 28)
    with env.begin(write=True) as txn:
        for i, image in enumerate(images):
            txn.put(hashlib.sha1(str(i).encode()).hexdigest().encode(), encoded(image, fmt))
    env.close()
    return location


def write_folder(root: Path, images: np.ndarray, corrupt: int = 0) -> Path:
    """A folder tree of PNG, JPEG and WebP images, plus `corrupt` files that are not images."""
    formats = [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")]
    for i, image in enumerate(images):
        fmt, suffix = formats[i % 3]
        folder = root / f"{i // 4:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:05d}.{suffix}").write_bytes(encoded(image, fmt))
    for i in range(corrupt):
        (root / f"broken{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    return root
