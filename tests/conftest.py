"""Fixtures shared by the tests; the helpers they use are in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from ganzoo.metrics.features import InceptionFeatures
from ganzoo.metrics.images import ImageMetrics
from helpers import IS_SPLITS, KID_SUBSET, N, digits, write_png_folder, write_random_inception

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"


@pytest.fixture(scope="session")
def weights(tmp_path_factory) -> Path:
    return write_random_inception(tmp_path_factory.mktemp("inception") / "inception.pth")


@pytest.fixture(scope="session")
def image_sets(tmp_path_factory) -> dict:
    """Real digits, and 'generated' ones: other digits with noise, both as 1-channel tensors and PNG folders."""
    root = tmp_path_factory.mktemp("images")
    real = digits(N, 0)
    fake = (digits(N, N) + 0.3 * torch.randn(N, 1, 16, 16, generator=torch.Generator().manual_seed(1))).clamp(-1, 1)
    return {"real": real, "fake": fake, "real_dir": write_png_folder(real, root / "real"), "fake_dir": write_png_folder(fake, root / "fake")}


@pytest.fixture(scope="session")
def metrics(weights) -> ImageMetrics:
    return ImageMetrics(["fid", "is", "kid"], InceptionFeatures(weights), kid_subset_size=KID_SUBSET, isc_splits=IS_SPLITS)
