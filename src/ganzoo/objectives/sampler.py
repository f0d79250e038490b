"""What draws from a trained model: samples (from the generator's average under runtime.ema), in either batch-norm
mode, and, when the model encodes (O-GAN's critic under encoder=ogan, a VAE's encoder), encodings, reconstructions
and interpolations.

A mixin of the training module (objectives/training.py), so that a checkpoint holds the average beside the nets
it averages; its settings come through `init_sampling`, called by that module's constructor.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from ganzoo.errors import ConfigError
from ganzoo.models.calls import evaluating, generate, score, takes_labels
from ganzoo.models.conditional import check_classes
from ganzoo.objectives.ema import averaged_copy, update_average
from ganzoo.objectives.encoder import standardize
from ganzoo.shapes import is_image_shape

BATCH_NORM_MODES = ("batch", "running")


@contextmanager
def batch_statistics(net: nn.Module):
    """Within: every batch norm layer of `net` normalizes with the statistics of the batch it is given and
    leaves its running averages untouched, so that sampling changes nothing a checkpoint holds."""
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.training, m.track_running_stats) for m in layers]
    for m in layers:
        m.training, m.track_running_stats = True, False  # batch statistics; running buffers neither read nor written
    try:
        yield
    finally:
        for m, (training, tracked) in zip(layers, saved):
            m.training, m.track_running_stats = training, tracked


class Sampler:
    generator: nn.Module
    critic: nn.Module
    z_dim: int
    data_shape: tuple[int, ...]

    def init_sampling(self, ema: dict | None, sample_batch_norm: str) -> None:
        """`ema`: {decay, start} to keep an exponential moving average of the generator (objectives/ema.py),
        which `sample` then draws from; `sample_batch_norm`: "batch", the statistics of the batch being drawn,
        as the WGAN and WGAN-GP code generate (it never calls eval(); tflib's batch norm always uses the
        batch's), or "running": eval mode."""
        self.generator_ema = averaged_copy(self.generator) if ema else None
        self.ema_decay, self.ema_start = (float(ema["decay"]), int(ema["start"])) if ema else (0.999, 0)
        self.sample_batch_norm = sample_batch_norm
        self.trained_steps = 0  # generator iterations behind a loaded checkpoint's weights
        self.run_config = None  # the config a loaded checkpoint was trained with

    def update_generator_average(self) -> None:
        """After the generator's k-th update (runtime.ema): the average is a copy while k <= start, then moves."""
        if self.generator_ema is not None:
            decay = self.ema_decay if self.global_step > self.ema_start else 0.0
            update_average(self.generator_ema, self.generator, decay)

    def loaded(self, state_dict: dict, trained_steps: int, run_config) -> None:
        """Take a checkpoint's weights, and remember its step and config (checkpoint.load)."""
        self.load_state_dict(state_dict)
        self.trained_steps, self.run_config = int(trained_steps), run_config

    @property
    def encodes(self) -> bool:
        """True when the model encodes (encoder=ogan, loss=vae): `encode`, `reconstruct`, `interpolate`."""
        return self.encoder is not None

    @property
    def draws_images(self) -> bool:
        return is_image_shape(self.data_shape)

    @property
    def conditional(self) -> bool:
        """True when the generator takes labels (model.conditional=true): samples are drawn for a class."""
        return takes_labels(self.generator)

    def sample_classes(self, n: int, y: int | torch.Tensor | None = None) -> torch.Tensor | None:
        """The classes n samples are drawn for: `y` (one class, or one per sample), or by default every class in
        turn (0, 1, ..., 0, 1, ...), so that n samples cover the classes evenly; None for a generator that takes
        no labels."""
        if not self.conditional:
            if y is not None:
                raise ConfigError("this checkpoint's generator takes no class labels (trained without "
                                  "model.conditional=true); drop class=")
            return None
        y = torch.arange(n) % self.num_classes if y is None else torch.as_tensor(y).long().expand(n).clone()
        check_classes(y, self.num_classes)
        return y.to(self.device)

    def sample(self, n: int, z: torch.Tensor | None = None, seed: int | None = None, batch_size: int = 500,
               raw: bool = False, batch_norm: str | None = None, y: int | torch.Tensor | None = None) -> torch.Tensor:
        """n samples (float32) from the generator in eval mode: images in [-1, 1] as (n, C, H, W), or points as (n, 2).
        With `seed`, z comes from its own generator and the global random state (training's) is left alone.
        Under runtime.ema the averaged generator draws them, the trained one with `raw=True`. Batch norm uses the
        statistics of each chunk of `batch_size` z (`batch_norm="batch"`) or its running averages ("running");
        None: the run's runtime.sample_batch_norm. A conditional generator draws them for the classes `y` names
        (`sample_classes`: one class, one per sample, or every class in turn)."""
        if z is None and seed is not None:
            z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))
        z = torch.randn(n, self.z_dim) if z is None else z
        z = z.to(self.device, self.dtype)  # the nets' dtype: float64 or bf16 under trainer.precision=64/bf16-true
        classes = self.sample_classes(len(z), y)
        chunks = zip(z.split(batch_size), classes.split(batch_size) if classes is not None else [None] * len(z))
        generator = self.generator if raw or self.generator_ema is None else self.generator_ema
        with evaluating(generator):
            if (batch_norm or self.sample_batch_norm) == "batch":
                with batch_statistics(generator):
                    return torch.cat([generate(generator, *chunk) for chunk in chunks]).float()
            return torch.cat([generate(generator, *chunk) for chunk in chunks]).float()

    def class_grid(self, z: torch.Tensor, rows: int = 10, **options) -> torch.Tensor:
        """One row per class (the first `rows` classes), each row the same z: (rows * len(z), ...) samples,
        row by row. Along a row the class is fixed and z varies; down a column z is fixed and the class varies."""
        rows = min(rows, self.num_classes)
        classes = torch.arange(rows).repeat_interleave(len(z))
        return self.sample(rows * len(z), z=z.repeat(rows, 1), y=classes, **options)

    # ----- the encoder (encoder=ogan; a VAE's encode is its own) ----------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Standardized codes E(x), one row per image in [-1, 1]."""
        with evaluating(self.critic):
            return standardize(score(self.critic, x.to(self.device, self.dtype)).outputs.float())

    def reconstruct(self, x: torch.Tensor, **options) -> torch.Tensor:
        """G(s encode(x)): O-GAN's reconstruction (s = encoder.reconstruction_scale), a VAE's (s = 1)."""
        return self.sample(len(x), z=self.code_scale * self.encode(x), **options)

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, points: int = 8, **options) -> torch.Tensor:
        """For each pair (a_i, b_i), `points` images along the line between their codes: (len(a) * points, C, H, W)."""
        code_a, code_b = self.encode(a), self.encode(b)
        t = torch.linspace(0, 1, points, device=code_a.device).view(1, points, 1)
        codes = (1 - t) * code_a[:, None] + t * code_b[:, None]
        return self.sample(len(a) * points, z=self.code_scale * codes.flatten(0, 1), **options)
