"""How a run's files reach the disk, and the one line a run ends with when the disk will not take them.

Whole or not at all. A file that must never be found half-written (a checkpoint, a picture, metrics.csv rewritten
under a new header) is written by `written_whole`: into a temporary file beside it, flushed to the disk (fsync),
then renamed onto it and the directory flushed too. A rename within one directory replaces the file in one step,
so a reader, a full disk or a run killed at any moment finds the old file or the new one, never part of one. The
temporary is named `.<name>.tmp-<pid>`: hidden, and matched by no pattern that finds checkpoints (`*.ckpt`,
Lightning's `last*.ckpt`); one left by a killed process is removed by the next write of the same file. Lines
appended to metrics.csv are kept whole by `whole_lines`: an append cut short is cut back to its last whole line.

A full disk, a quota, a read-only or forbidden directory end a run in one line (`reported`, `unwritable`): what
could not be written and where, the previous checkpoint that is intact (ganzoo keeps it at
<run dir>/checkpoints/last.ckpt) and its step, and how to go on (the same command, in that run directory). A run directory that cannot be made or written is
refused in one line before anything is built (`writable_run_dir`). No torch here: the command line checks the run
directory before it imports torch.
"""

from __future__ import annotations

import errno
import glob
import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Iterator

from ganzoo.errors import GanzooError, StorageError

FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}  # no room: free some
FORBIDDEN = {errno.EROFS, errno.EACCES}  # no right: write elsewhere
UNWRITABLE = FULL | FORBIDDEN


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


@contextmanager
def whole_lines(path: str | os.PathLike) -> Iterator[None]:
    """Around an append of lines to `path`: one cut short by an OSError is cut back to the last line it finished
    (a reader then finds whole rows only), and the error names `path`."""
    path = Path(path)
    try:
        yield
    except OSError as err:
        with suppress(OSError):
            cut_after_last_line(path)
        err.filename = err.filename or str(path)
        raise


def cut_after_last_line(path: Path, tail: int = 1 << 16) -> None:
    """Truncate `path` just after its last newline (rows are far shorter than `tail` bytes)."""
    with open(path, "r+b") as file:
        start = max(0, file.seek(0, os.SEEK_END) - tail)
        file.seek(start)
        file.truncate(start + file.read().rfind(b"\n") + 1)


def chain(err: BaseException | None) -> Iterator[BaseException]:
    """`err`, then the error it was raised from or while handling, and so on."""
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__


# ----- when the disk will not take a file ---------------------------------------------------------------------------
def writable_run_dir(path: str | os.PathLike) -> Path:
    """Make the run directory and check that a file can be made in it (as root, permissions never stop a write, a
    read-only disk does: so the check writes); else one line, before anything is built."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as err:
        name = Path(err.filename) if err.filename else path
        where = f": {name}" if path not in (name, name.parent) else ""  # an ancestor that failed, not the probe
        raise StorageError(f"cannot write the run directory {path} ({err.strerror}{where}); "
                           "give run_dir= a directory on a writable disk") from err
    return path


def unwritable(err: OSError, run_dir: str | os.PathLike) -> StorageError:
    """The one line for a file the disk would not take during a run in `run_dir`."""
    what = err.filename2 or err.filename or f"a file in {run_dir}"  # filename2: where a copy or a rename was going
    room = "free space on that disk" if err.errno in FULL else "make the run directory writable"
    last = Path(run_dir) / "checkpoints" / "last.ckpt"
    step = checkpoint_step(last)
    if step is None:
        return StorageError(f"could not write {what} ({err.strerror}); there is no checkpoint to continue from; "
                            f"{room} or choose run_dir= on another disk, then start the command again")
    # resume=auto: the same command in that run directory (or in a copy of it) goes on from its checkpoint
    return StorageError(
        f"could not write {what} ({err.strerror}); the previous checkpoint {last} (step {step}) is intact; {room} "
        f"or move {run_dir} to another disk, then run the same command with run_dir= that directory to continue "
        f"from step {step}"
    )


def checkpoint_step(path: Path) -> int | None:
    """The step of the checkpoint at `path`; None if there is none that ganzoo can read."""
    from ganzoo.checkpoint import read  # torch: only once a run has failed to write

    try:
        return int(read(path, mmap=True)["global_step"]) if path.is_file() else None
    except GanzooError:
        return None


def first_unwritable(err: BaseException) -> OSError | None:
    """The earliest full-disk or read-only OSError among `err` and the errors it was raised while handling."""
    found = [cause for cause in chain(err) if isinstance(cause, OSError) and cause.errno in UNWRITABLE]
    return found[-1] if found else None


@contextmanager
def reported(run_dir: str | os.PathLike) -> Iterator[None]:
    """Around a run: a file the disk would not take ends it as one StorageError line (`unwritable`). Lightning's
    teardown after that error may fail on the same disk and raise again; the first error is the one reported."""
    try:
        yield
    except Exception as err:
        first = first_unwritable(err)
        if first is None:
            raise
        raise unwritable(first, run_dir) from first
