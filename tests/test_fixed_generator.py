"""model=fixed_generator: the "generator" is the real data plus unit Gaussian noise and never trains, as gan_toy.py's
FIXED_GENERATOR flag, the setting of the WGAN-GP paper's Figure 1 (critics trained to optimality)."""

from __future__ import annotations

import pytest
import torch

from ganzoo.data.toy import toy_distribution
from ganzoo.errors import ConfigError
from helpers import build, fit, tiny

FIXED = ["loss=wgan", "data=gaussians8", "model=fixed_generator"]


def test_it_draws_the_data_plus_the_noise_z():
    module, _ = build(tiny(FIXED))
    z = torch.randn(4000, 2)
    points = module.sample(4000, z=z)
    data = points - z  # what is left once the unit noise is taken away: points of the 8 Gaussians
    centers = toy_distribution("gaussians8").modes
    nearest = torch.cdist(data, centers).min(dim=1).values
    assert nearest.max() < 6 * 0.02 / 1.414
    drawn = torch.cdist(data, centers).argmin(dim=1).bincount(minlength=8)
    assert drawn.min() > 4000 / 8 * 0.8  # every mode, about equally often
    assert torch.allclose(points.var(0), centers.var(0, unbiased=False) + 1, rtol=0.1)


def test_only_the_critic_trains_and_the_run_still_counts_its_iterations():
    module, datamodule = build(tiny(FIXED))
    generator = {k: v.clone() for k, v in module.generator.state_dict().items()}
    critic = [p.detach().clone() for p in module.critic.parameters()]
    trainer = fit(module, datamodule, steps=3)
    assert trainer.global_step == 3
    assert module.batches_drawn == 3 * 5  # n_critic 5 (WGAN's toy recipe has no warm-up)
    assert all(torch.equal(v, module.generator.state_dict()[k]) for k, v in generator.items())
    assert any(not torch.equal(a, b) for a, b in zip(critic, module.critic.parameters()))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data=digits"], "model=fixed_generator is for toy points"),
        (["model.z_dim=8"], "model=fixed_generator adds z to the data and needs model.z_dim = 2"),
    ],
)
def test_settings_it_cannot_take_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        build(tiny([*FIXED, *overrides]))
    assert "\n" not in str(error.value)


def test_the_old_flag_says_where_the_fixed_generator_is_now():
    import ganzoo

    with pytest.raises(ConfigError, match="model.fixed_generator is now model=fixed_generator .*e.g. model=fixed_generator$"):
        ganzoo.compose(["model.fixed_generator=true"])
