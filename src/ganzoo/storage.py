"""How a run's files reach the disk: whole or not at all.

A file that must never be found half-written (a checkpoint) is written by `written_whole`: into a temporary file
beside it, flushed to the disk (fsync), then renamed onto it and the directory flushed too. A rename within one
directory replaces the file in one step, so a reader, a full disk or a run killed at any moment finds the old file
or the new one, never part of one. The temporary is named `.<name>.tmp-<pid>`: hidden, and matched by no pattern
that finds checkpoints (`*.ckpt`, Lightning's `last*.ckpt`); one left by a killed process is removed by the next
write of the same file.
"""

from __future__ import annotations

import glob
import os
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Iterator


# ----- writing ------------------------------------------------------------------------------------------------------
@contextmanager
def written_whole(path: str | os.PathLike, mode: str = "wb", **open_args) -> Iterator[IO]:
    """A file to write that becomes `path` when the block ends without an error, and is removed when it raises
    (`path` is then left as it was, and an OSError names `path`, not the temporary)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_left_behind(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, mode, **open_args) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())  # the bytes on the disk before the name points at them
        os.replace(temporary, path)
    except BaseException as err:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        for cause in chain(err):  # torch.save reports a failed write as a RuntimeError raised while handling it
            if isinstance(cause, OSError) and (cause.filename is None or str(cause.filename) == str(temporary)):
                cause.filename = str(path)
        raise
    sync_directory(path.parent)


def sync_directory(path: Path) -> None:
    """Flush a directory's entries to the disk, so that a rename in it outlasts a power cut (POSIX; Windows cannot
    open a directory, and its rename is flushed with the file)."""
    if os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_left_behind(path: Path) -> None:
    """Remove the temporaries of `path` whose process is gone: a run killed while writing it leaves one."""
    if os.name != "posix":  # os.kill(pid, 0) asks whether a process lives only on POSIX
        return
    for temporary in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        pid = temporary.name.rpartition("-")[2]
        if pid.isdigit() and not alive(int(pid)):
            with suppress(OSError):
                temporary.unlink()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def chain(err: BaseException | None) -> Iterator[BaseException]:
    """`err`, then the error it was raised from or while handling, and so on."""
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__
