"""Whether a run's batch can fit the device it trains on, checked when the run is built, before anything large is
allocated (a batch of 1e8 toy points would otherwise try to allocate hundreds of GB in the first step)."""

from __future__ import annotations

import os

import torch

from ganzoo.data import GANDataModule
from ganzoo.errors import ConfigError
from ganzoo.models.calls import evaluating
from ganzoo.objectives import GANTraining


def activation_bytes_per_sample(module: GANTraining) -> int:
    """Bytes of the outputs of every layer of both nets for one sample (measured on a batch of two, in eval mode
    and with z of its own, so that neither batch-norm statistics nor training's random stream move)."""
    outputs: list[torch.Tensor] = []  # kept alive, so that equal storage means an in-place layer, not reuse

    def record(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            outputs.append(output)

    nets = [net for _, net in module.named_nets()]
    leaves = [m for net in nets for m in net.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(record) for m in leaves]
    try:
        with evaluating(*nets):
            z = torch.randn(2, module.z_dim, generator=torch.Generator().manual_seed(0))
            y = torch.zeros(2, dtype=torch.long) if module.num_classes else None  # class 0, for nets that take labels
            module.probe(z, y)
    finally:
        for hook in hooks:
            hook.remove()
    sizes = {t.untyped_storage().data_ptr(): t.numel() * t.element_size() for t in outputs}
    return sum(sizes.values()) // 2


def device_memory(accelerator: str) -> tuple[int, str]:
    """Total memory of the device a run will train on (the first GPU, or this machine's RAM), and its name."""
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_properties(0).total_memory, torch.cuda.get_device_name(0)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "this machine's memory"


def check_batch_fits_memory(module: GANTraining, datamodule: GANDataModule, accelerator: str) -> None:
    """A batch whose activations cannot fit the device's memory is refused before anything is allocated. A critic
    step keeps the activations of a real and a generated batch (three with a gradient penalty's interpolates) for
    its backward pass: six times one pass of both nets is a floor, not an estimate of the peak."""
    batch = datamodule.batch_size
    needed = 6 * batch * activation_bytes_per_sample(module)
    total, device = device_memory(accelerator)
    if needed > total:
        usual = 64 if datamodule.is_image_data else 256
        raise ConfigError(
            f"data.batch_size={batch} needs at least {needed / 2**30:.0f} GiB for the nets' activations, more than "
            f"the {total / 2**30:.0f} GiB of {device}; use a smaller batch, e.g. data.batch_size={usual}"
        )
