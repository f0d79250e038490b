"""Ctrl-C keeps a usable checkpoint: on KeyboardInterrupt the current weights are saved as checkpoints/last.ckpt
before Lightning shuts down. Any other crash leaves the last periodic checkpoint as it was, since the weights of
a crashed run (NaN, say) are not worth keeping."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_info


class SaveOnInterrupt(L.Callback):
    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):
            path = Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"
            trainer.save_checkpoint(path)
            rank_zero_info(f"ganzoo: interrupted at step {trainer.global_step}; saved {path}")
