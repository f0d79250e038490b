"""Callbacks read what the modules log and write what a run leaves behind: metrics.csv's figures, sample grids and
toy plots, checkpoints and summary.json."""

from ganzoo.callbacks.checkpoints import LastCheckpoint
from ganzoo.callbacks.curves import TrainingCurves
from ganzoo.callbacks.divergence import DivergenceGuard
from ganzoo.callbacks.evaluation import Evaluation
from ganzoo.callbacks.progress import GeneratorProgressBar
from ganzoo.callbacks.schedules import Schedules
from ganzoo.callbacks.signals import StopOnSignal
from ganzoo.callbacks.snapshots import SampleSnapshots
from ganzoo.callbacks.summary import RunSummary

__all__ = [
    "DivergenceGuard",
    "Evaluation",
    "GeneratorProgressBar",
    "LastCheckpoint",
    "RunSummary",
    "SampleSnapshots",
    "Schedules",
    "StopOnSignal",
    "TrainingCurves",
]
