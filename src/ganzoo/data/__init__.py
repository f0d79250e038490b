"""LightningDataModules that stream batches of real data: toy 2-D points and image datasets."""

from ganzoo.data.base import GANDataModule

__all__ = ["GANDataModule"]
