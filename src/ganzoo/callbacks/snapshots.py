"""Every N generator iterations, on rank 0: a grid of the same fixed z (images) into samples/, or real vs
generated points over the critic's contour (toy data; a VAE's have no contour) into plots/; both also go to
TensorBoard and W&B. A model that encodes (O-GAN's critic, encoder=ogan; a VAE) also gets grids of
reconstructions (each original beside its reconstruction) and interpolations between real images. A conditional
generator's grid draws the classes in turn, and a class grid beside it has one row per class (the first 10) over
the same 8 fixed z."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch
import torchvision.utils as vutils
from lightning.pytorch.utilities import rank_zero_only
from PIL import Image

from ganzoo.loggers import GanzooLogger
from ganzoo.plots import toy_plot
from ganzoo.storage import written_whole


class SampleSnapshots(L.Callback):
    def __init__(self, every_n_steps: int = 500, n_points: int = 1000):
        self.every_n_steps = int(every_n_steps)
        self.n_points = int(n_points)
        self.last_step = -1

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            self.snapshot(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if trainer.global_step != self.last_step:  # unless the last step already had its snapshot
            self.snapshot(trainer, pl_module)

    @rank_zero_only
    def snapshot(self, trainer, pl_module) -> None:
        run_dir = Path(trainer.default_root_dir)
        step = self.last_step = trainer.global_step
        if not trainer.datamodule.is_image_data:
            real = trainer.datamodule.real_samples(self.n_points, torch.Generator().manual_seed(0))
            fake = pl_module.sample(self.n_points, seed=step).cpu()  # leaves training's RNG alone
            path = toy_plot(real, fake, pl_module.surface(), run_dir / "plots" / f"toy_{step:06d}.png", f"step {step}")
            self.log_picture(trainer, "toy", path)
            return
        self.save_grid(trainer, "samples", pl_module.sample(len(pl_module.fixed_z), z=pl_module.fixed_z))
        if pl_module.conditional:
            self.save_grid(trainer, "classes", pl_module.class_grid(pl_module.fixed_z[:8]))
        if pl_module.encodes:
            real = trainer.datamodule.real_samples(16, torch.Generator().manual_seed(0)).to(pl_module.device)
            self.save_grid(trainer, "reconstruct", pair_up(real, pl_module.reconstruct(real)))
            self.save_grid(trainer, "interpolate", pl_module.interpolate(real[:4], real[4:8], points=8))

    def save_grid(self, trainer, name: str, images: torch.Tensor) -> None:
        """An 8-column grid into samples/<name>_<step>.png, and to TensorBoard or W&B when they log."""
        step = trainer.global_step
        grid = vutils.make_grid(images.cpu(), nrow=8, normalize=True, value_range=(-1, 1))
        prefix = "step" if name == "samples" else name
        path = Path(trainer.default_root_dir) / "samples" / f"{prefix}_{step:06d}.png"
        with written_whole(path) as file:  # a full disk leaves no half-written picture
            vutils.save_image(grid, file, format="png")
        self.show(trainer, name, grid.permute(1, 2, 0).numpy(), step)

    @classmethod
    def log_picture(cls, trainer, name: str, path: Path) -> None:
        """A picture already written to disk (a toy plot), to TensorBoard or W&B when they log."""
        with Image.open(path) as image:
            cls.show(trainer, name, np.asarray(image.convert("RGB")), trainer.global_step)

    @staticmethod
    def show(trainer, name: str, picture: np.ndarray, step: int) -> None:
        """To each of ganzoo's loggers that shows pictures (ganzoo/loggers.py, `log_picture`)."""
        for logger in trainer.loggers:
            if isinstance(logger, GanzooLogger):
                logger.log_picture(name, picture, step)


def pair_up(originals: torch.Tensor, reconstructions: torch.Tensor) -> torch.Tensor:
    """original, reconstruction, original, reconstruction, ...: side by side in a grid of even width."""
    return torch.stack([originals.to(reconstructions.device), reconstructions], dim=1).flatten(0, 1)

