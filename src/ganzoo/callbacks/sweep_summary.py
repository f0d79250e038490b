"""At the end of a Hydra multirun, one table of every job: its overrides and its final figures.

`python -m ganzoo.train -m loss=gan,wgan,wgan_gp data=gaussians25` ends with the table on the console and in
<sweep dir>/sweep_summary.csv and sweep_summary.md (with logger=wandb also to W&B, as a table and a picture in
a run of the sweep's group), and a plot of the jobs' main figure (val/w1 on toy data, val/fid
with FID on) against each swept parameter in sweep_summary.png: one point per job, so that jobs differing only in
their seed show the spread, and each value's mean with its standard deviation over the seeds as an error bar
(numeric values along a line, on a log axis when they span 10x or more; categorical ones, such as objectives, as
points: ganzoo/plots.py, sweep_figure). The closing line names every file written. It is a Hydra callback (conf/train.yaml, hydra.callbacks)
that reads each job's .hydra/overrides.yaml and summary.json, so it works with any launcher whose jobs write
to a shared disk (basic, joblib, submitit). A job that left no summary.json is listed as failed.

When the sweep runs several seeds (`seed=0,1,2`), jobs that differ only in their seed are also pooled into one
row each, with the mean and standard deviation of every val/* figure and of ms/step over the seeds:
sweep_seeds.csv and sweep_seeds.md, the table a comparison of objectives wants.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ganzoo.plots import sweep_plot


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
            row.update(steps=summary["steps"], median_ms_per_iteration=round(1000 * summary["median_iteration_seconds"], 1))
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
    settings = [k for k in seen if "/" not in k and k not in ("steps", "median_ms_per_iteration")]
    return [*settings, "steps", "median_ms_per_iteration", *figures]


def markdown(rows: list[dict[str, Any]], names: list[str]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(row.get(name)) for name in names) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main_metric(sweep_dir: Path) -> str | None:
    """The figure the jobs name as their main one (summary.json's main_metric)."""
    for job in job_dirs(sweep_dir):
        summary_file = job / "summary.json"
        if summary_file.is_file():
            name = json.loads(summary_file.read_text()).get("main_metric")
            if name:
                return name
    return None


def sweep_points(rows: list[dict[str, Any]], metric: str) -> dict[str, dict[str, list[float]]]:
    """For each swept parameter (a setting whose value differs between jobs; the seed is the spread, not a
    parameter): its values, each with the metric of every job that had it."""
    settings = [k for k in columns(rows) if "/" not in k and k not in ("job", "steps", "median_ms_per_iteration", "seed")]
    done = [row for row in rows if row.get(metric) is not None]
    points: dict[str, dict[str, list[float]]] = {}
    for key in settings:
        if len({str(row.get(key)) for row in done}) > 1:
            for row in done:
                points.setdefault(key, {}).setdefault(str(row.get(key)), []).append(float(row[metric]))
    return points


def pooled_over_seeds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting of the jobs that finished, in the order met: the setting, the number of seeds, and for
    ms/step and each val/* figure its mean and standard deviation over the seeds (`<name> mean`, `<name> std`;
    the std is the sample's, 0 for one seed). Empty when the sweep has fewer than two seeds."""
    if len({str(row.get("seed")) for row in rows}) < 2:
        return []
    names = columns(rows)
    settings = [k for k in names if "/" not in k and k not in ("job", "steps", "median_ms_per_iteration", "seed")]
    figures = ["median_ms_per_iteration", *(k for k in names if k.startswith("val/"))]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("steps") != "failed":
            groups.setdefault(tuple(str(row.get(k, "")) for k in settings), []).append(row)
    pooled = []
    for setting, members in groups.items():
        out: dict[str, Any] = {**dict(zip(settings, setting)), "seeds": len(members)}
        for name in figures:
            found = [float(m[name]) for m in members if m.get(name) is not None]
            if found:
                out[f"{name} mean"] = statistics.fmean(found)
                out[f"{name} std"] = statistics.stdev(found) if len(found) > 1 else 0.0
        pooled.append(out)
    return pooled


def pooled_markdown(pooled: list[dict[str, Any]]) -> str:
    """The pooled rows with each figure as 'mean ± std'."""
    keys = list(dict.fromkeys(k for row in pooled for k in row))
    plain = [k for k in keys if not k.endswith((" mean", " std"))]
    figures = [k[: -len(" mean")] for k in keys if k.endswith(" mean")]
    shown = [{**{k: row.get(k) for k in plain},
              **{f: f"{row[f + ' mean']:.4g} ± {row[f + ' std']:.2g}" for f in figures if f + " mean" in row}} for row in pooled]
    return markdown(shown, [*plain, *figures])


def write_summary(sweep_dir: str | Path) -> tuple[str, list[Path]]:
    """Write sweep_summary.csv, .md and .png (and, over several seeds, sweep_seeds.csv and .md) into `sweep_dir`;
    return the markdown table ('' when no job ran) and the files written."""
    sweep_dir = Path(sweep_dir)
    rows = summarize(sweep_dir)
    if not rows:
        return "", []
    written = [sweep_dir / "sweep_summary.csv", sweep_dir / "sweep_summary.md"]
    metric = main_metric(sweep_dir)
    points = sweep_points(rows, metric) if metric else {}
    if points:
        written.append(sweep_plot(points, metric, sweep_dir / "sweep_summary.png"))
    names = columns(rows)
    with open(sweep_dir / "sweep_summary.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    table = markdown(rows, names)
    (sweep_dir / "sweep_summary.md").write_text(table)
    pooled = pooled_over_seeds(rows)
    if pooled:
        keys = list(dict.fromkeys(k for row in pooled for k in row))
        with open(sweep_dir / "sweep_seeds.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=keys)
            writer.writeheader()
            writer.writerows(pooled)
        (sweep_dir / "sweep_seeds.md").write_text(pooled_markdown(pooled))
        written += [sweep_dir / "sweep_seeds.csv", sweep_dir / "sweep_seeds.md"]
    return table, written


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table, written = write_summary(sweep_dir)
        if table:
            print(f"\nganzoo: sweep of {table.count(chr(10)) - 2} jobs in {sweep_dir}\n{table}")
            if (sweep_dir / "sweep_seeds.md").is_file():
                print(f"over the seeds (mean ± std):\n{(sweep_dir / 'sweep_seeds.md').read_text()}")
            print(f"ganzoo: the sweep's tables and plot: {', '.join(str(path) for path in written)}")
            from ganzoo.loggers import enabled, ganzoo_class  # Lightning: only once there is a table to log

            rows = summarize(sweep_dir)
            for node in enabled(config.get("logger")).values():  # e.g. W&B: a run of its own in the sweep's group
                ganzoo_class(node).log_sweep_summary(node, sweep_dir, columns(rows), rows)
