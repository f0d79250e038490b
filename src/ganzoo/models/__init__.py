"""Generator/critic pairs. Models know nothing of losses: an objective asks for a critic with a given output
width (1 score, or z_dim codes for O-GAN's encoder) and the normalization its config names."""

from __future__ import annotations

from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models.dcgan import DCGANCritic, DCGANGenerator, check_image_size
from ganzoo.models.init import dcgan_init
from ganzoo.models.mlp import MLPCritic, MLPGenerator

ARCHITECTURES = ("mlp", "dcgan")


def default_z_dim(model_cfg: dict, data_shape: tuple[int, ...]) -> int:
    """model.z_dim, or the papers' choice when it is null: 2-D noise for toy points (WGAN-GP toy code), 100 for images."""
    if model_cfg.get("z_dim") is not None:
        return int(model_cfg["z_dim"])
    return 2 if len(data_shape) == 1 else 100


def build_models(model_cfg: dict, data_shape: tuple[int, ...], z_dim: int, critic_outputs: int = 1) -> tuple[nn.Module, nn.Module]:
    """Build (generator, critic) for data of `data_shape`: (2,) for toy points or (C, H, W) for images."""
    name = model_cfg["name"]
    if name == "mlp":
        hidden_layers = model_cfg.get("hidden_layers") or (3 if len(data_shape) == 1 else 4)
        width = int(model_cfg["width"])
        generator = MLPGenerator(z_dim, data_shape, width, hidden_layers)
        critic = MLPCritic(data_shape, width, hidden_layers, critic_outputs)
        return generator, critic
    if name == "dcgan":
        if len(data_shape) != 3:
            raise ConfigError("model=dcgan needs image data but the data are 2-D points; use model=mlp for toy data")
        channels, size = data_shape[0], data_shape[1]
        check_image_size(size)
        critic_norm = model_cfg["critic_norm"]
        critic = DCGANCritic(channels, size, model_cfg["critic_width"], critic_norm, model_cfg["extra_layers"], critic_outputs)
        critic.apply(dcgan_init)
        kind = model_cfg.get("generator", "dcgan")
        if kind == "mlp":  # the WGAN paper's MLP generator (its code's --mlp_G --ngf 512) beside a DCGAN critic
            return MLPGenerator(z_dim, data_shape, int(model_cfg["generator_width"]), hidden_layers=4), critic
        if kind != "dcgan":
            raise ConfigError(f"unknown model.generator '{kind}': choose dcgan or mlp")
        generator = DCGANGenerator(
            z_dim,
            channels,
            size,
            model_cfg["generator_width"],
            model_cfg["generator_norm"],
            model_cfg["extra_layers"],
            model_cfg.get("generator_channels", "halving"),
        )
        generator.apply(dcgan_init)
        return generator, critic
    raise ConfigError(f"unknown model '{name}': choose one of {', '.join(ARCHITECTURES)}")
