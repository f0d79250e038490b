"""Loading a trained model from a checkpoint, safely: the file is read with torch.load(weights_only=True), so
nothing in it is unpickled except tensors and plain containers, and only ganzoo's own objectives are built."""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo.errors import CheckpointError
from ganzoo.objectives import GANObjective


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
    if not isinstance(checkpoint, dict) or "ganzoo" not in checkpoint or "hyper_parameters" not in checkpoint:
        raise CheckpointError(f"{path} was not written by ganzoo (no ganzoo metadata); pass a ganzoo run's checkpoints/last.ckpt")
    return checkpoint


def load(ckpt: str | Path, map_location: str | torch.device = "cpu") -> GANObjective:
    """The trained objective module in eval mode; `module.sample(n)` draws from its generator."""
    from ganzoo.assemble import objective_class

    checkpoint = read(ckpt, map_location)
    hparams = checkpoint["hyper_parameters"]
    cfg = hparams["cfg"]
    module = objective_class(cfg["loss"]["_target_"])(cfg, tuple(hparams["data_shape"]))
    module.load_state_dict(checkpoint["state_dict"])
    module.trained_steps = int(checkpoint.get("global_step", 0))
    return module.to(map_location).eval()

