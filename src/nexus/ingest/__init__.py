"""Running sources into the store: validation, quarantine, idempotent upserts, resampling.

>>> from nexus.ingest import Ingestor, validate_bars, resample_bars
"""

from nexus.ingest._metrics import IngestMetrics
from nexus.ingest._pipeline import BatchReport, Ingestor, IngestReport, score_news
from nexus.ingest._resample import resample_bars
from nexus.ingest._validate import (
    RULES,
    ValidationConfig,
    ValidationResult,
    count_missing_bars,
    validate_bars,
)

__all__ = [
    "RULES",
    "BatchReport",
    "IngestMetrics",
    "IngestReport",
    "Ingestor",
    "ValidationConfig",
    "ValidationResult",
    "count_missing_bars",
    "resample_bars",
    "score_news",
    "validate_bars",
]
