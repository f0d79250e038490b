"""A DDP job of a Hydra multirun runs as its own `python -m ganzoo.train` process.

Lightning starts DDP ranks by running the current command again (its subprocess launcher). In a sweep that
command is the whole sweep: each rank would run every job again. So a sweep job with a DDP strategy is handed to
a fresh plain run with the job's own overrides, in the job's directory; Lightning starts that run's ranks as it
does for any single run, and the job returns the summary.json its rank 0 wrote, so that the sweep table, Optuna
and W&B (one run per job, grouped by the sweep) see it as they see any other job. This costs one interpreter
start per job. Jobs that train in one process run inside the sweep's process, as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Mapping

from omegaconf import DictConfig

from ganzoo.errors import TrainingError


def runs_ranks(strategy: Mapping | str | None) -> bool:
    """Whether a trainer's strategy (a node with its `_target_`, or a name in Lightning's registry: "ddp_spawn",
    "fsdp") trains in one process per device: Lightning's ParallelStrategy (DDP, FSDP, DeepSpeed). "auto" and
    single-device strategies train in this process."""
    from hydra.utils import get_class
    from lightning.pytorch.strategies import ParallelStrategy, StrategyRegistry

    if isinstance(strategy, Mapping):
        cls = get_class(strategy["_target_"])
    elif strategy in StrategyRegistry:
        cls = StrategyRegistry[strategy]["strategy"]
    else:
        return False
    return issubclass(cls, ParallelStrategy)


def in_ddp_sweep(cfg: DictConfig) -> bool:
    """True for a job of a multirun (not itself one of Lightning's ranks) that trains in several processes."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return (HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
            and runs_ranks(cfg.trainer.get("strategy")))


def quoted(value: str) -> str:
    """A string as one value of Hydra's override grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def job_command(cfg: DictConfig) -> tuple[list[str], Path]:
    from hydra.core.hydra_config import HydraConfig

    from ganzoo.loggers import enabled, ganzoo_class

    hydra = HydraConfig.get()
    job_dir = Path(hydra.runtime.output_dir)
    overrides = [o for o in hydra.overrides.task if not o.startswith("run_dir=")]
    # hydra.mode=RUN: a config that sets MULTIRUN itself (hparams_search) would otherwise start the sweep again
    overrides += [f"run_dir={quoted(str(job_dir))}", f"hydra.run.dir={quoted(str(job_dir))}", "hydra.output_subdir=null",
                  "hydra.mode=RUN"]
    for name, node in enabled(cfg.get("logger")).items():  # e.g. W&B: one run per job, grouped by the sweep
        overrides += [f"logger.{name}.{key}={quoted(str(value))}" for key, value in ganzoo_class(node).sweep_job(node).items()]
    return [sys.executable, "-m", "ganzoo.train", *overrides], job_dir


def run_apart(cfg: DictConfig) -> dict:
    """Train the job as a plain run in a process of its own; return its summary (empty in a SLURM task other than
    rank 0's, where submitit starts one job process per rank and rank 0 alone writes the summary)."""
    command, job_dir = job_command(cfg)
    done = subprocess.run(command)
    if done.returncode != 0:
        raise TrainingError(f"the DDP job in {job_dir} failed (exit status {done.returncode}); see its train.log there")
    summary = job_dir / "summary.json"
    return json.loads(summary.read_text()) if summary.is_file() else {}
