"""At the end of a Hydra multirun, one table of every job: its overrides and its final figures.

`python -m ganzoo.train -m loss=gan,wgan,wgan_gp data=gaussians25` ends with the table on the console and in
<sweep dir>/sweep_summary.csv and sweep_summary.md. It is a Hydra callback (conf/train.yaml, hydra.callbacks)
that reads each job's .hydra/overrides.yaml and summary.json, so it works with any launcher whose jobs write
to a shared disk (basic, joblib, submitit). A job that left no summary.json is listed as failed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf


def job_dirs(sweep_dir: Path) -> list[Path]:
    found = [p.parent.parent for p in sweep_dir.glob("*/.hydra/overrides.yaml")]
    return sorted(found, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name))


def summarize(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job: job, its overrides (key -> value), steps, ms/step and the final figures."""
    rows = []
    for job in job_dirs(Path(sweep_dir)):
        row: dict[str, Any] = {"job": job.name}
        for override in OmegaConf.load(job / ".hydra" / "overrides.yaml"):
            key, _, value = str(override).partition("=")
            row[key.lstrip("+~")] = value
        summary_file = job / "summary.json"
        if summary_file.is_file():
            summary = json.loads(summary_file.read_text())
            row.update(steps=summary["steps"], ms_per_step=round(1000 * summary["seconds_per_step"], 1))
            row.update(summary["figures"])
        else:
            row["steps"] = "failed"
        rows.append(row)
    return rows


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Job and overrides first (in the order met), then steps and ms/step, then val/* and train/* figures."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    figures = sorted((k for k in seen if "/" in k), key=lambda k: (not k.startswith("val/"), k))
    settings = [k for k in seen if "/" not in k and k not in ("steps", "ms_per_step")]
    return [*settings, "steps", "ms_per_step", *figures]


def markdown(rows: list[dict[str, Any]], names: list[str]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(row.get(name)) for name in names) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_summary(sweep_dir: str | Path) -> str:
    """Write sweep_summary.csv and .md into `sweep_dir`; return the markdown table ('' when no job ran)."""
    sweep_dir = Path(sweep_dir)
    rows = summarize(sweep_dir)
    if not rows:
        return ""
    names = columns(rows)
    with open(sweep_dir / "sweep_summary.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    table = markdown(rows, names)
    (sweep_dir / "sweep_summary.md").write_text(table)
    return table


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table = write_summary(sweep_dir)
        if table:
            print(f"\nganzoo: sweep of {table.count(chr(10)) - 2} jobs in {sweep_dir}\n{table}")
