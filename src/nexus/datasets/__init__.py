"""Samples for models: windows of features with their labels, and honest splits."""

from nexus.datasets._dataset import CLASSES, Dataset

__all__ = ["CLASSES", "Dataset"]
