"""Stops a run whose weights stop being finite, before a checkpoint can keep them.

A diverged GAN (a learning rate too high, a penalty weight too low) turns its weights to inf or NaN and then
trains on noise for hours. After every generator iteration this guard computes, on the device, whether both nets
are finite, and reads that answer one iteration later, when the device has long computed it: reading it at once
would make the host wait for the device every iteration (a GPU would feel it). At the iterations that save a
checkpoint (every `every_n_steps`, and the last) it reads the answer at once, so the checkpoint that follows
never holds non-finite weights: Lightning runs checkpoint callbacks after all others, so the guard speaks first.
The error is one line naming the step and the last checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from ganzoo.errors import TrainingError


class DivergenceGuard(L.Callback):
    def __init__(self, every_n_steps: int = 500):
        self.every_n_steps = int(every_n_steps)
        self.pending: tuple[int, torch.Tensor] | None = None  # (step, one flag per net) not yet read
        self.names: list[str] = []  # the nets' names, in the flags' order

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.pending is not None:
            self.check(trainer, *self.pending)
        step = trainer.global_step
        nets = dict(pl_module.named_nets())
        self.names = list(nets)
        flags = torch.stack([torch.stack([p.isfinite().all() for p in net.parameters()]).all() for net in nets.values()])
        self.pending = (step, flags)
        if step % self.every_n_steps == 0 or step >= trainer.max_steps:
            self.check(trainer, *self.pending)

    def check(self, trainer, step: int, flags: torch.Tensor) -> None:
        self.pending = None
        finite = flags.tolist()
        if all(finite):
            return
        name = self.names[finite.index(False)]
        last = Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"
        kept = f"the last finite state is {last}" if last.is_file() else "no checkpoint was saved before it"
        raise TrainingError(
            f"training diverged at step {step}: the {name}'s weights are no longer finite; "
            f"{kept}; resume from it with ckpt_path= and lower optim.critic.lr and optim.generator.lr"
        )
