"""Every N generator iterations on toy data: val/modes and val/hq (mixtures of Gaussians) and val/w1, each
from `n` generated points against `n` real points drawn once per run."""

from __future__ import annotations

import lightning as L
import torch

from ganzoo.callbacks.publish import publish
from ganzoo.metrics import EVAL_SEED
from ganzoo.metrics.reference import REAL_SEED
from ganzoo.metrics.toy import exact_w1, mode_figures


class ToyFigures(L.Callback):
    def __init__(self, every_n_steps: int = 500, n: int = 1000):
        self.every_n_steps = int(every_n_steps)
        self.n = int(n)
        self.real: torch.Tensor | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.datamodule.is_image_data:
            return
        step = trainer.global_step
        if step % self.every_n_steps == 0 or step >= trainer.max_steps:
            publish(trainer, {f"val/{name}": value for name, value in self.figures(trainer, pl_module).items()})

    def figures(self, trainer, pl_module) -> dict[str, float]:
        datamodule = trainer.datamodule
        if self.real is None:
            self.real = datamodule.real_samples(self.n, torch.Generator().manual_seed(REAL_SEED))
        fake = pl_module.sample(self.n, seed=EVAL_SEED).cpu().float()  # never touches training's RNG
        figures = {"w1": exact_w1(fake, self.real)}
        if datamodule.modes() is not None:
            figures.update(mode_figures(fake, *datamodule.modes()))
        return figures
