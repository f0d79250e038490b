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


def test_init_tflib_starts_toy_mlps_as_the_wgan_gp_code():
    """gan_toy.py on tflib's Linear: He-uniform ReLU layers, a Glorot-uniform last layer, zero biases."""
    from ganzoo.models.mlp import build as mlp

    torch.manual_seed(0)
    generator, critic = mlp((2,), z_dim=2, init="tflib")
    for net in (generator.net, critic.net):
        linears = [m for m in net if isinstance(m, nn.Linear)]
        for layer in linears[:-1]:
            fan_in = layer.in_features
            assert layer.weight.abs().max() <= (6 / fan_in) ** 0.5 and torch.all(layer.bias == 0)
            if fan_in > 2:  # enough weights to see the spread
                assert abs(layer.weight.std().item() / (2 / fan_in) ** 0.5 - 1) < 0.05
        last = linears[-1]
        assert last.weight.abs().max() <= (6 / (last.in_features + last.out_features)) ** 0.5 and torch.all(last.bias == 0)
    torch.manual_seed(0)
    default_generator, _ = mlp((2,), z_dim=2, init="torch")
    z = torch.randn(2048, 2)
    with torch.no_grad():
        ratio = generator(z).std() / default_generator(z).std()
    assert ratio > 10  # the reference generator starts with a far wider spread of points (32x with these seeds)


def test_mlps_start_from_pytorchs_default_unless_told_and_the_toy_preset_tells():
    from ganzoo.models.mlp import build as mlp

    for shape in ((2,), (1, 8, 8)):
        generator, _ = mlp(shape, z_dim=4)
        assert any(m.bias.abs().max() > 0 for m in generator.net if isinstance(m, nn.Linear))
    assert ganzoo.compose(["experiment=wgan_gp_toy"]).model.init == "tflib"
    assert ganzoo.compose([]).model.init == "torch"


@pytest.mark.parametrize("data, warmup", [("gaussians8", False), ("gaussians25", False), ("swissroll", False), ("digits", True)])
def test_wgan_warms_its_critic_up_on_images_only(data, warmup):
    """The 100-step warm-up is the WGAN code's main.py (images); gan_toy.py's WGAN has none."""
    cfg = ganzoo.compose(["loss=wgan", f"data={data}"])
    assert (cfg.loss.critic_warmup is not None) == warmup
    assert cfg.optim.critic.lr == 5e-5 and cfg.constraint.clip.clip_value == 0.01
