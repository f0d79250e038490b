"""The CheckpointIO plugin every ganzoo Trainer saves through: each checkpoint (last, best, the one saved on Ctrl-C)
is written whole or not at all, beside its final name (ganzoo/storage.py, `written_whole`).

Why not Lightning's own: in Lightning 2.6, TorchCheckpointIO.save_checkpoint calls
lightning.fabric.utilities.cloud_io._atomic_save, which serializes the checkpoint into memory and writes it inside
an fsspec transaction. For a local path, fsspec's LocalFileOpener makes the temporary with `tempfile.mkstemp()`,
that is in the system's temporary directory ($TMPDIR, usually /tmp), not beside the checkpoint, and commits with
`shutil.move`: a rename when /tmp and the run directory share a filesystem, but when /tmp is another one (a tmpfs,
a node-local disk beside a network run directory) a copy onto the checkpoint's own name, which a run killed or a
disk filled during the copy leaves half-written. Nothing is fsynced, so even the rename may not outlast a power
cut. /tmp must also hold a whole extra copy of every checkpoint. And `_atomic_save` swallows a PermissionError
that is not a cross-device one, so a checkpoint that could not be written was not even reported.

Saving happens on rank 0 only (Lightning's Strategy.save_checkpoint); removing (`remove_checkpoint`, for the best
checkpoints ModelCheckpoint replaces) is Lightning's own. Paths of another filesystem (s3://) go to Lightning's
writer.
"""

from __future__ import annotations

from typing import Any

import torch
from fsspec.implementations.local import LocalFileSystem
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import CheckpointIO, TorchCheckpointIO

from ganzoo.storage import written_whole


class WholeCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        if storage_options is not None or not isinstance(get_filesystem(path), LocalFileSystem):
            return super().save_checkpoint(checkpoint, path, storage_options)
        with written_whole(path) as file:
            torch.save(checkpoint, file)


def with_whole_checkpoints(plugins: list) -> list:
    """The Trainer's plugins (trainer.plugins, made) and WholeCheckpointIO, unless they hold a CheckpointIO of their
    own."""
    return plugins if any(isinstance(p, CheckpointIO) for p in plugins) else [*plugins, WholeCheckpointIO()]
