"""Callbacks read what the modules log and write what a run leaves behind: metrics.csv's figures, sample grids and
toy plots, checkpoints and summary.json."""

from ganzoo.callbacks.checkpoints import LastCheckpoint
from ganzoo.callbacks.curves import TrainingCurves
from ganzoo.callbacks.digit_figures import DigitFigures
from ganzoo.callbacks.divergence import DivergenceGuard
from ganzoo.callbacks.interrupt import SaveOnInterrupt
from ganzoo.callbacks.progress import GeneratorProgressBar
from ganzoo.callbacks.sample_quality import SampleQuality
from ganzoo.callbacks.snapshots import SampleSnapshots
from ganzoo.callbacks.summary import RunSummary
from ganzoo.callbacks.toy_figures import ToyFigures

__all__ = [
    "DigitFigures",
    "DivergenceGuard",
    "GeneratorProgressBar",
    "LastCheckpoint",
    "RunSummary",
    "SampleQuality",
    "SampleSnapshots",
    "SaveOnInterrupt",
    "ToyFigures",
    "TrainingCurves",
]
