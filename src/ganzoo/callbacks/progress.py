"""A progress bar counted in generator iterations out of `steps`, with the W estimate and the time left.

Lightning's bar counts batches, and one generator iteration draws n_critic of them; it also starts a new bar per
epoch, and ganzoo's single epoch is the whole run. This bar is made once, at the run's first step (a resumed run
starts where it stopped), and counts global_step.
"""

from __future__ import annotations

import sys

from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm


class GeneratorProgressBar(TQDMProgressBar):
    def init_train_tqdm(self) -> Tqdm:
        return Tqdm(
            desc="steps",
            total=self.trainer.max_steps,
            initial=self.trainer.global_step,
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stdout,
            smoothing=0,
            bar_format=self.BAR_FORMAT,  # n/total [elapsed<remaining, rate, W estimate]
        )

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        """Close the bar, so that the line the run ends with (ganzoo: error: ...) starts a line of its own."""
        if self._train_progress_bar is not None:
            self._train_progress_bar.close()

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        """Nothing: the bar made at the start of training covers the whole run."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if self.train_progress_bar is not None and self._should_update(step, trainer.max_steps):
            self.train_progress_bar.n = step
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            self.train_progress_bar.refresh()
        if self.train_progress_bar is not None and step >= trainer.max_steps:
            self.train_progress_bar.close()  # its last line ends here, before anything the run says at its end

    def get_metrics(self, trainer, pl_module) -> dict:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return {k.split("/")[-1]: v for k, v in metrics.items()}
