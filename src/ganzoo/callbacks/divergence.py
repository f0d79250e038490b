"""Stops a run whose weights stop being finite, before a checkpoint can keep them.

A diverged GAN (a learning rate too high, a penalty weight too low) turns its weights to inf or NaN and then
trains on noise for hours. After every generator iteration this guard checks both nets (one device sync) and
ends the run with a one-line error naming the step and the last checkpoint, which still holds finite weights:
Lightning runs checkpoint callbacks after all others, so the guard speaks first.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from ganzoo.errors import TrainingError


class DivergenceGuard(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        for name in ("generator", "critic"):
            net = getattr(pl_module, name)
            if not torch.stack([torch.isfinite(p).all() for p in net.parameters()]).all():
                last = Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"
                kept = f"the last finite state is {last}" if last.is_file() else "no checkpoint was saved before it"
                raise TrainingError(
                    f"training diverged at step {trainer.global_step}: the {name}'s weights are no longer finite; "
                    f"{kept}; resume from it with ckpt_path= and lower optim.critic.lr and optim.generator.lr"
                )
