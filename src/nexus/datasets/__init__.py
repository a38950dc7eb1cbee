"""Samples for models: windows of features with their labels, and honest splits.

:func:`build_dataset` turns a features frame and a label frame into a
:class:`Dataset` of windows (n, L, F); :func:`walk_forward`,
:func:`purged_kfold` and :func:`train_valid_test` cut it on time, purging
training samples whose label span overlaps a test sample's and embargoing those
right after a test block. The rules are in ``docs/labels_and_splits.md``.
"""

from nexus.datasets._build import build_dataset
from nexus.datasets._dataset import CLASSES, Dataset
from nexus.datasets._splits import Fold, purge, purged_kfold, train_valid_test, walk_forward

__all__ = [
    "CLASSES",
    "Dataset",
    "Fold",
    "build_dataset",
    "purge",
    "purged_kfold",
    "train_valid_test",
    "walk_forward",
]
