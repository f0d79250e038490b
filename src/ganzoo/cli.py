"""Runs a Hydra entry point so that mistakes a user can make end in one line, not a traceback.

Before Hydra starts, a plain run's overrides are composed and checked once, with Hydra and OmegaConf alone (no
torch yet): an unknown group option or key, or a value out of range, is reported as one line naming the key.
Inside the task, ganzoo's own errors are printed the same way. HYDRA_FULL_ERROR=1 restores the full traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ganzoo.config import check_group_choices, compose, config_dir
from ganzoo.console import into_run_log
from ganzoo.errors import ConfigError, GanzooError

HYDRA_FLAGS_WITHOUT_RUN = ("--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "--shell-completion", "-sc")


def fail(message: str) -> None:
    """Print one line and exit with status 2 (the traceback too when HYDRA_FULL_ERROR=1)."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1" and sys.exc_info()[0] is not None:
        raise
    print(f"ganzoo: error: {message}", file=sys.stderr)
    sys.exit(2)


def run_entry(
    task: Callable[[DictConfig], object], config_name: str, check: Callable[[DictConfig], None] | None = None
) -> None:
    """Check the command line (`check` on the composed config), then hand it to Hydra, which runs `task` once
    (or per job with -m). A plain run with ckpt_path trains the config compose() gave: the checkpointed run's own."""
    # A log handler that cannot write (W&B's own debug log on a full disk) would print "--- Logging error ---" and a
    # traceback over the one line that says what happened; Python's advice for production is to keep it quiet.
    logging.raiseExceptions = False
    args = sys.argv[1:]
    plain_run = not any(a in ("-m", "--multirun") or a.startswith(HYDRA_FLAGS_WITHOUT_RUN) for a in args)
    composed = None
    try:  # a sweep's option values too, before Hydra starts its jobs (each job would train the defaults)
        check_group_choices([a for a in args if not a.startswith("-")])
    except GanzooError as err:
        fail(str(err))
    if plain_run:
        try:
            composed = compose([a for a in args if not a.startswith("-")], config_name=config_name)
            if check is not None:
                check(composed)
        except GanzooError as err:
            fail(str(err))

    def guarded(cfg: DictConfig) -> object:
        try:
            if config_name == "train" and cfg.get("ckpt_path"):
                if composed is None or HydraConfig.get().mode == RunMode.MULTIRUN:
                    raise ConfigError("ckpt_path resumes one run; drop -m (and hparams_search) when resuming")
                cfg = composed
            return task(cfg)
        except GanzooError as err:
            into_run_log(f"ganzoo: error: {err}")  # the run directory keeps why the run stopped
            fail(str(err))

    hydra.main(config_path=str(config_dir()), config_name=config_name, version_base="1.3")(guarded)()
