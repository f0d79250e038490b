"""One LightningModule per objective, on the shared loop of base.py."""

from ganzoo.objectives.base import GANObjective

__all__ = ["GANObjective"]
