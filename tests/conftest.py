"""Shared helpers: compose the real configs, shrink the nets, and run a real Lightning Trainer for a few steps."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import pytest
import torch

import ganzoo
from ganzoo.assemble import build_datamodule, build_module

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

# Small nets so that each test trains in seconds; the algorithms do not depend on width.
TINY_TOY = ["model.width=32", "data.batch_size=16"]
TINY_DCGAN = ["model=dcgan", "model.generator_width=8", "model.critic_width=8", "data.batch_size=16", "data.image_size=16"]


def tiny(overrides: list[str], run_dir: Path | None = None):
    """A composed config with small nets (model=dcgan or mlp, whichever `overrides` picks)."""
    shrink = TINY_DCGAN[1:] if "model=dcgan" in overrides else TINY_TOY
    extra = [f"run_dir={run_dir}"] if run_dir else []
    return ganzoo.compose([*shrink, *overrides, *extra])


def fit(module: L.LightningModule, datamodule: L.LightningDataModule, steps: int, callbacks=()) -> L.Trainer:
    """Run a bare Trainer (no logger, no checkpoints) for `steps` generator iterations."""
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
    )
    trainer.fit(module, datamodule=datamodule)
    return trainer


def build(cfg):
    datamodule = build_datamodule(cfg)
    return build_module(cfg, datamodule.shape), datamodule


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
