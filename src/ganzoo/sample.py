"""`python -m ganzoo.sample ckpt=PATH n=N out=FILE`: draw from a trained generator.

out=grid.png  an image grid (toy data: a scatter plot)
out=dir/      one PNG per sample (images only)
out=x.npz     raw samples under the key "samples" (images in [-1, 1] as (N, C, H, W), toy points as (N, 2));
out=x.npy     the same array alone
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torchvision.utils as vutils
from omegaconf import DictConfig

from ganzoo.checkpoint import load
from ganzoo.errors import ConfigError
from ganzoo.objectives import GANObjective
from ganzoo.plots import scatter_plot

GRID_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npz", ".npy")


def write_samples(module: GANObjective, n: int, out: str | Path) -> Path:
    """Draw n samples from `module` and write them to `out` in the format its suffix names."""
    if n < 1:
        raise ConfigError(f"n must be >= 1 (got {n})")
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix and suffix not in GRID_SUFFIXES + ARRAY_SUFFIXES:
        raise ConfigError(f"cannot write '{out}': end it in .png (grid), .npz or .npy (arrays), or / (a folder of PNGs)")
    points = len(module.data_shape) == 1
    if not suffix and points:
        raise ConfigError("toy points cannot be written as a folder of images; use out=points.png (scatter) or out=points.npz")
    samples = module.sample(n).cpu().float()
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


def run(cfg: DictConfig) -> Path:
    torch.manual_seed(int(cfg.seed))
    module = load(cfg.ckpt, map_location=cfg.device)
    path = write_samples(module, int(cfg.n), cfg.out)
    print(f"ganzoo: wrote {cfg.n} samples to {path}")
    return path


def main() -> None:
    from ganzoo.cli import run_entry

    run_entry(run, config_name="sample")


if __name__ == "__main__":
    main()
