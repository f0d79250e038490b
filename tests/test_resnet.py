"""model=resnet: the WGAN-GP paper's ResNet, sized from the data, trained a few steps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.models.resnet import FirstCriticBlock, ResidualBlock, build


@pytest.mark.parametrize("size, blocks", [(32, 3), (64, 4), (16, 2)])
def test_one_residual_block_per_doubling_and_the_shapes_of_the_papers_nets(size, blocks):
    generator, critic = build((3, size, size), z_dim=128)
    up = [m for m in generator.modules() if isinstance(m, ResidualBlock)]
    down = [m for m in critic.modules() if isinstance(m, (ResidualBlock, FirstCriticBlock))]
    assert len(up) == blocks and len(down) == blocks + 2  # first block, blocks - 1 down, 2 at the last size
    images = generator(torch.randn(4, 128))
    assert images.shape == (4, 3, size, size) and images.abs().max() <= 1
    assert critic(images).shape == (4, 1)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in critic.modules())  # the paper's critic
    assert any(isinstance(m, nn.BatchNorm2d) for m in generator.modules())


def test_a_shortcut_is_the_identity_only_when_nothing_changes():
    assert isinstance(ResidualBlock(8, 8, None, "none").shortcut, nn.Identity)
    x = torch.randn(2, 8, 8, 8)
    assert ResidualBlock(8, 4, "up", "none")(x).shape == (2, 4, 16, 16)
    assert ResidualBlock(8, 4, "down", "none")(x).shape == (2, 4, 4, 4)


def test_sizes_that_are_not_4_times_a_power_of_two_are_one_line():
    with pytest.raises(ConfigError, match="model=resnet needs data.image_size = 4 x a power of two"):
        build((3, 48, 48), z_dim=8)
    with pytest.raises(ConfigError, match="needs image data"):
        build((2,), z_dim=2)


def test_resnet_trains_a_few_steps_on_digits_and_loads_back(run_dir):
    cfg = ganzoo.compose(["model=resnet", "data=digits", "data.image_size=16", "data.batch_size=8", "model.generator_width=8",
                          "model.critic_width=8", "loss=wgan_gp", "steps=2", "callbacks.every_n_steps=2", "logger=none",
                          f"run_dir={run_dir}"])
    assert ganzoo.train(cfg)["steps"] == 2
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert module.sample(3).shape == (3, 1, 16, 16)
