"""Every metric the `metrics` config names and the data allow (metrics/registry.py: toy figures, the digit
classifier's, FID/IS/KID, a user's own), each every `every_n_steps` generator iterations of its own and at the
last step; the figures logged as val/<figure>, and time/metrics_s, the seconds the evaluation took.

Samples come from z of their own seed (`pl_module.sample(n, seed=EVAL_SEED)`), never from training's random
stream, so how often a run evaluates cannot change what it trains."""

from __future__ import annotations

import time

import lightning as L
from omegaconf import DictConfig

from ganzoo.callbacks.publish import publish
from ganzoo.metrics.registry import Metric, Run, applies, build_metrics, main_figure


class Evaluation(L.Callback):
    def __init__(self, metrics: DictConfig | dict | None = None):
        self.metrics: list[Metric] = build_metrics(metrics)
        self.main: str | None = (metrics or {}).get("main")
        self.running: list[Metric] = []  # those that apply to the run's data
        self.kept: dict = {}  # what the metrics build once (networks, real samples), across evaluations

    def main_figure(self, datamodule, module=None) -> tuple[str, int] | None:
        """The figure the best checkpoint follows, and the steps it is measured at (see registry.main_figure)."""
        return main_figure(self.metrics, self.main, datamodule, module)

    def run(self, trainer, pl_module, due: list[Metric]) -> Run:
        return Run(pl_module, trainer.datamodule, pl_module.device, trainer.global_step, rank=trainer.global_rank,
                   world=trainer.world_size, due=due, kept=self.kept)

    def setup(self, trainer, pl_module, stage: str) -> None:
        self.running = [m for m in self.metrics if applies(m, trainer.datamodule, pl_module)]
        for metric in self.running:
            metric.prepare(self.run(trainer, pl_module, self.running))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        due = [m for m in self.running if m.due(step, trainer.max_steps)]
        if not due:
            return
        started = time.perf_counter()
        run = self.run(trainer, pl_module, due)
        figures = {}
        for metric in due:
            measured = metric.measure(run)
            figures.update({f"val/{name}": measured[name] for name in metric.figures})
        publish(trainer, figures)
        for logger in trainer.loggers:  # a time, not a figure of the model: loggers only, not the summary
            logger.log_metrics({"time/metrics_s": time.perf_counter() - started}, step=step)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for metric in self.running:
            metric.release(self.run(trainer, pl_module, self.running))
