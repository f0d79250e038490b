"""Builds the pieces of a run from a composed config: datamodule, objective module, callbacks, logger, trainer.
Everything with a `_target_` is instantiated by Hydra; this module only decides what goes where."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import lightning as L
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from ganzoo.callbacks import RunSummary, SampleQuality
from ganzoo.config import to_plain
from ganzoo.data import GANDataModule
from ganzoo.errors import CheckpointError, ConfigError, GanzooError
from ganzoo.metrics.images import METRICS as METRIC_NAMES
from ganzoo.metrics.images import enabled as enabled_metrics
from ganzoo.objectives import GANObjective


def resolve_run_dir(cfg: DictConfig) -> Path:
    """cfg.run_dir if set, else Hydra's run directory, else outputs/<date>/<time> as Hydra would name it."""
    if cfg.get("run_dir"):
        path = Path(cfg.run_dir)
    else:
        try:
            from hydra.core.hydra_config import HydraConfig

            path = Path(HydraConfig.get().runtime.output_dir)
        except ValueError:  # not under @hydra.main: the Python API
            path = Path("outputs") / datetime.now().strftime("%Y-%m-%d/%H-%M-%S-%f")
    with open_dict(cfg):
        cfg.run_dir = str(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def objective_class(target: str) -> type[GANObjective]:
    """The objective a config or checkpoint names; only ganzoo's objectives are ever imported from it."""
    if not target.startswith("ganzoo.objectives."):
        raise CheckpointError(f"'{target}' is not a ganzoo objective; expected ganzoo.objectives.<name>.<Class>")
    try:
        cls = get_class(target)
    except Exception as err:
        raise ConfigError(f"cannot import objective '{target}': {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, GANObjective)):
        raise ConfigError(f"'{target}' is not a GANObjective")
    return cls


def make(node: DictConfig, **kwargs):
    """hydra.utils.instantiate, except that a ganzoo error raised by the target reaches the user as itself
    (one line), not wrapped in Hydra's InstantiationException."""
    try:
        return instantiate(node, **kwargs)
    except Exception as err:
        cause = err.__cause__
        if isinstance(cause, GanzooError):
            raise cause from None
        raise


def build_datamodule(cfg: DictConfig) -> GANDataModule:
    return make(cfg.data)


def build_module(cfg: DictConfig, data_shape: tuple[int, ...]) -> GANObjective:
    return objective_class(cfg.loss._target_)(to_plain(cfg), data_shape)


def build_callbacks(cfg: DictConfig, datamodule: GANDataModule) -> list[L.Callback]:
    """The callbacks group, one `_target_` each; a null entry is switched off. The best checkpoint follows the
    datamodule's main figure (val/w1 on toy data), or val/fid on images when metrics=fid is on, at the steps
    that figure is measured; it is left out when there is none. The metrics group adds FID/IS/KID."""
    metrics = enabled_metrics(cfg.get("metrics")) if len(datamodule.shape) == 3 else []
    main_metric = "val/fid" if "fid" in metrics else datamodule.main_metric
    callbacks = []
    for name, node in cfg.callbacks.items():
        if not isinstance(node, DictConfig):  # switched off (null) or a shared setting such as every_n_steps
            continue
        if name == "best_checkpoint":
            if node.monitor is None and main_metric is None:
                continue
            node = OmegaConf.merge(node, {"monitor": node.monitor or main_metric})
            if node.monitor == "val/fid":
                node.every_n_train_steps = cfg.metrics.every_n_steps
        callbacks.append(make(node))
    if metrics:
        settings = {k: v for k, v in cfg.metrics.items() if k not in METRIC_NAMES}
        callbacks.append(SampleQuality(metrics, **settings))
    for callback in callbacks:
        if isinstance(callback, RunSummary):  # named in summary.json; what hparams_search minimizes by default
            callback.main_metric = main_metric
    return callbacks


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback]) -> L.Trainer:
    logger = make(cfg.logger) if cfg.get("logger") else False  # logger=none: an empty config
    return make(cfg.trainer, callbacks=callbacks, logger=logger, default_root_dir=cfg.run_dir)
