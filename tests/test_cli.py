"""The command lines: bad input ends in one line and a non-zero exit; the sample CLI writes each format.
(Ctrl-C and the other stopping signals: tests/test_long_runs.py.)"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.errors import CheckpointError
from helpers import cli, in_process, sample, tiny

SHORT = ["steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null"]


BAD_TRAIN_INPUT = {
    "unknown option": (["loss=wgangp"], "unknown loss 'wgangp': did you mean loss=wgan_gp? (choose one of gan, hinge"),
    "unknown key": (["stepz=3"], "no option 'stepz'; did you mean steps=3?"),
    "misspelled nested key": (["loss.n_critc=5"], "no option 'loss.n_critc'; did you mean loss.n_critic=5?"),
    "steps < 1": (["steps=0"], "steps must be an integer >= 1 (got 0); e.g. steps=2000"),
    "n_critic < 1": (["loss.n_critic=0"], "loss.n_critic must be an integer >= 1"),
    "dcgan on toy data": (["model=dcgan", "data=gaussians8"], "use model=mlp for toy data, or image data such as data=digits"),
    "image size dcgan cannot take": (["model=dcgan", "data=digits", "data.image_size=48"], "power of two"),
    "unknown generator loss": (["loss=gan", "loss.generator=saturating"], "loss.generator must be one of nonsaturating, minimax"),
    "missing checkpoint to resume": (["ckpt_path=/nonexistent/last.ckpt"], "checkpoint not found"),
    "unknown toy set": (["data.name=gaussians9"], "data.name must be one of gaussians8, gaussians25, swissroll (got gaussians9)"),
    "missing dataset": (["data=mnist", "data.root=/nonexistent/x", "model=dcgan"], "add data.download=true"),
    "a constraint key that moved": (["constraint.weight=5"], "constraint.weight is now constraint.gp.weight"),
    "a logger key that moved": (["logger=wandb", "logger.offline=true"], "logger.offline is now logger.wandb.offline"),
    "a batch no memory can hold": (["data=gaussians8", "data.batch_size=100000000"], "GiB for the nets' activations"),
    # optional groups: Hydra itself would skip an option that does not exist and train the defaults
    "a preset that does not exist": (["experiment=wgan_gp_cifar"], "unknown experiment 'wgan_gp_cifar': did you mean experiment=wgan_gp_cifar10?"),
    "a recipe that does not exist": (["recipe=wgan_gaussians9"], "unknown recipe 'wgan_gaussians9'"),
    "one value of a sweep that does not exist": (["-m", "experiment=wgan_gp_toy,wgan_gp_cifar"],
                                                 "unknown experiment 'wgan_gp_cifar'"),
}


@pytest.mark.parametrize("case", list(BAD_TRAIN_INPUT))
def test_bad_train_input_is_one_line_and_exit_status_2(case, monkeypatch, capsys, tmp_path):
    from ganzoo.train import run

    args, message = BAD_TRAIN_INPUT[case]
    status, err = in_process(run, "train", [*args, f"run_dir={tmp_path}"], monkeypatch, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error: ") and message in lines[0], err


@pytest.mark.parametrize("data", ["lsun", "celeba", "folder", "mnist", "fashion_mnist", "cifar10"])
def test_missing_data_names_the_absolute_folder_and_the_key_that_moves_it_and_train_log_keeps_it(
        data, monkeypatch, capsys, tmp_path):
    from ganzoo.train import run

    args = [f"data={data}", "data.root=nowhere", "model=dcgan", f"run_dir={tmp_path}"]
    status, err = in_process(run, "train", args, monkeypatch, capsys)  # from a fresh working directory
    line = err.strip()
    assert status == 2 and len(line.splitlines()) == 1 and line.startswith("ganzoo: error: "), err
    assert f" {Path.cwd() / 'nowhere'}" in line and "data.root=PATH" in line, line  # absolute, not 'nowhere/...'
    assert line in (tmp_path / "train.log").read_text()  # the run directory says why the run stopped


@pytest.mark.slow
def test_the_real_command_line_prints_one_line_and_no_traceback():
    result = cli(["steps=0"])
    assert result.returncode == 2
    assert result.stderr.strip() == "ganzoo: error: steps must be an integer >= 1 (got 0); e.g. steps=2000"
    result = cli(["loss=nope"])
    assert result.returncode == 2 and "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for args, line in ((["los=wgan"], "no option 'los'; did you mean loss=wgan?"),
                       (["loss=wgan_pg"], "unknown loss 'wgan_pg': did you mean loss=wgan_gp?"),
                       (["model=dcgan", "steps=5"],  # no layer-norm warning before it: notes come after the checks
                        "model=dcgan needs image data but the data are 2-D points; use model=mlp for toy data, or "
                        "image data such as data=digits")):
        result = cli(args)  # nothing before the line, and no '+key' advice for a misspelling
        assert result.returncode == 2 and result.stdout == "" and result.stderr.startswith(f"ganzoo: error: {line}")
        assert len(result.stderr.strip().splitlines()) == 1 and "+" not in result.stderr


@pytest.mark.slow
def test_the_default_command_trains_and_writes_its_run_directory(tmp_path):
    result = cli(["steps=3", "callbacks.every_n_steps=3", "model.width=32", f"run_dir={tmp_path}"])
    assert result.returncode == 0, result.stderr
    assert "WGANGP trained steps 0 to 3 in" in result.stdout and str(tmp_path) in result.stdout
    assert "ms per generator iteration" in result.stdout
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "plots" / "toy_000003.png").is_file()
    assert (tmp_path / ".hydra" / "overrides.yaml").is_file() and (tmp_path / "train.log").is_file()  # all in one place


@pytest.mark.slow
def test_train_log_holds_what_the_console_said_without_lightnings_tips(tmp_path):
    result = cli(["steps=3", "callbacks.every_n_steps=2", "model.width=16", f"run_dir={tmp_path}"])
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "train.log").read_text()
    for line in (f"ganzoo: training WGANGP on ToyDataModule to step 3 in {tmp_path}", "WGANGP trained steps 0 to 3",
                 f"run directory: {tmp_path}", f"checkpoint:    {tmp_path / 'checkpoints' / 'last.ckpt'}"):
        assert line in log and line in result.stdout, line
    assert "Tip:" not in result.stdout + result.stderr + log
    assert "steps: 100%" in result.stdout and "| 3/3 [" in result.stdout  # one bar, in generator iterations
    assert "Training:" not in result.stdout and "Epoch 0" not in result.stdout  # not Lightning's per-epoch bars
    # the console is ganzoo's lines (the summary's indented ones too) and one progress bar, nothing else: no
    # "`Trainer.fit` stopped" glued onto the bar, no Python warning, no second copy of the bar's last line
    assert result.stderr == ""
    others = [line for line in result.stdout.splitlines() if line and not line.startswith(("ganzoo: ", "  "))]
    bar = [line for line in others if line.startswith("steps: ") and line.rstrip().endswith("]")]
    assert others and bar == others, others  # the bar's redraws (\r) only, nothing glued onto them


@pytest.mark.slow
def test_ganzoos_first_line_comes_first_and_names_the_device(tmp_path):
    # Lightning's "GPU available: False, used: False" and "TPU available: ..." came before it
    result = cli(["steps=2", "callbacks.every_n_steps=2", "model.width=16", "trainer=cpu", "trainer.precision=bf16-mixed",
                  f"run_dir={tmp_path}"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"ganzoo: training WGANGP on ToyDataModule to step 2 in {tmp_path}, on cpu"
    assert not [line for line in lines if line.startswith(("GPU available", "TPU available", "HPU available"))]
    # what else Lightning says while its Trainer is made comes after ganzoo's line, not never
    assert any("Automatic Mixed Precision" in line for line in lines[1:]), result.stdout
    assert result.stdout.count("Automatic Mixed Precision") == 1  # once, not also through Lightning's own handler


def test_the_first_line_counts_the_devices_of_a_ddp_run():
    from ganzoo.assemble import devices

    assert devices(L.Trainer(accelerator="cpu", devices=1, logger=False)) == "cpu"
    assert devices(L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False)) == "2 x cpu"


def test_a_note_that_is_not_an_error_is_a_ganzoo_line_after_the_first(run_dir, caplog):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a note that escaped as a Python warning would fail here
        ganzoo.train(tiny(["data=digits", "model=dcgan", "loss=wgan_gp", *SHORT], run_dir))
    lines = [m for m in caplog.messages if m.startswith("ganzoo:")]
    assert lines[0].startswith("ganzoo: training WGANGP on DigitsDataModule")
    assert lines[1].startswith("ganzoo: note: the gradient penalty is per sample, so the critic uses layer norm")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trained")
    ganzoo.train(tiny(["data=digits", "model=dcgan", *SHORT], root / "digits"))
    ganzoo.train(tiny(["data=gaussians8", *SHORT, "metrics.w1.n=100"], root / "toy"))
    return {name: root / name / "checkpoints" / "last.ckpt" for name in ("digits", "toy")}


def test_sample_writes_a_png_grid(checkpoints, tmp_path, monkeypatch, capsys):
    sample([f"ckpt={checkpoints['digits']}", "n=9", f"out={tmp_path / 'grid.png'}"], monkeypatch, capsys)
    width, height = Image.open(tmp_path / "grid.png").size
    assert (width, height) == (3 * 16 + 4 * 2, 3 * 16 + 4 * 2)  # 3x3 grid of 16x16 with 2-pixel padding


def test_sample_writes_a_folder_of_pngs(checkpoints, tmp_path, monkeypatch, capsys):
    sample([f"ckpt={checkpoints['digits']}", "n=5", f"out={tmp_path / 'pngs'}/"], monkeypatch, capsys)
    files = sorted((tmp_path / "pngs").glob("*.png"))
    assert len(files) == 5 and Image.open(files[0]).size == (16, 16)


def test_sample_writes_raw_arrays(checkpoints, tmp_path, monkeypatch, capsys):
    sample([f"ckpt={checkpoints['digits']}", "n=7", f"out={tmp_path / 'x.npz'}"], monkeypatch, capsys)
    images = np.load(tmp_path / "x.npz")["samples"]
    assert images.shape == (7, 1, 16, 16) and images.min() >= -1 and images.max() <= 1
    sample([f"ckpt={checkpoints['toy']}", "n=11", f"out={tmp_path / 'p.npy'}"], monkeypatch, capsys)
    assert np.load(tmp_path / "p.npy").shape == (11, 2)


def test_sample_draws_toy_points_as_a_scatter_plot(checkpoints, tmp_path, monkeypatch, capsys):
    out = sample([f"ckpt={checkpoints['toy']}", "n=100", f"out={tmp_path / 'pts.png'}"], monkeypatch, capsys)
    assert (tmp_path / "pts.png").is_file() and "wrote 100 samples" in out.out


def test_sample_rejects_a_folder_for_toy_points(checkpoints, tmp_path, monkeypatch, capsys):
    from ganzoo.sample import run

    status, err = in_process(run, "sample", [f"ckpt={checkpoints['toy']}", f"out={tmp_path}/d/"], monkeypatch, capsys)
    assert status == 2 and "use out=points.png" in err


def test_sample_takes_the_checkpoint_as_ckpt_path_like_train_and_as_ckpt_its_old_name(checkpoints, tmp_path, monkeypatch, capsys):
    for key in ("ckpt_path", "ckpt"):
        sample([f"{key}={checkpoints['digits']}", "n=4", f"out={tmp_path / key}.npy"], monkeypatch, capsys)
        assert np.load(tmp_path / f"{key}.npy").shape == (4, 1, 16, 16)
    from ganzoo.sample import run

    status, err = in_process(run, "sample", ["n=4"], monkeypatch, capsys)
    assert status == 2 and err.strip().startswith("ganzoo: error: ckpt_path is required"), err


def test_sample_of_a_missing_checkpoint_is_one_line(monkeypatch, capsys, tmp_path):
    from ganzoo.sample import run

    status, err = in_process(run, "sample", [f"ckpt={tmp_path}/none.ckpt"], monkeypatch, capsys)
    assert status == 2 and err.strip() == f"ganzoo: error: checkpoint not found: {tmp_path}/none.ckpt; runs keep theirs in <run dir>/checkpoints/last.ckpt (see summary.json)"


def test_load_refuses_a_checkpoint_from_elsewhere(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not written by ganzoo"):
        ganzoo.load(tmp_path / "other.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        ganzoo.load(tmp_path / "junk.ckpt")


def run_module_in_a_fresh_python(module: str, args: list[str]) -> list[str]:
    """Run `python -m module args` in a new interpreter; return its exit status and whether torch and Lightning
    were imported by then."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = [{module!r}, *{args!r}]\n"
        "try:\n"
        f"    runpy.run_module({module!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print(exit.code or 0, 'torch' in sys.modules, 'lightning' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tempfile.mkdtemp())
    return done.stdout.split()[-3:]


@pytest.mark.slow
@pytest.mark.parametrize("module, args, status", [
    ("ganzoo.train", ["loss=wgangp"], "2"), ("ganzoo.train", ["steps=0"], "2"), ("ganzoo.train", ["--help"], "0"),
    ("ganzoo.sample", ["ckpt=x.ckpt", "n=0"], "2"), ("ganzoo.evaluate", ["n=abc"], "2"),
])
def test_a_command_line_mistake_and_help_are_answered_before_torch_is_imported(module, args, status):
    assert run_module_in_a_fresh_python(module, args) == [status, "False", "False"]


@pytest.mark.slow
def test_importing_ganzoo_leaves_the_matplotlib_backend_and_warning_filters_alone(tmp_path):
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "import warnings, torch, lightning.pytorch, matplotlib.pyplot as plt\n"
        "before = list(warnings.filters)\n"
        "import ganzoo, ganzoo.train, ganzoo.assemble, ganzoo.sampling, ganzoo.evaluation\n"
        "from ganzoo.plots import toy_plot\n"
        f"toy_plot(torch.randn(9, 2), torch.randn(9, 2), None, {str(tmp_path / 'toy.png')!r})\n"
        "print(matplotlib.get_backend(), warnings.filters == before, plt.get_fignums())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["svg", "True", "[]"], done.stderr[-2000:]
    assert (tmp_path / "toy.png").stat().st_size > 0
