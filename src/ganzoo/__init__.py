"""ganzoo: GANs as the papers describe them, on PyTorch Lightning with a Hydra command line.

    cfg = ganzoo.compose(["loss=wgan", "data=digits", "model=dcgan"])
    figures = ganzoo.train(cfg)                      # the content of summary.json
    module = ganzoo.load(figures["checkpoint"])
    images = module.sample(64)                       # in [-1, 1]

Importing ganzoo loads Hydra and OmegaConf only; torch and Lightning come with `train` and `load`.
"""

from ganzoo.config import compose
from ganzoo.errors import CheckpointError, ConfigError, DataError, GanzooError, TrainingError

__version__ = "0.1.0"
__all__ = ["compose", "train", "load", "GanzooError", "ConfigError", "DataError", "CheckpointError", "TrainingError"]


def __getattr__(name: str):
    # `ganzoo.train` is the callable entry-point module, imported on first use so that `python -m ganzoo.train`
    # does not import it twice; `ganzoo.load` brings torch, which a command-line check does not need.
    import importlib

    if name == "train":
        return importlib.import_module("ganzoo.train")
    if name == "load":
        return importlib.import_module("ganzoo.checkpoint").load
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
