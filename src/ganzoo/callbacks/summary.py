"""At the end of a run: summary.json with the final figures, the run directory and the checkpoint, and a
short console summary. The same dictionary is what `ganzoo.train(cfg)` returns."""

from __future__ import annotations

import json
import time
from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_only


class RunSummary(L.Callback):
    def __init__(self):
        self.main_metric: str | None = None  # the data's main figure (val/w1 on toy data), set by assemble
        self.summary: dict = {}
        self.started = 0.0
        self.first_step = 0

    def on_train_start(self, trainer, pl_module) -> None:
        self.started = time.perf_counter()
        self.first_step = trainer.global_step

    def on_train_end(self, trainer, pl_module) -> None:
        seconds = time.perf_counter() - self.started
        run_dir = Path(trainer.default_root_dir)
        figures = {k: round(float(v), 6) for k, v in sorted(trainer.callback_metrics.items())}
        steps_run = trainer.global_step - self.first_step
        self.summary = {
            "objective": type(pl_module).__name__,
            "steps": trainer.global_step,
            "figures": figures,
            "main_metric": self.main_metric,
            "seconds": round(seconds, 2),
            "seconds_per_step": round(seconds / max(steps_run, 1), 5),
            "run_dir": str(run_dir.resolve()),
            "checkpoint": str((run_dir / "checkpoints" / "last.ckpt").resolve()),
        }
        self.write(run_dir)

    @rank_zero_only
    def write(self, run_dir: Path) -> None:
        (run_dir / "summary.json").write_text(json.dumps(self.summary, indent=2) + "\n")
        shown = ", ".join(f"{k.split('/')[-1]} {v:.4g}" for k, v in self.summary["figures"].items())
        print(
            f"\nganzoo: {self.summary['objective']} ran {self.summary['steps']} steps in {self.summary['seconds']:.0f} s"
            f" ({1000 * self.summary['seconds_per_step']:.1f} ms/step)\n  {shown}\n"
            f"  run directory: {self.summary['run_dir']}\n  checkpoint:    {self.summary['checkpoint']}"
        )
