"""A progress bar counted in generator iterations out of `steps`, with the W estimate beside it.

Lightning's bar counts batches, and one generator iteration draws n_critic of them; this one counts global_step.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import TQDMProgressBar


class GeneratorProgressBar(TQDMProgressBar):
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        super().on_train_epoch_start(trainer, pl_module)
        self.train_progress_bar.reset(total=trainer.max_steps)
        self.train_progress_bar.n = trainer.global_step
        self.train_progress_bar.set_description("steps")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if self.train_progress_bar is not None and self._should_update(step, trainer.max_steps):
            self.train_progress_bar.n = step
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            self.train_progress_bar.refresh()

    def get_metrics(self, trainer, pl_module) -> dict:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return {k.split("/")[-1]: v for k, v in metrics.items()}
