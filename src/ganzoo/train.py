"""`python -m ganzoo.train [overrides]`: train one GAN (or, with -m, a sweep). `ganzoo.train(cfg)` from Python.

The command line is composed and checked with Hydra and OmegaConf alone; torch and Lightning are imported only
once it is known to be valid (ganzoo/assemble.py builds and trains the run). The module is callable, so
`ganzoo.train(cfg)` works whether or not `ganzoo.train` has been imported as a module.
"""

from __future__ import annotations

import sys
import types

from omegaconf import DictConfig

from ganzoo.cli import run_entry
from ganzoo.config import validate
from ganzoo.errors import ConfigError
from ganzoo.storage import writable_run_dir
from ganzoo.sweep_job import in_ddp_sweep, run_apart


def run(cfg: DictConfig) -> dict:
    """Train as `cfg` says; return the final figures (the content of summary.json)."""
    from ganzoo.assemble import train  # torch and Lightning: only for a config that passed its checks

    return train(cfg)


def optimized_value(cfg: DictConfig, summary: dict) -> float:
    """The figure an hparams_search sweeper minimizes: `optimized_metric`, or the data's main figure."""
    name = cfg.get("optimized_metric") or summary.get("main_metric")
    if name is None or name not in summary.get("figures", {}):
        raise ConfigError(
            f"hparams_search minimizes '{name}', which this run did not log; set optimized_metric= to one of "
            f"{', '.join(summary.get('figures', {}))}"
        )
    return float(summary["figures"][name])


def task(cfg: DictConfig) -> dict | float:
    """What the command line runs: a summary, or under hparams_search the one figure its sweeper minimizes."""
    summary = run_apart(cfg) if in_ddp_sweep(cfg) else run(cfg)
    if summary.get("stopped_by"):  # checkpointed at a signal: the process ends as the signal asked (or is requeued)
        from ganzoo.callbacks.signals import hand_on

        hand_on(summary["stopped_by"])
    return optimized_value(cfg, summary) if "optimized_metric" in cfg else summary


def check(cfg: DictConfig) -> None:
    """The command line's checks before Hydra starts, which writes its log into the run directory first: the
    config's values, and a run directory that can be written (null: Hydra's, under outputs/)."""
    validate(cfg)
    writable_run_dir(cfg.get("run_dir") or "outputs")


def main() -> None:
    run_entry(task, config_name="train", check=check)


class _CallableModule(types.ModuleType):
    def __call__(self, cfg: DictConfig) -> dict:
        return run(cfg)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    main()
