"""model=resnet: the WGAN-GP paper's ResNet, sized from the data, trained a few steps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.models.resnet import FirstCriticBlock, ResidualBlock, WideningResNetCritic, build


@pytest.mark.parametrize("size, blocks", [(32, 3), (64, 4), (16, 2)])
def test_one_residual_block_per_doubling_and_the_shapes_of_the_papers_nets(size, blocks):
    generator, critic = build((3, size, size), z_dim=128, layout="cifar")
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


def block_widths(net: nn.Module) -> list[tuple[int, int]]:
    """(input, output) channels of each residual block, checked against the block's last convolution."""
    blocks = [b for b in net.modules() if isinstance(b, ResidualBlock)]
    convs = [[m for m in b.main if isinstance(m, nn.Conv2d)] for b in blocks]
    assert all(c[0].in_channels == b.c_in and c[-1].out_channels == b.c_out for b, c in zip(blocks, convs))
    return [(b.c_in, b.c_out) for b in blocks]


def test_the_widening_layout_is_gan_64x64s_good_generator_and_discriminator():
    generator, critic = build((3, 64, 64), z_dim=128)  # auto: widening from 64x64 on, dim 64
    assert generator.linear.out_features == 4 * 4 * 8 * 64
    assert block_widths(generator) == [(512, 512), (512, 256), (256, 128), (128, 64)]  # Res1-Res4, each doubling
    assert isinstance(critic, WideningResNetCritic) and critic.input.out_channels == 64
    assert block_widths(critic) == [(64, 128), (128, 256), (256, 512), (512, 512)]  # Res1-Res4, each halving
    assert critic.linear.in_features == 4 * 4 * 8 * 64
    assert any(isinstance(m, nn.GroupNorm) for m in critic.modules())  # layer norm, the code's under WGAN-GP
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    images = generator(torch.randn(2, 128))
    assert images.shape == (2, 3, 64, 64) and critic(images).shape == (2, 1)


def test_auto_picks_the_layout_by_size_and_widths_are_capped_at_8_dim():
    assert not isinstance(build((3, 32, 32), z_dim=8).critic, WideningResNetCritic)
    generator, critic = build((3, 128, 128), z_dim=8, generator_width=4, critic_width=4)
    assert block_widths(generator) == [(32, 32), (32, 32), (32, 16), (16, 8), (8, 4)]
    assert block_widths(critic) == [(4, 8), (8, 16), (16, 32), (32, 32), (32, 32)]
    assert generator(torch.randn(2, 8)).shape == (2, 3, 128, 128)
    cifar_critic = build((3, 64, 64), z_dim=8, layout="cifar", critic_width=4).critic
    assert not isinstance(cifar_critic, WideningResNetCritic)


def test_the_widening_layout_trains_a_few_steps_at_64x64(run_dir):
    cfg = ganzoo.compose(["model=resnet", "data=digits", "data.image_size=64", "data.batch_size=4", "model.generator_width=2",
                          "model.critic_width=2", "model.z_dim=8", "loss=wgan_gp", "steps=2", "callbacks.every_n_steps=2",
                          "logger=none", f"run_dir={run_dir}"])
    assert ganzoo.train(cfg)["steps"] == 2
    assert isinstance(ganzoo.load(run_dir / "checkpoints" / "last.ckpt").critic, WideningResNetCritic)


def test_a_null_width_on_dcgan_is_one_line():
    from ganzoo.models.dcgan import build as dcgan

    with pytest.raises(ConfigError, match="model=dcgan needs a number for model.generator_width"):
        dcgan((1, 32, 32), z_dim=8, generator_width=None)
