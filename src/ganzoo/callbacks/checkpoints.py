"""checkpoints/last.ckpt every N generator iterations and at the end of training.

Lightning's ModelCheckpoint saves `last` every `every_n_train_steps`, but at the end of training only if it has
not saved one yet in this run: a 600-step run saving every 500 would end with the state of step 500. ganzoo's
last.ckpt always holds the final state of a run that ended normally (a diverged run keeps its last finite one).
"""

from __future__ import annotations

from lightning.pytorch.callbacks import ModelCheckpoint


class LastCheckpoint(ModelCheckpoint):
    def on_train_end(self, trainer, pl_module) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
