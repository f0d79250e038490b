"""Instance noise: its sigma follows the schedule to 0, it reaches every critic input, and it composes."""

from __future__ import annotations

import csv

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.config import validate
from ganzoo.constraints import GradientPenalty, InstanceNoise
from ganzoo.draws import Draws
from helpers import build, fit, tiny


@pytest.mark.parametrize("schedule", ["linear", "exponential"])
def test_sigma_anneals_from_sigma0_to_zero(schedule):
    noise = InstanceNoise(sigma=0.5, anneal_steps=100, schedule=schedule)
    sigmas = [noise.sigma(s) for s in range(0, 121)]
    assert sigmas[0] == 0.5 and sigmas[100] == 0.0 and sigmas[120] == 0.0
    assert all(a > b for a, b in zip(sigmas[:100], sigmas[1:101]))  # strictly decreasing until it is 0
    if schedule == "linear":
        assert sigmas[50] == pytest.approx(0.25)
    else:
        assert sigmas[20] == pytest.approx(0.5 * torch.exp(torch.tensor(-1.0)).item())


def test_noise_has_the_scheduled_standard_deviation():
    noise = InstanceNoise(sigma=2.0, anneal_steps=10)
    x = torch.zeros(20000, 2)
    draws = Draws(seed=0)
    assert noise.critic_input(x, 5, draws).std().item() == pytest.approx(1.0, rel=0.03)
    assert torch.equal(noise.critic_input(x, 10, draws), x)


class Spy(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.inputs = inner, []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return self.inner(x)


def test_noise_reaches_real_and_generated_critic_inputs_in_both_steps():
    module, datamodule = build(tiny(["loss=gan", "constraint=instance_noise", "constraint.instance_noise.sigma=50", "constraint.instance_noise.anneal_steps=10"]))
    module.critic = Spy(module.critic)
    fit(module, datamodule, steps=1)
    # critic step: real, fake; generator step: fake. Toy data and early samples lie within a few units of 0.
    assert len(module.critic.inputs) == 3 and all(x.std() > 20 for x in module.critic.inputs)


def test_instance_noise_composes_with_any_objective_and_constraint(run_dir):
    module, _ = build(tiny(["loss=wgan_gp", "constraint=[gp,instance_noise]"]))
    assert [type(c) for c in module.constraints] == [GradientPenalty, InstanceNoise]
    cfg = ganzoo.compose(["loss=gan", "constraint=instance_noise", "steps=300"])
    assert cfg.constraint.instance_noise.anneal_steps == 300  # anneals over the whole run unless told otherwise
    ganzoo.train(tiny(["loss=gan", "constraint=instance_noise", "constraint.instance_noise.sigma=0.3", "steps=3", "callbacks.every_n_steps=3"], run_dir))
    with open(run_dir / "metrics.csv") as f:
        sigmas = [float(r["train/noise_sigma"]) for r in csv.DictReader(f) if r["train/noise_sigma"]]
    assert sigmas == pytest.approx([0.3, 0.2, 0.1])  # the sigma each generator iteration trained with


def test_unknown_schedule_is_a_clear_error():
    with pytest.raises(ganzoo.ConfigError, match="schedule must be one of linear, exponential"):
        validate(tiny(["constraint=instance_noise", "constraint.instance_noise.schedule=cosine"]))
