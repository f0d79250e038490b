"""Checkpoints: what ganzoo keeps in them, how a run resumes from one, and how a trained model is loaded.

Beside Lightning's weights, optimizer states and step count, a checkpoint holds one `ganzoo` entry:

    format        3 (2 lacks num_classes and kept the runtime keys in the model node, 1 was written before
                  2026-12; both still load: see `stored_config`)
    objective     the objective class, for messages
    config        the run's config as composed, interpolations kept (so `steps=5000` on resume moves every
                  `${steps}`), stored once
    data_shape    the shape of one sample, so the nets can be rebuilt without the data
    num_classes   the classes of the data's labels (null: unlabelled), for nets that take labels
    batches_drawn real batches drawn so far: a resumed stream skips them
    wandb_id      the W&B run, so that a resumed run logs into it (absent without logger=wandb); each logger
                  keeps what it needs (`checkpoint_state` in ganzoo/loggers.py)

A run started again in a directory that holds its checkpoint goes on from it (`continued`, resume=auto): the
same command continues a run that was killed, stopped by a signal or requeued by SLURM.

Resuming needs only the file: `python -m ganzoo.train ckpt_path=.../last.ckpt [steps=5000 ...]`. The run's own
config comes back (`resumed_config`, called by `config.compose`), keys given beside ckpt_path replace its values,
and the run goes on in the directory that holds the checkpoint. A group that would build another objective, model
or dataset is refused. Loading (`load`) reads the file with torch.load(weights_only=True), so nothing is
unpickled but tensors and plain containers, and only ganzoo's own objectives are built from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf

from ganzoo.errors import CheckpointError, ConfigError
from ganzoo.objectives import GANTraining, build_objective
from ganzoo.runtime import BEFORE_THE_KEY, RUNTIME_KEYS

FORMAT = 3

# Groups whose choice decides what the weights are; what identifies that choice in a composed config.
IDENTITY = {
    "loss": ("loss._target_",),
    "model": ("model._target_", "model.generator"),
    "data": ("data._target_", "data.name"),
}
IDENTITY["experiment"] = IDENTITY["recipe"] = tuple(key for keys in IDENTITY.values() for key in keys)


# ----- reading ----------------------------------------------------------------------------------------------------
def read(ckpt: str | Path, map_location: str | torch.device = "cpu", mmap: bool = False) -> dict:
    """The checkpoint's content, after checking that the file exists and that ganzoo wrote it."""
    path = Path(ckpt)
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint not found: {path}; runs keep theirs in <run dir>/checkpoints/last.ckpt (see summary.json)"
        )
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as err:
        raise CheckpointError(f"cannot read {path} as a PyTorch checkpoint ({type(err).__name__}); is the file complete?") from err
    if not isinstance(checkpoint, dict) or "ganzoo" not in checkpoint:
        raise CheckpointError(f"{path} was not written by ganzoo (no ganzoo metadata); pass a ganzoo run's checkpoints/last.ckpt")
    if int(checkpoint["ganzoo"].get("format", 1)) > FORMAT:
        raise CheckpointError(f"{path} was written by a newer ganzoo (checkpoint format {checkpoint['ganzoo']['format']}); upgrade ganzoo")
    return checkpoint


# Format 1 kept constraints as flags beside their settings (gp: true, weight: 10) and named models (name: dcgan).
V1_CONSTRAINTS = {
    "clip": ("ganzoo.constraints.clip.WeightClip", ("clip_value",)),
    "gp": ("ganzoo.constraints.gradient_penalty.GradientPenalty", ("weight",)),
    "instance_noise": ("ganzoo.constraints.instance_noise.InstanceNoise", ("sigma", "anneal_steps", "schedule")),
}


def from_format_1(config: dict) -> dict:
    """A format-1 run config in today's layout: one node per constraint, models by `_target_`."""
    flat = config.get("constraint") or {}
    nodes = {
        name: {"_target_": target, **{key: flat[key] for key in keys if key in flat}}
        for name, (target, keys) in V1_CONSTRAINTS.items()
        if flat.get(name) is True
    }
    model = {k: v for k, v in config["model"].items() if k != "name"}
    model = {"_target_": f"ganzoo.models.{config['model']['name']}.build", **model}
    return {**config, "constraint": nodes, "model": model}


def from_format_2(config: dict) -> dict:
    """A config written before the runtime node: its model's runtime keys moved there (those it lacked set as
    the model ran without them), and `model.fixed_generator: true` made the model of that name."""
    if "runtime" in config:
        return config
    model = {k: v for k, v in config["model"].items() if k not in (*RUNTIME_KEYS, "fixed_generator")}
    if config["model"].get("fixed_generator"):
        model.update(_target_="ganzoo.models.fixed_generator.build", data=config["data"]["name"], seed=config["seed"])
    runtime = {**BEFORE_THE_KEY, **{k: v for k, v in config["model"].items() if k in RUNTIME_KEYS}}
    return {**config, "model": model, "runtime": runtime}


# Runs before 2026-12-07 kept one logger as the logger node itself; today's group holds one node per logger, by the
# name of its option in conf/logger. Old target -> (that name, today's target; TensorBoard's is now ganzoo's own).
ONE_LOGGER = {
    "ganzoo.loggers.CSVLogger": ("csv", "ganzoo.loggers.CSVLogger"),
    "ganzoo.loggers.WandbLogger": ("wandb", "ganzoo.loggers.WandbLogger"),
    "lightning.pytorch.loggers.TensorBoardLogger": ("tensorboard", "ganzoo.loggers.TensorBoardLogger"),
}


def with_logger_group(config: dict) -> dict:
    """A run config whose logger node is one logger (`_target_` at its top) in the group layout of today."""
    logger = config.get("logger")
    if not isinstance(logger, dict) or "_target_" not in logger:
        return config
    old = logger["_target_"]
    name, target = ONE_LOGGER.get(old, (old.rsplit(".", 1)[-1].lower(), old))  # another package's: by its class
    return {**config, "logger": {name: {**logger, "_target_": target}}}


# Before metrics were registered by name, a run config had callbacks.toy_figures and callbacks.digit_figures (each
# with its n) and metrics.fid/is/kid: true; today one Evaluation callback runs one metrics node per metric.
EVALUATION = {"_target_": "ganzoo.callbacks.Evaluation", "metrics": "${metrics}", "_recursive_": False}
FIGURE_CALLBACKS = {"toy_figures": {"w1": "ganzoo.metrics.toy.W1", "modes": "ganzoo.metrics.toy.Modes"},
                    "digit_figures": {"digits": "ganzoo.metrics.digits.DigitFigures"}}
IMAGE_METRICS = {"fid": "ganzoo.metrics.images.FID", "is": "ganzoo.metrics.images.IS", "kid": "ganzoo.metrics.images.KID"}


def with_registered_metrics(config: dict) -> dict:
    """A run config from before metrics were registered by name in today's layout (unchanged if it is one)."""
    callbacks = dict(config.get("callbacks") or {})
    if not callbacks.keys() & FIGURE_CALLBACKS.keys():
        return config
    old = dict(config.get("metrics") or {})
    chosen = [name for name in IMAGE_METRICS if old.pop(name, None) is True]
    metrics: dict = {"main": "val/fid" if "fid" in chosen else None}
    for key, targets in FIGURE_CALLBACKS.items():
        node = callbacks.get(key)  # null (switched off) or absent (digit figures came later): off, as in that run
        for name, target in targets.items():
            every = node.get("every_n_steps", "${..every_n_steps}") if node is not None else None
            every = "${callbacks.every_n_steps}" if str(every).startswith("${") else every
            metrics[name] = None if node is None else {"_target_": target, "every_n_steps": every, "n": node.get("n", 1000)}
    metrics.update({**old, **{name: {"_target_": IMAGE_METRICS[name]} for name in chosen}})
    callbacks = {("evaluation" if k == "toy_figures" else k): (EVALUATION if k == "toy_figures" else v)
                 for k, v in callbacks.items() if k != "digit_figures"}
    return {**config, "callbacks": callbacks, "metrics": metrics}


# Callbacks renamed since: Ctrl-C's save-now became a stop at the end of the step for every stopping signal.
RENAMED_CALLBACKS = {"ganzoo.callbacks.SaveOnInterrupt": "ganzoo.callbacks.StopOnSignal"}


def with_renamed_callbacks(config: dict) -> dict:
    callbacks = {key: {**node, "_target_": RENAMED_CALLBACKS[node["_target_"]]}
                 if isinstance(node, dict) and node.get("_target_") in RENAMED_CALLBACKS else node
                 for key, node in (config.get("callbacks") or {}).items()}
    return {**config, "callbacks": callbacks} if callbacks else config


def todays_layout(config: dict) -> dict:
    """A format-2 (or converted format-1) run config with every later move applied: runtime node, logger group,
    registered metrics, renamed callbacks."""
    return with_renamed_callbacks(with_registered_metrics(with_logger_group(from_format_2(config))))


def stored_config(checkpoint: dict) -> tuple[DictConfig, tuple[int, ...], int | None]:
    """The run's config (interpolations kept) in today's layout, the shape of one sample and the data's number of
    classes."""
    state = checkpoint["ganzoo"]
    if int(state.get("format", 1)) >= 2:  # format 2 had no labels: its nets take none
        config = OmegaConf.create(todays_layout(state["config"]))
        return config, tuple(state["data_shape"]), state.get("num_classes")
    hparams = checkpoint["hyper_parameters"]  # format 1 kept the resolved config there, and the shape
    config = OmegaConf.create(todays_layout(from_format_1(state.get("config") or hparams["cfg"])))
    return config, tuple(hparams["data_shape"]), None


def load(ckpt: str | Path, map_location: str | torch.device = "cpu") -> GANTraining:
    """The trained objective module in eval mode; `module.sample(n)` draws from its generator and
    `module.run_config` is the config it was trained with."""
    checkpoint = read(ckpt, map_location)
    config, data_shape, num_classes = stored_config(checkpoint)
    module = build_objective(config, data_shape, num_classes, announce=False)
    module.loaded(checkpoint["state_dict"], checkpoint.get("global_step", 0), config)
    return module.to(map_location).eval()


# ----- writing ----------------------------------------------------------------------------------------------------
class RunState(L.Callback):
    """Writes the `ganzoo` entry into every checkpoint. No random state is kept: training's random numbers are
    reseeded from (seed, step) at every generator iteration (ganzoo/draws.py) and the data streams skip the
    batches drawn, so the step and `batches_drawn` are all a resumed run needs, on any number of ranks. (Format-2
    checkpoints written before 2026-12-04 also hold an `rng` entry, now unused.)"""

    def __init__(self, config: dict, data_shape: Sequence[int], num_classes: int | None = None):
        self.config = config  # the composed config, interpolations kept
        self.data_shape = list(data_shape)
        self.num_classes = num_classes

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["ganzoo"] = {
            "format": FORMAT,
            "objective": f"{type(pl_module.objective).__module__}.{type(pl_module.objective).__qualname__}",
            "config": self.config,
            "data_shape": self.data_shape,
            "num_classes": self.num_classes,
            "batches_drawn": pl_module.batches_drawn,
        }
        for logger in trainer.loggers:  # what a logger needs to go on in its run, e.g. W&B's id (ganzoo/loggers.py)
            checkpoint["ganzoo"].update(getattr(logger, "checkpoint_state", dict)())


def resume(checkpoint: dict, ckpt_path: str, module: GANTraining, datamodule) -> None:
    """Before `trainer.fit(ckpt_path=...)`: check the nets fit, and set the data position, which Lightning does not
    restore itself. (The loggers continue their runs when they are built: `loggers.build_loggers`.)"""
    check_weights_fit(module, checkpoint, ckpt_path)
    module.batches_drawn = datamodule.batches_to_skip = int(checkpoint["ganzoo"].get("batches_drawn", 0))


def check_weights_fit(module: GANTraining, checkpoint: dict, ckpt_path: str) -> None:
    """A config that builds other nets than the checkpoint's gets one line naming the first mismatch."""
    own = module.state_dict()
    for name, tensor in checkpoint["state_dict"].items():
        if name not in own or own[name].shape != tensor.shape:
            here = tuple(own[name].shape) if name in own else "absent"
            raise CheckpointError(
                f"{ckpt_path} does not fit the configured model ({name}: {tuple(tensor.shape)} in the checkpoint, "
                f"{here} here); resume with the model settings it was trained with"
            )


# ----- the config of a resumed run --------------------------------------------------------------------------------
def continued(cfg: DictConfig, run_dir: Path) -> DictConfig:
    """resume=auto: a config with no ckpt_path whose run directory already holds checkpoints/last.ckpt resumes it.
    The command's own config is the one trained (it is the same command started again; keys it changes, such as
    steps, apply), so the checkpoint must be of the same objective, model, data and seed."""
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.get("ckpt_path") or not last.is_file():
        return cfg
    if cfg.get("resume") == "never":
        raise ConfigError(f"{run_dir} already holds a run ({last}); resume=auto goes on with it, or choose another run_dir")
    saved, _, _ = stored_config(read(last, mmap=True))
    for key in (*IDENTITY["experiment"], "seed"):
        before, after = OmegaConf.select(saved, key), OmegaConf.select(cfg, key)
        if before != after:
            raise ConfigError(
                f"{run_dir} holds another run ({key} is {before} there, {after} here); choose another run_dir, or go "
                f"on with that run as it was trained with ckpt_path={last}"
            )
    cfg = cfg.copy()
    OmegaConf.update(cfg, "ckpt_path", str(last))
    return cfg


def resumed_config(fresh: DictConfig, overrides: Sequence[str], run_dir: str | None) -> DictConfig:
    """The checkpointed run's config with the keys named in `overrides` taken from `fresh` (the same overrides
    composed on ganzoo's defaults); it goes on in `run_dir`, or where the run was. A format-1 checkpoint without
    a saved config leaves `fresh` as it is."""
    checkpoint = read(fresh.ckpt_path, mmap=True)
    if int(checkpoint["ganzoo"].get("format", 1)) < 2 and checkpoint["ganzoo"].get("config") is None:
        return fresh
    cfg, _, _ = stored_config(checkpoint)
    raw = OmegaConf.to_container(fresh, resolve=False)
    for override in overrides:
        key = override.lstrip("+~").partition("=")[0]
        if key in ("ckpt_path", "run_dir") or key.startswith("hydra."):  # hydra.*: Hydra's, e.g. DDP's children
            continue
        if key in IDENTITY:
            refuse_a_different_choice(key, override, fresh, cfg)
            continue
        OmegaConf.update(cfg, key, select(raw, key), merge=False, force_add=True)
    OmegaConf.update(cfg, "run_dir", run_dir or cfg.run_dir)
    OmegaConf.update(cfg, "ckpt_path", fresh.ckpt_path)
    OmegaConf.set_struct(cfg, True)
    return cfg


def refuse_a_different_choice(group: str, override: str, fresh: DictConfig, saved: DictConfig) -> None:
    for key in IDENTITY[group]:
        before, after = OmegaConf.select(saved, key), OmegaConf.select(fresh, key)
        if before != after:
            raise ConfigError(
                f"'{override}' would change {key} from {before} to {after}, but ckpt_path resumes the run as it "
                f"was trained; drop '{override}', or start a new run without ckpt_path"
            )


def select(tree: dict, key: str):
    node = tree
    for part in key.split("."):
        node = node[part]
    return node
