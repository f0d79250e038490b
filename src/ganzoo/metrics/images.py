"""FID, IS and KID of generated images, each equal to what torch-fidelity's `calculate_metrics` reports.

The generated side accumulates in torchmetrics states, so that with several processes the states are
synchronized across ranks before a figure is computed; the real side (the reference) is a fixed set of features
held once. Figures come from torch-fidelity's own formulas with its defaults and seeds (KID: 100 subsets of
1000, polynomial kernel of degree 3, subsets drawn by numpy's RandomState(2020); IS: 10 splits after a shuffle
by RandomState(2020)). torchmetrics' own KID and IS draw their subsets from torch's global random state, which
would both differ from torch-fidelity and disturb training's random stream.

Memory: FID keeps running sums only (a d x d matrix); KID keeps the generated pool features (n x 2048 float32)
and IS the generated logits (n x 1008 float32), because their subsets and splits are drawn from all samples.
Images are never kept.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import torch
from torch import nn
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from ganzoo.errors import ConfigError

METRICS = ("fid", "is", "kid")
FIDELITY_SEED = 2020  # torch-fidelity's rng_seed for KID subsets and the IS shuffle


def enabled(metrics_cfg) -> list[str]:
    """The metrics a `metrics` config turns on, in a fixed order (metrics=[fid,is,kid] sets fid/is/kid: true)."""
    if not metrics_cfg:
        return []
    return [name for name in METRICS if metrics_cfg.get(name)]


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
        self.names = [n for n in METRICS if n in set(names)]
        unknown = set(names) - set(METRICS)
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


def generated_batches(module, n: int, seed: int, batch_size: int) -> Iterator[torch.Tensor]:
    """n images from a generator module in batches, from z drawn by a torch.Generator of their own (`seed`)."""
    z = torch.randn(n, module.z_dim, generator=torch.Generator().manual_seed(seed))
    for chunk in z.split(batch_size):
        yield module.sample(len(chunk), z=chunk)
