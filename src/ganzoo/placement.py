"""Which GPU a job of a sweep trains on: with `sweep_gpus=N`, job k of a multirun trains on GPU k mod N.

`python -m ganzoo.train -m hydra/launcher=parallel sweep_gpus=4 loss=gan,wgan,wgan_gp seed=0,1` runs four jobs at
once (conf/hydra/launcher/parallel.yaml), job k on GPU k mod 4. The choice is Lightning's own way of naming one
device, `trainer.devices=[k mod N]`, never CUDA_VISIBLE_DEVICES: the parallel launcher's worker processes are
reused from one job to the next, and CUDA reads that variable once per process. Jobs are handed to workers as
workers free up, so when jobs take unequal times, job k + N may start on a GPU whose job k is still running.

The decision needs Hydra and OmegaConf only; torch is asked only how many GPUs there are, once a job is placed.
"""

from __future__ import annotations

import copy

from omegaconf import DictConfig, ListConfig, open_dict

from ganzoo.errors import ConfigError


def sweep_job_num() -> int | None:
    """hydra.job.num of the multirun job running now; None for a single run or outside Hydra (the Python API)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    return int(hydra_cfg.job.num) if hydra_cfg.mode == RunMode.MULTIRUN else None


def place_job(cfg: DictConfig, job_num: int | None) -> DictConfig:
    """`cfg` with trainer.devices=[job_num mod sweep_gpus]; `cfg` itself when sweep_gpus is null or the run is not
    a sweep's job (job_num None). `cfg` is not changed."""
    gpus = cfg.get("sweep_gpus")
    if gpus is None or job_num is None:
        return cfg
    if cfg.trainer.get("accelerator") == "cpu":
        raise ConfigError("sweep_gpus spreads a sweep's jobs over GPUs, but trainer.accelerator is cpu; "
                          "drop sweep_gpus (or trainer=cpu)")
    devices = cfg.trainer.get("devices", 1)
    if devices not in (1, "auto") and not (isinstance(devices, (list, ListConfig)) and len(devices) == 1):
        raise ConfigError(f"sweep_gpus gives each job one GPU, but trainer.devices is {devices}; "
                          "drop trainer.devices or sweep_gpus")
    placed = copy.deepcopy(cfg)
    with open_dict(placed.trainer):
        placed.trainer.devices = [job_num % int(gpus)]
    return placed


def place(cfg: DictConfig, gpus_here: int | None = None) -> DictConfig:
    """`cfg` placed for the multirun job running now (see place_job), after checking that this machine has the
    sweep_gpus GPUs it spreads over (`gpus_here`: how many it has; None counts them with torch)."""
    placed = place_job(cfg, sweep_job_num())
    if placed is cfg:
        return cfg
    if gpus_here is None:
        import torch  # only a placed job asks, and by then the run is being built

        gpus_here = torch.cuda.device_count()
    if gpus_here == 0:
        raise ConfigError(f"sweep_gpus={cfg.sweep_gpus} spreads the jobs over GPUs, but this machine has none; "
                          "drop sweep_gpus")
    if gpus_here < cfg.sweep_gpus:
        raise ConfigError(f"sweep_gpus={cfg.sweep_gpus} spreads the jobs over {cfg.sweep_gpus} GPUs, but this machine "
                          f"has {gpus_here}; set sweep_gpus={gpus_here}")
    return placed
