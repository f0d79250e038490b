"""Hydra multirun sweeps end with one table of every job's overrides and final figures."""

from __future__ import annotations

import csv
import importlib.util
import json
import statistics
from pathlib import Path

import pytest
import yaml

from ganzoo.callbacks.sweep_summary import pooled_over_seeds, summarize, sweep_points, write_summary
from ganzoo.config import compose
from ganzoo.errors import ConfigError
from ganzoo.plots import sweep_figure
from helpers import cli, wandb_run

TINY_SWEEP = ["-m", "loss=gan,wgan", "steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null",
              "model.width=32", "data.batch_size=16", "metrics.w1.n=100"]

pytestmark = pytest.mark.slow  # end-to-end: whole command lines, Inception, or two processes


def test_a_sweep_ends_with_a_table_of_its_jobs(tmp_path):
    sweep_dir = tmp_path / "sweep"
    done = cli([*TINY_SWEEP, f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-2000:]
    with open(sweep_dir / "sweep_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(row["job"], row["loss"]) for row in rows] == [("0", "gan"), ("1", "wgan")]
    for row in rows:
        figures = json.loads((sweep_dir / row["job"] / "summary.json").read_text())["figures"]
        assert float(row["val/w1"]) == figures["val/w1"] and row["steps"] == "2"
    table = (sweep_dir / "sweep_summary.md").read_text()
    assert table.splitlines()[0].startswith("| job | loss |") and table in done.stdout
    assert (sweep_dir / "sweep_summary.png").stat().st_size > 0  # val/w1 against loss, with the csv logger
    files = ", ".join(str(sweep_dir / f"sweep_summary.{kind}") for kind in ("csv", "md", "png"))
    assert done.stdout.rstrip().endswith(f"ganzoo: the sweep's tables and plot: {files}")


def test_the_sweep_plot_has_one_panel_per_swept_parameter_and_one_point_per_job(tmp_path):
    jobs = [("gan", "1e-4", 0, 0.3), ("gan", "1e-4", 1, 0.5), ("wgan", "1e-4", 0, 0.2), ("wgan", "1e-4", 1, 0.25),
            ("gan", "1e-3", 0, 0.9)]
    for job, (loss, lr, seed, w1) in enumerate(jobs):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- loss={loss}\n- optim.critic.lr={lr}\n- seed={seed}\n")
        summary = {"steps": 2, "median_iteration_seconds": 0.5, "main_metric": "val/w1", "figures": {"val/w1": w1}}
        (tmp_path / str(job) / "summary.json").write_text(json.dumps(summary))
    points = sweep_points(summarize(tmp_path), "val/w1")
    assert points == {"loss": {"gan": [0.3, 0.5, 0.9], "wgan": [0.2, 0.25]},
                      "optim.critic.lr": {"1e-4": [0.3, 0.5, 0.2, 0.25], "1e-3": [0.9]}}  # seeds are the spread
    assert write_summary(tmp_path)[1] == [tmp_path / f"sweep_summary.{kind}" for kind in ("csv", "md", "png")] + [
        tmp_path / f"sweep_seeds.{kind}" for kind in ("csv", "md")]
    assert (tmp_path / "sweep_summary.png").stat().st_size > 0


def test_categorical_sweep_values_are_points_with_error_bars_and_numeric_ones_a_line_on_a_log_axis():
    points = {"loss": {"gan": [0.3, 0.5], "wgan_gp": [0.2, 0.4]},
              "optim.critic.lr": {"1e-3": [0.9], "1e-4": [0.3, 0.5], "1e-5": [0.2]},
              "loss.n_critic": {"5": [0.4, 0.6], "1": [0.2]}}
    loss, lr, n_critic = sweep_figure(points, "val/w1").axes
    std = statistics.stdev
    for ax, xs, means, spreads, joined, scale in (
            (loss, [0, 1], [0.4, 0.3], [std([0.3, 0.5]), std([0.2, 0.4])], False, "linear"),
            (lr, [1e-5, 1e-4, 1e-3], [0.2, 0.4, 0.9], [0, std([0.3, 0.5]), 0], True, "log"),  # sorted by value
            (n_critic, [1, 5], [0.2, 0.5], [0, std([0.4, 0.6])], True, "linear")):  # 5x apart: a linear axis
        drawn, (low, high), _ = ax.containers[0].lines  # the means, the error bars' caps, their bars
        assert list(drawn.get_xdata()) == pytest.approx(xs) and list(drawn.get_ydata()) == pytest.approx(means)
        assert list((high.get_ydata() - low.get_ydata()) / 2) == pytest.approx(spreads)
        assert (drawn.get_linestyle() != "None") == joined and ax.get_xscale() == scale
    assert [label.get_text() for label in loss.get_xticklabels()] == ["gan", "wgan_gp"]


def test_jobs_that_differ_only_in_their_seed_are_pooled_with_mean_and_std(tmp_path):
    jobs = [("gan", 0, 0.3, 2), ("wgan", 0, 0.2, 5), ("gan", 1, 0.5, 4), ("wgan", 1, 0.4, 3), ("gan", 2, 0.7, 6),
            ("wgan", 2, None, 0)]  # the last wgan job failed
    for job, (loss, seed, w1, modes) in enumerate(jobs):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- loss={loss}\n- seed={seed}\n")
        if w1 is not None:
            summary = {"steps": 2, "median_iteration_seconds": 0.01 * modes, "figures": {"val/w1": w1, "val/modes": modes}}
            (tmp_path / str(job) / "summary.json").write_text(json.dumps(summary))
    pooled = pooled_over_seeds(summarize(tmp_path))
    assert [(row["loss"], row["seeds"]) for row in pooled] == [("gan", 3), ("wgan", 2)]
    gan, wgan = pooled
    assert gan["val/w1 mean"] == pytest.approx(0.5) and gan["val/w1 std"] == pytest.approx(0.2)  # sample std
    assert gan["val/modes mean"] == pytest.approx(4) and gan["val/modes std"] == pytest.approx(2)
    assert wgan["val/w1 mean"] == pytest.approx(0.3) and wgan["median_ms_per_iteration mean"] == pytest.approx(40)
    write_summary(tmp_path)
    table = (tmp_path / "sweep_seeds.md").read_text().splitlines()
    assert table[0] == "| loss | seeds | median_ms_per_iteration | val/modes | val/w1 |"  # figures sorted, as in the job table
    assert table[2] == "| gan | 3 | 40 ± 20 | 4 ± 2 | 0.5 ± 0.2 |"
    with open(tmp_path / "sweep_seeds.csv") as f:
        assert float(list(csv.DictReader(f))[1]["val/w1 std"]) == pytest.approx(0.02**0.5)  # wgan: 0.2, 0.4


def test_a_sweep_of_one_seed_is_not_pooled(tmp_path):
    rows = [{"job": "0", "loss": "gan", "steps": 2, "val/w1": 0.1}, {"job": "1", "loss": "wgan", "steps": 2, "val/w1": 0.2}]
    assert pooled_over_seeds(rows) == []


def test_each_job_of_a_sweep_is_a_wandb_run_of_its_own_in_the_sweeps_group(tmp_path, monkeypatch):
    # Lightning's WandbLogger leaves its run open, and the next job in the process logged into it: one run held
    # every job's history, in job 0's folder.
    sweep_dir = tmp_path / "sweep"
    done = cli([*TINY_SWEEP, "logger=wandb", f"hydra.sweep.dir={sweep_dir}"],  # offline by WANDB_MODE alone
               env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    assert done.returncode == 0, done.stderr[-2000:]
    runs = {job: list((sweep_dir / job / "wandb").glob("offline-run-*")) for job in ("0", "1")}
    assert [len(found) for found in runs.values()] == [1, 1]
    first, second = (wandb_run(runs[job][0]) for job in ("0", "1"))
    assert first["id"] != second["id"] and first["group"] == second["group"] == str(sweep_dir)
    assert first["name"].startswith("loss=gan,") and second["name"].startswith("loss=wgan,")
    for run, objective in ((first, "GAN"), (second, "WGAN")):
        assert run["config"]["loss._target_"].endswith(f".{objective}")
        assert sorted(r["trainer/global_step"] for r in run["history"] if "train/critic_loss" in r) == [0, 1]
        assert any(row.get("toy._type") == "images/separated" for row in run["history"])  # the toy plot
    (summary,) = [wandb_run(path) for path in (sweep_dir / "wandb").glob("offline-run-*")]
    assert summary["group"] == str(sweep_dir) and summary["name"] == "sweep summary"
    logged = summary["history"][0]
    assert logged["sweep_summary._type"] == "table-file" and logged["sweep_plot._type"] == "image-file"


def test_a_job_that_left_no_summary_is_listed_as_failed(tmp_path):
    for job, loss in (("0", "gan"), ("1", "wgan")):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(f"- loss={loss}\n- steps=2\n")
    summary = {"steps": 2, "median_iteration_seconds": 0.5, "figures": {"val/w1": 0.25, "train/critic_loss": -1.0}}
    (tmp_path / "0" / "summary.json").write_text(json.dumps(summary))
    table = write_summary(tmp_path)[0].splitlines()
    assert table[0] == "| job | loss | steps | median_ms_per_iteration | val/w1 | train/critic_loss |"
    assert table[2] == "| 0 | gan | 2 | 500 | 0.25 | -1 |" and table[3] == "| 1 | wgan | failed |  |  |  |"
    assert Path(tmp_path / "sweep_summary.csv").is_file()


def test_hparams_search_runs_optuna_on_the_datas_main_figure(tmp_path):
    sweep_dir = tmp_path / "optuna"
    done = cli(["hparams_search=optuna", "hydra.sweeper.n_trials=2", *TINY_SWEEP[2:], f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-2000:]
    summaries = [json.loads((sweep_dir / job / "summary.json").read_text()) for job in ("0", "1")]
    assert all(s["main_metric"] == "val/w1" for s in summaries)
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["best_value"] == min(s["figures"]["val/w1"] for s in summaries)
    assert 1e-5 <= best["best_params"]["optim.critic.lr"] <= 1e-3 and best["best_params"]["loss.n_critic"] in (1, 2, 5)
    with open(sweep_dir / "sweep_summary.csv") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_hparams_search_names_the_missing_plugin(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(ConfigError, match=r"pip install 'ganzoo\[sweeps\]'"):
        compose(["hparams_search=optuna"])
