"""Long runs survive: started again, the same command goes on from its run directory's checkpoint (resume=auto);
a signal ends a run after the iteration it arrives in, with that iteration checkpointed; checkpoints also follow
the clock; a SLURM job that reaches its time limit is requeued and ends where an unbroken run ends."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import assemble
from ganzoo.callbacks import LastCheckpoint, StopOnSignal
from ganzoo.errors import ConfigError
from helpers import TINY_TOY, SignalAt, cli, tiny

SHORT = ["callbacks.every_n_steps=100", "loss.critic_warmup=null", "metrics.w1.n=100", "logger=none"]


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def same_weights(a: Path, b: Path) -> bool:
    first, second = weights(a), weights(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def step_of(run_dir: Path) -> int:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory) -> Path:
    """Five iterations in one go: what every broken run below must end with."""
    run_dir = tmp_path_factory.mktemp("unbroken")
    ganzoo.train(tiny([*SHORT, "steps=5"], run_dir))
    return run_dir


# ----- resume=auto ----------------------------------------------------------------------------------------------
def said(caplog) -> list[str]:
    """ganzoo's lines (under pytest, logging is set up, so they go to the log rather than stdout)."""
    return [message for message in caplog.messages if message.startswith("ganzoo:")]


def test_the_same_command_started_again_goes_on_from_the_run_directory(unbroken, tmp_path, caplog):
    ganzoo.train(tiny([*SHORT, "steps=2"], tmp_path))
    caplog.clear()
    summary = ganzoo.train(tiny([*SHORT, "steps=5"], tmp_path))
    first_line = said(caplog)[0]
    assert first_line.startswith(f"ganzoo: continuing WGANGP on ToyDataModule from step 2 ({tmp_path / 'checkpoints' / 'last.ckpt'})")
    assert (summary["first_step"], summary["steps"]) == (2, 5) and same_weights(tmp_path, unbroken)
    assert any(line.startswith("ganzoo: WGANGP trained steps 2 to 5 in") for line in said(caplog))  # not "5 steps"


def test_a_finished_run_started_again_says_so_and_trains_nothing(unbroken, caplog):
    before = (unbroken / "checkpoints" / "last.ckpt").stat().st_mtime_ns
    summary = ganzoo.train(tiny([*SHORT, "steps=5"], unbroken))
    assert "is finished: its checkpoint is at step 5 of steps=5" in said(caplog)[0]
    assert summary == {**json.loads((unbroken / "summary.json").read_text()), "stopped_by": None}
    assert (unbroken / "checkpoints" / "last.ckpt").stat().st_mtime_ns == before


def test_a_run_directory_that_holds_another_run_is_refused(unbroken):
    with pytest.raises(ConfigError, match=r"holds another run \(loss._target_ is ganzoo.objectives.wgan_gp.WGANGP there"):
        ganzoo.train(tiny([*SHORT, "steps=6", "loss=gan"], unbroken))
    with pytest.raises(ConfigError, match="holds another run \\(seed is 0 there, 1 here\\)"):
        ganzoo.train(tiny([*SHORT, "steps=6", "seed=1"], unbroken))
    with pytest.raises(ConfigError, match="already holds a run .*resume=auto goes on with it"):
        ganzoo.train(tiny([*SHORT, "steps=6", "resume=never"], unbroken))


# ----- checkpoints by the clock ---------------------------------------------------------------------------------
@pytest.mark.parametrize("minutes,saved", [(1e-6, [1, 2, 3]), (None, [3])])
def test_last_ckpt_follows_the_clock_beside_the_steps(minutes, saved, run_dir, monkeypatch):
    steps = []
    real = LastCheckpoint._save_last_checkpoint

    def counted(self, trainer, candidates):
        steps.append(trainer.global_step)
        return real(self, trainer, candidates)

    monkeypatch.setattr(LastCheckpoint, "_save_last_checkpoint", counted)
    ganzoo.train(tiny([*SHORT, "steps=3", f"callbacks.checkpoint_minutes={'null' if minutes is None else minutes}"], run_dir))
    assert steps == saved  # every_n_steps is 100: without the clock, only the end of training saves


# ----- signals ----------------------------------------------------------------------------------------------------
def with_callback(monkeypatch, callback) -> None:
    real_build = assemble.build_callbacks
    monkeypatch.setattr(assemble, "build_callbacks", lambda cfg, dm, module=None: [*real_build(cfg, dm, module), callback])


@pytest.mark.parametrize("name", ["SIGTERM", "SIGUSR1", "SIGUSR2", "SIGINT"])
def test_a_signal_ends_the_run_after_its_iteration_with_that_iteration_checkpointed(name, run_dir, monkeypatch, caplog):
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
    with_callback(monkeypatch, SignalAt(2, name))
    summary = ganzoo.train(tiny([*SHORT, "steps=5"], run_dir))
    # StopOnSignal answers at the end of the next iteration: SignalAt runs after it within iteration 2
    assert summary["stopped_by"] == name and summary["steps"] == step_of(run_dir) == 3
    assert any(line.startswith(f"ganzoo: {name}: stopped at step 3 of 5") for line in said(caplog))
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers  # the process's handlers are back


def test_a_run_stopped_by_a_signal_goes_on_bitwise(unbroken, run_dir, monkeypatch):
    with_callback(monkeypatch, SignalAt(1, "SIGTERM"))
    ganzoo.train(tiny([*SHORT, "steps=5"], run_dir))
    monkeypatch.undo()
    assert step_of(run_dir) == 2
    assert ganzoo.train(tiny([*SHORT, "steps=5"], run_dir))["stopped_by"] is None
    assert same_weights(run_dir, unbroken)


def test_a_signal_in_the_last_iteration_lets_the_run_finish(run_dir, monkeypatch):
    with_callback(monkeypatch, SignalAt(4, "SIGTERM"))  # answered at the end of iteration 5 of 5
    summary = ganzoo.train(tiny([*SHORT, "steps=5"], run_dir))
    assert summary["stopped_by"] is None and summary["steps"] == 5


def test_a_second_ctrl_c_stops_at_once():
    stop = StopOnSignal()
    stop.note(signal.SIGINT, None)
    assert stop.received == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):
        stop.note(signal.SIGINT, None)


@pytest.mark.slow
def test_the_command_line_ends_with_128_plus_the_signal_and_hands_it_on(tmp_path):
    """A handler that was there before ganzoo's gets the signal once the checkpoint is written (submitit's
    requeues the job there); then the process ends with 128 + SIGTERM's number."""
    tests = str(Path(__file__).parent)
    script = tmp_path / "wrapped.py"
    script.write_text(
        "import signal, sys\n"
        f"sys.path.insert(0, {tests!r})\n"
        "signal.signal(signal.SIGTERM, lambda s, f: print('handed on', s, flush=True))\n"
        "from ganzoo.train import main\n"
        "sys.argv = ['ganzoo', *sys.argv[1:]]\n"
        "main()\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, str(script), *SHORT, "steps=5", f"run_dir={tmp_path / 'run'}",
                           "+callbacks.signal._target_=helpers.SignalAt", "+callbacks.signal.step=1"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr[-2000:]
    assert f"handed on {int(signal.SIGTERM)}" in done.stdout and step_of(tmp_path / "run") == 2
    again = cli([*SHORT, "steps=5", f"run_dir={tmp_path / 'run'}"])
    assert again.returncode == 0 and "continuing WGANGP on ToyDataModule from step 2" in again.stdout


# ----- SLURM: a job that reaches its time limit -----------------------------------------------------------------
@pytest.mark.slow
def test_a_job_that_reaches_its_time_limit_is_requeued_and_ends_with_the_unbroken_runs_weights(tmp_path):
    """submitit's local executor plays SLURM: USR2 30 s before timeout_min (1 minute here, so 30 s after the job
    starts), then the requeue; the requeued job runs the same command in the same job directory. Each iteration
    sleeps 100 ms, so that 300 of them outlast the first 30 s on any machine, and few restarts are needed even
    on a slow one (the local executor restarts a job 5 times at most)."""
    args = [*SHORT, "steps=300", *TINY_TOY, "metrics.digits.n=100"]
    ganzoo.train(ganzoo.compose([*args, f"run_dir={tmp_path / 'unbroken'}"]))
    sweep = tmp_path / "sweep"
    tests = os.pathsep.join(p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p)
    done = cli(["-m", "hydra/launcher=slurm_local", f"hydra.sweep.dir={sweep}", "hydra.launcher.timeout_min=1",
                *args, "+callbacks.sleep._target_=helpers.SleepEach",
                "+callbacks.sleep.seconds=0.1"], env={"PYTHONPATH": tests})
    assert done.returncode == 0, done.stderr[-3000:]
    logs = "".join(path.read_text() for path in sweep.glob(".submitit/*/*_log.*"))
    stops = [int(line.split("SIGUSR2: stopped at step ")[1].split()[0]) for line in logs.splitlines()
             if "ganzoo: SIGUSR2: stopped at step" in line]  # one per time limit (more on a slow machine)
    assert stops and 0 < stops[0] < 300 and "Requeued job" in logs, logs[-3000:]
    assert all(f"continuing WGANGP on ToyDataModule from step {step} " in logs for step in stops)
    assert same_weights(sweep / "0", tmp_path / "unbroken")
