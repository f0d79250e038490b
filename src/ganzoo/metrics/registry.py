"""Metrics registered by name: a metric is one class (or one decorated function) that says what it is called,
which data it applies to, which figures it returns, and how to measure them from a generator. Training (the
`Evaluation` callback) and `python -m ganzoo.evaluate` build the same metrics from the same `metrics` config.

    @register_metric
    class MeanNorm(Metric):
        name = "mean_norm"
        figures = ("mean_norm",)          # each logged as val/mean_norm

        def applies_to(self, data) -> bool:
            return not data.is_image_data  # asks what the datamodule declares, never its class

        def measure(self, run: Run) -> dict[str, float]:
            return {"mean_norm": run.samples(self.n).norm(dim=1).mean().item()}

or, for a figure of `n` samples alone, the same as a function:

    @register_metric(figures=("mean_norm",), applies_to=lambda data: not data.is_image_data)
    def mean_norm(samples: torch.Tensor, data) -> dict[str, float]:
        return {"mean_norm": samples.norm(dim=1).mean().item()}

A metric that needs a file that may have to be downloaded (Inception's weights) sets `offline = False`; the
others are what `python -m ganzoo.evaluate` offers when a chosen metric cannot run on the machine.

A run selects it from the command line with `+metrics.mean_norm._target_=my_module.MeanNorm` (or
`my_module.mean_norm`), or from a file of its own in a `metrics` config folder on Hydra's search path.

The `metrics` config node holds one node per metric (its `_target_` and settings) and settings shared by the
metrics: a top-level `metrics.<key>` reaches every metric whose constructor takes `<key>` (FID, IS and KID share
`metrics.n_samples`, `metrics.every_n_steps`, ...), unless the metric's own node sets it. `metrics.main` names the
figure the best checkpoint and hparams_search follow; null: the data's own (`GANDataModule.main_metric`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Hashable

import torch
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

import ganzoo.metrics
from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.metrics import EVAL_SEED

if TYPE_CHECKING:
    from ganzoo.data import GANDataModule

METRICS: dict[str, type[Metric]] = {}  # registered name -> metric class


@dataclass
class Run:
    """What a metric measures: a generator module (`sample`, `z_dim`, `data_shape`), the data it learned, and
    where this process stands. `samples(n)` is drawn once per evaluation and shared by the metrics that ask."""

    module: Any  # None when evaluate measures a folder of images
    data: GANDataModule | None
    device: torch.device | str = "cpu"  # where networks that measure run: the training device
    step: int = 0
    seed: int = EVAL_SEED
    rank: int = 0
    world: int = 1
    due: list[Metric] = field(default_factory=list)  # the metrics measured in this evaluation
    kept: dict = field(default_factory=dict)  # what metrics build once and keep across evaluations (networks)
    images: Any = None  # evaluate input=FOLDER: the generated images (torch-fidelity's folder dataset)
    reference: str | None = None  # evaluate reference=FOLDER: the real images
    shared: dict = field(default_factory=dict)  # what one metric computed in this evaluation for others
    batch_norm: str | None = None  # evaluate batch_norm=...: the sampling mode; None: the run's runtime.sample_batch_norm

    @property
    def leader(self) -> bool:
        """Rank 0: the process that shows progress and writes caches."""
        return self.rank == 0

    def samples(self, n: int) -> torch.Tensor:
        """n samples from z of `seed`'s own generator (never training's random stream), as the module draws them."""
        if self.module is None:
            raise ConfigError("this metric measures a generator's samples: pass ckpt=PATH rather than input=FOLDER")
        return self.once(("samples", n), lambda: self.module.sample(n, seed=self.seed, batch_norm=self.batch_norm))

    def once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time `key` is asked for in this evaluation, its result after that."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def keep(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """`build()` the first time `key` is asked for in this run, its result after that."""
        if key not in self.kept:
            self.kept[key] = build()
        return self.kept[key]


class Metric:
    """A named unit of evaluation, measured every `every_n_steps` generator iterations and at the last one, from
    `n` samples. Subclasses set `name` and `figures` and define `applies_to` and `measure`."""

    name: ClassVar[str] = ""
    figures: ClassVar[tuple[str, ...]] = ()  # what `measure` returns that training logs, each as val/<figure>
    offline: ClassVar[bool] = True  # False: needs a file that may have to be downloaded (Inception's weights)

    def __init__(self, every_n_steps: int = 500, n: int = 1000):
        self.every_n_steps = int(every_n_steps)
        self.n = int(n)

    def applies_to(self, data: GANDataModule) -> bool:
        """Whether this metric means something on `data`, from what the datamodule declares."""
        return True

    @classmethod
    def measures(cls, module: Any) -> bool:
        """Whether `module` (None: a folder of images) has what this metric measures; True unless the metric needs
        what only some models have: samples drawn per class (`module.conditional`), an encoder (`module.encodes`)."""
        return True

    def due(self, step: int, last: int) -> bool:
        return step % self.every_n_steps == 0 or step >= last

    def prepare(self, run: Run) -> None:
        """Before the first evaluation: load what can fail early (weights, files)."""

    def measure(self, run: Run) -> dict[str, float]:
        """The figures (and, for evaluate's JSON, any others: a spread, a count) of the module's samples."""
        raise NotImplementedError

    def release(self, run: Run) -> None:
        """After the last evaluation: give back device memory."""


def applies(metric: Metric | type[Metric], data: GANDataModule, module: Any = None) -> bool:
    """Whether `metric` measures this run: it applies to `data`, and `module` has what it measures (a per-class
    metric a conditional generator, a reconstruction metric an encoder)."""
    if not metric.measures(module):
        return False
    return metric.applies_to(data) if isinstance(metric, Metric) else bare_applies(metric, data)


def register_metric(target: type[Metric] | Callable | None = None, *, name: str | None = None,
                    figures: tuple[str, ...] | None = None, applies_to: Callable[[Any], bool] | None = None):
    """Register a `Metric` subclass by its `name`, or turn a function `f(samples, data) -> figures` into one
    (named after the function unless `name` is given). Used bare (`@register_metric`) or with keywords."""

    def register(target):
        cls = target if isinstance(target, type) else function_metric(target, name, figures, applies_to)
        if not (issubclass(cls, Metric) and cls.name and cls.figures):
            raise TypeError(f"{cls.__qualname__}: a registered metric is a Metric with a name and its figures")
        METRICS[cls.name] = cls
        return cls

    return register(target) if target is not None else register


def function_metric(function: Callable, name: str | None, figures: tuple[str, ...] | None,
                    applies_to: Callable[[Any], bool] | None) -> type[Metric]:
    """A Metric class that measures `function(run.samples(n), run.data)`."""

    class FunctionMetric(Metric):
        def applies_to(self, data) -> bool:
            return applies_to(data) if applies_to is not None else True

        def measure(self, run: Run) -> dict[str, float]:
            return dict(function(run.samples(self.n), run.data))

    FunctionMetric.name = name or function.__name__
    FunctionMetric.figures = tuple(figures or (FunctionMetric.name,))
    FunctionMetric.__name__ = FunctionMetric.__qualname__ = function.__name__
    FunctionMetric.__module__ = function.__module__
    FunctionMetric.__doc__ = function.__doc__
    return FunctionMetric


def metric_class(key: str, node: Any) -> type[Metric] | None:
    """The registered metric a `metrics.<key>` node builds, or None for a shared setting (a number, a path, a node
    building something else such as metrics.feature_extractor)."""
    if not isinstance(node, (dict, DictConfig)) or "_target_" not in node:
        return None
    try:
        target = get_object(str(node["_target_"]))
    except Exception as err:
        raise ConfigError(f"metrics.{key}._target_={node['_target_']} cannot be imported ({type(err).__name__}); "
                          "check the module path and that it is importable") from err
    if not (isinstance(target, type) and issubclass(target, Metric)):
        return None
    if METRICS.get(target.name) is not target:
        raise ConfigError(f"metrics.{key}: {node['_target_']} is not registered; decorate it with "
                          "@ganzoo.metrics.registry.register_metric")
    return target


def build_metrics(cfg: DictConfig | dict | None) -> list[Metric]:
    """The metrics a `metrics` config node names, in its order, with the shared settings they take."""
    if not cfg:
        return []
    cfg = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    classes = {key: metric_class(key, node) for key, node in cfg.items()}
    shared = {key: node for key, node in cfg.items() if classes[key] is None and key != "main"}
    metrics = []
    for key, cls in classes.items():
        if cls is None:
            continue
        takes = inspect.signature(cls.__init__).parameters
        settings = {k: v for k, v in shared.items() if k in takes and k not in cfg[key]}
        metrics.append(make(cfg[key], **settings, _recursive_=False))
    return metrics


def offline_metrics(data: GANDataModule, leave_out: list[Metric], module: Any = None) -> list[type[Metric]]:
    """The registered metrics that apply to `data` (and `module`) and need nothing downloaded, other than those in
    `leave_out`: what to offer when a chosen metric cannot run on this machine."""
    for shipped in pkgutil.iter_modules(ganzoo.metrics.__path__):  # ganzoo's own metrics register as imported
        importlib.import_module(f"ganzoo.metrics.{shipped.name}")
    chosen = {type(m) for m in leave_out}
    return [cls for cls in METRICS.values() if cls.offline and cls not in chosen and applies(cls, data, module)]


def bare_applies(cls: type[Metric], data: GANDataModule) -> bool:
    """Whether `cls` at its defaults applies to `data`; a metric whose constructor needs settings is not offered."""
    try:
        return cls().applies_to(data)
    except TypeError:
        return False


def main_figure(metrics: list[Metric], main: str | None, data: GANDataModule, module: Any = None) -> tuple[str, int] | None:
    """The figure the best checkpoint and hparams_search follow, and the steps it is measured at: `main` (e.g.
    metrics.main=val/fid) when a metric that applies to `data` returns it, else the data's own main figure."""
    for name in (main, data.main_metric):
        for metric in metrics:
            if name and name.removeprefix("val/") in metric.figures and applies(metric, data, module):
                return f"val/{name.removeprefix('val/')}", metric.every_n_steps
    return None
