"""At the end of a run: summary.json with the final figures, the run directory and the checkpoint, and a
short console summary. The same dictionary is what `ganzoo.train(cfg)` returns.

`median_iteration_seconds` is the steady-state rate: the median time of a regular generator iteration (n_critic critic
updates and one generator update, with the callbacks of that iteration), warm-up iterations left out; the
median also leaves out the rare iterations that evaluate or plot. WGAN's warm-up iterations (100 critic
updates) are timed apart as `warmup_median_iteration_seconds`. `wall_seconds` is the wall time of this process's training,
evaluation and plots included, from `first_step` (0, or the step a resumed run started at) to `steps`. `checkpoint` is
the last.ckpt the run wrote, or null when it wrote none (callbacks.last_checkpoint=null).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only

from ganzoo.callbacks.signals import StopOnSignal
from ganzoo.console import say


class RunSummary(L.Callback):
    def __init__(self):
        self.main_metric: str | None = None  # the data's main figure (val/w1 on toy data), set by assemble
        self.summary: dict = {}
        self.started = 0.0
        self.step_started = 0.0
        self.durations: dict[bool, list[float]] = {False: [], True: []}  # warm-up? -> seconds per iteration
        self.finished = False

    def on_train_start(self, trainer, pl_module) -> None:
        self.started = time.perf_counter()
        self.first_step = trainer.global_step  # a resumed run starts at its checkpoint's step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.step_started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        warmup = pl_module.warming_up(trainer.global_step - 1)
        self.durations[warmup].append(time.perf_counter() - self.step_started)

    def on_train_end(self, trainer, pl_module) -> None:
        self.finished = True  # written at teardown, once the last checkpoint is saved (checkpoint callbacks run last)
        self.seconds = time.perf_counter() - self.started

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if not self.finished:  # a run that stopped on an error reports that error, not a summary
            return
        run_dir = Path(trainer.default_root_dir)
        regular, warmup = self.durations[False], self.durations[True]
        self.summary = {
            "objective": pl_module.name,
            "first_step": self.first_step,
            "steps": trainer.global_step,
            "figures": {k: round(float(v), 6) for k, v in sorted(trainer.callback_metrics.items())},
            "main_metric": self.main_metric,
            "wall_seconds": round(self.seconds, 2),
            "median_iteration_seconds": round(statistics.median(regular), 5) if regular else None,
            **({"warmup_median_iteration_seconds": round(statistics.median(warmup), 5)} if warmup else {}),
            "run_dir": str(run_dir.resolve()),
            "checkpoint": last_checkpoint(trainer),
            "stopped_by": next((c.stopped_by for c in trainer.callbacks if isinstance(c, StopOnSignal)), None),
        }
        self.write(run_dir)

    @rank_zero_only
    def write(self, run_dir: Path) -> None:
        (run_dir / "summary.json").write_text(json.dumps(self.summary, indent=2) + "\n")
        s = self.summary
        shown = ", ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in s["figures"].items())
        rate = [f"median {1000 * s['median_iteration_seconds']:.1f} ms per generator iteration"] \
            if s["median_iteration_seconds"] is not None else []
        if "warmup_median_iteration_seconds" in s:
            rate.append(f"warm-up iterations {1000 * s['warmup_median_iteration_seconds']:.0f} ms")
        say(
            f"ganzoo: {s['objective']} trained steps {s['first_step']} to {s['steps']} in {s['wall_seconds']:.0f} s of wall "
            f"time (with evaluation and plots); {', '.join(rate)}\n  {shown}\n"
            f"  run directory: {s['run_dir']}\n"
            f"  checkpoint:    {s['checkpoint'] or 'none written (callbacks.last_checkpoint is off)'}"
        )


def last_checkpoint(trainer) -> str | None:
    """The last.ckpt a checkpoint callback of this run wrote, if any."""
    for callback in trainer.checkpoint_callbacks:
        path = getattr(callback, "last_model_path", "") if isinstance(callback, ModelCheckpoint) else ""
        if path and Path(path).is_file():
            return str(Path(path).resolve())
    return None
