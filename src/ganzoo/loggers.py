"""ganzoo's loggers: Lightning's CSV, TensorBoard and W&B loggers, each continuing its run on resume, W&B's made for
GAN runs and sweeps, and the one loop that builds them from the logger group.

The logger group is a dict of `_target_` nodes (conf/logger: `logger=csv`, `logger=[csv,wandb]`; a null entry is
switched off). Each is made by `instantiation.make`; what a run needs of a logger beyond Lightning's `Logger` is
asked of its class (`GanzooLogger`), never decided by its name: the settings that continue a checkpointed run's
logs, the settings a sweep's job run in a process of its own must be given, what a checkpoint keeps for it, and
how it shows a picture.

CSV: a resumed run continues its metrics.csv instead of starting it over.

Lightning's writer deletes an existing metrics.csv when it starts. On resume it is read instead, and left as it
is until the first save replaces it with the rows that the checkpointed run had logged by its checkpoint: training
figures of steps before the checkpoint's step G, and the callbacks' figures (val/*, logged without an epoch) of
steps up to G, since those were measured just before the checkpoint was saved. Rows after them came from
iterations the resumed run repeats, and are replaced by its own.

metrics.csv is never left half-written (ganzoo/storage.py): a rewrite (the rows kept on resume, a new figure's
header) replaces it whole, and rows appended when the disk fills are cut back to the last whole one.
"""

from __future__ import annotations

import csv
import os
from contextlib import suppress
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from hydra.utils import get_class
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import Logger
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.utilities import rank_zero_only

from ganzoo.instantiation import make
from ganzoo.storage import whole_lines, written_whole


class GanzooLogger:
    """What ganzoo asks of a logger beyond Lightning's `Logger`; each of ganzoo's loggers overrides what it needs.
    A logger of another package (any Lightning `Logger` by its `_target_`) runs too, without these."""

    @classmethod
    def resumed(cls, checkpoint: dict) -> dict:
        """Constructor settings that continue the checkpointed run's logs (`checkpoint`: the file's content)."""
        return {}

    @classmethod
    def sweep_job(cls, node: Mapping) -> dict:
        """In a Hydra multirun job: the settings that file this job's logs as the sweep's (a DDP job runs apart, as
        a plain run: ganzoo/sweep_job.py passes them on its command line)."""
        return {}

    def checkpoint_state(self) -> dict:
        """Entries for the checkpoint's `ganzoo` entry that `resumed` reads back."""
        return {}

    def log_picture(self, name: str, picture: np.ndarray, step: int) -> None:
        """A picture (height x width x 3, floats in [0, 1] or bytes), where the logger shows pictures."""

    @classmethod
    def log_sweep_summary(cls, node: Mapping, sweep_dir: Path, columns: list[str], rows: list[dict]) -> None:
        """At the end of a multirun: the sweep's table (and sweep_summary.png, if drawn), where the logger shows it."""


def enabled(nodes: Mapping | None) -> dict[str, Mapping]:
    """The logger group's entries that are switched on (a node with a `_target_`; null is off), by name."""
    return {str(name): node for name, node in (nodes or {}).items() if isinstance(node, Mapping) and "_target_" in node}


def ganzoo_class(node: Mapping) -> type[GanzooLogger]:
    """The node's logger class if it is one of ganzoo's, else `GanzooLogger` (whose answers are all 'nothing')."""
    cls = get_class(node["_target_"])
    return cls if issubclass(cls, GanzooLogger) else GanzooLogger


def build_loggers(nodes: Mapping | None, checkpoint: dict | None = None) -> list[Logger]:
    """One logger per switched-on entry of the logger group; with `checkpoint`, each continues that run's logs."""
    return [make(node, **(ganzoo_class(node).resumed(checkpoint) if checkpoint is not None else {}))
            for node in enabled(nodes).values()]


class ContinuingWriter(ExperimentWriter):
    def __init__(self, log_dir: str, resume_step: int | None):
        self.resume_step = resume_step
        self.earlier: list[dict] | None = None  # on resume, the rows to keep, until the first save writes them
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        if self.resume_step is None or not self._fs.isfile(self.metrics_file_path):
            return super()._check_log_dir_exists()  # a new run: Lightning deletes an earlier run's file
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            self.earlier = [row for row in csv.DictReader(file) if self.logged_before_checkpoint(row)]

    def logged_before_checkpoint(self, row: dict) -> bool:
        step = int(float(row["step"]))
        return step < self.resume_step or (step == self.resume_step and not row.get("epoch"))

    def save(self) -> None:
        with whole_lines(self.metrics_file_path):  # rows appended by Lightning: whole ones only
            if self.earlier is not None:  # the checkpointed run's file stays until this one replaces it
                keys = sorted(set().union(*self.earlier, *self.metrics))
                self.write_whole(keys, self.earlier)
                self.metrics_keys, self.earlier = keys, None
            super().save()

    def _rewrite_with_new_header(self, fieldnames: list[str]) -> None:
        """Lightning rewrites the file in place when a figure first appears; here the old one stays until the new
        one is whole."""
        with open(self.metrics_file_path, newline="") as file:
            rows = list(csv.DictReader(file))
        self.write_whole(fieldnames, rows)

    def write_whole(self, keys: list[str], rows: list[dict]) -> None:
        with written_whole(self.metrics_file_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)


class CSVLogger(LightningCSVLogger, GanzooLogger):
    """`resume_step`: keep the rows the checkpointed run had logged by this step (see the module docstring)."""

    def __init__(self, *args: Any, resume_step: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.resume_step = resume_step

    @classmethod
    def resumed(cls, checkpoint: dict) -> dict:
        return {"resume_step": int(checkpoint["global_step"])}

    @property
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = ContinuingWriter(self.log_dir, self.resume_step)
        return self._experiment

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if status != "failed":
            return super().finalize(status)
        with suppress(OSError):  # a failed run reports its own error, not a disk that fails again on the last rows
            super().finalize(status)


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


class TensorBoardLogger(LightningTensorBoardLogger, GanzooLogger):
    """Lightning's TensorBoard logger; on resume, SummaryWriter's purge_step drops what the stopped run logged from
    the checkpoint's step on, so that the curves continue with no step twice."""

    @classmethod
    def resumed(cls, checkpoint: dict) -> dict:
        return {"purge_step": int(checkpoint["global_step"])}

    @rank_zero_only
    def log_picture(self, name: str, picture: np.ndarray, step: int) -> None:
        self.experiment.add_image(name, picture, step, dataformats="HWC")


class WandbLogger(LightningWandbLogger, GanzooLogger):
    """Lightning's W&B logger, with
    - the run's composed config flattened (`loss._target_`, `constraint.gp.weight` ...), so that W&B's run table
      filters and groups on any key, and tags from its objective, model and data;
    - in a Hydra multirun, each job a run of its own, grouped by the sweep directory and named by the job's
      overrides: the run is finished when the job ends (Lightning's logger leaves it open, and the next job in the
      same process would log into it);
    - on resume, the checkpointed run's id (kept in the checkpoint as `wandb_id`), so that it logs into that run.
    Every figure's step axis is Lightning's `trainer/global_step`, which in ganzoo counts generator iterations."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **{**kwargs, **self.sweep_job(kwargs)})

    @classmethod
    def sweep_job(cls, node: Mapping) -> dict:
        job = multirun_job()  # grouped by the sweep directory, named by the job's overrides, unless set
        return {} if job is None else {"group": node.get("group") or job[0], "name": node.get("name") or job[1]}

    @classmethod
    def resumed(cls, checkpoint: dict) -> dict:
        run_id = checkpoint["ganzoo"].get("wandb_id")
        return {"id": run_id, "resume": "allow"} if run_id else {}

    def checkpoint_state(self) -> dict:
        return {"wandb_id": self.version} if self.version else {}

    @rank_zero_only
    def log_picture(self, name: str, picture: np.ndarray, step: int) -> None:
        if picture.dtype.kind == "f":  # wandb.Image casts floats to bytes as they are: [0, 1] would show black
            picture = (picture * 255 + 0.5).clip(0, 255).astype(np.uint8)  # as torchvision's save_image rounds
        self.log_image(name, [picture], step=step)

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

    @classmethod
    def log_sweep_summary(cls, node: Mapping, sweep_dir: Path, columns: list[str], rows: list[dict]) -> None:
        """The sweep table and plot as a W&B run of their own in the sweep's group (the jobs' group)."""
        import wandb

        offline = node.get("offline") or os.environ.get("WANDB_MODE") == "offline"
        run = wandb.init(project=node.get("project"), group=node.get("group") or str(sweep_dir), name="sweep summary",
                         job_type="sweep_summary", dir=str(sweep_dir), mode="offline" if offline else None)
        table = wandb.Table(columns=columns, data=[[row.get(n, "") for n in columns] for row in rows], allow_mixed_types=True)
        plot = sweep_dir / "sweep_summary.png"
        run.log({"sweep_summary": table, **({"sweep_plot": wandb.Image(str(plot))} if plot.is_file() else {})})
        run.finish()
