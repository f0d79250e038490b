"""Resuming a run from a checkpoint so that it goes on exactly as if it had never stopped.

A checkpoint holds, beside the weights and optimizer states, the run's config as composed (interpolations
kept, so `steps=5000` on resume moves `trainer.max_steps` and every `${steps}` with it), the number of
batches drawn, and the random state (objectives/base.py). Resuming therefore needs only the checkpoint:

    python -m ganzoo.train ckpt_path=outputs/.../checkpoints/last.ckpt [steps=5000 ...]

The run's own config comes back, keys given beside ckpt_path replace its values, and the run goes on in the
directory that holds the checkpoint. A group that would build another objective, model or dataset (`loss=gan`)
is refused; naming the run's own choice again is fine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from omegaconf import DictConfig, OmegaConf

from ganzoo.errors import CheckpointError, ConfigError

# Groups whose choice decides what the weights are; what identifies that choice in a composed config.
IDENTITY = {
    "loss": ("loss._target_",),
    "model": ("model.name", "model.generator"),
    "data": ("data._target_", "data.name"),
}
IDENTITY["experiment"] = IDENTITY["recipe"] = tuple(key for keys in IDENTITY.values() for key in keys)


def checkpoint_run_dir(ckpt_path: str | None) -> str | None:
    """The run directory a checkpoint lies in (<run dir>/checkpoints/x.ckpt), or None."""
    if not ckpt_path:
        return None
    path = Path(ckpt_path)
    return str(path.parent.parent) if path.parent.name == "checkpoints" else None


def resumed_config(fresh: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The checkpointed run's config with the keys named in `overrides` taken from `fresh` (the same overrides
    composed on ganzoo's defaults). A checkpoint written before ganzoo saved configs leaves `fresh` as it is."""
    from ganzoo.checkpoint import read

    saved = read(fresh.ckpt_path, mmap=True)["ganzoo"].get("config")
    if saved is None:
        return fresh
    cfg = OmegaConf.create(saved)
    raw = OmegaConf.to_container(fresh, resolve=False)
    for override in overrides:
        key = override.lstrip("+~").partition("=")[0]
        if key in ("ckpt_path", "run_dir"):
            continue
        if key in IDENTITY:
            refuse_a_different_choice(key, override, fresh, cfg)
            continue
        OmegaConf.update(cfg, key, select(raw, key), merge=False, force_add=True)
    run_dir = fresh.run_dir or checkpoint_run_dir(fresh.ckpt_path) or cfg.run_dir
    OmegaConf.update(cfg, "run_dir", run_dir)
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


def check_weights_fit(module, checkpoint: dict, ckpt_path: str) -> None:
    """A config that builds other nets than the checkpoint's gets one line naming the first mismatch."""
    own = module.state_dict()
    for name, tensor in checkpoint["state_dict"].items():
        if name not in own or own[name].shape != tensor.shape:
            here = tuple(own[name].shape) if name in own else "absent"
            raise CheckpointError(
                f"{ckpt_path} does not fit the configured model ({name}: {tuple(tensor.shape)} in the checkpoint, "
                f"{here} here); resume with the model settings it was trained with"
            )
