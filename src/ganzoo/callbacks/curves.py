"""Keeps every logged train/ and val/ figure against generator iterations and plots them into
plots/curves.png (W estimate, losses, penalty, D outputs, and every val/* figure of the run's metrics), whatever
the logger.

Figures are kept as the device's tensors and read back (one wait for the device) only when plotted or
checkpointed: reading each as it is logged would make the host wait for the device every iteration."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_only

from ganzoo.plots import curves_plot


class TrainingCurves(L.Callback):
    def __init__(self, every_n_steps: int = 500):
        self.every_n_steps = int(every_n_steps)
        self.history: dict[str, tuple[list[int], list[float]]] = {}
        self.last_seen: dict[str, object] = {}
        self.plotted_step = -1
        self.pending: list[tuple[str, int, object]] = []  # (figure, step, tensor) not yet read back

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        for key, value in trainer.callback_metrics.items():
            # a figure is recorded when it was logged anew (a new tensor), not each step it stays on display
            if key.startswith(("train/", "val/")) and value is not self.last_seen.get(key):
                self.last_seen[key] = value
                self.pending.append((key, step, value.detach() if hasattr(value, "detach") else value))
        if step % self.every_n_steps == 0:
            self.read_back()
            self.plot(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        if trainer.global_step != self.plotted_step:  # unless the last step was just plotted
            self.read_back()
            self.plot(trainer)

    def read_back(self) -> None:
        for key, step, value in self.pending:
            steps, values = self.history.setdefault(key, ([], []))
            steps.append(step)
            values.append(float(value))
        self.pending = []

    @rank_zero_only
    def plot(self, trainer) -> None:
        self.plotted_step = trainer.global_step
        curves_plot(self.history, Path(trainer.default_root_dir) / "plots" / "curves.png")

    def state_dict(self) -> dict:
        self.read_back()
        return {"history": {k: [list(s), list(v)] for k, (s, v) in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: (list(s), list(v)) for k, (s, v) in state["history"].items()}
