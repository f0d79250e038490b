"""runtime.ema: an exponential moving average of the generator, equal to its formula, used for sampling by
default, kept in checkpoints."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

import ganzoo
from helpers import build, fit, sample, tiny


class GeneratorHistory(L.Callback):
    """The generator's parameters after each generator update."""

    def __init__(self):
        self.after: list[list[torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.after.append([p.detach().clone() for p in pl_module.generator.parameters()])


@pytest.mark.parametrize("start", [0, 2])
def test_the_average_equals_its_formula_after_3_updates(start):
    module, datamodule = build(tiny(["loss=gan", "runtime.ema=true", "runtime.ema_decay=0.9", f"runtime.ema_start={start}"]))
    average = [p.detach().clone() for p in module.generator.parameters()]  # the copy made at build time
    history = GeneratorHistory()
    fit(module, datamodule, steps=3, callbacks=[history])
    for k, params in enumerate(history.after, start=1):  # a copy while k <= start, then the average
        decay = 0.9 if k > start else 0.0
        average = [decay * a + (1 - decay) * p for a, p in zip(average, params)]
    for expected, got in zip(average, module.generator_ema.parameters()):
        assert torch.allclose(got, expected, rtol=0, atol=1e-6)
    assert not torch.allclose(average[0], history.after[-1][0])  # the average is not the last iterate
    assert all(not p.requires_grad for p in module.generator_ema.parameters())


def test_sampling_draws_from_the_average_unless_told_raw():
    module, datamodule = build(tiny(["loss=gan", "runtime.ema=true", "runtime.ema_decay=0.5"]))
    fit(module, datamodule, steps=2)
    z = torch.randn(5, module.z_dim)
    with torch.no_grad():
        assert torch.equal(module.sample(5, z=z), module.generator_ema.eval()(z))
        assert torch.equal(module.sample(5, z=z, raw=True), module.generator.eval()(z))
        assert not torch.equal(module.sample(5, z=z), module.sample(5, z=z, raw=True))


def test_the_sample_command_draws_from_the_average_and_raw_true_from_the_generator(tmp_path, monkeypatch, capsys):
    ganzoo.train(tiny(["loss=gan", "runtime.ema=true", "runtime.ema_decay=0.5", "steps=2", "callbacks.every_n_steps=2",
                       "metrics.w1.n=100", "logger=none"], tmp_path / "run"))
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    for raw in (False, True):
        out = tmp_path / f"raw_{raw}.npy"
        sample([f"ckpt={ckpt}", "n=4", f"out={out}", f"raw={str(raw).lower()}"], monkeypatch, capsys)
        torch.manual_seed(0)  # what the command does: its seed, then load (which builds the nets), then sample
        expected = ganzoo.load(ckpt).sample(4, raw=raw)
        assert torch.allclose(torch.from_numpy(np.load(out)), expected)
