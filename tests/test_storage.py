"""A run's files are written whole or not at all, and a disk that will not take them ends the run in one line: a run
killed at any moment leaves a last.ckpt that loads and resumes; a full disk while saving a checkpoint, a sample
grid, metrics.csv or a W&B file names the file and the intact previous checkpoint; a run directory that cannot be
written is refused before training.

The disks are real where this process may mount one (a small tmpfs, as root), else those tests are skipped; a
checkpoint save whose fsync fails with ENOSPC (as a network disk reports a full disk) and a run directory under a
regular file need no mount and run everywhere."""

from __future__ import annotations

import errno
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import open_dict

import ganzoo
from ganzoo.checkpoint import read
from ganzoo.errors import StorageError
from ganzoo.storage import whole_lines
from helpers import TINY_DCGAN, TINY_TOY, cli, in_process, tiny

EVERY_2 = ["steps=2", "callbacks.every_n_steps=2", "metrics.w1.n=100"]
NOTHING_BUT_CHECKPOINTS = ["callbacks.snapshots=null", "callbacks.curves=null", "callbacks.best_checkpoint=null",
                           "logger=none"]


@pytest.fixture(autouse=True)
def hydras_logging_for_this_test_only(monkeypatch):
    """The handlers an in-process command's Hydra sets up are dropped after the test: its console handler writes to
    the test's captured output, which is closed then."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])


@pytest.fixture
def small_disk():
    """mount(path, *options): a 4 MiB filesystem of its own at `path` (tmpfs), unmounted after the test; the test is
    skipped where this process may not mount one."""
    mounted = []

    def mount(path: Path, *options: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("no mount command here")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(["size=4m", *options]), "tmpfs", str(path)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)  # lazily: the run's log file may still be open


def fill(disk: Path, leave: int) -> None:
    """Leave `leave` bytes free on the filesystem of `disk`."""
    (disk / "filler").write_bytes(bytes(max(0, shutil.disk_usage(disk).free - leave)))


def train_command(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """`python -m ganzoo.train args` in this process (so that Hydra writes its files into the run directory as the
    shell's command would): (exit status, what it printed on stderr)."""
    from ganzoo.train import run

    return in_process(run, "train", args, monkeypatch, capsys)


def failed(status: int, err: str) -> str:
    """The one line a failed command ended with, after checking that it printed no traceback."""
    errors = [line for line in err.splitlines() if line.startswith("ganzoo: error: ")]
    assert status == 2 and len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert "Traceback" not in err and "Logging error" not in err, err
    return errors[0]


# ----- killed at any moment ---------------------------------------------------------------------------------------
# Wide nets, one generator update per step and a checkpoint every step: saving is a large part of each step.
KILLED_RUN = ["loss=gan", "model.width=256", "data.batch_size=16", "steps=100000", "callbacks.every_n_steps=1",
              "callbacks.snapshots=null", "callbacks.evaluation=null", "callbacks.curves=null",
              "callbacks.best_checkpoint=null", "callbacks.progress=null", "logger=none"]


def wait_for(condition, child: int, what: str, poll: float = 0.01, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if os.waitpid(child, os.WNOHANG) != (0, 0) or time.monotonic() > deadline:
            raise RuntimeError(f"the training child stopped or took too long before {what}")
        time.sleep(poll)


def kill_while_training(run_dirs: list[str], seed: int) -> None:
    """Run by the test in a fresh Python. For each run directory, the command line trains there in a child forked
    from this process (torch is imported once, not once per kill) and is SIGKILLed once its first checkpoint is
    written: at a random moment of training (even rounds), or a few milliseconds after a save began, which its
    temporary file tells (odd rounds). Prints, per round, whether the kill left that temporary behind."""
    import ganzoo.assemble  # noqa: F401  (torch and Lightning, before forking)
    from ganzoo.train import main

    rng, left = random.Random(seed), []
    for k, run_dir in enumerate(map(Path, run_dirs)):
        child = os.fork()
        if child == 0:
            output = os.open(f"{run_dir}.log", os.O_WRONLY | os.O_CREAT, 0o644)
            os.dup2(output, 1)
            os.dup2(output, 2)
            sys.argv = ["ganzoo.train", *KILLED_RUN, f"run_dir={run_dir}"]
            try:
                main()
            finally:
                os._exit(0)
        last = run_dir / "checkpoints" / "last.ckpt"
        temporary = last.with_name(f".last.ckpt.tmp-{child}")
        wait_for(last.exists, child, "its first checkpoint")
        if k % 2 == 0:
            time.sleep(rng.uniform(0, 1))
        else:
            wait_for(temporary.exists, child, "a save", poll=0.001)
            time.sleep(rng.uniform(0, 0.005))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        left.append(temporary.exists())
    print(json.dumps(left))


def test_a_run_killed_at_any_moment_leaves_a_last_checkpoint_that_loads_and_resumes(tmp_path):
    runs = [tmp_path / f"run{k}" for k in range(8)]
    code = f"from test_storage import kill_while_training; kill_while_training({[str(r) for r in runs]!r}, seed=0)"
    tests = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": tests})
    assert done.returncode == 0, done.stderr[-3000:]
    left = json.loads(done.stdout.splitlines()[-1])
    assert any(left), "no kill landed inside a save"
    for run in runs:
        folder = run / "checkpoints"
        assert read(folder / "last.ckpt")["global_step"] >= 1  # whole, and ganzoo's
        assert [p.name for p in folder.glob("*.ckpt")] == [p.name for p in folder.glob("last*")] == ["last.ckpt"]
        assert all(p.name == "last.ckpt" or p.name.startswith(".last.ckpt.tmp-") for p in folder.iterdir())
    for run in (runs[0], runs[left.index(True)]):  # one killed anywhere, one killed inside a save
        last = run / "checkpoints" / "last.ckpt"
        steps = read(last)["global_step"] + 2
        resumed = cli([f"ckpt_path={last}", f"steps={steps}"])
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert read(last)["global_step"] == steps
        assert sorted(os.listdir(run / "checkpoints")) == ["last.ckpt"]  # the killed save's temporary is gone too


@pytest.mark.parametrize("trainer", ["default", "ddp"])
def test_every_checkpoint_is_saved_through_the_whole_file_writer_under_ddp_too(trainer, run_dir):
    from lightning.pytorch.plugins.io import TorchCheckpointIO

    from ganzoo.assemble import build_trainer
    from ganzoo.checkpoint_io import WholeCheckpointIO

    two_ranks = ["trainer.devices=2"] if trainer == "ddp" else []  # Lightning's strategy saves on rank 0 only
    cfg = tiny([f"trainer={trainer}", "trainer.accelerator=cpu", *two_ranks], run_dir)
    assert type(build_trainer(cfg, []).strategy.checkpoint_io) is WholeCheckpointIO
    with open_dict(cfg):  # a CheckpointIO the config names is the one used
        cfg.trainer.plugins = [{"_target_": "lightning.pytorch.plugins.io.TorchCheckpointIO"}]
    assert type(build_trainer(cfg, []).strategy.checkpoint_io) is TorchCheckpointIO


# ----- a full disk ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("failure", ["full tmpfs", "fsync fails"])
def test_a_full_disk_during_a_checkpoint_save_is_one_line_and_keeps_the_previous_checkpoint(
    failure, small_disk, tmp_path, monkeypatch, capsys
):
    run = (small_disk(tmp_path / "disk") if failure == "full tmpfs" else tmp_path) / "run"
    assert train_command([*TINY_TOY, *EVERY_2, *NOTHING_BUT_CHECKPOINTS, f"run_dir={run}"], monkeypatch, capsys)[0] == 0
    last = run / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    if failure == "full tmpfs":
        fill(run.parent, leave=len(before) // 2)  # less than a checkpoint
    else:  # written, but the disk reports no room when asked to keep it (as a network disk may)

        def no_room(descriptor: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", no_room)
    error = failed(*train_command([f"ckpt_path={last}", "steps=4"], monkeypatch, capsys))
    assert error.startswith(f"ganzoo: error: could not write {last} (No space left on device); ")
    assert f"the previous checkpoint {last} (step 2) is intact" in error
    assert f"free space on that disk or move {run} to another disk" in error
    assert error.endswith("then run the same command with run_dir= that directory to continue from step 2")
    assert last.read_bytes() == before and read(last)["global_step"] == 2
    assert os.listdir(last.parent) == ["last.ckpt"]  # no temporary left


def test_hydra_full_error_shows_the_traceback_of_a_full_disk(tmp_path, monkeypatch):
    from ganzoo.cli import run_entry
    from ganzoo.train import run

    ganzoo.train(tiny([*EVERY_2, *NOTHING_BUT_CHECKPOINTS], tmp_path / "run"))

    def no_room(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_room)
    monkeypatch.setattr(sys, "argv", ["ganzoo", f"ckpt_path={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}",
                                      "steps=4"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(StorageError) as raised:
        run_entry(run, "train")
    assert isinstance(raised.value.__cause__, OSError) and raised.value.__cause__.errno == errno.ENOSPC


def test_a_full_disk_while_writing_a_sample_grid_is_one_line(small_disk, tmp_path, monkeypatch, capsys):
    run = small_disk(tmp_path / "disk") / "run"
    first = ["data=digits", *TINY_DCGAN, *EVERY_2, "callbacks.evaluation=null", "callbacks.curves=null",
             "callbacks.best_checkpoint=null", "logger=none"]
    assert train_command([*first, f"run_dir={run}"], monkeypatch, capsys)[0] == 0
    fill(run.parent, leave=(run / "samples" / "step_000002.png").stat().st_size // 2)  # less than a grid
    error = failed(*train_command([f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "steps=4"], monkeypatch, capsys))
    grid = run / "samples" / "step_000004.png"
    assert error.startswith(f"ganzoo: error: could not write {grid} (No space left on device); ")
    assert f"the previous checkpoint {run / 'checkpoints' / 'last.ckpt'} (step 2) is intact" in error
    assert os.listdir(run / "samples") == ["step_000002.png"]  # nothing half-written


def test_a_full_disk_while_writing_metrics_csv_is_one_line_and_keeps_its_rows(small_disk, tmp_path, monkeypatch,
                                                                               capsys):
    run = small_disk(tmp_path / "disk") / "run"
    first = [*TINY_TOY, "loss=gan", "steps=150", "callbacks.every_n_steps=150", "callbacks.evaluation=null",
             "callbacks.snapshots=null", "callbacks.curves=null", "callbacks.best_checkpoint=null", "logger=csv"]
    assert train_command([*first, f"run_dir={run}"], monkeypatch, capsys)[0] == 0
    metrics = run / "metrics.csv"
    before = metrics.read_bytes()
    assert len(before) > 3 * 4096  # pages: the room left below is far from what the rewrite needs
    fill(run.parent, leave=len(before) // 2)  # the resumed run rewrites it first, with the rows it keeps
    error = failed(*train_command([f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "steps=152"], monkeypatch, capsys))
    assert error.startswith(f"ganzoo: error: could not write {metrics} (No space left on device); ")
    assert "(step 150) is intact" in error
    assert metrics.read_bytes() == before  # the run's rows as they were, not a half-written file
    assert not [p.name for p in run.iterdir() if ".tmp-" in p.name]


def test_rows_appended_when_the_disk_fills_are_cut_back_to_the_last_whole_one(small_disk, tmp_path):
    disk = small_disk(tmp_path / "disk")
    metrics = disk / "metrics.csv"
    metrics.write_text("step,loss\n0,1.5\n")
    fill(disk, leave=0)
    with pytest.raises(OSError) as raised, whole_lines(metrics), open(metrics, "a") as file:
        file.write("1,1.25\n" * 2000)  # more than the rest of the file's page: part of it is written
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(metrics)
    rows = metrics.read_text().splitlines()
    assert rows[:2] == ["step,loss", "0,1.5"] and set(rows[2:]) <= {"1,1.25"}
    assert metrics.read_text().endswith("\n")


def test_a_full_disk_while_writing_a_wandb_file_is_one_line(small_disk, run_dir, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    ganzoo.train(tiny([*EVERY_2, "callbacks.curves=null", "callbacks.best_checkpoint=null", "logger=wandb"], run_dir))
    fill(small_disk(run_dir / "wandb"), leave=40_000)  # W&B's files on a disk of their own: room for its logs only
    last = run_dir / "checkpoints" / "last.ckpt"
    error = failed(*train_command([f"ckpt_path={last}", "steps=4"], monkeypatch, capsys))
    assert error.startswith(f"ganzoo: error: could not write {run_dir / 'wandb'}")
    assert "/files/media/images/toy_" in error and "(No space left on device)" in error  # the toy plot W&B copies
    assert f"the previous checkpoint {last} (step 2) is intact" in error


# ----- a run directory that cannot be written ---------------------------------------------------------------------
@pytest.mark.parametrize("where", ["on a read-only disk", "a read-only disk itself", "under a regular file"])
def test_a_run_directory_that_cannot_be_written_is_refused_before_training(where, small_disk, tmp_path):
    if where == "under a regular file":
        (tmp_path / "file").write_text("")
        run_dir, why = tmp_path / "file" / "run", "Not a directory"
    else:
        disk = small_disk(tmp_path / "disk", "ro")
        run_dir, why = (disk / "run" if where == "on a read-only disk" else disk), "Read-only file system"
    done = cli(["steps=2", f"run_dir={run_dir}"])  # the real command line, as the shell runs it
    assert done.returncode == 2
    assert done.stderr.strip() == (f"ganzoo: error: cannot write the run directory {run_dir} ({why}); "
                                   "give run_dir= a directory on a writable disk")
    assert "training" not in done.stdout
    with pytest.raises(StorageError, match=why):  # the Python API too, before anything is built
        ganzoo.train(tiny(["steps=2"], run_dir))
