"""Resuming with ckpt_path continues a run exactly where it stopped: same weights, same logged figures, same
directory, and the config it was trained with (only what the resume command sets changes)."""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.checkpoint import FORMAT
from ganzoo.errors import ConfigError
from helpers import cli, tiny, wandb_run

EVERY_2 = ["callbacks.every_n_steps=2", "loss.critic_warmup=null", "metrics.w1.n=100"]
VAE_EVERY_2 = ["callbacks.every_n_steps=2"]  # a VAE has no critic warm-up to switch off
RUNS = {
    "toy wgan_gp with instance noise": ["loss=wgan_gp", "data=gaussians8", "constraint=[gp,instance_noise]",
                                        "constraint.instance_noise.sigma=0.1", "constraint.instance_noise.anneal_steps=8"],
    "digits wgan": ["loss=wgan", "data=digits", "model=dcgan"],
    "toy gan with the generator's average": ["loss=gan", "data=gaussians8", "runtime.ema=true", "runtime.ema_decay=0.9"],
    "conditional digits wgan_gp": ["loss=wgan_gp", "data=digits", "model=dcgan", "model.conditional=true"],
    "digits vae in its KL warm-up": ["loss=vae", "data=digits", "model=dcgan", "loss.kl_warmup=3"],
}


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def logged(run_dir: Path) -> list[dict]:
    """metrics.csv rows of training figures (timings and wall-clock free), keyed by step."""
    with open(run_dir / "metrics.csv") as f:
        rows = [{k: v for k, v in row.items() if k.startswith(("step", "train/", "val/")) and v} for row in csv.DictReader(f)]
    return [row for row in rows if len(row) > 1]


@pytest.mark.parametrize("run", list(RUNS))
def test_a_resumed_run_ends_where_an_unbroken_run_ends(run, tmp_path):
    overrides = [*RUNS[run], *(EVERY_2 if "loss=vae" not in RUNS[run] else VAE_EVERY_2)]
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    ganzoo.train(tiny([*overrides, "steps=4"], straight))
    ganzoo.train(tiny([*overrides, "steps=2"], broken))
    summary = ganzoo.train(ganzoo.compose([f"ckpt_path={broken / 'checkpoints' / 'last.ckpt'}", "steps=4"]))
    assert summary["steps"] == 4
    expected, got = weights(straight), weights(broken)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected), "weights differ from the unbroken run"
    assert logged(broken) == logged(straight)  # each step once, with the unbroken run's figures


def test_ckpt_path_alone_brings_back_the_runs_config_and_directory(tmp_path):
    first = tmp_path / "first"
    ganzoo.train(tiny(["loss=wgan", "data=digits", "model=dcgan", "steps=2", *EVERY_2], first))
    cfg = ganzoo.compose([f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}", "steps=3"])
    assert cfg.loss._target_.endswith(".WGAN") and cfg.model._target_ == "ganzoo.models.dcgan.build" and "digits" in cfg.data._target_.lower()
    assert (cfg.steps, cfg.trainer.max_steps, Path(cfg.run_dir)) == (3, 3, first)
    assert cfg.model.generator_width == 8  # the tiny width it was trained with, not the default


def test_a_resume_that_changes_the_objective_is_refused(tmp_path):
    first = tmp_path / "first"
    ganzoo.train(tiny(["loss=wgan", "data=digits", "model=dcgan", "steps=1", *EVERY_2], first))
    ckpt = first / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError, match="loss"):
        ganzoo.compose([f"ckpt_path={ckpt}", "loss=gan"])
    same = ganzoo.compose([f"ckpt_path={ckpt}", "loss=wgan", "data=digits", "model=dcgan", "model.generator_width=8",
                           "model.critic_width=8", "data.image_size=16", "data.batch_size=16"])
    assert same.loss._target_.endswith(".WGAN")  # repeating the original command is fine


@pytest.mark.slow
def test_the_command_line_resumes_in_the_runs_own_directory(tmp_path):
    first = tmp_path / "first"
    ganzoo.train(tiny(["data=gaussians8", "steps=2", *EVERY_2], first))
    done = cli([f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}", "steps=3"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert [int(row["step"]) for row in logged(first) if "train/critic_loss" in row] == [0, 1, 2]
    assert (first / ".hydra" / "overrides.yaml").is_file()  # Hydra wrote its files into the run, not elsewhere


def test_streams_pass_over_what_the_checkpointed_run_drew():
    from itertools import islice

    import ganzoo.assemble
    from ganzoo.data.base import BatchStream, shuffled_batches
    from ganzoo.data.files import EndlessSampler

    assert list(islice(EndlessSampler(7, seed=3, batch_size=1, skip=10), 12)) == list(islice(EndlessSampler(7, seed=3, batch_size=1), 10, 22))
    assert list(islice(EndlessSampler(7, seed=3, batch_size=2, skip=5), 12)) == list(islice(EndlessSampler(7, seed=3, batch_size=2), 10, 22))

    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)  # 3 batches of 3 per pass
    for skip in (2, 7):  # within the first pass, and two passes on
        unbroken = list(islice(shuffled_batches(images, 3, torch.Generator().manual_seed(1)), skip + 4))
        resumed = list(islice(shuffled_batches(images, 3, torch.Generator().manual_seed(1), skip), 4))
        assert all(torch.equal(a, b) for a, b in zip(unbroken[skip:], resumed, strict=True))
    toy = ganzoo.assemble.build_datamodule(ganzoo.compose(["data.batch_size=4"]))
    sixth = list(islice(iter(BatchStream(toy.batches, seed=1, batch_size=toy.batch_size)), 6))[5]
    assert torch.equal(next(iter(BatchStream(toy.batches, seed=1, batch_size=toy.batch_size, skip=5))).x, sixth.x)


def test_a_resume_with_other_nets_is_one_clear_error(tmp_path):
    from ganzoo.errors import CheckpointError

    first = tmp_path / "first"
    ganzoo.train(tiny(["data=gaussians8", "steps=1", *EVERY_2], first))
    with pytest.raises(CheckpointError, match="does not fit the configured model"):
        ganzoo.train(ganzoo.compose([f"ckpt_path={first / 'checkpoints' / 'last.ckpt'}", "model.width=16"]))


FORMAT_1 = Path(__file__).parent / "data"


@pytest.mark.parametrize("name, objective, constraints", [
    ("format1_toy_wgan_gp_noise.ckpt", "WGANGP", ["GradientPenalty", "InstanceNoise"]),
    ("format1_digits_wgan_gp_dcgan.ckpt", "WGANGP", ["GradientPenalty"]),
    ("format2_toy_hinge_spectral_norm.ckpt", "Hinge", ["SpectralNorm"]),
    ("format2_digits_ogan_dcgan_ema.ckpt", "OGAN", []),
    ("format2_toy_wgan_fixed_generator.ckpt", "WGAN", ["WeightClip"]),
])
def test_a_checkpoint_of_format_1_or_2_still_loads_with_its_weights(name, objective, constraints):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second norm-switch warning, nothing deprecated
        module = ganzoo.load(FORMAT_1 / name)
    assert module.name == objective and [type(c).__name__ for c in module.constraints] == constraints
    saved = torch.load(FORMAT_1 / name, weights_only=True)["state_dict"]
    assert all(torch.equal(module.state_dict()[k], saved[k]) for k in saved)
    assert module.trained_steps == 2 and module.sample(3).shape == (3, *module.data_shape)


def test_a_run_of_format_1_resumes_and_goes_on(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    shutil.copy(FORMAT_1 / "format1_toy_wgan_gp_noise.ckpt", ckpt)
    # (this copy lies elsewhere than where it was written; the format-1 config lacks today's single last.ckpt)
    summary = ganzoo.train(ganzoo.compose([f"ckpt_path={ckpt}", "steps=4", "metrics.w1.n=100",
                                           "callbacks.last_checkpoint.enable_version_counter=false"]))
    assert summary["steps"] == 4 and Path(summary["run_dir"]) == tmp_path
    assert torch.load(ckpt, weights_only=True)["ganzoo"]["format"] == FORMAT  # rewritten in today's format


def test_a_run_of_format_2_resumes_and_goes_on(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    shutil.copy(FORMAT_1 / "format2_digits_ogan_dcgan_ema.ckpt", ckpt)
    summary = ganzoo.train(ganzoo.compose([f"ckpt_path={ckpt}", "steps=3", "metrics.digits.n=100"]))
    saved = torch.load(ckpt, weights_only=True)
    assert summary["steps"] == 3 and saved["global_step"] == 3 and saved["ganzoo"]["num_classes"] == 10


def test_a_checkpoint_whose_config_holds_one_logger_node_resumes_and_continues_its_metrics(tmp_path):
    # before the logger group held one node per logger, the run's config kept the logger itself under `logger`
    overrides = [*RUNS["digits wgan"], *EVERY_2]
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    ganzoo.train(tiny([*overrides, "steps=4"], straight))
    ganzoo.train(tiny([*overrides, "steps=2"], broken))
    ckpt = broken / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(ckpt, weights_only=True)
    checkpoint["ganzoo"]["config"]["logger"] = checkpoint["ganzoo"]["config"]["logger"]["csv"]
    torch.save(checkpoint, ckpt)
    assert ganzoo.compose([f"ckpt_path={ckpt}"]).logger.csv._target_ == "ganzoo.loggers.CSVLogger"
    assert ganzoo.train(ganzoo.compose([f"ckpt_path={ckpt}", "steps=4"]))["steps"] == 4
    assert logged(broken) == logged(straight)  # metrics.csv continued, not started over


def test_a_sweep_cannot_resume_one_checkpoint(tmp_path):
    done = cli(["-m", f"ckpt_path={tmp_path / 'checkpoints' / 'last.ckpt'}", "steps=3,4", f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    assert done.returncode == 2 and "ckpt_path resumes one run; drop -m" in done.stderr.strip().splitlines()[-1]


def tensorboard_steps(run_dir: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


@pytest.mark.slow
def test_a_resume_continues_the_tensorboard_curves_with_no_step_twice(tmp_path):
    run_dir, ckpt = tmp_path / "run", tmp_path / "run" / "checkpoints" / "last.ckpt"
    ganzoo.train(tiny(["logger=tensorboard", "steps=2", *EVERY_2], run_dir))
    shutil.copy(ckpt, tmp_path / "step2.ckpt")
    ganzoo.train(ganzoo.compose([f"ckpt_path={ckpt}", "steps=3"]))  # logs step 2, then stops: a tail past step 2
    shutil.copy(tmp_path / "step2.ckpt", ckpt)
    ganzoo.train(ganzoo.compose([f"ckpt_path={ckpt}", "steps=4"]))  # resumed from step 2 again
    assert tensorboard_steps(run_dir, "train/critic_loss") == [0, 1, 2, 3]


@pytest.mark.slow
def test_a_resume_logs_into_the_same_wandb_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run_dir = tmp_path / "run"
    ganzoo.train(tiny(["logger=wandb", "logger.wandb.offline=true", "steps=2", *EVERY_2], run_dir))
    ganzoo.train(ganzoo.compose([f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}", "steps=4"]))
    first, resumed = (wandb_run(path) for path in sorted((run_dir / "wandb").glob("offline-run-*")))
    assert first["id"] == resumed["id"]  # `wandb sync` uploads both parts into one run
    steps = [sorted({r["trainer/global_step"] for r in run["history"] if "train/critic_loss" in r}) for run in (first, resumed)]
    assert steps == [[0, 1], [2, 3]]
