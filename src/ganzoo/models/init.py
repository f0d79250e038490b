"""Weight initializations of the reference code.

dcgan_init (Radford et al. 2016; the WGAN code's weights_init): every weight from N(0, 0.02); norm scales from
N(1, 0.02).
tflib_init (the WGAN-GP code's toy nets, gan_toy.py on tflib's Linear): a layer followed by ReLU is He-uniform
(std sqrt(2 / fan_in)), the last layer Glorot-uniform (std sqrt(2 / (fan_in + fan_out))), every bias zero.
"""

from torch import nn


def dcgan_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def tflib_init(net: nn.Sequential) -> None:
    """`net`: Linear layers, each but the last followed by a ReLU (models/mlp.py's stacks)."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for layer in linears[:-1]:
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # bound sqrt(6 / fan_in), tflib's 'he'
        nn.init.zeros_(layer.bias)
    nn.init.xavier_uniform_(linears[-1].weight)  # bound sqrt(6 / (fan_in + fan_out)), tflib's default
    nn.init.zeros_(linears[-1].bias)
