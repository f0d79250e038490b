"""What FID, IS and KID look through: torch-fidelity's port of the TF-Inception network of the papers, or any
nn.Module that maps images to feature vectors.

Every image reaches a feature extractor as uint8 (N, C, H, W) in 0..255, the way a PNG file holds it: generated
and real tensors in [-1, 1] are quantized exactly as `torchvision.utils.save_image` writes them, so an image
measured in memory and the same image measured from its PNG file give the same figure. Grayscale images are
repeated to 3 channels for Inception, as PIL's convert("RGB") does for files.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3

from ganzoo.errors import ConfigError

INCEPTION_FILE = Path(URL_INCEPTION_V3).name  # weights-inception-2015-12-05-6726825d.pth


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] as the uint8 pixels save_image writes (clamp, map to [0, 1], x * 255 + 0.5, floor)."""
    if images.dtype == torch.uint8:
        return images
    return ((images.clamp(-1, 1) + 1) / 2).mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)


def hub_weights_path() -> Path:
    """Where torch.hub keeps the Inception weights once downloaded (what torch-fidelity looks for)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def inception_weights(path: str | Path | None = None) -> Path:
    """The Inception weights file: `path` if given, else torch hub's cache, else downloaded into that cache."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"metrics.inception_weights={path} does not exist; download {URL_INCEPTION_V3} there")
        return path
    cached = hub_weights_path()
    if not cached.is_file():
        try:
            torch.hub.download_url_to_file(URL_INCEPTION_V3, str(_parent(cached)), progress=False)
        except Exception as err:  # no network (URLError, timeouts, proxies): say where the file goes
            raise ConfigError(
                f"Inception weights not found and cannot be downloaded ({type(err).__name__}); on a machine with "
                f"network, fetch {URL_INCEPTION_V3} and pass metrics.inception_weights=PATH or put it at {cached}"
            ) from err
    return cached


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=8)
def file_digest(path: str) -> str:
    """sha256 of a file, first 16 hex digits: names the weights in cache keys and in evaluate's JSON."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class InceptionFeatures(nn.Module):
    """torch-fidelity's TF-Inception: pool3 features (2048) for FID and KID, unbiased logits (1008) for IS, from
    one pass. Resizes to 299x299 with TF1's bilinear interpolation, as the papers' code did."""

    def __init__(self, weights: str | Path | None = None):
        super().__init__()
        self.weights = inception_weights(weights)
        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(self.weights)
        )
        self.identity = f"inception-v3-compat:{file_digest(str(self.weights))}"

    def train(self, mode: bool = True) -> "InceptionFeatures":
        return super().train(False)  # BatchNorm keeps the TF statistics

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = to_uint8(images)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        pool, logits = self.net(images)
        return pool.float(), logits.float()


class ModuleFeatures(nn.Module):
    """Any nn.Module as the feature extractor, e.g. a small classifier for digits. It receives float images in
    [-1, 1] with the data's channels and returns (N, d) features; FID and KID use them, IS treats them as logits."""

    def __init__(self, module: nn.Module, channels: int | None = None):
        super().__init__()
        if not isinstance(module, nn.Module):
            raise ConfigError(f"metrics.feature_extractor must build an nn.Module, got {type(module).__name__}")
        self.module = module.eval().requires_grad_(False)
        self.channels = channels
        digest = hashlib.sha256()
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode() + tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        self.identity = f"{type(module).__module__}.{type(module).__qualname__}:{digest.hexdigest()[:16]}"

    def train(self, mode: bool = True) -> "ModuleFeatures":
        return super().train(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = to_uint8(images)
        if self.channels == 1 and images.shape[1] == 3:  # grayscale read from RGB files
            images = images[:, :1]
        features = self.module(images.float() / 127.5 - 1).flatten(1).float()
        return features, features


def build_extractor(module: nn.Module | None = None, weights: str | Path | None = None, channels: int | None = None) -> nn.Module:
    """`module` wrapped as a feature extractor, or Inception when there is none."""
    return InceptionFeatures(weights) if module is None else ModuleFeatures(module, channels)
