"""FID, IS and KID of generated images, each equal to what torch-fidelity's `calculate_metrics` reports.

The generated side accumulates in torchmetrics states, so that with several processes the states are
synchronized across ranks before a figure is computed; the real side (the reference) is a fixed set of features
held once. Figures come from torch-fidelity's own formulas with its defaults and seeds (KID: 100 subsets of
1000, polynomial kernel of degree 3, subsets drawn by numpy's RandomState(2020); IS: 10 splits after a shuffle
by RandomState(2020)). torchmetrics' own KID and IS draw their subsets from torch's global random state, which
would both differ from torch-fidelity and disturb training's random stream.

Each figure is a registered metric (`fid`, `is`, `kid`); those measured at the same step with the same settings
share one pass of the generated images through the feature extractor (`ImageMetrics`), which lives in the
evaluation, never inside the LightningModule, so checkpoints never hold it. With several processes each rank
draws its share of `n_samples` with a seed of its own, torchmetrics gathers the states, and rank 0 alone writes
the reference cache.

Memory: FID keeps running sums only (a d x d matrix); KID keeps the generated pool features (n x 2048 float32)
and IS the generated logits (n x 1008 float32), because their subsets and splits are drawn from all samples.
Images are never kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

import torch
from torch import nn
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.metrics import registry
from ganzoo.metrics.features import build_extractor
from ganzoo.metrics.reference import DEFAULT_CACHE, dataset_features, folder_batches, folder_images, in_progress

FIGURES = ("fid", "is", "kid")  # what ImageMetrics computes, in the order it reports them
FIDELITY_SEED = 2020  # torch-fidelity's rng_seed for KID subsets and the IS shuffle
RANK_SEED_STRIDE = 1_000_003  # rank r draws its share of the generated images from z of seed + r * stride


class FrechetDistance(Metric):
    """FID: ||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2)), torch-fidelity's eigenvalue form."""

    full_state_update = False

    def __init__(self, reference: torch.Tensor, **kwargs):
        super().__init__(**kwargs)
        self.reference = fid_features_to_statistics(reference.cpu().float())
        dim = reference.shape[1]
        self.add_state("total", torch.zeros(dim, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("products", torch.zeros(dim, dim, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, features: torch.Tensor) -> None:
        features = features.double()
        self.total += features.sum(0)
        self.products += features.T @ features
        self.count += len(features)

    def compute(self) -> dict[str, float]:
        n = int(self.count)
        if n < 2:
            raise ConfigError(f"FID needs at least 2 generated images (got {n}); raise metrics.n_samples")
        mu = self.total / n
        sigma = (self.products - n * torch.outer(mu, mu)) / (n - 1)
        # torch-fidelity's mean is float32 (np.mean of float32 features), its covariance float64 (np.cov)
        generated = {"mu": mu.float().cpu().numpy(), "sigma": sigma.cpu().numpy()}
        fid = fid_statistics_to_metric(generated, self.reference, verbose=False)["frechet_inception_distance"]
        return {"fid": float(fid)}


class KernelDistance(Metric):
    """KID: the unbiased MMD^2 with kernel (x.y / d + 1)^3, averaged over random subsets (Binkowski et al. 2018)."""

    full_state_update = False

    def __init__(self, reference: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = FIDELITY_SEED, **kwargs):
        super().__init__(**kwargs)
        self.reference = reference.cpu().float()
        self.subsets, self.subset_size, self.seed = int(subsets), int(subset_size), int(seed)
        self.add_state("features", [], dist_reduce_fx="cat")

    def update(self, features: torch.Tensor) -> None:
        self.features.append(features.float())

    def used_subset_size(self, n_generated: int) -> int:
        """The subset size: metrics.kid_subset_size, or fewer when either set is smaller (short test runs)."""
        return min(self.subset_size, n_generated, len(self.reference))

    def compute(self) -> dict[str, float]:
        generated = dim_zero_cat(self.features).cpu()
        size = self.used_subset_size(len(generated))
        self.last_subset_size = size
        if size < 2:
            raise ConfigError(f"KID needs at least 2 images on each side (got {len(generated)} generated)")
        out = kid_features_to_metric(
            generated, self.reference, kid_subsets=self.subsets, kid_subset_size=size, rng_seed=self.seed, verbose=False
        )
        return {"kid": out["kernel_inception_distance_mean"], "kid_std": out["kernel_inception_distance_std"]}


class InceptionScore(Metric):
    """IS: exp(E_x KL(p(y|x) || p(y))) per split, averaged over splits (Salimans et al. 2016)."""

    full_state_update = False

    def __init__(self, splits: int = 10, seed: int = FIDELITY_SEED, **kwargs):
        super().__init__(**kwargs)
        self.splits, self.seed = int(splits), int(seed)
        self.add_state("logits", [], dist_reduce_fx="cat")

    def update(self, logits: torch.Tensor) -> None:
        self.logits.append(logits.float())

    def compute(self) -> dict[str, float]:
        logits = dim_zero_cat(self.logits).cpu()
        if len(logits) < self.splits:
            raise ConfigError(f"IS needs at least {self.splits} generated images (its splits); raise metrics.n_samples")
        out = isc_features_to_metric(logits, splits=self.splits, shuffle=True, rng_seed=self.seed)
        return {"is": out["inception_score_mean"], "is_std": out["inception_score_std"]}


class ImageMetrics:
    """The chosen figures of generated images against a reference set, through one feature extractor.

    `set_reference(batches)` (or `reference=` features) fixes the real side; `__call__(batches)` streams generated
    batches (uint8 or [-1, 1] float, (N, C, H, W)) through the extractor under no_grad and returns the figures.
    """

    def __init__(
        self,
        names: Iterable[str],
        extractor: nn.Module,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        isc_splits: int = 10,
        seed: int = FIDELITY_SEED,
    ):
        self.names = [n for n in FIGURES if n in set(names)]
        unknown = set(names) - set(FIGURES)
        if unknown or not self.names:
            raise ConfigError(f"unknown metric(s) {sorted(unknown) or '(none)'}: choose from fid, is, kid (e.g. metrics=[fid,kid])")
        self.extractor = extractor
        self.kid_subsets, self.kid_subset_size, self.isc_splits, self.seed = kid_subsets, kid_subset_size, isc_splits, seed
        self.metrics: dict[str, Metric] = {}
        if "is" in self.names:
            self.metrics["is"] = InceptionScore(isc_splits, seed)

    @property
    def needs_reference(self) -> bool:
        return "fid" in self.names or "kid" in self.names

    @property
    def device(self) -> torch.device:
        return next(iter(self.extractor.parameters()), torch.zeros(0)).device

    @torch.no_grad()
    def features(self, batches: Iterable[torch.Tensor]) -> torch.Tensor:
        """Pool features of all images in `batches`, on the CPU (for the reference set)."""
        return torch.cat([self.extractor(batch.to(self.device))[0].cpu() for batch in batches])

    def set_reference(self, features: torch.Tensor) -> None:
        """Fix the real side from its pool features (computed by `features`, or read from the cache)."""
        if "fid" in self.names:
            self.metrics["fid"] = FrechetDistance(features)
        if "kid" in self.names:
            self.metrics["kid"] = KernelDistance(features, self.kid_subsets, self.kid_subset_size, self.seed)

    @torch.no_grad()
    def __call__(self, batches: Iterable[torch.Tensor]) -> dict[str, float]:
        if self.needs_reference and "fid" not in self.metrics and "kid" not in self.metrics:
            raise RuntimeError("set_reference() first: FID and KID compare against real images")
        for metric in self.metrics.values():
            metric.to(self.device).reset()
        for batch in batches:
            pool, logits = self.extractor(batch.to(self.device))
            for name, metric in self.metrics.items():
                metric.update(logits if name == "is" else pool)
        figures: dict[str, float] = {}
        for name in self.names:  # fid, is, kid order
            figures.update({k: float(v) for k, v in self.metrics[name].compute().items()})
            self.metrics[name].reset()
        return figures

    def settings(self) -> dict:
        """The parameters behind the figures, for evaluate's JSON."""
        out: dict = {"feature_extractor": getattr(self.extractor, "identity", type(self.extractor).__name__)}
        if "kid" in self.names:
            used = getattr(self.metrics.get("kid"), "last_subset_size", None)
            out.update(kid_subsets=self.kid_subsets, kid_subset_size=used or self.kid_subset_size)
        if "is" in self.names:
            out.update(isc_splits=self.isc_splits)
        out["rng_seed"] = self.seed
        return out


def generated_batches(module, n: int, seed: int, batch_size: int, batch_norm: str | None = None) -> Iterator[torch.Tensor]:
    """n images from a generator module in batches, from z drawn by a torch.Generator of their own (`seed`);
    `batch_norm`: the sampling mode, None for the run's own."""
    z = torch.randn(n, module.z_dim, generator=torch.Generator().manual_seed(seed))
    for chunk in z.split(batch_size):
        yield module.sample(len(chunk), z=chunk, batch_norm=batch_norm)


class ImageFigure(registry.Metric):
    """A figure of `n_samples` generated images against `n_real` real ones in a feature extractor's space, every
    `every_n_steps` generator iterations (settings shared through the `metrics` config, conf/metrics/common.yaml)."""

    offline = False  # Inception's weights come from torch hub's cache or a download
    needs_reference: bool = True  # compares with real images (FID, KID), or judges generated ones alone (IS)

    def __init__(self, every_n_steps: int = 5000, n_samples: int = 10000, n_real: int | None = None, batch_size: int = 100,
                 inception_weights: str | None = None, feature_extractor: Any = None, cache_dir: str | None = DEFAULT_CACHE,
                 kid_subsets: int = 100, kid_subset_size: int = 1000, isc_splits: int = 10, seed: int = FIDELITY_SEED):
        super().__init__(every_n_steps, n_samples)
        self.n_real = int(n_real or n_samples)
        self.batch_size = int(batch_size)
        self.inception_weights = inception_weights
        self.feature_extractor = feature_extractor  # a config with _target_ (or an nn.Module); None: Inception
        self.cache_dir = cache_dir
        self.options = dict(kid_subsets=int(kid_subsets), kid_subset_size=int(kid_subset_size), isc_splits=int(isc_splits),
                            seed=int(seed))

    def applies_to(self, data) -> bool:
        return data.is_image_data

    def pass_key(self) -> tuple:
        """Figures with equal keys are measured in one pass."""
        return (self.n, self.n_real, self.batch_size, str(self.inception_weights), str(self.feature_extractor),
                str(self.cache_dir), tuple(sorted(self.options.items())))

    def partners(self, run: registry.Run) -> tuple[str, ...]:
        """The names of the image figures measured with this one (itself included), in FIGURES order."""
        names = {m.name for m in run.due if isinstance(m, ImageFigure) and m.pass_key() == self.pass_key()} | {self.name}
        return tuple(name for name in FIGURES if name in names)

    def engine(self, run: registry.Run, names: tuple[str, ...]) -> ImageMetrics:
        """The feature extractor (loaded once per run) and the states of `names`."""

        def extractor() -> nn.Module:
            module = self.feature_extractor
            if module is not None and not isinstance(module, nn.Module):
                module = make(module)
            channels = run.module.data_shape[0] if run.module is not None else None
            return build_extractor(module, self.inception_weights, channels).to(run.device)

        shared = run.keep(("feature extractor", str(self.inception_weights), str(self.feature_extractor)), extractor)
        return run.keep(("image figures", self.pass_key(), names), lambda: ImageMetrics(names, shared, **self.options))

    def prepare(self, run: registry.Run) -> None:
        if self.needs_reference and run.data is None and run.reference is None:
            raise ConfigError("input=FOLDER needs reference=FOLDER, the real images to compare with")
        self.engine(run, self.partners(run))  # missing weights fail before training, not at the first pass

    def measure(self, run: registry.Run) -> dict[str, float]:
        names = self.partners(run)
        figures = run.once(("image figures", self.pass_key(), names), lambda: self.measure_together(run, names))
        return {k: v for k, v in figures.items() if k.split("_")[0] == self.name}  # kid and kid_std, ...

    def measure_together(self, run: registry.Run, names: tuple[str, ...]) -> dict[str, float]:
        metrics = self.engine(run, names)
        metrics.extractor.to(run.device)
        if metrics.needs_reference and not metrics.metrics.keys() & {"fid", "kid"}:
            features, run.shared["reference"] = self.reference(run, metrics)
            metrics.set_reference(features)
        if run.images is not None:  # evaluate input=FOLDER
            count = min(self.n, len(run.images))
            batches = folder_batches(run.images, self.batch_size, self.n)
        else:
            count = self.n // run.world + (run.rank < self.n % run.world)
            batches = generated_batches(run.module, count, run.seed + RANK_SEED_STRIDE * run.rank, self.batch_size,
                                        run.batch_norm)
        what = f"{', '.join(names)} at step {run.step}"
        figures = metrics(in_progress(batches, count, self.batch_size, what, shown=run.leader))
        weights = getattr(metrics.extractor, "weights", None)
        run.shared["image settings"] = {**metrics.settings(), "inception_weights": str(weights) if weights else None}
        run.shared["images"] = count
        return figures

    def reference(self, run: registry.Run, metrics: ImageMetrics) -> tuple[torch.Tensor, dict]:
        """The real side's features and where they came from (for evaluate's JSON)."""
        if run.reference is not None:  # evaluate reference=FOLDER
            features = metrics.features(folder_batches(folder_images(run.reference), self.batch_size))
            return features, {"folder": str(Path(run.reference).resolve()), "images": len(features)}
        features, source = dataset_features(metrics, run.data, self.n_real, self.batch_size, self.cache_dir,
                                            write=run.leader, progress=run.leader)
        return features, {"data": type(run.data).__name__, "shape": list(run.data.shape), "images": len(features),
                          "features": source}

    def release(self, run: registry.Run) -> None:
        for key, kept in run.kept.items():
            if isinstance(key, tuple) and key[0] == "feature extractor":
                kept.to("cpu")


@registry.register_metric
class FID(ImageFigure):
    """val/fid: Frechet Inception Distance (Heusel et al. 2017)."""

    name = "fid"
    figures = ("fid",)


@registry.register_metric
class IS(ImageFigure):
    """val/is: Inception Score (Salimans et al. 2016); evaluate also reports is_std over the splits."""

    name = "is"
    figures = ("is",)
    needs_reference = False


@registry.register_metric
class KID(ImageFigure):
    """val/kid: Kernel Inception Distance (Binkowski et al. 2018); evaluate also reports kid_std over the subsets."""

    name = "kid"
    figures = ("kid",)
