"""What a run says, and where it goes.

Under the command line, Hydra's job logging sends the root logger to the console and to <run dir>/train.log, so
ganzoo's lines, Lightning's and Python's warnings go through `logging` and reach both, each once. From Python
(no logging configured), ganzoo's lines are printed. While a run trains, Lightning's promotional tip lines are
dropped; everything here is undone when the run ends, so a notebook's logging is left as it was.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("ganzoo")

LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


def logging_configured() -> bool:
    return logging.getLogger().hasHandlers()


def say(message: str) -> None:
    """One of ganzoo's lines: to the log (console and train.log) under Hydra, else to stdout."""
    if logging_configured():
        log.info(message)
    else:
        print(message, flush=True)


class DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip:" not in str(record.msg)


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
