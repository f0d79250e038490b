"""Every N generator iterations on the bundled digits: val/digits_classes, val/digits_confident, val/digits_tv and
val/digits_fid (metrics/digits.py), from `n` generated digits judged by ganzoo's digit classifier."""

from __future__ import annotations

import lightning as L

from ganzoo.callbacks.publish import publish
from ganzoo.metrics import EVAL_SEED
from ganzoo.metrics.digits import DigitJudge


class DigitFigures(L.Callback):
    def __init__(self, every_n_steps: int = 500, n: int = 1000):
        self.every_n_steps = int(every_n_steps)
        self.n = int(n)
        self.judge: DigitJudge | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not getattr(trainer.datamodule, "judged_by_digit_classifier", False):
            return
        step = trainer.global_step
        if step % self.every_n_steps == 0 or step >= trainer.max_steps:
            self.judge = self.judge or DigitJudge()
            fake = pl_module.sample(self.n, seed=EVAL_SEED)  # never touches training's RNG
            publish(trainer, {f"val/{name}": value for name, value in self.judge(fake).items()})
