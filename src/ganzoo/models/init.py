"""Weight initializations of the reference code.

dcgan_init (Radford et al. 2016; the WGAN code's weights_init): every weight from N(0, 0.02); norm scales (each
class's, in conditional batch norm) from N(1, 0.02).
tflib_init (the WGAN-GP code's toy nets, gan_toy.py on tflib's Linear): a layer followed by ReLU is He-uniform
(std sqrt(2 / fan_in)), the last layer Glorot-uniform (std sqrt(2 / (fan_in + fan_out))), every bias zero.
tflib_conv_init (its image nets, gan_cifar.py): convolutions with tflib's he_init, linear layers Glorot.
"""

from torch import nn

from ganzoo.models.conditional import ConditionalBatchNorm


def dcgan_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, ConditionalBatchNorm):  # each class's scales, as an unconditional norm's
        nn.init.normal_(module.gain.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias.weight)


def tflib_init(net: nn.Sequential) -> None:
    """`net`: Linear layers, each but the last followed by a ReLU (models/mlp.py's stacks)."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for layer in linears[:-1]:
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # bound sqrt(6 / fan_in), tflib's 'he'
        nn.init.zeros_(layer.bias)
    nn.init.xavier_uniform_(linears[-1].weight)  # bound sqrt(6 / (fan_in + fan_out)), tflib's default
    nn.init.zeros_(linears[-1].bias)


def tflib_conv_init(module: nn.Module) -> None:
    """tflib's Conv2D/Deconv2D with he_init (their default) and Linear with its default (Glorot): weights uniform
    with std sqrt(4 / (fan_in + fan_out)) for convolutions, the fans counting the stride as tflib does (a
    convolution's fan_out and a transposed convolution's fan_in divided by stride^2); biases zero."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        k, stride = module.kernel_size[0] * module.kernel_size[1], module.stride[0] * module.stride[1]
        fan_in, fan_out = module.in_channels * k, module.out_channels * k
        if isinstance(module, nn.ConvTranspose2d):
            fan_in /= stride
        else:
            fan_out /= stride
        bound = (3 * 4 / (fan_in + fan_out)) ** 0.5  # uniform on [-b, b] has std b / sqrt(3)
        nn.init.uniform_(module.weight, -bound, bound)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)
