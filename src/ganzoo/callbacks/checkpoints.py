"""checkpoints/last.ckpt every N generator iterations, every M minutes, and at the end of training.

Lightning's ModelCheckpoint saves `last` every `every_n_train_steps`, but at the end of training only if it has
not saved one yet in this run: a 600-step run saving every 500 would end with the state of step 500. ganzoo's
last.ckpt always holds the final state of a run that ended normally or was stopped by a signal (a diverged run
keeps its last finite one).

The minutes rule is here rather than Lightning's `train_time_interval`: Lightning refuses both rules in one
callback, and under manual optimization (ganzoo's loop) its on_train_batch_end applies the step rule only.
"""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import ModelCheckpoint

from ganzoo.callbacks.ranks import largest_on_any_rank


class LastCheckpoint(ModelCheckpoint):
    def __init__(self, *args, minutes: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = 60 * minutes if minutes else None
        self.saved_at = time.monotonic()

    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self.saved_at = time.monotonic()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self._last_global_step_saved == trainer.global_step:  # the step rule saved this iteration
            self.saved_at = time.monotonic()
        elif self.seconds is not None and self.due(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
            self.saved_at = time.monotonic()

    def due(self, trainer) -> bool:
        """Whether the minutes have passed, on any rank: every rank asks at every step and all save together."""
        return bool(largest_on_any_rank(trainer, int(time.monotonic() - self.saved_at >= self.seconds)))

    def on_train_end(self, trainer, pl_module) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
