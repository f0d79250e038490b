"""Mixed precision with the gradient penalty, torch.compile and channels_last, on this CPU (the GPU figures are
in the README's benchmarks)."""

from __future__ import annotations

import pytest
import torch
from omegaconf import open_dict
from torch import nn

import ganzoo
from ganzoo.constraints import GradientPenalty, Score
from ganzoo.draws import Draws
from helpers import TINY_DCGAN, tiny


def tiny_critic(first: float = 1.0, second: float = 1.0) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    with torch.no_grad():
        net[0].weight.mul_(first)
        net[2].weight.mul_(second)
    return net


def penalty(critic: nn.Module, loss_scale: torch.Tensor | None = None) -> torch.Tensor:
    real, fake = torch.randn(64, 4, generator=torch.Generator().manual_seed(1)), torch.zeros(64, 4)
    score = Score(lambda x: critic(x).squeeze(1), loss_scale)
    return GradientPenalty(weight=10.0).penalty(score, real, fake, Draws(seed=0))[0]


def test_the_penalty_under_bf16_autocast_equals_fp32_within_1_percent():
    critic = tiny_critic()
    exact = penalty(critic)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        approximate = penalty(critic)
    assert approximate.item() == pytest.approx(exact.item(), rel=1e-2)
    assert exact.item() > 1.0  # a penalty far from 0, so that the tolerance means something


def test_under_fp16_the_inner_gradient_is_taken_at_the_loss_scale():
    """A critic whose input gradients are about 1e-8, below float16's smallest number (6e-8): unscaled they
    vanish; taken at a loss scale of 1024 and divided back, they keep three digits."""
    critic = tiny_critic(1e-3, 1e-4)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(2))
    exact = Score(lambda v: critic(v).squeeze(1)).input_gradient(x)
    with torch.autocast("cpu", dtype=torch.float16):
        unscaled = Score(lambda v: critic(v).squeeze(1)).input_gradient(x)
        scaled = Score(lambda v: critic(v).squeeze(1), torch.tensor(1024.0)).input_gradient(x)
    error = lambda g: ((g.float() - exact).norm() / exact.norm()).item()  # noqa: E731
    assert error(unscaled) > 0.5 and error(scaled) < 1e-2


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains_with_the_penalty(precision, run_dir, monkeypatch):
    scales = []
    original = Score.input_gradient

    def spy(self, x, y=None):
        scales.append(self.loss_scale)
        return original(self, x, y)

    monkeypatch.setattr(Score, "input_gradient", spy)
    cfg = tiny(["loss=wgan_gp", "trainer=cpu", f"trainer.precision={precision}", "steps=3", "logger=none",
                "callbacks.every_n_steps=3", "metrics.w1.n=100"], run_dir)
    if precision == "16-mixed":  # Lightning turns 16-mixed into bf16 on a CPU; its plugin, given, keeps float16
        with open_dict(cfg):
            del cfg.trainer.precision
            cfg.trainer.plugins = [{"_target_": "lightning.pytorch.plugins.MixedPrecision", "precision": "16-mixed",
                                    "device": "cpu"}]
    summary = ganzoo.train(cfg)
    assert summary["steps"] == 3 and all(torch.isfinite(torch.tensor(v)) for v in summary["figures"].values())
    assert len(scales) == 15  # 3 iterations x 5 critic updates
    if precision == "16-mixed":  # AMP's scale reaches the inner gradient (the scaler starts at 2 ** 16)
        assert all(s is not None and s.item() > 1 for s in scales)
    else:
        assert all(s is None for s in scales)


@pytest.mark.parametrize("loss", ["wgan_gp", "wgan", "hinge"])
def test_compile_trains_and_leaves_a_differentiated_or_spectral_norm_critic_eager(loss, run_dir):
    # aot_eager: torch.compile's capture and autograd without a C++ toolchain (inductor needs one; see README)
    cfg = tiny([f"loss={loss}", "runtime.compile=aot_eager", "steps=2", "logger=none", "loss.critic_warmup=null",
                "callbacks.every_n_steps=2", "metrics.w1.n=100"], run_dir)
    summary = ganzoo.train(cfg)
    assert summary["steps"] == 2
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")  # same keys as an eager run's checkpoint
    assert module.generator(torch.zeros(3, module.z_dim)).shape == (3, 2)
    built = ganzoo.assemble.build_objective(cfg, (2,))
    assert built.generator._compiled_call_impl is not None
    # the penalty's double backward and spectral norm's in-place power iteration stay eager
    assert (built.critic._compiled_call_impl is None) == (loss in ("wgan_gp", "hinge"))


def test_channels_last_trains_image_nets_in_nhwc(run_dir):
    cfg = tiny([*TINY_DCGAN, "data=digits", "loss=wgan", "runtime.channels_last=true", "steps=2", "logger=none",
                "loss.critic_warmup=null", "callbacks.every_n_steps=2"], run_dir)
    built = ganzoo.assemble.build_objective(cfg, (1, 16, 16))
    convs = [m.weight for m in built.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert ganzoo.train(cfg)["steps"] == 2
