"""A checkpoint is written whole or not at all: a run killed at any moment leaves a last.ckpt that loads and resumes,
and every Trainer saves its checkpoints through the writer that makes it so."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import open_dict

from ganzoo.checkpoint import read
from helpers import cli, tiny

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
