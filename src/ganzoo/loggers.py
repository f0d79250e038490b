"""Lightning's CSV logger, except that a resumed run continues its metrics.csv instead of starting it over.

Lightning's writer deletes an existing metrics.csv when it starts. Here the rows are read first, and those that
the checkpointed run had logged by its checkpoint are written back before the first new row: training figures
of steps before the checkpoint's step G, and the callbacks' figures (val/*, logged without an epoch) of steps
up to G, since those were measured just before the checkpoint was saved. Rows after them came from iterations
the resumed run repeats, and are replaced by its own.
"""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class ContinuingWriter(ExperimentWriter):
    def __init__(self, log_dir: str, resume_step: int | None):
        self.resume_step = resume_step
        self.earlier: list[dict] = []
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        if self.resume_step is not None and self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.earlier = [row for row in csv.DictReader(file) if self.logged_before_checkpoint(row)]
        super()._check_log_dir_exists()  # deletes the file; its rows to keep are held in self.earlier

    def logged_before_checkpoint(self, row: dict) -> bool:
        step = int(float(row["step"]))
        return step < self.resume_step or (step == self.resume_step and not row.get("epoch"))

    def save(self) -> None:
        if self.earlier:
            keys = sorted(set().union(*self.earlier))
            with self._fs.open(self.metrics_file_path, "w", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=keys)
                writer.writeheader()
                writer.writerows(self.earlier)
            self.metrics_keys = keys
            self.earlier = []
        super().save()


class CSVLogger(LightningCSVLogger):
    """`continue_from(step)` before training keeps the rows of a resumed run (see the module docstring)."""

    resume_step: int | None = None

    def continue_from(self, step: int) -> None:
        self.resume_step = int(step)

    @property
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = ContinuingWriter(self.log_dir, self.resume_step)
        return self._experiment
