"""Batch norm at sampling time (runtime.sample_batch_norm): the batch's own statistics by default, as the WGAN and
WGAN-GP code generate, or the running averages; sampling never changes what a checkpoint holds."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.objectives.sampler import batch_statistics
from helpers import TINY_DCGAN, build, fit, sample, tiny

DIGITS = ["loss=wgan_gp", "data=digits", *TINY_DCGAN, "model.z_dim=8"]


def running_buffers(net: nn.Module) -> list[torch.Tensor]:
    return [b.clone() for name, b in net.named_buffers() if "running" in name or "num_batches" in name]


@pytest.fixture(scope="module")
def trained():
    module, datamodule = build(tiny(DIGITS))
    fit(module, datamodule, steps=3)  # the running averages now differ from any one batch's statistics
    return module


def test_batch_mode_normalizes_with_the_batchs_statistics_and_leaves_the_running_ones(trained):
    z = torch.randn(16, 8)
    before = running_buffers(trained.generator)
    drawn = trained.sample(16, z=z)
    twin = copy.deepcopy(trained.generator).train()
    with torch.no_grad():
        expected = twin(z)  # train mode: the batch's statistics
    assert torch.allclose(drawn, expected, atol=1e-6)
    trained.sample(16, z=z)
    assert all(torch.equal(a, b) for a, b in zip(running_buffers(trained.generator), before))


def test_running_mode_is_eval_mode_and_the_two_differ(trained):
    z = torch.randn(16, 8)
    trained.sample_batch_norm = "running"
    try:
        running = trained.sample(16, z=z)
    finally:
        trained.sample_batch_norm = "batch"
    trained.generator.eval()
    with torch.no_grad():
        assert torch.allclose(running, trained.generator(z), atol=1e-6)
    assert (running - trained.sample(16, z=z)).abs().max() > 1e-3


def test_the_context_restores_each_layers_mode():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).eval()
    with batch_statistics(net):
        assert net[1].training and not net[1].track_running_stats
    assert not net[1].training and net[1].track_running_stats


def test_the_setting_reaches_the_module_and_the_sample_command(run_dir, tmp_path, monkeypatch, capsys):
    ganzoo.train(tiny([*DIGITS, "runtime.sample_batch_norm=running", "steps=2", "callbacks.every_n_steps=2"], run_dir))
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    assert ganzoo.load(ckpt).sample_batch_norm == "running"
    for mode in ("running", "batch"):
        sample([f"ckpt={ckpt}", "n=8", f"batch_norm={mode}", f"out={tmp_path / mode}.npy"], monkeypatch, capsys)
    running, batch = (np.load(tmp_path / f"{mode}.npy") for mode in ("running", "batch"))
    assert running.shape == batch.shape == (8, 1, 16, 16) and not np.allclose(running, batch)
