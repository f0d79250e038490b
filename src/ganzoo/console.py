"""What a run says, and where it goes.

Under the command line, Hydra's job logging sends the root logger to the console and to <run dir>/train.log, so
ganzoo's lines, Lightning's and Python's warnings go through `logging` and reach both, each once. From Python
(no logging configured), ganzoo's lines are printed. While a run trains, Lightning's promotional tip lines are
dropped; everything here is undone when the run ends, so a notebook's logging is left as it was. ganzoo's first
line comes first: what Lightning says while its Trainer is made waits until that line is out, and its device
lines ("GPU available: ...") are dropped, since ganzoo's line names the device.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("ganzoo")

LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
DEVICE_LINES = ("GPU available", "TPU available", "HPU available")  # Lightning's, as the Trainer is made


def logging_configured() -> bool:
    return logging.getLogger().hasHandlers()


def say(message: str) -> None:
    """One of ganzoo's lines: to the log (console and train.log) under Hydra, else to stdout."""
    if logging_configured():
        log.info(message)
    else:
        print(message, flush=True)


class RunLogFile(logging.FileHandler):
    """<run dir>/train.log (conf/hydra/job_logging/ganzoo.yaml). A line the disk will not take (an OSError: full,
    read-only) is left out of the file, not printed with a traceback over the console: the console shows it, and
    the run's next file on that disk ends the run in one line (ganzoo/storage.py)."""

    def handleError(self, record: logging.LogRecord) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handleError(record)


def into_run_log(message: str) -> None:
    """The line that ends a run, into train.log too: the console shows it on stderr, where no handler of Hydra's
    job logging looks."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, RunLogFile):
            handler.handle(record)


# Lightning's lines that ganzoo's own replace: its promotional tips, its end-of-fit line (ganzoo's summary says how
# far the run went) and its restore lines (ganzoo's first line names the checkpoint a run continues from).
DROPPED = ("Tip:", "`Trainer.fit` stopped", "Restoring states from the checkpoint", "Restored all states from")


class DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in str(record.msg) for text in DROPPED)


class HoldBack(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False


@contextmanager
def lightning_after_ganzoo() -> Iterator[None]:
    """Lightning's lines logged inside the block (while its Trainer is made) come out at its end, after the line
    ganzoo says inside it; Lightning's device lines are dropped (ganzoo's first line names the device)."""
    hold = HoldBack()
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).addFilter(hold)
    try:
        yield
    finally:
        for name in LIGHTNING_LOGGERS:
            logging.getLogger(name).removeFilter(hold)
        for record in hold.records:
            if not str(record.msg).startswith(DEVICE_LINES):
                logging.getLogger(record.name).handle(record)


@contextmanager
def run_logging() -> Iterator[None]:
    """Around a run: tips dropped; under Hydra, Lightning's own console handler set aside (its lines reach the
    console and train.log through the root logger instead of twice on the console) and warnings logged."""
    tips = DropTips()
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).addFilter(tips)
    lightning = logging.getLogger("lightning")
    set_aside = [h for h in lightning.handlers if logging_configured() and isinstance(h, logging.StreamHandler)]
    for handler in set_aside:
        lightning.removeHandler(handler)
    logging.captureWarnings(logging_configured())
    level = log.level
    if logging_configured():
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.setLevel(level)
        logging.captureWarnings(False)
        for handler in set_aside:
            lightning.addHandler(handler)
        for name in LIGHTNING_LOGGERS:
            logging.getLogger(name).removeFilter(tips)
