"""Model shapes the papers name: the WGAN paper's no-batch-norm generator keeps a constant number of filters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.models.dcgan import DCGANGenerator
from helpers import build, tiny


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_constant_channels_cut_the_generator_by_a_bit_more_than_an_order_of_magnitude():
    # WGAN paper, Figure 6: "constant number of filters at every layer ... the number of parameters is therefore
    # reduced by a bit more than an order of magnitude" against DCGAN's generator (64x64, ngf 64, z 100).
    dcgan = DCGANGenerator(100, 3, 64, width=64, norm="batch")
    constant = DCGANGenerator(100, 3, 64, width=64, norm="none", channels="constant")
    hidden = [m.out_channels for m in constant.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))][:-1]
    assert hidden == [64, 64, 64, 64]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in constant.modules())
    assert 10 < parameter_count(dcgan) / parameter_count(constant) < 13
    assert constant(torch.randn(2, 100)).shape == (2, 3, 64, 64)


def test_the_no_bn_preset_builds_the_constant_width_generator():
    cfg = ganzoo.compose(["experiment=wgan_lsun_bedroom_no_bn"])
    assert (cfg.model.generator_norm, cfg.model.generator_channels) == ("none", "constant")
    small = tiny(["loss=wgan", "data=digits", "model=dcgan", "model.generator_channels=constant"])
    module, _ = build(small)
    widths = {m.out_channels for m in module.generator.modules() if isinstance(m, nn.ConvTranspose2d)}
    assert widths == {small.model.generator_width, 1}


def test_an_unknown_channel_layout_is_a_config_error():
    with pytest.raises(ConfigError, match="halving or constant"):
        DCGANGenerator(100, 3, 32, channels="doubling")
