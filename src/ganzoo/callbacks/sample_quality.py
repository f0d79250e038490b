"""Every N generator iterations on image data: val/fid, val/is and val/kid of `n_samples` generated images
against real images of the training data, and time/metrics_s, the seconds the pass took.

The feature network lives here, in the callback, never inside the LightningModule, so checkpoints never hold
it. It runs on the training device, in batches, under no_grad. Generated images come from their own seed
(never training's random stream); with several processes each rank draws its share of `n_samples` with a seed of
its own, torchmetrics gathers the states, and rank 0 alone writes the reference cache.
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import torch

from ganzoo.callbacks.publish import publish
from ganzoo.instantiation import make
from ganzoo.metrics import EVAL_SEED
from ganzoo.metrics.features import build_extractor
from ganzoo.metrics.images import FIDELITY_SEED, ImageMetrics, generated_batches
from ganzoo.metrics.reference import DEFAULT_CACHE, dataset_features, in_progress


class SampleQuality(L.Callback):
    def __init__(
        self,
        names: list[str],
        every_n_steps: int = 5000,
        n_samples: int = 10000,
        n_real: int | None = None,
        batch_size: int = 100,
        inception_weights: str | None = None,
        feature_extractor: Any = None,
        cache_dir: str | None = DEFAULT_CACHE,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        isc_splits: int = 10,
        seed: int = FIDELITY_SEED,
    ):
        self.names = list(names)
        self.every_n_steps = int(every_n_steps)
        self.n_samples = int(n_samples)
        self.n_real = int(n_real or n_samples)
        self.batch_size = int(batch_size)
        self.inception_weights = inception_weights
        self.feature_extractor = feature_extractor  # a config with _target_ (or an nn.Module); None: Inception
        self.cache_dir = cache_dir
        self.options = dict(kid_subsets=int(kid_subsets), kid_subset_size=int(kid_subset_size), isc_splits=int(isc_splits), seed=int(seed))
        self.metrics: ImageMetrics | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if not trainer.datamodule.is_image_data or self.metrics is not None:
            return
        module = self.feature_extractor
        if module is not None and not isinstance(module, torch.nn.Module):
            module = make(module)
        extractor = build_extractor(module, self.inception_weights, channels=pl_module.data_shape[0])
        self.metrics = ImageMetrics(self.names, extractor.to(pl_module.device), **self.options)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.metrics is None:
            return
        step = trainer.global_step
        if step % self.every_n_steps == 0 or step >= trainer.max_steps:
            started = time.perf_counter()
            figures = self.measure(trainer, pl_module)
            publish(trainer, {f"val/{name}": figures[name] for name in self.names})
            for logger in trainer.loggers:  # a time, not a figure of the model: loggers only, not the summary
                logger.log_metrics({"time/metrics_s": time.perf_counter() - started}, step=step)

    def measure(self, trainer, pl_module) -> dict[str, float]:
        metrics = self.metrics
        metrics.extractor.to(pl_module.device)
        if metrics.needs_reference and not metrics.metrics.keys() & {"fid", "kid"}:
            features, _ = dataset_features(
                metrics, trainer.datamodule, self.n_real, self.batch_size, self.cache_dir, write=trainer.is_global_zero,
                progress=trainer.is_global_zero,
            )
            metrics.set_reference(features)
        rank, world = trainer.global_rank, trainer.world_size
        share = self.n_samples // world + (rank < self.n_samples % world)
        batches = generated_batches(pl_module, share, EVAL_SEED + 1_000_003 * rank, self.batch_size)
        what = f"{', '.join(self.names)} at step {trainer.global_step}"
        return metrics(in_progress(batches, share, self.batch_size, what, shown=trainer.is_global_zero))

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self.metrics is not None:
            self.metrics.extractor.to("cpu")
