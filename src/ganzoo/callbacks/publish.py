"""How an evaluation callback reports its figures: straight to every logger at the current generator
iteration, and into trainer.callback_metrics for checkpoint selection, the progress bar and the summary.

(`LightningModule.log` from a callback hook would re-send the same value with every later step.)
"""

from __future__ import annotations

import torch


def publish(trainer, figures: dict[str, float]) -> None:
    step = trainer.global_step
    for logger in trainer.loggers:
        logger.log_metrics(figures, step=step)
    trainer.callback_metrics.update({name: torch.tensor(value) for name, value in figures.items()})
