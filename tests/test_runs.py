"""Short end-to-end runs: each objective on toy and digit data leaves what a run promises: metrics.csv, plots or
sample grids, checkpoints and summary.json."""

from __future__ import annotations

import csv
import json
import re
import statistics
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.callbacks import RunSummary
from ganzoo.errors import TrainingError
from helpers import build, fit, tiny, wandb_run

OBJECTIVES = ["gan", "wgan", "wgan_gp"]
SHORT = ["steps=4", "callbacks.every_n_steps=2", "loss.critic_warmup=null"]


def undocumented(run_dir: Path) -> list[str]:
    """The files a run wrote that docs/outputs.md's table does not name (step numbers written as XXXXXX there)."""
    table = (Path(__file__).parents[1] / "docs" / "outputs.md").read_text()
    named = set(re.findall(r"^\| `([^`]+)`", table, re.M))
    written = {re.sub(r"\d{6}", "XXXXXX", p.relative_to(run_dir).as_posix()) for p in run_dir.rglob("*") if p.is_file()}
    return sorted(w for w in written if w not in named and w.split("/")[0] + "/" not in named)


def columns(path) -> set[str]:
    with open(path) as f:
        return set(next(csv.reader(f)))


@pytest.mark.parametrize("loss", OBJECTIVES)
def test_toy_run_writes_metrics_plots_checkpoint_and_summary(loss, run_dir):
    summary = ganzoo.train(tiny([f"loss={loss}", "data=gaussians8", *SHORT, "metrics.w1.n=200"], run_dir))
    assert (run_dir / "config.yaml").is_file()
    names = columns(run_dir / "metrics.csv")
    assert {"step", "train/critic_loss", "train/generator_loss", "val/modes", "val/hq", "val/w1"} <= names
    if loss == "gan":
        assert {"train/d_real", "train/d_fake"} <= names
    else:
        assert "train/w_estimate" in names
    assert (run_dir / "plots" / "toy_000002.png").is_file() and (run_dir / "plots" / "toy_000004.png").is_file()
    assert (run_dir / "plots" / "curves.png").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and (run_dir / "checkpoints" / "best.ckpt").is_file()
    written = json.loads((run_dir / "summary.json").read_text())
    assert written == summary and written["steps"] == 4
    assert {"val/w1", "val/modes", "train/generator_loss"} <= set(written["figures"])
    assert written["checkpoint"].endswith("checkpoints/last.ckpt")
    assert undocumented(run_dir) == []


@pytest.mark.parametrize("loss", OBJECTIVES)
def test_digits_run_writes_sample_grids(loss, run_dir):
    ganzoo.train(tiny([f"loss={loss}", "data=digits", "model=dcgan", *SHORT], run_dir))
    assert sorted(p.name for p in (run_dir / "samples").glob("*.png")) == ["step_000002.png", "step_000004.png"]
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()  # by val/digits_fid, the digit classifier's
    assert undocumented(run_dir) == []


def test_w_estimate_is_logged_every_generator_iteration(run_dir):
    ganzoo.train(tiny(["loss=wgan_gp", "steps=5", "callbacks.every_n_steps=5"], run_dir))
    with open(run_dir / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["train/w_estimate"]]
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3, 4]


def test_mlp_on_images_is_the_wgan_papers_four_layer_mlp(run_dir):
    ganzoo.train(tiny(["loss=wgan", "data=digits", "model=mlp", *SHORT], run_dir))
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    linear = [m for m in module.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == 5 and linear[-1].out_features == 32 * 32


def test_loaded_checkpoint_samples_like_the_trained_module(run_dir):
    ganzoo.train(tiny(["loss=wgan_gp", "data=digits", "model=dcgan", *SHORT], run_dir))
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert module.trained_steps == 4
    images = module.sample(10)
    assert images.shape == (10, 1, 16, 16) and images.min() >= -1 and images.max() <= 1
    again = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert torch.equal(module.sample(3, z=module.fixed_z[:3]), again.sample(3, z=again.fixed_z[:3]))


def test_tensorboard_logger_writes_events_and_images(run_dir):
    ganzoo.train(tiny(["logger=tensorboard", "data=digits", "model=dcgan", *SHORT], run_dir))
    events = list((run_dir / "tensorboard").rglob("events.out.tfevents*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "train/w_estimate" in acc.Tags()["scalars"] and "samples" in acc.Tags()["images"]


@pytest.mark.slow
def test_wandb_offline_runs_without_an_account(run_dir, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    ganzoo.train(tiny(["logger=wandb", "logger.wandb.offline=true", "data=digits", "model=dcgan", *SHORT], run_dir))
    runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert runs and list(runs[0].glob("*.wandb"))
    shown = [np.asarray(Image.open(path)) for path in (runs[0] / "files" / "media" / "images").glob("samples_*.png")]
    saved = np.asarray(Image.open(run_dir / "samples" / "step_000004.png").convert("RGB"))
    assert any(picture.shape == saved.shape and np.array_equal(picture, saved) for picture in shown)  # not black
    run = wandb_run(runs[0])  # what the .wandb file holds
    assert run["config"]["loss._target_"] == "ganzoo.objectives.wgan_gp.WGANGP" and run["config"]["data.batch_size"] == 16
    assert run["tags"] == ["WGANGP", "dcgan", "digits"]
    steps = sorted({row["trainer/global_step"] for row in run["history"] if "train/w_estimate" in row})
    assert steps == [0, 1, 2, 3]  # the step axis counts generator iterations (SHORT: steps=4)
    summary = json.loads((run_dir / "summary.json").read_text())["figures"]
    assert run["summary"]["train/w_estimate"] == pytest.approx(summary["train/w_estimate"], rel=1e-5)  # final figures


@pytest.mark.slow
def test_csv_and_wandb_log_the_same_run_together(run_dir, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    ganzoo.train(tiny(["logger=[csv,wandb]", "data=digits", "model=dcgan", *SHORT], run_dir))
    (run,) = [wandb_run(path) for path in (run_dir / "wandb").glob("offline-run-*")]
    with open(run_dir / "metrics.csv") as f:
        in_csv = sorted({int(row["step"]) for row in csv.DictReader(f) if row.get("train/w_estimate")})
    assert in_csv == sorted({row["trainer/global_step"] for row in run["history"] if "train/w_estimate" in row}) == [0, 1, 2, 3]


def test_evaluation_leaves_training_unchanged(tmp_path):
    """Toy figures and plots draw their own z, so how often they run cannot change the trained weights."""
    weights = []
    for every in (1, 3):
        run_dir = tmp_path / f"every{every}"
        ganzoo.train(tiny(["steps=3", f"callbacks.every_n_steps={every}", "metrics.w1.n=50"], run_dir))
        weights.append(torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"])
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_toy_figures_are_logged_once_per_evaluation(run_dir):
    ganzoo.train(tiny(["steps=4", "callbacks.every_n_steps=2", "metrics.w1.n=50"], run_dir))
    with open(run_dir / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["val/w1"]]
    assert [int(r["step"]) for r in rows] == [2, 4]


class PoisonAt(L.Callback):
    """Turns one generator weight to NaN before iteration `step`, as a diverging update would."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            next(pl_module.generator.parameters()).data[0] = float("nan")


@pytest.mark.slow
def test_a_diverging_run_stops_in_one_line_and_keeps_its_last_finite_checkpoint(run_dir):
    poison = ["+callbacks.poison._target_=test_runs.PoisonAt", "+callbacks.poison.step=3"]
    with pytest.raises(TrainingError, match="training diverged at step 4: the generator's weights") as error:
        ganzoo.train(tiny(["data=gaussians8", "steps=8", "callbacks.every_n_steps=1", *poison], run_dir))
    assert "\n" not in str(error.value) and "last.ckpt" in str(error.value)
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 3
    assert all(torch.isfinite(tensor).all() for tensor in checkpoint["state_dict"].values())


@pytest.mark.slow
def test_between_checkpoints_divergence_is_caught_one_iteration_late_with_its_own_step(run_dir):
    poison = ["+callbacks.poison._target_=test_runs.PoisonAt", "+callbacks.poison.step=5"]
    with pytest.raises(TrainingError, match="training diverged at step 6: the generator's weights"):
        ganzoo.train(tiny(["data=gaussians8", "steps=12", "callbacks.every_n_steps=4", *poison], run_dir))
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 4
    assert all(torch.isfinite(tensor).all() for tensor in checkpoint["state_dict"].values())


def test_the_last_checkpoint_holds_the_final_step_and_the_summary_names_only_a_written_one(tmp_path):
    short = ["steps=3", "callbacks.every_n_steps=2", "metrics.w1.n=100"]
    summary = ganzoo.train(tiny(short, tmp_path / "saved"))
    assert torch.load(summary["checkpoint"], weights_only=True)["global_step"] == 3  # not step 2's state
    summary = ganzoo.train(tiny([*short, "callbacks.last_checkpoint=null"], tmp_path / "none"))
    assert summary["checkpoint"] is None and not (tmp_path / "none" / "checkpoints" / "last.ckpt").exists()
    assert json.loads((tmp_path / "none" / "summary.json").read_text())["checkpoint"] is None


def test_the_step_rate_is_the_steady_state_one_with_warm_up_iterations_timed_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module, datamodule = build(tiny(["loss=wgan", "loss.n_critic=1", "loss.critic_warmup={n_critic:20,first:2,every:100}"]))
    summary = RunSummary()
    fit(module, datamodule, steps=5, callbacks=[summary])
    assert [len(summary.durations[False]), len(summary.durations[True])] == [3, 2]  # steps 2-4, and 0-1
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["median_iteration_seconds"] == round(statistics.median(summary.durations[False]), 5)
    assert written["warmup_median_iteration_seconds"] == round(statistics.median(summary.durations[True]), 5)


def test_a_null_progress_entry_switches_the_bar_off(tmp_path):
    from ganzoo.assemble import build_callbacks, build_trainer

    cfg = tiny(["callbacks.progress=null"], tmp_path)
    trainer = build_trainer(cfg, build_callbacks(cfg, build_datamodule(cfg)))
    assert trainer.progress_bar_callback is None  # not Lightning's own bar in its place
