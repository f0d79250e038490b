"""What `python -m ganzoo.sample` does (its options are in ganzoo/sample.py): draw samples, reconstructions
or interpolations from a trained generator and write them as a grid, PNG files or arrays."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torchvision.utils as vutils
from omegaconf import DictConfig

from ganzoo.checkpoint import load
from ganzoo.errors import ConfigError
from ganzoo.objectives import GANTraining
from ganzoo.plots import scatter_plot

GRID_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npz", ".npy")


def write_samples(module: GANTraining, n: int, out: str | Path, **options) -> Path:
    """Draw n samples from `module` and write them to `out` in the format its suffix names; `options` are
    `module.sample`'s (raw, batch_norm)."""
    if n < 1:
        raise ConfigError(f"n must be >= 1 (got {n})")
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix and suffix not in GRID_SUFFIXES + ARRAY_SUFFIXES:
        raise ConfigError(f"cannot write '{out}': end it in .png (grid), .npz or .npy (arrays), or / (a folder of PNGs)")
    points = not module.draws_images
    if not suffix and points:
        raise ConfigError("toy points cannot be written as a folder of images; use out=points.png (scatter) or out=points.npz")
    samples = module.sample(n, **options).cpu().float()
    if suffix == ".npz":
        np.savez_compressed(_parent(out), samples=samples.numpy())
    elif suffix == ".npy":
        np.save(_parent(out), samples.numpy())
    elif suffix and points:
        scatter_plot(samples, out, f"{n} samples")
    elif suffix:
        vutils.save_image(samples, _parent(out), nrow=math.ceil(math.sqrt(n)), normalize=True, value_range=(-1, 1))
    else:
        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(samples):
            vutils.save_image(image, out / f"{i:06d}.png", normalize=True, value_range=(-1, 1))
    return out


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


MODES = ("sample", "reconstruct", "interpolate")


def read_images(folder: str | Path, n: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Up to n images from a folder (sorted by name), center square resized to shape (C, H, W), in [-1, 1];
    read the way the image-folder dataset reads its files."""
    from PIL import UnidentifiedImageError

    from ganzoo.data.base import to_unit_range
    from ganzoo.data.files import decode, image_files

    folder = Path(folder)
    files = image_files(folder) if folder.is_dir() else []
    if not files:
        raise ConfigError(f"no images in input={folder}; give a folder of PNG, JPEG or WebP files")
    images = []
    for path in files[:n]:
        try:
            images.append(decode(path, shape[1], shape[0]))
        except (OSError, UnidentifiedImageError) as err:
            raise ConfigError(f"cannot read {path} as an image ({err}); remove it from input") from err
    return to_unit_range(torch.stack(images))


def write_grid(images: torch.Tensor, out: str | Path, columns: int) -> Path:
    out = _parent(Path(out))
    vutils.save_image(images.cpu(), out, nrow=columns, normalize=True, value_range=(-1, 1))
    return out


def write_reconstructions(module: GANTraining, folder: str | Path, n: int, out: str | Path, **options) -> Path:
    from ganzoo.callbacks.snapshots import pair_up

    images = read_images(folder, n, module.data_shape)
    return write_grid(pair_up(images, module.reconstruct(images, **options)), out, columns=8)


def write_interpolations(module: GANTraining, folder: str | Path | None, pairs: int, points: int, out: str | Path,
                         **options) -> Path:
    if folder is None:
        z = torch.randn(2, pairs, module.z_dim)
        t = torch.linspace(0, 1, points).view(1, points, 1)
        line = (1 - t) * z[0][:, None] + t * z[1][:, None]
        return write_grid(module.sample(pairs * points, z=line.flatten(0, 1), **options), out, columns=points)
    images = read_images(folder, 2 * pairs, module.data_shape)
    if len(images) < 2:
        raise ConfigError(f"interpolation needs at least 2 images in input={folder}")
    half = len(images) // 2
    return write_grid(module.interpolate(images[:half], images[half : 2 * half], points, **options), out, columns=points)


def check_mode(module: GANTraining, mode: str, has_input: bool) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown mode '{mode}': choose one of {', '.join(MODES)}")
    if not module.draws_images and mode != "sample":
        raise ConfigError(f"mode={mode} needs an image model; this checkpoint draws 2-D points")
    needs_encoder = mode == "reconstruct" or (mode == "interpolate" and has_input)
    if needs_encoder and not module.encodes:
        objective = module.name
        raise ConfigError(
            f"mode={mode} with input images needs an encoder (train with encoder=ogan, loss=ogan or loss=vae); "
            f"this checkpoint is {objective} without one"
        )
    if mode == "reconstruct" and not has_input:
        raise ConfigError("mode=reconstruct needs input=FOLDER, the images to reconstruct")


def run(cfg: DictConfig) -> Path:
    if not cfg.ckpt:  # ckpt_path, or its old name ckpt (conf/sample.yaml)
        raise ConfigError("ckpt_path is required: the checkpoint to draw from; e.g. ckpt_path=outputs/.../checkpoints/last.ckpt")
    torch.manual_seed(int(cfg.seed))
    module = load(cfg.ckpt, map_location=cfg.device)
    # raw: the trained generator, not its average (runtime.ema); batch_norm: else the run's runtime.sample_batch_norm
    options = {"raw": bool(cfg.get("raw")), "batch_norm": cfg.get("batch_norm") or None}
    if cfg.get("class") is not None:  # a conditional generator's class (else every class in turn)
        options["y"] = int(cfg["class"])
    mode, folder = cfg.get("mode", "sample"), cfg.get("input")
    check_mode(module, mode, folder is not None)
    if mode == "reconstruct":
        path = write_reconstructions(module, folder, int(cfg.n), cfg.out, **options)
    elif mode == "interpolate":
        path = write_interpolations(module, folder, min(int(cfg.n), 8), int(cfg.points), cfg.out, **options)
    else:
        path = write_samples(module, int(cfg.n), cfg.out, **options)
    print(f"ganzoo: wrote {cfg.n} samples to {path}" if mode == "sample" else f"ganzoo: wrote the {mode} grid to {path}")
    return path
