"""The shared store: PostgreSQL, with TimescaleDB hypertables when the extension exists.

Frames travel in bulk over ``COPY`` (:mod:`nexus.store._postgres_copy`). The
bars of one write take two paths, both inside the write's transaction:

* **append**: bars before the first or after the last stored bar of their
  series (the ``series`` table says which) cannot collide with a stored bar,
  so they are COPYed straight into ``bars``, in a savepoint. The primary key
  still guards the table: if another writer stored one of these keys in the
  meantime, the savepoint is rolled back and they are merged instead.
* **merge**: the rest are COPYed into a per-session staging table, then
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`` inserts and counts
  only the keys not stored yet.

Only new bars are counted and folded into ``series``, in the same transaction.

Predictions and recommendations are inserted the same way (``ON CONFLICT DO
NOTHING``); the new rows also update ``predictions_latest`` and
``recommendations_latest``, one row per key with its newest time, which the
``latest_*`` reads use instead of the history. Alerts (keyed ``id``) and drift
checks (keyed ``slot, at``) are inserted the same way, in key order.

Reads run ``COPY (query) TO STDOUT`` and decode into the dtypes
:class:`~nexus.store.DuckDBStore` returns. Newest-``n`` and as-of lookups are
``LATERAL`` joins that walk the primary key backwards.

Each call runs on a connection of its own from a small pool
(:mod:`nexus.store._postgres_pool`), so threads of one process can share a store.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa

from nexus.domain import (
    ACTION_COLUMNS,
    ALERT_COLUMNS,
    BAR_COLUMNS,
    DRIFT_COLUMNS,
    MACRO_COLUMNS,
    NEWS_COLUMNS,
    QUARANTINE_COLUMNS,
    Interval,
    utc,
)
from nexus.errors import ConfigError, StoreError, StoreUnavailableError
from nexus.store._adjust import adjust_bars
from nexus.store._common import (
    SIGNAL_TABLES,
    SYMBOL_COLUMNS,
    SignalReads,
    SignalTable,
    as_utc_timestamp,
    error_line,
    ingest_record_row,
    normalise_batch_frames,
    now_utc,
    signal_filters,
    sort_bars,
    symbol_list,
    times_array,
)
from nexus.store._monitor import DRIFT, MonitorReads, MonitorTable, quoted
from nexus.store._postgres_copy import (
    BAR_COPY_COLUMNS,
    bars_binary,
    copy_binary,
    copy_csv,
    read_csv_copy,
)
from nexus.store._postgres_pool import ConnectionPool
from nexus.store._postgres_schema import (
    CREATE_HYPERTABLE,
    DDL,
    INDEXES,
    IS_HYPERTABLE,
    SCHEMA_LOCK,
    SCHEMA_VERSION,
    STAGING_DDL,
    TIMESCALE_AVAILABLE,
    TIMESCALE_EXTENSION,
)
from nexus.store._protocol import Adjust, IngestRecord, WriteBatch, WriteResult

__all__ = ["PostgresStore", "redact_url"]

_BAR_SELECT = ", ".join(BAR_COLUMNS)
_INGEST_LOG_COLUMNS = (
    "run_id",
    "source",
    "target",
    "started_at",
    "finished_at",
    "status",
    "checksum",
    "params",
    "n_bars",
    "n_rejected",
    "n_flagged",
    "message",
)
_ASOF_BAR_COLUMNS = ("symbol", "ts", "bar_ts", "open", "high", "low", "close", "volume")
_ASOF_MACRO_COLUMNS = ("ts", "series_id", "period", "value", "realtime_start")
_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET extra_float_digits = 3",  # shortest exact text for doubles: lossless round trips
    "SET temp_buffers = '64MB'",  # staging tables stay in memory (before any temp table)
)
# Newest-n and as-of lookups must walk the primary key backwards and stop after n rows.
# Before the first ANALYZE (a fresh bulk load) the planner guesses a few rows per
# symbol and picks a bitmap scan that reads every bar of the symbol, then sorts:
# 100x slower. Bitmap scans never help these lookups, so they are switched off.
_INDEX_WALK = "SET LOCAL enable_bitmapscan = off"
_TS = "datetime64[us, UTC]"
_FILTERS = {  # the SQL of each filter of :func:`signal_filters`
    "symbols": "symbol = ANY(%(symbols)s::text[])",
    "interval": "interval = %(interval)s",
    "start": "ts >= %(start)s",
    "end": "ts < %(end)s",
    "action": "action = %(action)s",
}
_MONITOR_FILTERS = {  # the SQL of each filter of :func:`alert_filters` and :func:`drift_filters`
    "start": '"at" >= %(start)s',
    "end": '"at" < %(end)s',
    "level": "level = %(level)s",
    "source": "source = %(source)s",
    "slot": "slot = %(slot)s",
    "slots": "slot = ANY(%(slots)s::text[])",
}
_CREATE_FIX = "check that the user may create tables"
_START_HINT = (
    "start PostgreSQL (on Debian: `pg_ctlcluster $(ls /etc/postgresql) main start`), "
    "or point NEXUS_STORE_URL at a reachable server"
)


class PostgresStore(SignalReads, MonitorReads):
    """The shared store for multi-process deployments, one PostgreSQL database.

    Creates its tables on first use. When the ``timescaledb`` extension is
    available, ``bars`` is made a hypertable (``hypertables`` is then True).

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database`` (any libpq URL).
    connect_timeout : int, default 5
        Seconds to wait for the server.
    pool_size : int, default 4
        The most connections open at once: calls from that many threads run
        together, the rest wait for a free connection.

    Attributes
    ----------
    url : str
        ``url`` with any password masked, safe to log.
    hypertables : bool
        Whether ``bars`` is a TimescaleDB hypertable.

    Raises
    ------
    StoreUnavailableError
        If the server cannot be reached or refuses the connection.
    ConfigError
        If ``url`` is not a valid connection URL.

    Examples
    --------
    Open it with :func:`~nexus.store.open_store` and a ``postgresql://`` URL.
    Errors name the server, never the password:

    >>> from nexus.errors import StoreUnavailableError
    >>> try:
    ...     PostgresStore("postgresql://nexus:s3cret@127.0.0.1:1/nexus", connect_timeout=1)
    ... except StoreUnavailableError as err:
    ...     print(err.message.split(": ")[0])
    ...     print(err.fix.startswith("start PostgreSQL"))
    cannot connect to the PostgreSQL store postgresql://nexus:***@127.0.0.1:1/nexus
    True
    """

    backend = "postgres"

    def __init__(self, url: str, *, connect_timeout: int = 5, pool_size: int = 4) -> None:
        self.url = redact_url(url)
        first = _connect(url, self.url, connect_timeout)
        try:
            with self._converted(first, "creating the tables of", _CREATE_FIX):
                self.hypertables = _create_schema(first)
        except BaseException:
            first.close()
            raise
        self._pool = ConnectionPool(
            lambda: self._open_session(url, connect_timeout), pool_size, first
        )

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connections."""
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    def _open_session(self, url: str, connect_timeout: int) -> psycopg.Connection:
        """A new pooled connection with this session's staging tables."""
        con = _connect(url, self.url, connect_timeout)
        try:
            with self._converted(con, "preparing a session of", _START_HINT):
                _create_staging(con)
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def _connection(self, doing: str, fix: str) -> Iterator[psycopg.Connection]:
        """A connection for this call alone; database errors become :class:`StoreError`."""
        try:
            with self._pool.connection() as con, self._converted(con, doing, fix):
                yield con
        except psycopg.OperationalError as exc:  # only the pool's own: it is closed
            raise StoreUnavailableError(
                f"{doing} the PostgreSQL store {self.url} failed: the store is closed",
                fix="open it again with open_store(...)",
            ) from exc

    @contextmanager
    def _converted(self, con: psycopg.Connection, doing: str, fix: str) -> Iterator[None]:
        """Turn a database error into a :class:`StoreError` naming the store and the fix."""
        try:
            yield
        except psycopg.Error as exc:
            problem = f"{doing} the PostgreSQL store {self.url} failed: {error_line(exc)}"
            if con.closed or con.broken:
                raise StoreUnavailableError(
                    problem,
                    fix=f"the connection is lost; {_START_HINT}, then retry (a new connection "
                    "is opened)",
                ) from exc
            raise StoreError(problem, fix=fix) from exc

    @contextmanager
    def _reading(self, *, index_walk: bool = False) -> Iterator[psycopg.Cursor]:
        """A cursor in a read transaction; ``index_walk`` for LATERAL newest-first lookups."""
        with (
            self._connection("reading", _START_HINT) as con,
            con.transaction(),
            con.cursor() as cur,
        ):
            if index_walk:
                cur.execute(_INDEX_WALK)
            yield cur

    def _read(
        self, query: str, params: dict, columns: Sequence[str], *, index_walk: bool = False
    ) -> pd.DataFrame:
        params = {k: _param_ts(v) if isinstance(v, pd.Timestamp) else v for k, v in params.items()}
        with self._reading(index_walk=index_walk) as cur:
            return read_csv_copy(cur, query, params, columns)

    # -- writes ----------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> WriteResult:
        """Write every frame of ``batch`` in one transaction.

        Rows whose key is already stored are left unchanged (the symbols table,
        which is metadata, is updated). Returns how many rows were new.

        Raises
        ------
        StoreError
            If the database rejects any row; nothing of the batch is stored.
        """
        frames = normalise_batch_frames(batch)
        if not frames:
            return WriteResult()
        stamp = now_utc()
        counts: dict[str, int] = {}
        fix = "nothing of this batch was stored; check the input and retry"
        try:
            with (
                self._connection("writing to", fix) as con,
                con.transaction(),
                con.cursor() as cur,
            ):
                for name, frame in frames.items():
                    counts[name] = _WRITERS[name](cur, frame, stamp)
        except pa.ArrowException as exc:
            raise StoreError(
                f"writing to the PostgreSQL store {self.url} failed: a frame could not be "
                f"encoded ({error_line(exc)})",
                fix=fix,
            ) from exc
        return WriteResult(**counts)

    def record_ingest(self, record: IngestRecord) -> None:
        """Insert or update the ingest-log row ``record.run_id``."""
        cols = ", ".join(_INGEST_LOG_COLUMNS)
        marks = ", ".join(["%s"] * len(_INGEST_LOG_COLUMNS))
        sets = ", ".join(f"{c} = excluded.{c}" for c in _INGEST_LOG_COLUMNS[1:])
        with self._connection("logging an ingest run in", _START_HINT) as con:
            con.execute(
                f"INSERT INTO ingest_log ({cols}) VALUES ({marks}) "
                f"ON CONFLICT (run_id) DO UPDATE SET {sets}",
                ingest_record_row(record),
            )

    # -- bar reads -------------------------------------------------------------------------

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
        sql = f"SELECT {_BAR_SELECT} FROM bars WHERE symbol = ANY(%(symbols)s::text[]) "
        sql += "AND interval = %(interval)s"
        params: dict = {"symbols": syms, "interval": interval.value}
        if start is not None:
            sql += " AND ts >= %(start)s"
            params["start"] = _param_ts(start)
        if end is not None:
            sql += " AND ts < %(end)s"
            params["end"] = _param_ts(end)
        bars = sort_bars(self._read(sql + " ORDER BY symbol, ts", params, BAR_COLUMNS))
        if adjust == "none" or bars.empty:
            return bars
        return adjust_bars(bars, self._actions_with_prev_close(syms, interval), adjust)

    def _actions_with_prev_close(self, symbols: list[str], interval: Interval) -> pd.DataFrame:
        """Corporate actions of ``symbols`` with the last raw close before each ex-date."""
        query = f"""
            SELECT {", ".join("a." + c for c in ACTION_COLUMNS)}, p.close AS prev_close
            FROM corporate_actions a
            LEFT JOIN LATERAL (
                SELECT b.close FROM bars b
                WHERE b.symbol = a.symbol AND b.interval = %(interval)s
                  AND b.ts < (a.ex_date::timestamp AT TIME ZONE 'UTC')
                ORDER BY b.ts DESC LIMIT 1
            ) p ON TRUE
            WHERE a.symbol = ANY(%(symbols)s::text[])
            ORDER BY a.symbol, a.ex_date, a.kind
        """
        params = {"interval": interval.value, "symbols": symbols}
        return self._read(query, params, (*ACTION_COLUMNS, "prev_close"), index_walk=True)

    def last_bars(self, symbols: Sequence[str], interval: Interval | str, n: int) -> pd.DataFrame:
        """The last ``n`` raw bars of each symbol, sorted by symbol then ts."""
        interval = Interval.parse(interval)
        if n <= 0:
            return sort_bars(pd.DataFrame())
        query = f"""
            SELECT {", ".join("b." + c for c in BAR_COLUMNS)}
            FROM unnest(%(symbols)s::text[]) AS s(symbol)
            CROSS JOIN LATERAL (
                SELECT * FROM bars
                WHERE bars.symbol = s.symbol AND bars.interval = %(interval)s
                ORDER BY bars.ts DESC LIMIT %(n)s
            ) b
            ORDER BY b.symbol, b.ts
        """
        params = {"symbols": symbol_list(symbols) or [], "interval": interval.value, "n": int(n)}
        return sort_bars(self._read(query, params, BAR_COLUMNS, index_walk=True))

    def last_timestamps(
        self, interval: Interval | str, symbols: Sequence[str] | None = None
    ) -> dict[str, pd.Timestamp]:
        """The newest stored bar time per symbol (symbols with no bars are absent)."""
        interval = Interval.parse(interval)
        sql = "SELECT symbol, last_ts FROM series WHERE interval = %(interval)s"
        params: dict = {"interval": interval.value}
        if symbols is not None:
            sql += " AND symbol = ANY(%(symbols)s::text[])"
            params["symbols"] = symbol_list(symbols)
        with self._connection("reading", _START_HINT) as con:
            rows = con.execute(sql, params).fetchall()
        return {s: pd.Timestamp(t).tz_convert("UTC") for s, t in rows}

    def latest_bars(
        self, symbols: Sequence[str] | None = None, interval: Interval | str = Interval.M1
    ) -> pd.DataFrame:
        """Each symbol's newest raw bar, sorted by symbol.

        One primary-key lookup per series, at the newest time ``series`` holds.

        Parameters
        ----------
        symbols : sequence of str, optional
            Default: every symbol with bars of ``interval``.
        interval : Interval or str, default "1m"
            The bar interval.
        """
        filters = signal_filters(symbols, interval)
        where = " AND ".join(_FILTERS[name] for name in filters)
        query = f"""
            SELECT {", ".join("b." + c for c in BAR_COLUMNS)}
            FROM (SELECT symbol, interval, last_ts FROM series WHERE {where}) s
            JOIN bars b ON b.symbol = s.symbol AND b.interval = s.interval AND b.ts = s.last_ts
            ORDER BY b.symbol
        """
        return sort_bars(self._read(query, filters, BAR_COLUMNS, index_walk=True))

    def asof_bars(self, left: pd.DataFrame, interval: Interval | str) -> pd.DataFrame:
        """For each ``(symbol, ts)`` of ``left``, the last bar that had closed by ``ts``.

        A bar is known at its close, ``bar_ts + interval``. Returns ``left``'s
        ``symbol`` and ``ts`` with ``bar_ts, open, high, low, close, volume``
        (NaN where no bar had closed yet), in ``left``'s order.
        """
        interval = Interval.parse(interval)
        stage = pd.DataFrame(
            {
                "row": np.arange(len(left), dtype="int64"),
                "symbol": left["symbol"].astype(str).reset_index(drop=True),
                "ts": utc(left["ts"]).reset_index(drop=True),
            }
        )
        query = """
            SELECT l.symbol, l.ts, b.ts AS bar_ts, b.open, b.high, b.low, b.close, b.volume
            FROM _stage_left l
            LEFT JOIN LATERAL (
                SELECT ts, open, high, low, close, volume FROM bars
                WHERE bars.symbol = l.symbol AND bars.interval = %(interval)s
                  AND bars.ts <= l.ts - make_interval(secs => %(seconds)s)
                ORDER BY bars.ts DESC LIMIT 1
            ) b ON TRUE
            ORDER BY l.row
        """
        params = {"interval": interval.value, "seconds": interval.seconds}
        return self._staged_read("_stage_left", stage, query, params, _ASOF_BAR_COLUMNS)

    def _staged_read(
        self, table: str, frame: pd.DataFrame, query: str, params: dict, columns: Sequence[str]
    ) -> pd.DataFrame:
        """COPY ``frame`` into the staging ``table``, then run the LATERAL ``query`` on it."""
        with self._reading(index_walk=True) as cur:
            copy_csv(cur, table, frame)
            return read_csv_copy(cur, query, params, columns)

    # -- predictions and recommendations ---------------------------------------------------

    def _read_signals(
        self, table: SignalTable, filters: dict[str, object], limit: int | None
    ) -> pd.DataFrame:
        where = " AND ".join(_FILTERS[name] for name in filters) or "TRUE"
        query = f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE {where}"
        if limit is not None:  # walks the (ts, symbol) index backwards
            newest = ", ".join(f"{c} DESC" for c in table.order)
            query = f"SELECT * FROM ({query} ORDER BY {newest} LIMIT {limit}) AS newest"
        query += f" ORDER BY {', '.join(table.order)}"
        out = self._read(query, filters, table.columns, index_walk=limit is not None)
        return table.frame(out)

    def _latest_signals(self, table: SignalTable, filters: dict[str, object]) -> pd.DataFrame:
        where = " AND ".join(_FILTERS[name] for name in filters) or "TRUE"
        group = ", ".join(table.latest_group)
        cols = ", ".join(table.columns)
        query = f"SELECT {cols} FROM {table.latest} WHERE {where} ORDER BY {group}, interval"
        if "interval" not in filters:  # the newest over every interval
            query = (
                f"SELECT DISTINCT ON ({group}) {cols} FROM {table.latest} WHERE {where} "
                f"ORDER BY {group}, ts DESC, interval"
            )
        return table.frame(self._read(query, filters, table.columns))

    # -- alerts and drift checks ------------------------------------------------------------

    def _read_records(
        self, table: MonitorTable, filters: dict[str, object], limit: int | None
    ) -> pd.DataFrame:
        where = " AND ".join(_MONITOR_FILTERS[name] for name in filters) or "TRUE"
        query = f"SELECT {quoted(table.columns)} FROM {table.name} WHERE {where}"
        if limit is not None:
            newest = ", ".join(f'"{c}" DESC' for c in table.order)
            query = f"SELECT * FROM ({query} ORDER BY {newest} LIMIT {limit}) AS newest"
        query += f" ORDER BY {quoted(table.order)}"
        return table.cast(self._read(query, filters, table.columns))

    def _latest_drift(self, filters: dict[str, object]) -> pd.DataFrame:
        where = " AND ".join(_MONITOR_FILTERS[name] for name in filters) or "TRUE"
        query = (
            f"SELECT DISTINCT ON (slot) {quoted(DRIFT.columns)} FROM drift WHERE {where} "
            'ORDER BY slot, "at" DESC'
        )
        return DRIFT.cast(self._read(query, filters, DRIFT.columns))

    # -- other reads -----------------------------------------------------------------------

    def series(self) -> pd.DataFrame:
        """One row per stored (symbol, interval) with ``source, first_ts, last_ts, n_bars``."""
        cols = ("symbol", "interval", "source", "first_ts", "last_ts", "n_bars")
        query = f"SELECT {', '.join(cols)} FROM series ORDER BY symbol, interval"
        return self._read(query, {}, cols)

    def symbols(self) -> pd.DataFrame:
        """The instrument table."""
        query = f"SELECT {', '.join(SYMBOL_COLUMNS)} FROM symbols ORDER BY symbol"
        return self._read(query, {}, SYMBOL_COLUMNS)

    def read_corporate_actions(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Corporate actions sorted by symbol then ex-date."""
        sql, params = f"SELECT {', '.join(ACTION_COLUMNS)} FROM corporate_actions", {}
        if symbols is not None:
            sql += " WHERE symbol = ANY(%(symbols)s::text[])"
            params["symbols"] = symbol_list(symbols)
        return self._read(sql + " ORDER BY symbol, ex_date, kind", params, ACTION_COLUMNS)

    def read_news(
        self,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """News available in ``[start, end)`` that mention any of ``symbols``."""
        sql, params = f"SELECT {', '.join(NEWS_COLUMNS)} FROM news WHERE TRUE", {}
        if symbols is not None:
            sql += " AND string_to_array(symbols, ',') && %(symbols)s::text[]"
            params["symbols"] = symbol_list(symbols)
        if start is not None:
            sql += " AND available_at >= %(start)s"
            params["start"] = _param_ts(start)
        if end is not None:
            sql += " AND available_at < %(end)s"
            params["end"] = _param_ts(end)
        return self._read(sql + " ORDER BY available_at, id", params, NEWS_COLUMNS)

    def read_macro(
        self, series_ids: Sequence[str] | None = None, *, start: datetime | None = None
    ) -> pd.DataFrame:
        """Every stored vintage of the given series (published at or after ``start``)."""
        sql, params = f"SELECT {', '.join(MACRO_COLUMNS)} FROM macro WHERE TRUE", {}
        if series_ids is not None:
            sql += " AND series_id = ANY(%(ids)s::text[])"
            params["ids"] = symbol_list(series_ids)
        if start is not None:
            sql += " AND realtime_start >= %(start)s"
            params["start"] = _param_ts(start)
        sql += " ORDER BY series_id, period, realtime_start"
        return self._read(sql, params, MACRO_COLUMNS)

    def read_quarantine(
        self, *, limit: int | None = None, disposition: str | None = None
    ) -> pd.DataFrame:
        """Quarantined and flagged rows, newest first."""
        cols = (*QUARANTINE_COLUMNS, "ingested_at")
        sql, params = f"SELECT {', '.join(cols)} FROM quarantine", {}
        if disposition is not None:
            sql += " WHERE disposition = %(disposition)s"
            params["disposition"] = disposition
        sql += " ORDER BY ingested_at DESC, key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._read(sql, params, cols)

    def quarantine_counts(self) -> pd.DataFrame:
        """Counts by ``kind, source, reason, disposition``."""
        keys = "kind, source, reason, disposition"
        query = f"SELECT {keys}, count(*) AS n FROM quarantine GROUP BY {keys} ORDER BY {keys}"
        return self._read(query, {}, ("kind", "source", "reason", "disposition", "n"))

    def ingest_log(self, *, limit: int | None = None) -> pd.DataFrame:
        """The ingest log, newest first."""
        sql = f"SELECT {', '.join(_INGEST_LOG_COLUMNS)} FROM ingest_log"
        sql += " ORDER BY started_at DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._read(sql, {}, _INGEST_LOG_COLUMNS)

    def asof_macro(
        self, times: Sequence[datetime] | pd.Series, series_ids: Sequence[str]
    ) -> pd.DataFrame:
        """For each time and series, the newest observation published by then.

        Returns columns ``ts, series_id, period, value, realtime_start``; a
        series with nothing published by ``ts`` has no row for it.
        """
        stage = times_array(times).to_frame()
        query = """
            SELECT t.ts, m.series_id, m.period, m.value, m.realtime_start
            FROM _stage_times t
            CROSS JOIN unnest(%(ids)s::text[]) AS s(series_id)
            CROSS JOIN LATERAL (
                SELECT series_id, period, value, realtime_start FROM macro
                WHERE macro.series_id = s.series_id AND macro.realtime_start <= t.ts
                ORDER BY macro.period DESC, macro.realtime_start DESC LIMIT 1
            ) m
            ORDER BY t.ts, m.series_id
        """
        params = {"ids": symbol_list(series_ids) or []}
        return self._staged_read("_stage_times", stage, query, params, _ASOF_MACRO_COLUMNS)


# -- connection and schema ----------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) masked.

    Examples
    --------
    >>> redact_url("postgresql://nexus:s3cret@db:5432/nexus?sslmode=require&password=x")
    'postgresql://nexus:***@db:5432/nexus?sslmode=require&password=***'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _connect(url: str, shown: str, timeout: int) -> psycopg.Connection:
    """Open an autocommit connection with the session settings the store relies on."""
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=int(timeout))
    except psycopg.OperationalError as exc:
        fix = _START_HINT
        if "does not exist" in str(exc):
            fix = "create the database (for example `createdb`) or check NEXUS_STORE_URL"
        raise StoreUnavailableError(
            f"cannot connect to the PostgreSQL store {shown}: {error_line(exc)}", fix=fix
        ) from exc
    except psycopg.ProgrammingError as exc:
        raise ConfigError(
            f"store URL {shown} is not a valid PostgreSQL URL: {error_line(exc)}",
            fix="use postgresql://user[:password]@host[:port]/database",
        ) from exc
    for statement in _SESSION:
        con.execute(statement)
    return con


def _create_schema(con: psycopg.Connection) -> bool:
    """Create the tables (once, under a lock) and this session's staging tables.

    Returns whether ``bars`` is a TimescaleDB hypertable.
    """
    with con.transaction():
        con.execute(SCHEMA_LOCK)
        for ddl in DDL:
            con.execute(ddl)
        for name, ddl in INDEXES.items():
            if con.execute("SELECT to_regclass(%s)", [name]).fetchone()[0] is None:
                con.execute(ddl)
        hypertables = _enable_timescale(con)
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
            [str(SCHEMA_VERSION)],
        )
    _create_staging(con)
    return hypertables


def _create_staging(con: psycopg.Connection) -> None:
    """Create this session's staging tables (temporary, so one set per connection)."""
    for ddl in STAGING_DDL:
        con.execute(ddl)


def _enable_timescale(con: psycopg.Connection) -> bool:
    """Make ``bars`` a hypertable when TimescaleDB is available; warn if that fails."""
    if con.execute(TIMESCALE_AVAILABLE).fetchone() is None:
        return False
    try:
        with con.transaction():  # a savepoint: a failure leaves the plain tables intact
            con.execute(TIMESCALE_EXTENSION)
            if con.execute(IS_HYPERTABLE).fetchone() is None:
                con.execute(CREATE_HYPERTABLE)
    except psycopg.Error as exc:
        warnings.warn(
            f"TimescaleDB is installed but could not be enabled ({error_line(exc)}); "
            "bars stays a plain table. Add timescaledb to shared_preload_libraries, "
            "restart PostgreSQL and reopen the store",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    return True


def _param_ts(value: datetime | str | pd.Timestamp) -> datetime:
    """A query parameter for an instant: UTC, truncated to the microsecond."""
    return as_utc_timestamp(value).floor("us").to_pydatetime()


# -- per-table writers (run inside the write transaction) ---------------------------------

_SERIES_COLUMNS = ("symbol", "interval", "source", "first_ts", "last_ts", "n_bars")
_SERIES_UPSERT = """
    INSERT INTO series AS s (symbol, interval, source, first_ts, last_ts, n_bars)
    SELECT * FROM unnest(%(symbol)s::text[], %(interval)s::text[], %(source)s::text[],
                         %(first_ts)s::timestamptz[], %(last_ts)s::timestamptz[],
                         %(n_bars)s::bigint[])
    ON CONFLICT (symbol, interval) DO UPDATE SET
        source = excluded.source,
        first_ts = least(s.first_ts, excluded.first_ts),
        last_ts = greatest(s.last_ts, excluded.last_ts),
        n_bars = s.n_bars + excluded.n_bars
"""
_STORED_RANGES = """
    SELECT symbol, interval, first_ts, last_ts FROM series
    WHERE symbol = ANY(%(symbols)s::text[]) AND interval = ANY(%(intervals)s::text[])
"""
_MERGE_BARS = f"""
    WITH new AS (
        INSERT INTO bars ({_BAR_SELECT}, ingested_at)
        SELECT {_BAR_SELECT}, %(stamp)s FROM _stage_bars ORDER BY symbol, interval, ts
        ON CONFLICT (symbol, interval, ts) DO NOTHING
        RETURNING symbol, interval, ts, source
    )
    SELECT symbol, interval, (array_agg(source ORDER BY ts DESC))[1] AS source,
           min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS n_bars
    FROM new GROUP BY symbol, interval
"""


def _write_bars(cur: psycopg.Cursor, bars: pd.DataFrame, stamp: datetime) -> int:
    """Store the bars whose keys are new and fold them into ``series``; return how many.

    Bars outside the stored range of their series cannot collide with a stored
    bar: they are appended with a plain COPY. The rest (and everything, if the
    append meets a key stored meanwhile by another writer) are merged through
    the staging table with ``ON CONFLICT DO NOTHING``.
    """
    _require_complete(bars)
    outside = _outside_stored_range(cur, bars)
    fresh, rest = bars[outside], bars[~outside]
    if len(fresh) and not _append_bars(cur, fresh, stamp):
        fresh, rest = fresh.iloc[:0], bars
    stats = [_row_stats(fresh)]
    if len(rest):
        copy_binary(cur, "_stage_bars", BAR_COPY_COLUMNS, bars_binary(rest))
        rows = cur.execute(_MERGE_BARS, {"stamp": stamp}).fetchall()
        stats.append(pd.DataFrame(rows, columns=list(_SERIES_COLUMNS)))
    new = _combine_stats(stats)
    if len(new):
        cur.execute(_SERIES_UPSERT, _series_params(new))
    return int(new["n_bars"].sum())


def _outside_stored_range(cur: psycopg.Cursor, bars: pd.DataFrame) -> np.ndarray:
    """Which bars lie before the first or after the last stored bar of their series."""
    params = {
        "symbols": bars["symbol"].unique().tolist(),
        "intervals": bars["interval"].unique().tolist(),
    }
    ranges = pd.DataFrame(
        cur.execute(_STORED_RANGES, params).fetchall(),
        columns=["symbol", "interval", "first_ts", "last_ts"],
    )
    if ranges.empty:
        return np.ones(len(bars), dtype=bool)
    ranges = ranges.astype({"symbol": "str", "interval": "str"})
    known = bars[["symbol", "interval", "ts"]].merge(ranges, on=["symbol", "interval"], how="left")
    first = pd.to_datetime(known["first_ts"], utc=True)
    last = pd.to_datetime(known["last_ts"], utc=True)
    inside = (known["ts"] >= first) & (known["ts"] <= last)
    return ~inside.to_numpy(dtype=bool)


def _append_bars(cur: psycopg.Cursor, bars: pd.DataFrame, stamp: datetime) -> bool:
    """COPY ``bars`` straight into ``bars``; False if a key was already stored (nothing kept)."""
    try:
        with cur.connection.transaction():  # a savepoint
            copy_binary(cur, "bars", (*BAR_COPY_COLUMNS, "ingested_at"), bars_binary(bars, stamp))
    except psycopg.errors.UniqueViolation:
        return False  # another writer stored some of these keys since the range check
    return True


def _row_stats(bars: pd.DataFrame) -> pd.DataFrame:
    """Each bar as a one-bar series-stats row (folded by :func:`_combine_stats`)."""
    return bars.loc[:, ["symbol", "interval", "source"]].assign(
        first_ts=bars["ts"], last_ts=bars["ts"], n_bars=1
    )


def _combine_stats(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Fold series-stats rows into one per (symbol, interval).

    The source is that of the newest bar, as DuckDBStore keeps it.
    """
    parts = [p.astype({"first_ts": _TS, "last_ts": _TS}) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({"n_bars": pd.Series(dtype="int64")})
    ordered = pd.concat(parts, ignore_index=True).sort_values("last_ts", kind="stable")
    return (
        ordered.groupby(["symbol", "interval"], sort=False)
        .agg(
            source=("source", "last"),
            first_ts=("first_ts", "min"),
            last_ts=("last_ts", "max"),
            n_bars=("n_bars", "sum"),
        )
        .reset_index()
    )


def _series_params(stats: pd.DataFrame) -> dict[str, list]:
    """``stats`` as the array parameters of :data:`_SERIES_UPSERT`."""
    out: dict[str, list] = {c: stats[c].astype(str).tolist() for c in _SERIES_COLUMNS[:3]}
    out["first_ts"] = [t.to_pydatetime() for t in stats["first_ts"]]
    out["last_ts"] = [t.to_pydatetime() for t in stats["last_ts"]]
    out["n_bars"] = [int(n) for n in stats["n_bars"]]
    return out


def _require_complete(bars: pd.DataFrame) -> None:
    """Refuse bars with a missing value, as the NOT NULL columns of ``bars`` would."""
    missing = {c: int(n) for c, n in bars.isna().sum().items() if n}
    if missing:
        raise StoreError(
            f"the bars frame has missing values (NaN/NaT/None) in {missing}; "
            "every bar column is required",
            fix="nothing of this batch was stored; quarantine or drop incomplete bars "
            "before writing",
        )


def _insert_ignore(
    table: str, columns: Sequence[str], key: Sequence[str] = ()
) -> Callable[[psycopg.Cursor, pd.DataFrame, datetime], int]:
    """A writer that stages a frame and inserts the rows whose key is new; returns how many.

    Rows are taken in ``key`` order when one is given, so that concurrent writers
    lock keys in the same order.
    """
    cols = quoted(columns)
    order = f" ORDER BY {quoted(key)}" if key else ""
    insert = (
        f"INSERT INTO {table} ({cols}, ingested_at) SELECT {cols}, %(stamp)s "
        f"FROM _stage_{table}{order} ON CONFLICT DO NOTHING"
    )

    def write(cur: psycopg.Cursor, frame: pd.DataFrame, stamp: datetime) -> int:
        copy_csv(cur, f"_stage_{table}", frame)
        cur.execute(insert, {"stamp": stamp})
        return max(cur.rowcount, 0)

    return write


def _merged(column: str) -> str:
    """SQL for the union of the stored and the incoming comma-separated lists."""
    return (
        f"(SELECT coalesce(string_agg(DISTINCT x, ',' ORDER BY x), '') FROM unnest("
        f"string_to_array(news.{column} || ',' || excluded.{column}, ',')) AS x WHERE x <> '')"
    )


def _write_news(cur: psycopg.Cursor, frame: pd.DataFrame, stamp: datetime) -> int:
    """Insert new stories; a story already stored gains the new copy's sources and symbols.

    Its times become the earliest of the copies' and an unscored story takes the
    new copy's score (as the DuckDB store does). Returns the number of new stories.
    """
    cols = ", ".join(NEWS_COLUMNS)
    copy_csv(cur, "_stage_news", frame)
    cur.execute(
        f"""
        INSERT INTO news ({cols}, ingested_at) SELECT {cols}, %(stamp)s FROM _stage_news
        ON CONFLICT (id) DO UPDATE SET
            source = {_merged("source")},
            symbols = {_merged("symbols")},
            published_at = least(news.published_at, excluded.published_at),
            available_at = least(news.available_at, excluded.available_at),
            sentiment = coalesce(news.sentiment, excluded.sentiment),
            sentiment_model = CASE WHEN news.sentiment IS NULL
                THEN excluded.sentiment_model ELSE news.sentiment_model END
        RETURNING (xmax = 0) AS inserted
        """,
        {"stamp": stamp},
    )
    return sum(1 for (inserted,) in cur.fetchall() if inserted)


def _write_symbols(cur: psycopg.Cursor, frame: pd.DataFrame, stamp: datetime) -> int:
    """Insert or update instruments (metadata, so updated in place); returns the row count."""
    cols = ", ".join(SYMBOL_COLUMNS)
    copy_csv(cur, "_stage_symbols", frame)
    cur.execute(
        f"""
        INSERT INTO symbols ({cols}, updated_at) SELECT {cols}, %(stamp)s FROM _stage_symbols
        ON CONFLICT (symbol) DO UPDATE SET calendar = excluded.calendar,
            kind = excluded.kind, description = excluded.description,
            source = excluded.source, updated_at = excluded.updated_at
        """,
        {"stamp": stamp},
    )
    return len(frame)


def _signal_writer(table: SignalTable) -> Callable[[psycopg.Cursor, pd.DataFrame, datetime], int]:
    """A writer that inserts the rows whose key is new and folds them into ``<name>_latest``.

    Keys are taken in key order, so concurrent writers lock rows in the same
    order; ``<name>_latest`` only ever moves forward in time.
    """
    cols = ", ".join(table.columns)
    latest_key = ", ".join(table.latest_key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.columns if c not in table.latest_key)
    query = f"""
        WITH new AS (
            INSERT INTO {table.name} ({cols}, ingested_at)
            SELECT {cols}, %(stamp)s FROM _stage_{table.name} ORDER BY {", ".join(table.key)}
            ON CONFLICT DO NOTHING
            RETURNING {cols}
        ), latest AS (
            INSERT INTO {table.latest} AS l ({cols})
            SELECT DISTINCT ON ({latest_key}) {cols} FROM new ORDER BY {latest_key}, ts DESC
            ON CONFLICT ({latest_key}) DO UPDATE SET {updates} WHERE excluded.ts > l.ts
        )
        SELECT count(*) FROM new
    """

    def write(cur: psycopg.Cursor, frame: pd.DataFrame, stamp: datetime) -> int:
        copy_csv(cur, f"_stage_{table.name}", frame)
        return int(cur.execute(query, {"stamp": stamp}).fetchone()[0])

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
    "alerts": _insert_ignore("alerts", ALERT_COLUMNS, ("id",)),
    "drift": _insert_ignore("drift", DRIFT_COLUMNS, ("slot", "at")),
}
