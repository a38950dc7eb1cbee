"""The samples source: real market data shipped inside installed packages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import pandas as pd

from nexus.sources._base import SourceBatch
from nexus.sources.samples._config import SamplesConfig
from nexus.sources.samples._parse import SOURCE, parse_sample
from nexus.sources.samples._registry import SAMPLES, Sample

__all__ = ["SampleInfo", "SamplesSource", "available_samples"]


class SampleInfo(NamedTuple):
    """One row of :func:`available_samples`."""

    name: str
    description: str
    interval: str
    rows: int


def available_samples() -> list[SampleInfo]:
    """The samples that can be loaded, with their size.

    Returns
    -------
    list of SampleInfo
        ``(name, description, interval, rows)`` per sample (loads each once).

    Examples
    --------
    >>> [(s.name, s.interval, s.rows) for s in available_samples()]
    [('GOOG', '1d', 2148), ('EURUSD', '1h', 5000), ('SPX', '1d', 5031), ('NASDAQ', '1d', 5031)]
    """
    return [
        SampleInfo(s.name, s.description, s.interval.value, len(s.load())) for s in SAMPLES.values()
    ]


def _symbols_frame(samples: list[Sample]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": [s.name for s in samples],
            "calendar": [s.calendar for s in samples],
            "kind": [s.kind for s in samples],
            "description": [s.description for s in samples],
            "source": SOURCE,
        },
        columns=["symbol", "calendar", "kind", "description", "source"],
    )


class SamplesSource:
    """Bars from the data sets that installed packages ship; no network.

    Parameters
    ----------
    config : SamplesConfig, optional
        Which samples; default all.

    Notes
    -----
    One batch per sample, in the configured order; the first carries the
    ``symbols`` rows of all of them. The symbol is the sample's name. See
    :mod:`nexus.sources.samples._registry` for what each sample holds and
    what its timestamps mean. ``since`` is not used (the ingest stage skips
    stored bars).

    Examples
    --------
    >>> source = SamplesSource(SamplesConfig(names=["SPX"]))
    >>> (batch,) = source.fetch()
    >>> batch.bars.iloc[0][["symbol", "interval", "ts"]].tolist()
    ['SPX', '1d', Timestamp('1999-01-04 00:00:00+0000', tz='UTC')]
    """

    name = SOURCE

    def __init__(self, config: SamplesConfig | None = None) -> None:
        self.config = config or SamplesConfig()

    def describe(self) -> dict:
        """The chosen samples, their origin, interval and calendar."""
        return {
            "names": list(self.config.names),
            "samples": [
                {
                    "name": s.name,
                    "origin": s.origin,
                    "description": s.description,
                    "interval": s.interval.value,
                    "calendar": s.calendar,
                }
                for s in self._chosen()
            ],
        }

    def total(self) -> int:
        """One batch per sample."""
        return len(self.config.names)

    def fetch(self, *, since: Mapping[str, pd.Timestamp] | None = None) -> Iterator[SourceBatch]:
        """Yield one batch per sample."""
        chosen = self._chosen()
        for i, sample in enumerate(chosen):
            bars, rejects = parse_sample(sample.load(), sample.name, sample.interval)
            yield SourceBatch(
                label=f"{sample.name} ({sample.origin})",
                bars=bars,
                symbols=_symbols_frame(chosen) if i == 0 else None,
                rejects=rejects,
            )

    def _chosen(self) -> list[Sample]:
        return [SAMPLES[name] for name in self.config.names]
