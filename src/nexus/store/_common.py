"""Backend-independent helpers shared by the store implementations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from nexus.domain import (
    BAR_COLUMNS,
    PREDICTION_COLUMNS,
    RECOMMENDATION_COLUMNS,
    Action,
    Interval,
    Sessions,
    actions_frame,
    alerts_frame,
    bars_frame,
    drift_frame,
    macro_frame,
    merge_lists,
    news_frame,
    predictions_frame,
    quarantine_frame,
    recommendations_frame,
    ts_array,
)
from nexus.errors import ConfigError
from nexus.store._protocol import IngestRecord

__all__ = [
    "BAR_KEY",
    "PREDICTION_KEY",
    "RECOMMENDATION_KEY",
    "SIGNAL_TABLES",
    "SYMBOL_COLUMNS",
    "SignalReads",
    "SignalTable",
    "as_utc_timestamp",
    "calendar_start",
    "check_limit",
    "collapse_news",
    "error_line",
    "ingest_record_row",
    "normalise_batch_frames",
    "now_utc",
    "signal_filters",
    "sort_bars",
    "symbol_list",
    "times_array",
]

BAR_KEY = ["symbol", "interval", "ts"]
PREDICTION_KEY = ("symbol", "interval", "ts", "model")
RECOMMENDATION_KEY = ("symbol", "interval", "ts")
SYMBOL_COLUMNS = ("symbol", "calendar", "kind", "description", "source")


class SignalTable(NamedTuple):
    """A table of the live engine's output and the small table of its newest rows.

    ``<name>`` holds every row, unique on ``key``; ``<name>_latest`` holds the
    newest row (by ``ts``) of each ``latest_key``, kept in the same transaction,
    so that the newest rows are read without scanning the history.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    latest_key: tuple[str, ...]
    order: tuple[str, ...]
    frame: Callable[[pd.DataFrame], pd.DataFrame]

    @property
    def latest(self) -> str:
        """The name of the newest-rows table."""
        return f"{self.name}_latest"

    @property
    def latest_group(self) -> tuple[str, ...]:
        """What ``latest_*`` returns one row for when no interval is given."""
        return tuple(c for c in self.latest_key if c != "interval")


SIGNAL_TABLES = {
    "predictions": SignalTable(
        "predictions",
        PREDICTION_COLUMNS,
        PREDICTION_KEY,
        ("symbol", "interval", "model"),
        ("ts", "symbol", "interval", "model"),
        predictions_frame,
    ),
    "recommendations": SignalTable(
        "recommendations",
        RECOMMENDATION_COLUMNS,
        RECOMMENDATION_KEY,
        ("symbol", "interval"),
        ("ts", "symbol", "interval"),
        recommendations_frame,
    ),
}


def error_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def now_utc() -> datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


def symbol_list(symbols: Sequence[str] | str | None) -> list[str] | None:
    """Return ``symbols`` as a de-duplicated list (a single string is one symbol)."""
    if symbols is None:
        return None
    if isinstance(symbols, str):
        return [symbols]
    return list(dict.fromkeys(str(s) for s in symbols))


def calendar_start(calendar: str, interval: Interval, last: pd.Timestamp, n: int) -> pd.Timestamp:
    """Open time of the ``n``-th bar before (and including) ``last`` by the exchange calendar.

    Assumes no gaps; a reader that finds fewer bars moves further back.

    Examples
    --------
    >>> last = pd.Timestamp("2025-01-06 14:31", tz="UTC")   # Monday, second bar
    >>> str(calendar_start("XNYS", Interval.M1, last, 3))    # Friday's last bar
    '2025-01-03 20:59:00+00:00'
    """
    per_session = max(1, 86_400 // interval.seconds) if interval.is_intraday else 1
    days = int(-(-n // per_session) * 1.5) + 10
    first_day = (last - timedelta(days=days)).date()
    starts, _ = Sessions(calendar, first_day, last.date()).bar_starts(interval)
    starts = starts[starts <= np.datetime64(last.tz_convert("UTC").tz_localize(None), "us")]
    if len(starts) == 0:
        return last
    return pd.Timestamp(starts[max(0, len(starts) - n)]).tz_localize("UTC")


def sort_bars(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes, sorted by symbol then ts, fresh index."""
    out = bars_frame(frame) if len(frame) else bars_frame(pd.DataFrame(columns=BAR_COLUMNS))
    return out.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)


def normalise_batch_frames(batch) -> dict[str, pd.DataFrame]:
    """Coerce each present frame of a :class:`WriteBatch` to its canonical dtypes."""
    out: dict[str, pd.DataFrame] = {}
    if batch.bars is not None and len(batch.bars):
        bars = bars_frame(batch.bars)
        out["bars"] = bars.loc[~_duplicate_keys(bars)]
    if batch.corporate_actions is not None and len(batch.corporate_actions):
        acts = actions_frame(batch.corporate_actions)
        out["corporate_actions"] = acts.drop_duplicates(["symbol", "ex_date", "kind"])
    if batch.news is not None and len(batch.news):
        out["news"] = collapse_news(news_frame(batch.news))
    if batch.macro is not None and len(batch.macro):
        out["macro"] = macro_frame(batch.macro).drop_duplicates(
            ["series_id", "period", "realtime_start"]
        )
    if batch.quarantine is not None and len(batch.quarantine):
        out["quarantine"] = quarantine_frame(batch.quarantine).drop_duplicates(["key"])
    if batch.symbols is not None and len(batch.symbols):
        syms = batch.symbols.loc[:, list(SYMBOL_COLUMNS)].astype(str)
        out["symbols"] = syms.drop_duplicates(["symbol"], keep="last").reset_index(drop=True)
    for name, table in SIGNAL_TABLES.items():
        frame = getattr(batch, name)
        if frame is not None and len(frame):
            rows = table.frame(frame)
            out[name] = rows.drop_duplicates(list(table.key)).reset_index(drop=True)
    return out | _monitor_frames(batch)


def _monitor_frames(batch) -> dict[str, pd.DataFrame]:
    """The batch's alerts (unique on id) and drift checks (unique on slot, at), checked."""
    out: dict[str, pd.DataFrame] = {}
    for name, frame, key in (
        ("alerts", alerts_frame, ["id"]),
        ("drift", drift_frame, ["slot", "at"]),
    ):
        rows = getattr(batch, name)
        if rows is not None and len(rows):
            out[name] = frame(rows).drop_duplicates(key).reset_index(drop=True)
    return out


def _duplicate_keys(bars: pd.DataFrame) -> np.ndarray:
    """Rows whose (symbol, interval, ts) appeared earlier in ``bars``, shape (n,)."""
    series = bars.groupby(["symbol", "interval"], sort=False).ngroup().to_numpy()
    keys = pd.DataFrame({"s": series, "t": ts_array(bars["ts"]).view("int64")})
    return keys.duplicated(keep="first").to_numpy()


def signal_filters(
    symbols: Sequence[str] | str | None,
    interval: Interval | str | None,
    start: datetime | None = None,
    end: datetime | None = None,
    action: Action | str | None = None,
) -> dict[str, object]:
    """The filters of a prediction or recommendation read, by name, as query parameters.

    Only the filters given are present: ``symbols`` (a list), ``interval`` (its
    canonical name), ``start`` and ``end`` (UTC timestamps), ``action``.

    Raises
    ------
    UnknownIntervalError
        If ``interval`` names no supported interval.
    ConfigError
        If ``action`` is not BUY, SELL or HOLD.

    Examples
    --------
    >>> signal_filters("AAA", "1min", action="buy")
    {'symbols': ['AAA'], 'interval': '1m', 'action': 'BUY'}
    """
    given = {
        "symbols": symbol_list(symbols),
        "interval": None if interval is None else Interval.parse(interval).value,
        "start": as_utc_timestamp(start),
        "end": as_utc_timestamp(end),
        "action": None if action is None else _action(action),
    }
    return {name: value for name, value in given.items() if value is not None}


def _action(value: Action | str) -> str:
    try:
        return Action(str(value).strip().upper()).value
    except ValueError:
        raise ConfigError(
            f"action {value!r} is not a recommendation action",
            fix="use one of BUY, SELL, HOLD",
        ) from None


def check_limit(limit: int | None) -> int | None:
    """``limit`` as an int, or None for no limit.

    Raises
    ------
    ConfigError
        If ``limit`` is negative.
    """
    if limit is None:
        return None
    if int(limit) < 0:
        raise ConfigError(f"limit {limit} is negative", fix="ask for 0 or more rows, or None")
    return int(limit)


def ingest_record_row(record: IngestRecord) -> tuple:
    """The ingest-log row of ``record``, in table column order."""
    return (
        record.run_id,
        record.source,
        record.target,
        record.started_at,
        record.finished_at,
        record.status,
        record.checksum,
        json.dumps(record.params, sort_keys=True, default=str),
        int(record.n_bars),
        int(record.n_rejected),
        int(record.n_flagged),
        record.message,
    )


def as_utc_timestamp(value: datetime | str | pd.Timestamp | None) -> pd.Timestamp | None:
    """``value`` as a UTC :class:`pandas.Timestamp` (naive values are taken as UTC)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def times_array(times: Sequence[datetime] | pd.Series) -> pd.Series:
    """Distinct, sorted UTC times as a Series named ``ts``."""
    values = pd.to_datetime(pd.Series(np.asarray(times, dtype=object)), utc=True)
    return pd.Series(np.sort(values.unique()), name="ts").astype("datetime64[us, UTC]")


class SignalReads:
    """The public reads of predictions and recommendations, shared by both stores.

    A store supplies the two dialect-specific queries: ``_read_signals(table,
    filters, limit)`` and ``_latest_signals(table, filters)``.
    """

    def read_predictions(
        self,
        symbols: Sequence[str] | None = None,
        interval: Interval | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Stored predictions with ``start <= ts < end``, sorted by ts, symbol, interval, model.

        ``limit`` keeps the newest ``limit`` rows (still in ascending order).
        """
        filters = signal_filters(symbols, interval, start, end)
        return self._read_signals(SIGNAL_TABLES["predictions"], filters, check_limit(limit))

    def latest_predictions(
        self, symbols: Sequence[str] | None = None, interval: Interval | str | None = None
    ) -> pd.DataFrame:
        """Each (symbol, model)'s newest prediction, sorted by symbol then model.

        Read from the small ``predictions_latest`` table, never the history.
        """
        return self._latest_signals(SIGNAL_TABLES["predictions"], signal_filters(symbols, interval))

    def read_recommendations(
        self,
        symbols: Sequence[str] | None = None,
        interval: Interval | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        action: Action | str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Stored recommendations with ``start <= ts < end``, sorted by ts, symbol, interval.

        ``action`` keeps one kind (BUY, SELL or HOLD); ``limit`` keeps the newest
        ``limit`` rows (still in ascending order).
        """
        filters = signal_filters(symbols, interval, start, end, action)
        return self._read_signals(SIGNAL_TABLES["recommendations"], filters, check_limit(limit))

    def latest_recommendations(
        self, symbols: Sequence[str] | None = None, interval: Interval | str | None = None
    ) -> pd.DataFrame:
        """Each symbol's newest recommendation, sorted by symbol.

        Read from the small ``recommendations_latest`` table, never the history.
        """
        table = SIGNAL_TABLES["recommendations"]
        return self._latest_signals(table, signal_filters(symbols, interval))


def collapse_news(news: pd.DataFrame) -> pd.DataFrame:
    """One row per story id: what every copy says, merged (as the stores merge stored rows).

    ``source`` and ``symbols`` become the union of the copies', ``published_at``
    and ``available_at`` the earliest (the story was known from the first feed
    that carried it), and the first scored copy's ``sentiment`` is kept.
    """
    if not news["id"].duplicated().any():
        return news
    scored = news.sort_values("sentiment", na_position="last", kind="stable")
    first = scored.groupby("id", sort=False).first()  # text, url, first non-null sentiment
    groups = news.groupby("id", sort=False)
    first["source"] = groups["source"].agg(merge_lists)
    first["symbols"] = groups["symbols"].agg(merge_lists)
    first["published_at"] = groups["published_at"].min()
    first["available_at"] = groups["available_at"].min()
    model = scored.dropna(subset=["sentiment"]).groupby("id", sort=False)["sentiment_model"].first()
    first["sentiment_model"] = model.reindex(first.index).fillna("")
    return first.reset_index().loc[:, list(news.columns)]
