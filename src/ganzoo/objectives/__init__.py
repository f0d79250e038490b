"""Objectives (one file per paper: the two losses on the critic's scores), the training loop they share
(training.py) and build.py, which turns a config into a training module."""

from ganzoo.objectives.build import build_objective, objective_class
from ganzoo.objectives.objective import Objective, Scores
from ganzoo.objectives.training import GANTraining

__all__ = ["GANTraining", "Objective", "Scores", "build_objective", "objective_class"]
