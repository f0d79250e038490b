"""model=gan_cifar: the WGAN-GP authors' DCGAN-style CIFAR-10 nets (gan_cifar.py), layer by layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.models.gan_cifar import build


def test_the_32x32_nets_have_gan_cifars_layers_and_parameter_counts():
    generator, critic = build((3, 32, 32), z_dim=128)  # DIM 128
    d = 128
    # Generator.Input (+ BN1 over its units), Generator.2, .3 (+ BN2, BN3), Generator.5; every layer with biases
    g = (128 * 4 * 4 * 4 * d + 4 * 4 * 4 * d) + 2 * 4 * 4 * 4 * d + (4 * d * 2 * d * 25 + 2 * d) + 2 * 2 * d \
        + (2 * d * d * 25 + d) + 2 * d + (d * 3 * 25 + 3)
    # Discriminator.1, .2, .3 (no normalization under WGAN-GP), Discriminator.Output
    c = (3 * d * 25 + d) + (d * 2 * d * 25 + 2 * d) + (2 * d * 4 * d * 25 + 4 * d) + (4 * 4 * 4 * d + 1)
    assert sum(p.numel() for p in generator.parameters()) == g
    assert sum(p.numel() for p in critic.parameters()) == c
    convs = [m for m in [*generator.modules(), *critic.modules()] if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) and m.bias is not None for m in convs)
    assert isinstance(generator.input[0], nn.Linear) and isinstance(generator.input[1], nn.BatchNorm1d)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in critic.modules())
    images = generator(torch.randn(4, 128))
    assert images.shape == (4, 3, 32, 32) and critic(images).shape == (4, 1)


def test_weights_start_as_tflibs_he_init_and_biases_at_zero():
    torch.manual_seed(0)
    generator, critic = build((3, 32, 32), z_dim=128)
    conv = critic.blocks[2]  # Discriminator.2: 128 -> 256, 5x5, stride 2
    fan_in, fan_out = 128 * 25, 256 * 25 / 4
    assert conv.weight.std().item() == pytest.approx((4 / (fan_in + fan_out)) ** 0.5, rel=0.02)
    deconv = generator.blocks[0]  # Generator.2: 512 -> 256, transposed: fan_in / stride^2
    fan_in, fan_out = 512 * 25 / 4, 256 * 25
    assert deconv.weight.std().item() == pytest.approx((4 / (fan_in + fan_out)) ** 0.5, rel=0.02)
    linear = critic.output
    assert linear.weight.abs().max() <= (6 / (linear.in_features + 1)) ** 0.5  # Glorot, tflib's Linear default
    biases = [m.bias for m in [*generator.modules(), *critic.modules()] if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    assert all(torch.all(b == 0) for b in biases)


def test_sizes_follow_the_data_and_bad_sizes_are_one_line():
    generator, critic = build((1, 64, 64), z_dim=8, width=4)
    assert generator(torch.randn(2, 8)).shape == (2, 1, 64, 64)
    assert critic.output.in_features == 4 * 4 * 8 * 4
    with pytest.raises(ConfigError, match="model=gan_cifar needs data.image_size = 4 x a power of two"):
        build((3, 48, 48), z_dim=8)


def test_the_wgan_gp_cifar10_preset_uses_these_nets(run_dir):
    cfg = ganzoo.compose(["experiment=wgan_gp_cifar10"])
    assert cfg.model._target_ == "ganzoo.models.gan_cifar.build" and (cfg.model.z_dim, cfg.model.width) == (128, 128)
    ganzoo.train(ganzoo.compose(["model=gan_cifar", "data=digits", "model.width=8", "data.batch_size=8", "steps=2",
                                 "callbacks.every_n_steps=2", "logger=none", f"run_dir={run_dir}"]))
    assert ganzoo.load(run_dir / "checkpoints" / "last.ckpt").sample(3).shape == (3, 1, 32, 32)
