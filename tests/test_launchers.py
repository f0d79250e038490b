"""A sweep's jobs run side by side: on this machine in processes of their own (hydra/launcher=parallel), through
submitit as on a SLURM cluster (hydra/launcher=slurm_local here, slurm there), and with sweep_gpus=N job k
trains on GPU k mod N."""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

import ganzoo
from ganzoo import train as train_entry
from ganzoo.config import config_dir, validate
from ganzoo.errors import ConfigError
from ganzoo.placement import place, place_job
from helpers import cli

TINY_SWEEP = ["-m", "loss=gan,wgan_gp", "steps=3", "callbacks.every_n_steps=3", "model.width=32", "data.batch_size=16",
              "metrics.w1.n=100"]


def with_hydra(overrides: list[str]):
    """The train config composed with its `hydra` node, as Hydra hands it to a launcher."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name="train", overrides=overrides, return_hydra_config=True)


@pytest.fixture
def hydra_job():
    """Run the test as if inside a Hydra job: `hydra_job(mode, num)` sets Hydra's own HydraConfig."""

    def enter(mode: str, num: int):
        HydraConfig.instance().set_config(with_hydra([f"hydra.mode={mode}", f"hydra.job.num={num}"]))

    yield enter
    HydraConfig.instance().cfg = None


# ----- which GPU a job trains on -------------------------------------------------------------------------------
@pytest.mark.parametrize("gpus", [1, 2, 3])
def test_job_k_trains_on_gpu_k_mod_sweep_gpus(gpus):
    cfg = ganzoo.compose([f"sweep_gpus={gpus}"])
    assert [place_job(cfg, k).trainer.devices for k in range(6)] == [[k % gpus] for k in range(6)]
    assert cfg.trainer.devices == 1  # the job's config is a copy; the sweep's is untouched


def test_without_sweep_gpus_or_outside_a_sweep_the_devices_are_left_alone():
    assert place_job(ganzoo.compose([]), 3).trainer.devices == 1
    cfg = ganzoo.compose(["sweep_gpus=2", "trainer.devices=auto"])
    assert place_job(cfg, None) is cfg
    assert place(cfg) is cfg  # not under Hydra at all: the Python API


def test_a_sweep_job_is_placed_by_hydras_job_number(hydra_job):
    cfg = ganzoo.compose(["sweep_gpus=2"])
    hydra_job("MULTIRUN", 3)
    assert place(cfg, gpus_here=2).trainer.devices == [1]
    with pytest.raises(ConfigError, match="this machine has 1; set sweep_gpus=1$"):
        place(cfg, gpus_here=1)
    with pytest.raises(ConfigError, match="this machine has none; drop sweep_gpus"):
        place(cfg, gpus_here=0)
    hydra_job("RUN", 3)  # a single run keeps its devices even with sweep_gpus set
    assert place(cfg, gpus_here=0) is cfg


def test_sweep_gpus_with_a_cpu_trainer_or_several_devices_per_job_is_one_line():
    with pytest.raises(ConfigError, match="drop sweep_gpus") as cpu:
        place_job(ganzoo.compose(["sweep_gpus=2", "trainer=cpu"]), 0)
    with pytest.raises(ConfigError, match="trainer.devices is 2") as several:
        place_job(ganzoo.compose(["sweep_gpus=2", "trainer.devices=2"]), 0)
    assert "\n" not in str(cpu.value) + str(several.value)


# ----- the launchers' configs ----------------------------------------------------------------------------------
def launcher(overrides: list[str]) -> dict:
    cfg = with_hydra(overrides)
    validate(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)


def test_the_parallel_launcher_runs_two_jobs_at_once_or_one_per_gpu():
    assert launcher(["hydra/launcher=parallel"])["n_jobs"] == 2
    parallel = launcher(["hydra/launcher=parallel", "sweep_gpus=4"])
    assert parallel["n_jobs"] == 4 and parallel["_target_"].endswith("JoblibLauncher")


def test_the_slurm_launcher_runs_one_task_per_gpu():
    slurm = launcher(["hydra/launcher=slurm", "hydra.launcher.gpus_per_node=4", "hydra.launcher.nodes=2",
                      "hydra.launcher.partition=gpu"])
    assert slurm["_target_"].endswith("SlurmLauncher") and slurm["partition"] == "gpu"
    assert (slurm["nodes"], slurm["gpus_per_node"], slurm["tasks_per_node"]) == (2, 4, 4)
    local = launcher(["hydra/launcher=slurm_local", "sweep_gpus=2"])
    assert local["_target_"].endswith("LocalLauncher") and (local["gpus_per_node"], local["tasks_per_node"]) == (2, 1)


@pytest.mark.parametrize("value", ["-1", "0", "two"])
def test_a_bad_sweep_gpus_is_exit_2_and_one_line(value, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ganzoo-train", f"sweep_gpus={value}"])
    monkeypatch.chdir(tempfile.mkdtemp())
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        train_entry.main()
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert lines[0].startswith("ganzoo: error: sweep_gpus must be an integer >= 1 or null") and "e.g. sweep_gpus=" in lines[0]


# ----- whole sweeps, on the CPU --------------------------------------------------------------------------------
def finished_jobs(sweep_dir: Path) -> list[str]:
    """The jobs of the sweep table, each checked to have left its summary.json."""
    with open(sweep_dir / "sweep_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert all((sweep_dir / row["job"] / "summary.json").is_file() for row in rows)
    return [row["loss"] for row in rows]


# Each log line names its process: the launcher's lines (the parent) and each job's train.log.
WITH_PIDS = ["hydra.hydra_logging.formatters.simple.format='process %(process)d: %(message)s'",
             "hydra.job_logging.formatters.file.format='process %(process)d: %(message)s'"]


def pids(lines: str) -> set[str]:
    return {line.split(":")[0].split()[1] for line in lines.splitlines() if line.startswith("process ")}


@pytest.mark.slow
def test_the_parallel_launcher_runs_each_job_in_a_process_of_its_own(tmp_path):
    sweep_dir = tmp_path / "sweep"
    done = cli([*TINY_SWEEP, *WITH_PIDS, "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert finished_jobs(sweep_dir) == ["gan", "wgan_gp"]
    (parent,) = pids(done.stdout)
    job_pids = [pids((sweep_dir / job / "train.log").read_text()) for job in ("0", "1")]
    assert all(len(found) == 1 for found in job_pids), job_pids
    first, second = (found.pop() for found in job_pids)
    assert len({parent, first, second}) == 3  # the basic launcher runs every job in the parent, one after another


@pytest.mark.slow
def test_a_slurm_sweep_runs_locally_through_submitit(tmp_path):
    sweep_dir = tmp_path / "sweep"
    done = cli([*TINY_SWEEP, "hydra/launcher=slurm_local", f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert finished_jobs(sweep_dir) == ["gan", "wgan_gp"]
    submitted = [p for p in (sweep_dir / ".submitit").iterdir() if p.name.isdigit()]  # one folder per job
    assert len(submitted) == 2 and all(list(p.glob("*_result.pkl")) for p in submitted)



# ----- a job that trains in several processes runs apart -------------------------------------------------------
@pytest.mark.parametrize("overrides, apart", [
    ([], False),  # strategy: auto, one device
    (["trainer=ddp"], True),
    (["trainer=ddp", "trainer.strategy._target_=lightning.pytorch.strategies.SingleDeviceStrategy",
      "~trainer.strategy.find_unused_parameters", "~trainer.strategy.start_method", "+trainer.strategy.device=cpu"], False),
    (["trainer.strategy=ddp_spawn_find_unused_parameters_true"], True),  # a name in Lightning's registry
])
def test_a_sweep_job_runs_apart_when_its_strategy_trains_in_several_processes(overrides, apart, hydra_job):
    cfg = ganzoo.compose(overrides)
    hydra_job("MULTIRUN", 0)
    assert train_entry.in_ddp_sweep(cfg) is apart
    hydra_job("RUN", 0)
    assert train_entry.in_ddp_sweep(cfg) is False


def test_a_ddp_job_run_apart_is_given_its_sweeps_wandb_group_and_name_and_nothing_for_csv(tmp_path):
    from ganzoo.sweep_job import job_command

    cfg = ganzoo.compose(["logger=[csv,wandb]", "trainer=ddp"])
    hydra = with_hydra(["hydra.mode=MULTIRUN", "hydra.job.num=1", f"hydra.sweep.dir={tmp_path}", "logger=[csv,wandb]",
                        "loss=gan"])
    hydra.hydra.runtime.output_dir = str(tmp_path / "1")
    HydraConfig.instance().set_config(hydra)
    try:
        command, job_dir = job_command(cfg)
    finally:
        HydraConfig.instance().cfg = None
    assert job_dir == tmp_path / "1"
    assert f"logger.wandb.group='{tmp_path}'" in command and "logger.wandb.name='logger=[csv,wandb],loss=gan'" in command
    assert not [arg for arg in command if arg.startswith("logger.csv.")]
