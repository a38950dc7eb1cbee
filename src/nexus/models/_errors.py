"""Errors specific to models."""

from __future__ import annotations

from nexus.errors import NexusError

__all__ = ["NotFittedError"]


class NotFittedError(NexusError, ValueError, AttributeError):
    """A model was used (predict, save, export) before ``fit`` or ``load``.

    Derives from ``ValueError`` and ``AttributeError`` like scikit-learn's.
    """
