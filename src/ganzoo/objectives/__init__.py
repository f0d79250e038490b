"""One LightningModule per objective, on the shared loop of base.py; build.py turns a config into one."""

from ganzoo.objectives.base import GANObjective
from ganzoo.objectives.build import build_objective, objective_class

__all__ = ["GANObjective", "build_objective", "objective_class"]
