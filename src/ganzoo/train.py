"""`python -m ganzoo.train [overrides]`: train one GAN (or, with -m, a sweep). `ganzoo.train(cfg)` from Python.

The module is callable, so `ganzoo.train(cfg)` works whether or not `ganzoo.train` has been imported as a module.
"""

from __future__ import annotations

import sys
import types
import warnings

import lightning as L
from omegaconf import DictConfig, OmegaConf

from ganzoo.assemble import build_callbacks, build_datamodule, build_module, build_trainer, resolve_run_dir
from ganzoo.callbacks import RunSummary
from ganzoo.checkpoint import read as read_checkpoint
from ganzoo.config import validate
from ganzoo.errors import ConfigError
from ganzoo.loggers import CSVLogger
from ganzoo.resume import check_weights_fit

# Lightning's advice for map-style datasets does not apply to an endless in-memory batch stream.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
# Checkpoints hold the state after each generator iteration, which is what ganzoo wants saved.
warnings.filterwarnings("ignore", message=".*no pre-optimization state was saved.*")
# The CSV logger shares the run directory with config.yaml and the callbacks' files.
warnings.filterwarnings("ignore", message=".*Experiment logs directory .* exists and is not empty.*")
# ganzoo's streams are resumable: the datamodule skips the batches the checkpointed run drew.
warnings.filterwarnings("ignore", message=".*resuming from a checkpoint that ended before the epoch ended.*")


def run(cfg: DictConfig) -> dict:
    """Train as `cfg` says; return the final figures (the content of summary.json)."""
    validate(cfg)
    # Read early, so that a missing or foreign file fails in one line before anything is built.
    checkpoint = read_checkpoint(cfg.ckpt_path, mmap=True) if cfg.get("ckpt_path") else None
    run_dir = resolve_run_dir(cfg)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")  # a missing or unreadable dataset fails here, before anything else is built or printed
    module = build_module(cfg, datamodule.shape)
    module.run_config = OmegaConf.to_container(cfg, resolve=False)  # saved in checkpoints, for resuming
    if checkpoint is not None:
        check_weights_fit(module, checkpoint, cfg.ckpt_path)
        datamodule.batches_to_skip = int(checkpoint["ganzoo"].get("batches_drawn", 0))
    callbacks = build_callbacks(cfg, datamodule)
    trainer = build_trainer(cfg, callbacks)
    if checkpoint is not None:
        for logger in trainer.loggers:
            if isinstance(logger, CSVLogger):
                logger.continue_from(checkpoint["global_step"])
    if trainer.is_global_zero:
        OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    summary = next((c.summary for c in callbacks if isinstance(c, RunSummary)), {})
    return summary


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
    summary = run(cfg)
    return optimized_value(cfg, summary) if "optimized_metric" in cfg else summary


def main() -> None:
    from ganzoo.cli import run_entry

    run_entry(task, config_name="train")


class _CallableModule(types.ModuleType):
    def __call__(self, cfg: DictConfig) -> dict:
        return run(cfg)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    main()
