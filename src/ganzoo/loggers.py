"""ganzoo's loggers: Lightning's CSV logger continuing metrics.csv on resume, and Lightning's W&B logger made for
GAN runs and sweeps.

CSV: a resumed run continues its metrics.csv instead of starting it over.

Lightning's writer deletes an existing metrics.csv when it starts. Here the rows are read first, and those that
the checkpointed run had logged by its checkpoint are written back before the first new row: training figures
of steps before the checkpoint's step G, and the callbacks' figures (val/*, logged without an epoch) of steps
up to G, since those were measured just before the checkpoint was saved. Rows after them came from iterations
the resumed run repeats, and are replaced by its own.
"""

from __future__ import annotations

import csv
from typing import Any, Mapping

from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.utilities import rank_zero_only


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


def flatten(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"constraint": {"gp": {"weight": 10}}} -> {"constraint.gp.weight": 10}."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def run_tags(config: Mapping) -> list[str]:
    """The objective, model and data of a run config, e.g. WGANGP, dcgan, digits."""
    loss, model, data = (config.get(group) or {} for group in ("loss", "model", "data"))
    objective = str(loss.get("_target_", "")).rsplit(".", 1)[-1]  # ganzoo.objectives.wgan.WGAN -> WGAN
    builder = str(model.get("_target_", "")).split(".")
    architecture = builder[-2] if len(builder) > 1 else builder[0]  # ganzoo.models.dcgan.build -> dcgan
    dataset = data.get("name") or str(data.get("_target_", "")).rsplit(".", 1)[-1].removesuffix("DataModule").lower()
    return [tag for tag in (objective, architecture, str(dataset)) if tag]


def multirun_job() -> tuple[str, str] | None:
    """In a Hydra multirun job: (the sweep directory, the job's overrides as one string); else None."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    hydra = HydraConfig.get()
    return str(hydra.sweep.dir), ",".join(hydra.overrides.task) or str(hydra.job.num)


class WandbLogger(LightningWandbLogger):
    """Lightning's W&B logger, with
    - the run's composed config flattened (`loss._target_`, `constraint.gp.weight` ...), so that W&B's run table
      filters and groups on any key, and tags from its objective, model and data;
    - in a Hydra multirun, each job a run of its own, grouped by the sweep directory and named by the job's
      overrides: the run is finished when the job ends (Lightning's logger leaves it open, and the next job in the
      same process would log into it).
    Every figure's step axis is Lightning's `trainer/global_step`, which in ganzoo counts generator iterations."""

    def __init__(self, *args: Any, **kwargs: Any):
        job = multirun_job()
        if job is not None:
            kwargs["group"] = kwargs.get("group") or job[0]
            kwargs["name"] = kwargs.get("name") or job[1]
        super().__init__(*args, **kwargs)

    @rank_zero_only
    def log_hyperparams(self, params: Mapping) -> None:
        params = dict(params)
        self.experiment.config.update(flatten(params), allow_val_change=True)
        self.experiment.tags = tuple(dict.fromkeys([*(self.experiment.tags or ()), *run_tags(params)]))

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        if self._experiment is not None:
            self._experiment.finish(exit_code=0 if status == "success" else 1)
