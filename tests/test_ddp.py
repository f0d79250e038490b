"""DDP on this CPU: two gloo processes, started from the command line as a user starts them (never forked inside
pytest). Each rank saves its weights, first z and first real batch (helpers.RankProbe), so that the tests can
see what would break if gradients were not averaged over the ranks or the ranks shared their random numbers."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys

import pytest
import torch
import yaml

import ganzoo
from ganzoo.errors import ConfigError
from helpers import DDP_CPU, TINY_DCGAN, TINY_TOY, cli, probed, rank_files, tiny, wandb_run

# float64 and no batch norm: a 2-rank run and one process then agree to rounding (DDP averages the ranks' mean
# gradients, which is the global batch's mean gradient).
EXACT = [*TINY_TOY, "model.hidden_layers=2", "steps=4", "callbacks.every_n_steps=2", "metrics.w1.n=100",
         "logger=none", "trainer.precision=64-true"]
OBJECTIVES = {
    # the penalty's double backward, on a conditional pair: labels drawn per rank, the penalty's same-class fakes
    "wgan_gp_conditional": ["loss=wgan_gp", "model.conditional=true"],
    "wgan_warmup": ["loss=wgan", "loss.critic_warmup={n_critic:7,first:2,every:500}"],  # clipping, warm-up
    "gan_noise": ["loss=gan", "constraint=instance_noise"],  # noise drawn per rank
    "vae": ["loss=vae", "loss.kl_warmup=2"],  # the VAE's own loop: eps drawn per rank
}


@pytest.mark.slow
@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_two_ranks_hold_equal_weights_and_equal_one_process_on_the_global_batch(objective, tmp_path):
    args = [*EXACT, *OBJECTIVES[objective]]
    probed([*args, *DDP_CPU, "data.batch_size=8"], tmp_path / "ddp")
    probed([*args, "trainer=cpu", "data.batch_size=16"], tmp_path / "one")
    ranks, (alone,) = rank_files(tmp_path / "ddp"), rank_files(tmp_path / "one")
    assert [r["world"] for r in ranks] == [2, 2] and alone["world"] == 1
    for name, weight in ranks[0]["state"].items():
        assert torch.equal(weight, ranks[1]["state"][name]), f"{name} differs between the ranks"
        assert torch.allclose(weight, alone["state"][name], rtol=0, atol=1e-12), f"{name} differs from one process"
    # the ranks drew different z (a VAE's eps) and real points: together, what one process drew with a batch twice
    # as large
    assert not torch.equal(ranks[0]["z"], ranks[1]["z"]) and not torch.equal(ranks[0]["real"], ranks[1]["real"])
    assert torch.equal(torch.cat([ranks[0]["z"], ranks[1]["z"]]), alone["z"])
    assert torch.equal(torch.cat([ranks[0]["real"], ranks[1]["real"]]), alone["real"])
    if "model.conditional=true" in args:  # the fakes' labels, drawn as z is
        assert not torch.equal(ranks[0]["y"], ranks[1]["y"])
        assert torch.equal(torch.cat([ranks[0]["y"], ranks[1]["y"]]), alone["y"])


@pytest.mark.slow
def test_a_signal_to_rank_0_stops_both_ranks_at_one_step_and_the_same_command_goes_on_bitwise(tmp_path):
    args = [*TINY_TOY, "steps=6", "callbacks.every_n_steps=100", "metrics.w1.n=100", "logger=none", *DDP_CPU,
            "loss.critic_warmup=null", "+callbacks.signal._target_=helpers.SignalAt", "+callbacks.signal.step=2"]
    probed([*args, "+callbacks.signal.rank=5"], tmp_path / "unbroken")  # no rank 5: never signalled
    stopped = probed(args, tmp_path / "broken", status=128 + signal.SIGTERM)  # SIGTERM to rank 0 after step 2
    assert "SIGTERM: stopped at step 3 of 6" in stopped.stdout  # both ranks agreed on the next step's end
    assert [p.name for p in (tmp_path / "broken" / "checkpoints").iterdir()] == ["last.ckpt"]
    assert torch.load(tmp_path / "broken" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3
    again = probed(args, tmp_path / "broken")  # the same command: resume=auto goes on from step 3
    assert "continuing WGANGP on ToyDataModule from step 3" in again.stdout
    unbroken, resumed = rank_files(tmp_path / "unbroken"), rank_files(tmp_path / "broken")
    for rank in (0, 1):
        for name, weight in unbroken[rank]["state"].items():
            assert torch.equal(weight, resumed[rank]["state"][name]), f"rank {rank}: {name} differs after resume"


SWEEP = ["-m", "loss=gan,wgan_gp", *TINY_TOY, "data.batch_size=8", "steps=2", "callbacks.every_n_steps=2",
         "metrics.w1.n=100", *DDP_CPU]


@pytest.mark.slow
def test_a_sweep_of_ddp_jobs_runs_each_job_once_with_all_its_ranks(tmp_path):
    # Lightning starts ranks by running the command again; in a sweep each rank re-ran the whole sweep.
    sweep_dir, cwd = tmp_path / "sweep", tmp_path / "cwd"
    cwd.mkdir()
    done = cli([*SWEEP, "logger=wandb", f"hydra.sweep.dir={sweep_dir}"], cwd=cwd,
               env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in sweep_dir.iterdir() if p.is_dir() and p.name != "wandb") == ["0", "1"]
    assert list(cwd.iterdir()) == []  # no second sweep, no stray run directory
    for job in ("0", "1"):
        assert json.loads((sweep_dir / job / "summary.json").read_text())["steps"] == 2
        assert (sweep_dir / job / "train_ddp_process_1.log").is_file()  # rank 1 ran in the job's directory
    with open(sweep_dir / "sweep_summary.csv") as f:
        assert [row["loss"] for row in csv.DictReader(f)] == ["gan", "wgan_gp"]
    runs = [wandb_run(p) for job in ("0", "1") for p in (sweep_dir / job / "wandb").glob("offline-run-*")]
    assert len(runs) == 2 and runs[0]["id"] != runs[1]["id"]  # a fresh W&B run per job, in the sweep's group
    assert runs[0]["group"] == runs[1]["group"] == str(sweep_dir) and runs[0]["name"].startswith("loss=gan,")


@pytest.mark.slow
def test_optuna_gets_the_figure_of_each_ddp_job(tmp_path):
    sweep_dir = tmp_path / "optuna"
    done = cli(["hparams_search=optuna", "hydra.sweeper.n_trials=2", *SWEEP[2:], f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = [json.loads((sweep_dir / job / "summary.json").read_text()) for job in ("0", "1")]
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["best_value"] == min(s["figures"]["val/w1"] for s in summaries)


FORKED = """
import json, sys
import ganzoo
cfg = ganzoo.compose(sys.argv[1:])
print("SUMMARY " + json.dumps(ganzoo.train(cfg)))
"""


@pytest.mark.slow
def test_the_python_api_returns_the_summary_when_the_ranks_are_forked(tmp_path):
    # forked ranks (DDP in a notebook): rank 0 is a child, and this process held no summary of its own
    args = [*TINY_TOY, "data.batch_size=8", "steps=2", "callbacks.every_n_steps=2", "metrics.w1.n=100",
            "logger=none", *DDP_CPU, "trainer.strategy.start_method=fork", f"run_dir={tmp_path / 'run'}"]
    done = subprocess.run([sys.executable, "-c", FORKED, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.split("SUMMARY ", 1)[1])
    assert summary == json.loads((tmp_path / "run" / "summary.json").read_text()) and summary["steps"] == 2


def test_sync_batchnorm_on_a_cpu_is_one_clear_line(run_dir):
    cfg = tiny([*TINY_DCGAN, "data=digits", "trainer=cpu", "trainer.sync_batchnorm=true", "steps=1"], run_dir)
    with pytest.raises(ConfigError, match="trainer.sync_batchnorm=true needs GPUs"):
        ganzoo.train(cfg)


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="SyncBatchNorm runs on GPUs only; this needs 2 of them")
def test_with_sync_batchnorm_two_gpus_equal_one_process_on_the_global_batch(tmp_path):
    # batch norm's statistics over the global batch: without sync_batchnorm each rank normalizes its own half
    args = [*TINY_DCGAN, "data=digits", "loss=wgan", "loss.critic_warmup=null", "steps=2", "callbacks.every_n_steps=2",
            "logger=none", "trainer.precision=64-true", "trainer.accelerator=gpu"]
    probed([*args, "trainer=ddp", "trainer.devices=2", "trainer.sync_batchnorm=true", "data.batch_size=8"], tmp_path / "ddp")
    probed([*args, "trainer.devices=1", "data.batch_size=16"], tmp_path / "one")
    ranks, (alone,) = rank_files(tmp_path / "ddp"), rank_files(tmp_path / "one")
    for name, weight in ranks[0]["state"].items():
        assert torch.allclose(weight.double(), alone["state"][name].double(), rtol=0, atol=1e-9), name


def test_a_plain_ddp_strategy_string_is_refused_in_one_line(run_dir):
    # Lightning's "ddp" crashes at the second critic backward with an error about unused parameters
    with pytest.raises(ConfigError, match="trainer.strategy must be .*use trainer=ddp.*find_unused_parameters.*got ddp"):
        ganzoo.train(tiny(["trainer=cpu", "trainer.strategy=ddp", "steps=1"], run_dir))
