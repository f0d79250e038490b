"""Builds a run from a composed config and trains it: datamodule, objective, callbacks, logger, trainer.
Everything is made from its config node's `_target_` (ganzoo/instantiation.py); the objective and its nets and
constraints by `objectives.build_objective`. This module only decides what goes where."""

from __future__ import annotations

import json
import time
import warnings
from datetime import datetime
from pathlib import Path

import lightning as L
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.callbacks import ProgressBar
from omegaconf import DictConfig, OmegaConf, open_dict

from ganzoo.callbacks import Evaluation, RunSummary
from ganzoo.checkpoint import RunState, continued, resume
from ganzoo.checkpoint import read as read_checkpoint
from ganzoo.checkpoint_io import with_whole_checkpoints
from ganzoo.config import to_plain, validate
from ganzoo.console import lightning_after_ganzoo, run_logging, say
from ganzoo.data import GANDataModule
from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.loggers import build_loggers
from ganzoo.memory import check_batch_fits_memory
from ganzoo.objectives import build_objective
from ganzoo.placement import place
from ganzoo.storage import reported, writable_run_dir

# Lightning's advice that does not apply to ganzoo's loop, silenced around `fit` only (never process-wide):
IRRELEVANT_WARNINGS = (
    ".*dataloader_iter.*",  # training_step(dataloader_iter) is how one step draws n_critic batches
    ".*isinstance\\(treespec, LeafSpec\\).*",
    ".*does not have many workers.*",  # an endless in-memory batch stream needs none
    ".*no pre-optimization state was saved.*",  # checkpoints hold the state after each generator iteration
    ".*Experiment logs directory .* exists and is not empty.*",  # metrics.csv shares the run directory
    ".*Checkpoint directory .* exists and is not empty.*",  # a resumed run goes on in its own directory
    ".*resuming from a checkpoint that ended before the epoch ended.*",  # ganzoo's streams skip what was drawn
)


def train(cfg: DictConfig) -> dict:
    """Train as `cfg` says; return the final figures (the content of summary.json)."""
    validate(cfg)
    cfg = place(cfg)  # -m with sweep_gpus=N: job k trains on GPU k mod N
    run_dir = resolve_run_dir(cfg)
    cfg = continued(cfg, run_dir)  # resume=auto: a run directory that holds a checkpoint goes on from it
    # Read early, so that a missing or foreign file fails in one line before anything is built.
    checkpoint = read_checkpoint(cfg.ckpt_path, mmap=True) if cfg.get("ckpt_path") else None
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    with warnings.catch_warnings(record=True) as notes:  # said after the first line, once every check has passed
        warnings.filterwarnings("always", category=UserWarning)  # each note of this run, as a note, not an error
        datamodule, module, callbacks = built(cfg, checkpoint)
    if module is None:  # a finished run
        with run_logging():
            return finished(cfg, checkpoint["global_step"], run_dir)
    with run_logging(), warnings.catch_warnings(), reported(run_dir):  # a full or read-only disk: one line
        for message in IRRELEVANT_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        run_state = RunState(OmegaConf.to_container(cfg, resolve=False), datamodule.shape, datamodule.num_classes)
        with lightning_after_ganzoo():  # what Lightning says as its Trainer is made follows ganzoo's first line
            trainer = build_trainer(cfg, [*callbacks, run_state], checkpoint)
            if trainer.is_global_zero:
                OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
                what = f"{module.name} on {type(datamodule).__name__}"
                step = checkpoint["global_step"] if checkpoint is not None else None
                doing = f"continuing {what} from step {step} ({cfg.ckpt_path})" if step is not None else f"training {what}"
                say(f"ganzoo: {doing} to step {cfg.steps} in {run_dir.resolve()}, on {devices(trainer)}")
                for note in dict.fromkeys(str(n.message) for n in notes):
                    say(f"ganzoo: note: {note}")
        for logger in trainer.loggers:
            logger.log_hyperparams(to_plain(cfg))
        started = time.time()
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    return next((c.summary for c in callbacks if isinstance(c, RunSummary) and c.summary), None) or written_summary(run_dir, started)


def built(cfg: DictConfig, checkpoint: dict | None) -> tuple:
    """The run's data module, objective and callbacks, every check passed (the module is None when `checkpoint`
    has already reached `steps`: there is nothing to build for)."""
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")  # a missing or unreadable dataset fails here, before anything else is built or printed
    module = build_objective(cfg, datamodule.shape, datamodule.num_classes)
    if checkpoint is not None:
        resume(checkpoint, cfg.ckpt_path, module, datamodule)  # the nets must fit it, finished or not
        if checkpoint["global_step"] >= cfg.steps:
            return datamodule, None, []
    check_batch_fits_memory(module, datamodule, cfg.trainer.get("accelerator", "auto"))
    return datamodule, module, build_callbacks(cfg, datamodule, module)


def finished(cfg: DictConfig, step: int, run_dir: Path) -> dict:
    """A run whose checkpoint has reached `steps` has nothing left to train: say so and return its summary."""
    say(f"ganzoo: {run_dir.resolve()} is finished: its checkpoint is at step {step} of steps={cfg.steps}; "
        f"nothing to train (a larger steps= trains on)")
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {"steps": step, "run_dir": str(run_dir.resolve()),
                                                                    "checkpoint": str(Path(cfg.ckpt_path).resolve())}
    return {**summary, "stopped_by": None}  # whatever stopped it last, it is finished now


def written_summary(run_dir: Path, since: float) -> dict:
    """The summary.json rank 0 wrote after `since`: under a DDP strategy that forks or spawns its ranks
    (ddp_notebook, ddp_spawn), rank 0 is another process and this one holds no summary of its own."""
    path = run_dir / "summary.json"
    return json.loads(path.read_text()) if path.is_file() and path.stat().st_mtime >= since else {}


def resolve_run_dir(cfg: DictConfig) -> Path:
    """cfg.run_dir if set, else Hydra's run directory, else outputs/<date>/<time> as Hydra would name it; made, and
    refused in one line if it cannot be written."""
    if cfg.get("run_dir"):
        path = Path(cfg.run_dir)
    else:
        try:
            from hydra.core.hydra_config import HydraConfig

            path = Path(HydraConfig.get().runtime.output_dir)
        except ValueError:  # not under @hydra.main: the Python API
            path = Path("outputs") / datetime.now().strftime("%Y-%m-%d/%H-%M-%S-%f")
    with open_dict(cfg):
        cfg.run_dir = str(path)
    return writable_run_dir(path)


def build_datamodule(cfg: DictConfig) -> GANDataModule:
    return make(cfg.data)


def build_callbacks(cfg: DictConfig, datamodule: GANDataModule, module=None) -> list[L.Callback]:
    """The callbacks group, one `_target_` each; a null entry is switched off. A checkpoint callback whose monitor
    is null follows the run's main figure (metrics.main, else the data's: val/w1 on toy data) at the steps its
    metric measures it (`Evaluation.main_figure`), and is left out when there is none."""
    nodes = [node for node in cfg.callbacks.values() if isinstance(node, DictConfig)]  # not null, not every_n_steps
    follows_main = ["monitor" in node and node.monitor is None for node in nodes]
    made = {i: make(node) for i, node in enumerate(nodes) if not follows_main[i]}
    evaluation = next((c for c in made.values() if isinstance(c, Evaluation)), None)
    main = evaluation.main_figure(datamodule, module) if evaluation is not None else None
    if main is not None:
        figure, every_n_steps = main
        made.update({i: make(OmegaConf.merge(node, {"monitor": figure, "every_n_train_steps": every_n_steps}))
                     for i, node in enumerate(nodes) if follows_main[i]})
    callbacks = [made[i] for i in sorted(made)]
    for callback in callbacks:
        if isinstance(callback, RunSummary):  # named in summary.json; what hparams_search minimizes by default
            callback.main_metric = main[0] if main is not None else None
    return callbacks


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], checkpoint: dict | None = None) -> L.Trainer:
    """The trainer with the logger group's loggers (none for logger=none); with `checkpoint` (a resume), the
    loggers continue the checkpointed run's logs."""
    loggers = build_loggers(cfg.get("logger"), checkpoint)
    # callbacks.progress=null switches the bar off rather than letting Lightning add its own (rich's, if installed)
    bar = cfg.trainer.get("enable_progress_bar", True) and any(isinstance(c, ProgressBar) for c in callbacks)
    plugins = with_whole_checkpoints(list(make(cfg.trainer.get("plugins")) or []))  # every checkpoint written whole
    trainer = make(cfg.trainer, callbacks=callbacks, logger=loggers, plugins=plugins, default_root_dir=cfg.run_dir,
                   enable_progress_bar=bar)
    if cfg.trainer.get("sync_batchnorm") and isinstance(trainer.accelerator, CPUAccelerator):
        raise ConfigError("trainer.sync_batchnorm=true needs GPUs (torch's SyncBatchNorm has no CPU kernel); drop it on a CPU")
    return trainer


def devices(trainer: L.Trainer) -> str:
    """Where the run trains, for its first line: "cpu", "cuda", "2 x cuda" (devices x nodes)."""
    count, kind = trainer.num_devices * trainer.num_nodes, trainer.strategy.root_device.type
    return f"{count} x {kind}" if count > 1 else kind
