"""The embedded store: one DuckDB file, one writer process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from nexus.domain import (
    ACTION_COLUMNS,
    ALERT_COLUMNS,
    DEFAULT_CALENDAR,
    DRIFT_COLUMNS,
    MACRO_COLUMNS,
    NEWS_COLUMNS,
    QUARANTINE_COLUMNS,
    Interval,
)
from nexus.errors import StoreError, StoreUnavailableError
from nexus.store._adjust import action_cutoffs, adjust_bars
from nexus.store._common import (
    SIGNAL_TABLES,
    SYMBOL_COLUMNS,
    SignalReads,
    SignalTable,
    as_utc_timestamp,
    calendar_start,
    ingest_record_row,
    normalise_batch_frames,
    now_utc,
    signal_filters,
    sort_bars,
    symbol_list,
    times_array,
)
from nexus.store._duckdb_schema import DDL, SCHEMA_VERSION
from nexus.store._monitor import DRIFT, MonitorReads, MonitorTable, quoted
from nexus.store._protocol import Adjust, IngestRecord, WriteBatch, WriteResult

__all__ = ["DuckDBStore"]

_BAR_SELECT = "symbol, interval, ts, open, high, low, close, volume, source"


class DuckDBStore(SignalReads, MonitorReads):
    """The embedded default store, a single DuckDB file.

    Safe to share between the threads of one process: every call runs on a
    cursor of its own (a DuckDB connection is not safe to share, its cursors
    are), so reads run beside a write and see all or none of it; writes take
    turns.

    Parameters
    ----------
    path : str or Path
        The database file; created with its folder when missing. ``":memory:"``
        gives a throw-away in-memory store.

    Examples
    --------
    >>> store = DuckDBStore(":memory:")
    >>> store.series().empty
    True
    >>> store.close()
    """

    backend = "duckdb"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise StoreUnavailableError(
                f"cannot open the DuckDB store {self.path}: {_first_line(exc)}",
                fix="another Nexus process holds it; stop that process, or set "
                "NEXUS_STORE_URL=postgresql://... to share one store between processes",
            ) from exc
        self._series_cache: dict[tuple[str, str], _SeriesStat] | None = None
        self._series_version = 0  # bumped by writes of bars or symbols: no stale copy is kept
        self._cache_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._start_cache: dict[tuple, pd.Timestamp] = {}
        # GLOBAL: the per-call cursors inherit global settings, not this connection's
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        # checkpoint in large steps: small commits only append to the write-ahead log
        self._con.execute("SET checkpoint_threshold = '256MB'")
        for ddl in DDL:
            self._con.execute(ddl)
        self._con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
            [str(SCHEMA_VERSION)],
        )

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database file."""
        self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DuckDBStore({self.path!r})"

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the database for this call only, closed after it.

        Frames it registers and temporary tables it makes are its own, so
        concurrent calls never see each other's.
        """
        con = self._con.cursor()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction; one at a time, so writers never conflict."""
        with self._write_lock, self._cursor() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _df(
        self,
        sql: str,
        params: list | dict | None = None,
        *,
        frames: dict[str, pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """Run ``sql`` on a fresh cursor; ``frames`` are registered as tables for it."""
        with self._cursor() as con:
            for name, frame in (frames or {}).items():
                con.register(name, frame)
            # Through Arrow, not ``.df()``: DuckDB's own pandas conversion emits a pandas
            # deprecation warning for every TIMESTAMPTZ column and types empty or all-NULL
            # VARCHAR columns as ``object``; Arrow gives the canonical dtypes every time.
            return con.sql(sql, params=params or None).to_arrow_table().to_pandas()

    # -- writes ----------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> WriteResult:
        """Write every frame of ``batch`` in one transaction.

        Rows whose key is already stored are left unchanged (the symbols table,
        which is metadata, is updated). Returns how many rows were new.
        """
        frames = normalise_batch_frames(batch)
        if not frames:
            return WriteResult()
        stamp = now_utc()
        counts: dict[str, int] = {}
        try:
            with self._transaction() as con:
                for name, frame in frames.items():
                    counts[name] = _WRITERS[name](con, frame, stamp)
        except duckdb.Error as exc:
            raise StoreError(
                f"writing to the DuckDB store {self.path} failed: {_first_line(exc)}",
                fix="nothing of this batch was stored; check the input and retry",
            ) from exc
        finally:
            if "bars" in frames or "symbols" in frames:
                with self._cache_lock:
                    self._series_cache = None
                    self._series_version += 1
        return WriteResult(**counts)

    def record_ingest(self, record: IngestRecord) -> None:
        """Insert or update the ingest-log row ``record.run_id``."""
        with self._write_lock, self._cursor() as con:
            con.execute(
                "INSERT OR REPLACE INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(ingest_record_row(record)),
            )

    # -- reads -----------------------------------------------------------------------------

    def read_bars(
        self,
        symbols: Sequence[str],
        interval: Interval | str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        adjust: Adjust = "none",
    ) -> pd.DataFrame:
        """Bars with ``start <= ts < end``, sorted by symbol then ts.

        ``adjust`` selects raw prices (``"none"``), split-adjusted prices
        (``"splits"``) or split- and dividend-adjusted prices (``"all"``).
        """
        interval = Interval.parse(interval)
        syms = symbol_list(symbols) or []
        sql = f"SELECT {_BAR_SELECT} FROM bars WHERE symbol IN ? AND interval = ?"
        params: list = [syms, interval.value]
        if start is not None:
            sql += " AND ts >= ?"
            params.append(as_utc_timestamp(start))
        if end is not None:
            sql += " AND ts < ?"
            params.append(as_utc_timestamp(end))
        bars = sort_bars(self._df(sql + " ORDER BY symbol, ts", params))
        if adjust == "none" or bars.empty:
            return bars
        return adjust_bars(bars, self._actions_with_prev_close(syms, interval), adjust)

    def _actions_with_prev_close(self, symbols: list[str], interval: Interval) -> pd.DataFrame:
        acts = self.read_corporate_actions(symbols)
        if acts.empty:
            return acts.assign(prev_close=pd.Series(dtype="float64"))
        acts = acts.assign(cutoff=action_cutoffs(acts))
        prev = self._df(
            """
            SELECT a.symbol, a.ex_date, a.kind, b.close AS prev_close
            FROM _acts a ASOF LEFT JOIN
                (SELECT symbol, ts, close FROM bars WHERE interval = ? AND symbol IN ?) b
            ON a.symbol = b.symbol AND a.cutoff > b.ts
            """,
            [interval.value, symbols],
            frames={"_acts": acts},
        )
        prev["ex_date"] = pd.to_datetime(prev["ex_date"]).dt.date
        return acts.drop(columns="cutoff").merge(prev, on=["symbol", "ex_date", "kind"], how="left")

    def last_bars(self, symbols: Sequence[str], interval: Interval | str, n: int) -> pd.DataFrame:
        """The last ``n`` raw bars of each symbol, sorted by symbol then ts.

        The scan starts where each symbol's exchange calendar says its ``n``-th
        bar before the newest one opened, so only about ``n`` rows per symbol
        are read; where the data has gaps the start moves back until ``n`` bars
        (or all stored bars) are found.
        """
        interval = Interval.parse(interval)
        stats = self._series_stats(symbol_list(symbols) or [], interval)
        if not stats or n <= 0:
            return sort_bars(pd.DataFrame())
        starts = {s: self._calendar_start(st, interval, n) for s, st in stats.items()}
        while True:
            frame, got = _tail(self._rows_since(list(stats), interval, min(starts.values())), n)
            short = [
                s
                for s, st in stats.items()
                if got.get(s, 0) < min(n, st.count) and starts[s] > st.first
            ]
            if not short:
                return frame
            for s in short:
                starts[s] = max(stats[s].first, stats[s].last - 4 * (stats[s].last - starts[s]))

    def _calendar_start(self, st: _SeriesStat, interval: Interval, n: int) -> pd.Timestamp:
        """:func:`calendar_start` of a series, remembered (safe to call from many threads)."""
        key = (st.calendar, interval, st.last, n)
        start = self._start_cache.get(key)
        if start is None:
            if len(self._start_cache) > 1024:
                self._start_cache.clear()
            start = self._start_cache[key] = calendar_start(st.calendar, interval, st.last, n)
        return start

    def _rows_since(self, symbols: list[str], interval: Interval, start: pd.Timestamp):
        with self._cursor() as con:
            table = con.sql(
                f"SELECT {_BAR_SELECT} FROM bars WHERE symbol IN $symbols "
                "AND interval = $interval AND ts >= $start ORDER BY symbol, ts",
                params={"symbols": symbols, "interval": interval.value, "start": start},
            ).to_arrow_table()
        return table.to_pandas(types_mapper=_ARROW_TYPES.get)

    def _series_stats(self, symbols: list[str], interval: Interval) -> dict[str, _SeriesStat]:
        """Range, count and calendar of each stored series, from a copy of the small
        ``series`` table that this store refreshes after its own writes (DuckDB lets
        no other process write the file while it is open)."""
        with self._cache_lock:
            cache, version = self._series_cache, self._series_version
        if cache is None:
            with self._cursor() as con:
                rows = con.sql(
                    "SELECT s.symbol, s.interval, s.first_ts, s.last_ts, s.n_bars, "
                    "coalesce(y.calendar, $default) FROM series s "
                    "LEFT JOIN symbols y USING (symbol)",
                    params={"default": DEFAULT_CALENDAR},
                ).fetchall()
            cache = {
                (s, i): _SeriesStat(_utc(first), _utc(last), int(count), calendar)
                for s, i, first, last, count, calendar in rows
            }
            with self._cache_lock:
                if version == self._series_version:  # no write finished meanwhile
                    self._series_cache = cache
        return {s: cache[s, interval.value] for s in symbols if (s, interval.value) in cache}

    def last_timestamps(
        self, interval: Interval | str, symbols: Sequence[str] | None = None
    ) -> dict[str, pd.Timestamp]:
        """The newest stored bar time per symbol (symbols with no bars are absent)."""
        interval = Interval.parse(interval)
        sql, params = "SELECT symbol, last_ts FROM series WHERE interval = ?", [interval.value]
        if symbols is not None:
            sql += " AND symbol IN ?"
            params.append(symbol_list(symbols))
        with self._cursor() as con:
            rows = con.execute(sql, params).fetchall()
        return {s: pd.Timestamp(t).tz_convert("UTC") for s, t in rows}

    def series(self) -> pd.DataFrame:
        """One row per stored (symbol, interval) with ``source, first_ts, last_ts, n_bars``."""
        return self._df("SELECT * FROM series ORDER BY symbol, interval")

    def symbols(self) -> pd.DataFrame:
        """The instrument table."""
        return self._df(f"SELECT {', '.join(SYMBOL_COLUMNS)} FROM symbols ORDER BY symbol")

    def read_corporate_actions(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Corporate actions sorted by symbol then ex-date."""
        sql, params = f"SELECT {', '.join(ACTION_COLUMNS)} FROM corporate_actions", []
        if symbols is not None:
            sql += " WHERE symbol IN ?"
            params.append(symbol_list(symbols))
        out = self._df(sql + " ORDER BY symbol, ex_date, kind", params)
        out["ex_date"] = pd.to_datetime(out["ex_date"]).dt.date
        return out

    def read_news(
        self,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """News available in ``[start, end)`` that mention any of ``symbols``."""
        sql, params = f"SELECT {', '.join(NEWS_COLUMNS)} FROM news WHERE TRUE", []
        if symbols is not None:
            sql += " AND list_has_any(string_split(symbols, ','), ?)"
            params.append(symbol_list(symbols))
        if start is not None:
            sql += " AND available_at >= ?"
            params.append(as_utc_timestamp(start))
        if end is not None:
            sql += " AND available_at < ?"
            params.append(as_utc_timestamp(end))
        return self._df(sql + " ORDER BY available_at, id", params)

    def read_macro(
        self, series_ids: Sequence[str] | None = None, *, start: datetime | None = None
    ) -> pd.DataFrame:
        """Every stored vintage of the given series (published at or after ``start``)."""
        sql, params = f"SELECT {', '.join(MACRO_COLUMNS)} FROM macro WHERE TRUE", []
        if series_ids is not None:
            sql += " AND series_id IN ?"
            params.append(symbol_list(series_ids))
        if start is not None:
            sql += " AND realtime_start >= ?"
            params.append(as_utc_timestamp(start))
        out = self._df(sql + " ORDER BY series_id, period, realtime_start", params)
        out["period"] = pd.to_datetime(out["period"]).dt.date
        return out

    def read_quarantine(
        self, *, limit: int | None = None, disposition: str | None = None
    ) -> pd.DataFrame:
        """Quarantined and flagged rows, newest first."""
        sql, params = "SELECT * FROM quarantine", []
        if disposition is not None:
            sql += " WHERE disposition = ?"
            params.append(disposition)
        sql += " ORDER BY ingested_at DESC, key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._df(sql, params)

    def quarantine_counts(self) -> pd.DataFrame:
        """Counts by ``kind, source, reason, disposition``."""
        return self._df(
            "SELECT kind, source, reason, disposition, count(*) AS n FROM quarantine "
            "GROUP BY ALL ORDER BY kind, source, reason, disposition"
        )

    def ingest_log(self, *, limit: int | None = None) -> pd.DataFrame:
        """The ingest log, newest first."""
        sql = "SELECT * FROM ingest_log ORDER BY started_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._df(sql)

    def latest_bars(
        self, symbols: Sequence[str] | None = None, interval: Interval | str = Interval.M1
    ) -> pd.DataFrame:
        """Each symbol's newest raw bar, sorted by symbol.

        The ``series`` table says when each symbol's newest bar opened; the scan of
        ``bars`` starts at the oldest of those times, so it skips the history.

        Parameters
        ----------
        symbols : sequence of str, optional
            Default: every symbol with bars of ``interval``.
        interval : Interval or str, default "1m"
            The bar interval.
        """
        filters = signal_filters(symbols, interval)
        where = " AND ".join(_FILTERS[name] for name in filters)
        with self._cursor() as con:
            since = con.execute(f"SELECT min(last_ts) FROM series WHERE {where}", filters)
            filters["since"] = since.fetchall()[0][0]
            if filters["since"] is None:
                return sort_bars(pd.DataFrame())
            table = con.sql(
                f"""
                SELECT {_BAR_SELECT} FROM bars b
                SEMI JOIN (SELECT symbol, last_ts FROM series WHERE {where}) s
                ON b.symbol = s.symbol AND b.ts = s.last_ts
                WHERE {where} AND ts >= $since
                """,
                params=filters,
            ).to_arrow_table()
        return sort_bars(table.to_pandas())

    # -- predictions and recommendations ---------------------------------------------------

    def _read_signals(
        self, table: SignalTable, filters: dict[str, object], limit: int | None
    ) -> pd.DataFrame:
        where = " AND ".join(_FILTERS[name] for name in filters) or "TRUE"
        sql = f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE {where}"
        if limit is not None:
            newest = ", ".join(f"{c} DESC" for c in table.order)
            sql = f"SELECT * FROM ({sql} ORDER BY {newest} LIMIT {limit})"
        return table.frame(self._df(f"{sql} ORDER BY {', '.join(table.order)}", filters))

    def _latest_signals(self, table: SignalTable, filters: dict[str, object]) -> pd.DataFrame:
        where = " AND ".join(_FILTERS[name] for name in filters) or "TRUE"
        group = ", ".join(table.latest_group)
        sql = f"SELECT {', '.join(table.columns)} FROM {table.latest} WHERE {where}"
        if "interval" not in filters:  # the newest over every interval
            sql += f" QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY ts DESC, interval)=1"
        return table.frame(self._df(f"{sql} ORDER BY {group}, interval", filters))

    # -- alerts and drift checks ------------------------------------------------------------

    def _read_records(
        self, table: MonitorTable, filters: dict[str, object], limit: int | None
    ) -> pd.DataFrame:
        where = " AND ".join(_MONITOR_FILTERS[name] for name in filters) or "TRUE"
        sql = f"SELECT {quoted(table.columns)} FROM {table.name} WHERE {where}"
        if limit is not None:
            newest = ", ".join(f'"{c}" DESC' for c in table.order)
            sql = f"SELECT * FROM ({sql} ORDER BY {newest} LIMIT {limit})"
        return table.cast(self._df(f"{sql} ORDER BY {quoted(table.order)}", filters))

    def _latest_drift(self, filters: dict[str, object]) -> pd.DataFrame:
        where = " AND ".join(_MONITOR_FILTERS[name] for name in filters) or "TRUE"
        sql = (
            f"SELECT {quoted(DRIFT.columns)} FROM drift WHERE {where} "
            'QUALIFY row_number() OVER (PARTITION BY slot ORDER BY "at" DESC) = 1 ORDER BY slot'
        )
        return DRIFT.cast(self._df(sql, filters))

    def asof_bars(self, left: pd.DataFrame, interval: Interval | str) -> pd.DataFrame:
        """For each ``(symbol, ts)`` of ``left``, the last bar that had closed by ``ts``.

        A bar is known at its close, ``bar_ts + interval``. Returns ``left``'s
        ``symbol`` and ``ts`` with ``bar_ts, open, high, low, close, volume``
        (NaN where no bar had closed yet), in ``left``'s order.
        """
        interval = Interval.parse(interval)
        query = left.loc[:, ["symbol", "ts"]].reset_index(drop=True)
        query = query.assign(ts=pd.to_datetime(query["ts"], utc=True), _row=range(len(query)))
        out = self._df(
            """
            SELECT l._row, l.symbol, l.ts, b.ts AS bar_ts, b.open, b.high, b.low, b.close,
                   b.volume
            FROM _left l ASOF LEFT JOIN
                (SELECT *, ts + to_seconds(?) AS known_at FROM bars WHERE interval = ?) b
            ON l.symbol = b.symbol AND l.ts >= b.known_at
            ORDER BY l._row
            """,
            [interval.seconds, interval.value],
            frames={"_left": query},
        )
        return out.drop(columns="_row")

    def asof_macro(
        self, times: Sequence[datetime] | pd.Series, series_ids: Sequence[str]
    ) -> pd.DataFrame:
        """For each time and series, the newest observation published by then.

        Returns columns ``ts, series_id, period, value, realtime_start``; a
        series with nothing published by ``ts`` has no row for it.
        """
        grid = times_array(times).to_frame()
        out = self._df(
            """
            SELECT t.ts, m.series_id, m.period, m.value, m.realtime_start
            FROM _times t JOIN macro m ON m.realtime_start <= t.ts
            WHERE m.series_id IN ?
            QUALIFY row_number() OVER (
                PARTITION BY t.ts, m.series_id ORDER BY m.period DESC, m.realtime_start DESC
            ) = 1
            ORDER BY t.ts, m.series_id
            """,
            [symbol_list(series_ids)],
            frames={"_times": grid},
        )
        out["period"] = pd.to_datetime(out["period"]).dt.date
        return out.reset_index(drop=True)


_ARROW_TYPES = {pa.string(): pd.StringDtype(na_value=np.nan)}
_FILTERS = {  # the SQL of each filter of :func:`signal_filters`
    "symbols": "symbol IN $symbols",
    "interval": "interval = $interval",
    "start": "ts >= $start",
    "end": "ts < $end",
    "action": "action = $action",
}
_MONITOR_FILTERS = {  # the SQL of each filter of :func:`alert_filters` and :func:`drift_filters`
    "start": '"at" >= $start',
    "end": '"at" < $end',
    "level": "level = $level",
    "source": "source = $source",
    "slot": "slot = $slot",
    "slots": "slot IN $slots",
}


class _SeriesStat(NamedTuple):
    first: pd.Timestamp
    last: pd.Timestamp
    count: int
    calendar: str


def _tail(frame: pd.DataFrame, n: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """The last ``n`` rows of each symbol of a frame sorted by symbol then ts, and their counts."""
    codes, names = pd.factorize(frame["symbol"])
    counts = np.bincount(codes, minlength=len(names))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    from_end = counts[codes] - (np.arange(len(frame)) - first[codes])
    keep = from_end <= n
    kept = np.minimum(counts, n)
    frame = frame.loc[keep].reset_index(drop=True)
    frame["ts"] = frame["ts"].astype("datetime64[us, UTC]")
    return frame, dict(zip(names, kept.tolist(), strict=True))


def _utc(value: datetime) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


# -- per-table writers (run inside the write transaction) ---------------------------------


def _write_bars(con: duckdb.DuckDBPyConnection, bars: pd.DataFrame, stamp: datetime) -> int:
    """Insert the bars whose key is not stored yet; keep ``series`` in step.

    When every bar is newer than its series' last stored bar (the usual
    append), nothing can conflict and the bars go straight in; otherwise an
    anti-join against the stored keys in the batch's time range picks the new ones.
    """
    con.register("_in_bars", pa.Table.from_pandas(bars, preserve_index=False))
    try:
        source = "_in_bars" if _appends_only(con, bars) else _new_rows(con, bars)
        count = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
        if count:
            con.execute(f"INSERT INTO bars SELECT {_BAR_SELECT}, ? FROM {source}", [stamp])
            con.execute(_SERIES_UPSERT.format(source=source))
    finally:
        con.unregister("_in_bars")
    con.execute("DROP TABLE IF EXISTS _new_bars")
    return int(count)


_SERIES_UPSERT = """
    INSERT INTO series
    SELECT symbol, interval, arg_max(source, ts), min(ts), max(ts), count(*)
    FROM {source} GROUP BY symbol, interval
    ON CONFLICT (symbol, interval) DO UPDATE SET
        source = excluded.source,
        first_ts = least(series.first_ts, excluded.first_ts),
        last_ts = greatest(series.last_ts, excluded.last_ts),
        n_bars = series.n_bars + excluded.n_bars
"""


def _appends_only(con: duckdb.DuckDBPyConnection, bars: pd.DataFrame) -> bool:
    """True when every bar is newer than every stored bar of the batch's series (then
    nothing can conflict; a False only means the slower anti-join path is taken)."""
    newest = con.execute(
        "SELECT max(last_ts) FROM series WHERE symbol IN ? AND interval IN ?",
        [bars["symbol"].unique().tolist(), bars["interval"].unique().tolist()],
    ).fetchall()[0][0]
    return newest is None or bars["ts"].min() > pd.Timestamp(newest)


def _new_rows(con: duckdb.DuckDBPyConnection, bars: pd.DataFrame) -> str:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _new_bars AS
        SELECT n.* FROM _in_bars n ANTI JOIN (
            SELECT symbol, interval, ts FROM bars
            WHERE symbol IN ? AND interval IN ? AND ts BETWEEN ? AND ?
        ) b ON n.symbol = b.symbol AND n.interval = b.interval AND n.ts = b.ts
        """,
        [
            bars["symbol"].unique().tolist(),
            bars["interval"].unique().tolist(),
            bars["ts"].min(),
            bars["ts"].max(),
        ],
    )
    return "_new_bars"


def _insert_ignore(table: str, columns: Sequence[str]):
    cols = quoted(columns)

    def write(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, stamp: datetime) -> int:
        before = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        con.register("_in", frame)
        try:
            con.execute(
                f"INSERT INTO {table} ({cols}, ingested_at) SELECT {cols}, ? FROM _in "
                "ON CONFLICT DO NOTHING",
                [stamp],
            )
        finally:
            con.unregister("_in")
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] - before)

    return write


def _merged(column: str) -> str:
    """SQL for the union of the stored and the incoming comma-separated lists."""
    both = f"concat_ws(',', nullif(news.{column}, ''), nullif(excluded.{column}, ''))"
    return f"array_to_string(list_sort(list_distinct(string_split({both}, ','))), ',')"


def _write_news(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, stamp: datetime) -> int:
    """Insert new stories; a story already stored gains the new copy's sources and symbols.

    Its times become the earliest of the copies' (it was available from the first
    feed that carried it) and an unscored story takes the new copy's score.
    Returns the number of new stories.
    """
    cols = ", ".join(NEWS_COLUMNS)
    before = con.execute("SELECT count(*) FROM news").fetchall()[0][0]
    con.register("_in", frame)
    try:
        con.execute(
            f"""
            INSERT INTO news ({cols}, ingested_at) SELECT {cols}, ? FROM _in
            ON CONFLICT (id) DO UPDATE SET
                source = {_merged("source")},
                symbols = {_merged("symbols")},
                published_at = least(news.published_at, excluded.published_at),
                available_at = least(news.available_at, excluded.available_at),
                sentiment = coalesce(news.sentiment, excluded.sentiment),
                sentiment_model = CASE WHEN news.sentiment IS NULL
                    THEN excluded.sentiment_model ELSE news.sentiment_model END
            """,
            [stamp],
        )
    finally:
        con.unregister("_in")
    return int(con.execute("SELECT count(*) FROM news").fetchall()[0][0] - before)


def _write_symbols(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, stamp: datetime) -> int:
    cols = ", ".join(SYMBOL_COLUMNS)
    con.register("_in", frame)
    try:
        con.execute(
            f"""
            INSERT INTO symbols ({cols}, updated_at) SELECT {cols}, ? FROM _in
            ON CONFLICT (symbol) DO UPDATE SET calendar = excluded.calendar,
                kind = excluded.kind, description = excluded.description,
                source = excluded.source, updated_at = excluded.updated_at
            """,
            [stamp],
        )
    finally:
        con.unregister("_in")
    return len(frame)


def _signal_writer(table: SignalTable):
    """A writer that inserts the rows whose key is new and folds them into ``<name>_latest``.

    The table has no key index. When every row is newer than the newest stored
    row of its ``latest_key`` (the live engine's usual append), nothing can
    conflict and the rows go straight in; otherwise an anti-join against the
    stored keys in the batch's time range picks the new ones.
    """
    cols = ", ".join(table.columns)
    keys = ", ".join(table.key)
    latest_key = ", ".join(table.latest_key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.columns if c not in table.latest_key)
    newest = f"QUALIFY row_number() OVER (PARTITION BY {latest_key} ORDER BY ts DESC) = 1"
    stale = (
        f"SELECT count(*) FROM _in n JOIN {table.latest} l USING ({latest_key}) WHERE n.ts <= l.ts"
    )
    new = f"_new_{table.name}"
    anti_join = f"""
        CREATE OR REPLACE TEMP TABLE {new} AS SELECT n.* FROM _in n ANTI JOIN (
            SELECT {keys} FROM {table.name} WHERE ts BETWEEN $first AND $last
        ) s USING ({keys})
    """

    def write(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, stamp: datetime) -> int:
        con.register("_in", pa.Table.from_pandas(frame, preserve_index=False))
        try:
            source = "_in"
            if con.execute(stale).fetchall()[0][0]:
                source = new
                con.execute(anti_join, {"first": frame["ts"].min(), "last": frame["ts"].max()})
            insert = f"INSERT INTO {table.name} SELECT {cols}, $stamp FROM {source}"
            count = con.execute(insert, {"stamp": stamp}).fetchall()[0][0]
            once = not frame.duplicated(list(table.latest_key)).any()
            con.execute(
                f"""
                INSERT INTO {table.latest} SELECT {cols} FROM {source} {"" if once else newest}
                ON CONFLICT ({latest_key}) DO UPDATE SET {updates}
                WHERE excluded.ts > {table.latest}.ts
                """
            )
        finally:
            con.unregister("_in")
            con.execute(f"DROP TABLE IF EXISTS {new}")
        return int(count)

    return write


_WRITERS = {
    "bars": _write_bars,
    "corporate_actions": _insert_ignore("corporate_actions", ACTION_COLUMNS),
    "news": _write_news,
    "macro": _insert_ignore("macro", MACRO_COLUMNS),
    "quarantine": _insert_ignore("quarantine", QUARANTINE_COLUMNS),
    "symbols": _write_symbols,
    "predictions": _signal_writer(SIGNAL_TABLES["predictions"]),
    "recommendations": _signal_writer(SIGNAL_TABLES["recommendations"]),
    "alerts": _insert_ignore("alerts", ALERT_COLUMNS),
    "drift": _insert_ignore("drift", DRIFT_COLUMNS),
}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
