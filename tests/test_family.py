"""The family beyond the seeds: hinge and least-squares losses, the one-sided and zero-centered penalties and
spectral norm, each against a hand computation, and each trained a few steps on toy and digit data."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.batch import Batch
from ganzoo.constraints import R1, R2, OneSidedPenalty, Score, SpectralNorm
from ganzoo.draws import Draws
from helpers import TINY_DCGAN, build, cli, tiny


class Linear1(nn.Module):
    """f(x) = w . x + 0.1: a critic whose gradient (w) and scores are known by hand."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.5, -2.0]))

    def forward(self, x):
        return (x @ self.w + 0.1).unsqueeze(1)


def objective(loss: str, **settings):
    module, _ = build(tiny([f"loss={loss}", "constraint=none", *[f"loss.{k}={v}" for k, v in settings.items()]]))
    module.critic = Linear1()
    return module


REAL, FAKE = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[2.0, 1.0], [-1.0, -1.0]])
# f(REAL) = [0.6, -1.9], f(FAKE) = [-0.9, 1.6]


def test_hinge_loss_and_gradient_equal_a_hand_computation():
    module = objective("hinge")
    loss, _ = module.total_critic_loss(REAL, FAKE, None)
    # relu(1 - [0.6, -1.9]) = [0.4, 2.9]; relu(1 + [-0.9, 1.6]) = [0.1, 2.6]
    assert loss.item() == pytest.approx((0.4 + 2.9) / 2 + (0.1 + 2.6) / 2)
    loss.backward()
    # every hinge is active: d/dw = -mean(REAL) + mean(FAKE) = -[0.5, 0.5] + [0.5, 0]
    assert torch.allclose(module.critic.w.grad, torch.tensor([0.0, -0.5]))
    generator_loss, _ = module.total_generator_loss(FAKE, None)
    assert generator_loss.item() == pytest.approx(-(-0.9 + 1.6) / 2)


@pytest.mark.parametrize("a, b, c", [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)])
def test_lsgan_loss_and_gradient_equal_a_hand_computation(a, b, c):
    module = objective("lsgan", a=a, b=b, c=c)
    f_real, f_fake = torch.tensor([0.6, -1.9]), torch.tensor([-0.9, 1.6])
    loss, _ = module.total_critic_loss(REAL, FAKE, None)
    assert loss.item() == pytest.approx(0.5 * ((f_real - b) ** 2).mean() + 0.5 * ((f_fake - a) ** 2).mean())
    loss.backward()
    expected = ((f_real - b)[:, None] * REAL).mean(0) + ((f_fake - a)[:, None] * FAKE).mean(0)
    assert torch.allclose(module.critic.w.grad, expected)
    generator_loss, _ = module.total_generator_loss(FAKE, None)
    assert generator_loss.item() == pytest.approx(0.5 * ((f_fake - c) ** 2).mean())


def test_rpgan_pairs_each_real_with_its_fake_in_both_losses_as_a_hand_computation():
    module = objective("rpgan")
    f_real, f_fake = torch.tensor([0.6, -1.9]), torch.tensor([-0.9, 1.6])
    loss, logs = module.total_critic_loss(REAL, FAKE, None)
    relativistic = f_real - f_fake  # [1.5, -3.5]: pair i against pair i, not every real against every fake
    assert loss.item() == pytest.approx(torch.nn.functional.softplus(-relativistic).mean().item())
    assert logs["train/relativistic"].item() == pytest.approx(-1.0)
    loss.backward()  # d/dw softplus(-(w.x_i - w.g_i)) = -sigmoid(-rel_i) (x_i - g_i)
    expected = (-torch.sigmoid(-relativistic)[:, None] * (REAL - FAKE)).mean(0)
    assert torch.allclose(module.critic.w.grad, expected)
    fake = FAKE.clone().requires_grad_(True)
    generator_loss, _ = module.total_generator_loss(fake, None, real=Batch(REAL))
    assert generator_loss.item() == pytest.approx(torch.nn.functional.softplus(f_real - f_fake).mean().item())
    module.critic.w.grad = None
    generator_loss.backward()  # d/dg_i softplus(-(w.g_i - w.x_i)) / 2 = -sigmoid(f(x_i) - f(g_i)) w / 2
    assert torch.allclose(fake.grad, -torch.sigmoid(f_real - f_fake)[:, None] * module.critic.w.detach() / 2)
    # the real scores are a constant of the generator's step: the critic's gradient comes through f(G(z)) alone
    assert torch.allclose(module.critic.w.grad, (-torch.sigmoid(f_real - f_fake)[:, None] * FAKE).mean(0))


def test_r1_and_r2_equal_a_hand_computation():
    w = nn.Parameter(torch.tensor([0.5, -2.0]))
    score = Score(lambda x: (x**2) @ w)  # grad_x = 2 w x, so ||grad||^2 = 4 sum(w^2 x^2)
    for constraint, points in ((R1(gamma=10.0), REAL), (R2(gamma=10.0), FAKE)):
        value, logs = constraint.penalty(score, REAL, FAKE, Draws(0))
        squared = (4 * (w.detach() ** 2) * points**2).sum(1).mean()
        assert value.item() == pytest.approx(5.0 * squared.item()) and logs[f"train/{constraint.name}"] == pytest.approx(squared.item())
        w.grad = None
        value.backward()  # the penalty trains the critic: d/dw = 5 * mean(8 w x^2)
        assert torch.allclose(w.grad, 5.0 * (8 * w.detach() * points**2).mean(0))


def test_the_one_sided_penalty_ignores_gradient_norms_below_1():
    for scale, expected in ((0.5, 0.0), (3.0, 4.0)):  # ||grad|| = scale everywhere: max(0, scale - 1)^2
        w = torch.tensor([scale, 0.0])
        value, logs = OneSidedPenalty(weight=10.0).penalty(Score(lambda x: x @ w), REAL, FAKE, Draws(0))
        assert value.item() == pytest.approx(10.0 * expected) and logs["train/lp"] == pytest.approx(expected)


def test_spectral_norm_keeps_every_critic_layer_at_a_largest_singular_value_near_1(run_dir):
    cfg = tiny(["loss=hinge", "steps=4", "logger=none", "callbacks.every_n_steps=4", "metrics.w1.n=100"], run_dir)
    ganzoo.train(cfg)
    critic = ganzoo.load(run_dir / "checkpoints" / "last.ckpt").critic
    layers = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)  # the checkpoint rebuilt the parametrization
    for layer in layers:  # 20 critic steps: 20 power iterations on the updated weights
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05)
    raw = SpectralNorm().wrap_critic(nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)))
    assert all(hasattr(m, "parametrizations") for m in raw if isinstance(m, nn.Linear))


OPTIONS = {
    "hinge": ["loss=hinge"],
    "lsgan": ["loss=lsgan"],
    "lp": ["loss=wgan", "constraint=lp", "optim.critic._target_=torch.optim.Adam", "optim.generator._target_=torch.optim.Adam"],
    "r1": ["loss=gan", "constraint=r1"],
    "r2": ["loss=gan", "constraint=[r1,r2]"],
    "rpgan": ["loss=rpgan"],
    "spectral_norm": ["loss=gan", "constraint=spectral_norm"],
}


@pytest.mark.parametrize("data", ["gaussians8", "digits"])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_new_option_trains_a_few_steps_and_writes_its_files(option, data, run_dir):
    images = [*TINY_DCGAN, "model.critic_norm=none"] if data == "digits" else []
    cfg = tiny([f"data={data}", *images, *OPTIONS[option], "steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null",
                "metrics.w1.n=100"], run_dir)
    summary = ganzoo.train(cfg)
    assert summary["steps"] == 2 and (run_dir / "summary.json").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert all(torch.isfinite(torch.tensor(v)) for v in summary["figures"].values())
    penalty = {"lp": "train/lp", "r1": "train/r1", "r2": "train/r2", "rpgan": "train/r2"}.get(option)
    assert penalty is None or penalty in summary["figures"]


@pytest.mark.slow
def test_hinge_with_r1_and_spectral_norm_trains_from_the_command_line(tmp_path):
    done = cli(["loss=hinge", "constraint=[spectral_norm,r1]", "model.width=32", "data.batch_size=16", "steps=2",
                "callbacks.every_n_steps=2", "metrics.w1.n=100", f"run_dir={tmp_path}"])
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads((tmp_path / "summary.json").read_text())["figures"]
    assert {"train/r1", "train/f_real", "val/w1"} <= figures.keys()


def test_a_lazy_r1_applies_every_kth_critic_step_times_k():
    module, _ = build(tiny(["loss=gan", "constraint=r1", "constraint.r1.every=3"]))
    module.loss_scale = lambda: None  # no trainer here: nothing is scaled
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    eager = R1(gamma=10.0).penalty(Score(module.critic_score), real, fake, Draws(0))[0]
    applied = []
    for drawn in range(1, 8):  # the loop counts real batches before each critic step
        module.batches_drawn = drawn
        value, logs = module.penalties(real, fake)
        applied.append("train/r1" in logs)
        assert value.item() == pytest.approx(3 * eager.item() if applied[-1] else 0.0)
    assert applied == [True, False, False, True, False, False, True]


def test_a_lazy_r1_run_computes_its_term_on_the_lazy_steps_only(run_dir):
    ganzoo.train(tiny(["loss=gan", "constraint=r1", "constraint.r1.every=2", "steps=4", "trainer.log_every_n_steps=1"], run_dir))
    rows = [line.split(",") for line in (run_dir / "metrics.csv").read_text().splitlines()]
    step, r1 = rows[0].index("step"), rows[0].index("train/r1")
    values = {int(row[step]): float(row[r1]) for row in rows[1:] if row[r1]}
    # n_critic 1: computed at critic steps 1 and 3 of 4; between them the logger holds the last value
    assert values[0] == values[1] and values[2] == values[3] and values[1] != values[2]
