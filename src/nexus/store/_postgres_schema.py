"""PostgreSQL tables of the shared store, and the column types of what it returns.

The tables mirror the DuckDB schema (:mod:`nexus.store._duckdb_schema`) with
real primary keys. Text keys use the ``"C"`` collation so that ``ORDER BY``
sorts by code point, exactly as DuckDB and pandas do, whatever the database's
default collation is (it also makes key comparisons cheaper).

The primary key of ``bars``, ``(symbol, interval, ts)``, is the index every
bar read uses: a backward scan of it gives ``ts DESC`` for the newest-``n``
and as-of lookups. When the ``timescaledb`` extension is available, ``bars``
becomes a hypertable partitioned on ``ts``.
"""

from __future__ import annotations

__all__ = [
    "COLUMN_KINDS",
    "CREATE_HYPERTABLE",
    "DDL",
    "INDEXES",
    "IS_HYPERTABLE",
    "SCHEMA_LOCK",
    "SCHEMA_VERSION",
    "STAGING_DDL",
    "TIMESCALE_AVAILABLE",
    "TIMESCALE_EXTENSION",
]

SCHEMA_VERSION = 1

SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('nexus.store.schema'))"
"""Serialises schema creation between processes that open the store at once."""

DDL = [
    """
    CREATE TABLE IF NOT EXISTS meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS bars (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        open double precision NOT NULL,
        high double precision NOT NULL,
        low double precision NOT NULL,
        close double precision NOT NULL,
        volume double precision NOT NULL,
        source text NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (symbol, interval, ts)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS series (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        source text NOT NULL,
        first_ts timestamptz NOT NULL,
        last_ts timestamptz NOT NULL,
        n_bars bigint NOT NULL,
        PRIMARY KEY (symbol, interval)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS symbols (
        symbol text COLLATE "C" PRIMARY KEY,
        calendar text NOT NULL,
        kind text NOT NULL,
        description text NOT NULL,
        source text NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS corporate_actions (
        symbol text COLLATE "C" NOT NULL,
        ex_date date NOT NULL,
        kind text COLLATE "C" NOT NULL,
        ratio double precision NOT NULL,
        amount double precision NOT NULL,
        source text NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (symbol, ex_date, kind)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS news (
        id text COLLATE "C" PRIMARY KEY,
        published_at timestamptz NOT NULL,
        available_at timestamptz NOT NULL,
        headline text NOT NULL,
        symbols text NOT NULL,
        body text NOT NULL,
        url text NOT NULL,
        sentiment double precision,
        sentiment_model text NOT NULL DEFAULT '',
        source text NOT NULL,
        ingested_at timestamptz NOT NULL
    )
    """,
    # stores made before news scores named their scorer
    "ALTER TABLE news ADD COLUMN IF NOT EXISTS sentiment_model text NOT NULL DEFAULT ''",
    """
    CREATE TABLE IF NOT EXISTS macro (
        series_id text COLLATE "C" NOT NULL,
        period date NOT NULL,
        realtime_start timestamptz NOT NULL,
        value double precision NOT NULL,
        source text NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (series_id, period, realtime_start)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        key text COLLATE "C" PRIMARY KEY,
        kind text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        symbol text COLLATE "C",
        interval text COLLATE "C",
        ts timestamptz,
        reason text COLLATE "C" NOT NULL,
        detail text NOT NULL,
        disposition text COLLATE "C" NOT NULL,
        payload text NOT NULL,
        run_id text NOT NULL,
        ingested_at timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_log (
        run_id text COLLATE "C" PRIMARY KEY,
        source text NOT NULL,
        target text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        status text NOT NULL,
        checksum text NOT NULL,
        params text NOT NULL,
        n_bars bigint NOT NULL,
        n_rejected bigint NOT NULL,
        n_flagged bigint NOT NULL,
        message text NOT NULL
    )
    """,
    # The live engine's output, and each key's newest row for the ``latest_*`` reads.
    """
    CREATE TABLE IF NOT EXISTS predictions (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        model text COLLATE "C" NOT NULL,
        version text NOT NULL,
        p_down double precision NOT NULL,
        p_neutral double precision NOT NULL,
        p_up double precision NOT NULL,
        threshold double precision NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (symbol, interval, ts, model)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS predictions_latest (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        model text COLLATE "C" NOT NULL,
        version text NOT NULL,
        p_down double precision NOT NULL,
        p_neutral double precision NOT NULL,
        p_up double precision NOT NULL,
        threshold double precision NOT NULL,
        PRIMARY KEY (symbol, interval, model)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS recommendations (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        action text COLLATE "C" NOT NULL,
        confidence double precision NOT NULL,
        reasons text NOT NULL,
        risk text NOT NULL,
        vetoed boolean NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (symbol, interval, ts)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS recommendations_latest (
        symbol text COLLATE "C" NOT NULL,
        interval text COLLATE "C" NOT NULL,
        ts timestamptz NOT NULL,
        action text COLLATE "C" NOT NULL,
        confidence double precision NOT NULL,
        reasons text NOT NULL,
        risk text NOT NULL,
        vetoed boolean NOT NULL,
        PRIMARY KEY (symbol, interval)
    )
    """,
    # The monitor's records. Stores made before these tables gain them on open.
    """
    CREATE TABLE IF NOT EXISTS alerts (
        id text COLLATE "C" PRIMARY KEY,
        "at" timestamptz NOT NULL,
        level text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        kind text COLLATE "C" NOT NULL,
        slot text COLLATE "C" NOT NULL,
        message text NOT NULL,
        details text NOT NULL,
        ingested_at timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS drift (
        "at" timestamptz NOT NULL,
        slot text COLLATE "C" NOT NULL,
        version text NOT NULL,
        bar_ts timestamptz,
        status text COLLATE "C" NOT NULL,
        data_score double precision,
        drifted double precision,
        confidence double precision,
        confidence_ref double precision,
        accuracy double precision,
        accuracy_ref double precision,
        macro_f1 double precision,
        macro_f1_ref double precision,
        n_window bigint NOT NULL,
        n_resolved bigint NOT NULL,
        details text NOT NULL,
        ingested_at timestamptz NOT NULL,
        PRIMARY KEY (slot, "at")
    )
    """,
]

# Secondary indexes, created only when missing: ``CREATE INDEX IF NOT EXISTS`` would
# take a share lock on the table on every open, waiting for writers in flight.
INDEXES = {
    "news_available_at": "CREATE INDEX news_available_at ON news (available_at, id)",
    "quarantine_newest": "CREATE INDEX quarantine_newest ON quarantine (ingested_at DESC, key)",
    "ingest_log_newest": "CREATE INDEX ingest_log_newest ON ingest_log (started_at DESC)",
    # newest-first history across symbols: walked backwards, symbols checked in the index
    "predictions_ts": "CREATE INDEX predictions_ts ON predictions (ts, symbol)",
    "recommendations_ts": "CREATE INDEX recommendations_ts ON recommendations (ts, symbol)",
    # alerts newest first; drift checks are found through their key (slot, at)
    "alerts_at": 'CREATE INDEX alerts_at ON alerts ("at", id)',
}

TIMESCALE_AVAILABLE = "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"

TIMESCALE_EXTENSION = "CREATE EXTENSION IF NOT EXISTS timescaledb"
IS_HYPERTABLE = (
    "SELECT 1 FROM timescaledb_information.hypertables "
    "WHERE hypertable_schema = current_schema() AND hypertable_name = 'bars'"
)
CREATE_HYPERTABLE = (
    "SELECT create_hypertable('bars', 'ts', if_not_exists => TRUE, migrate_data => TRUE)"
)

# Per-session staging tables: a write COPYs each frame into its staging table,
# then inserts from there. ``ON COMMIT DELETE ROWS`` empties them at the end of
# every transaction, so they hold nothing between writes.
STAGING_DDL = [
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_bars (
        symbol text COLLATE "C", interval text COLLATE "C", ts timestamptz,
        open double precision, high double precision, low double precision,
        close double precision, volume double precision, source text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_corporate_actions (
        symbol text COLLATE "C", ex_date date, kind text COLLATE "C",
        ratio double precision, amount double precision, source text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_news (
        id text COLLATE "C", published_at timestamptz, available_at timestamptz,
        headline text, symbols text, body text, url text,
        sentiment double precision, sentiment_model text, source text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_macro (
        series_id text COLLATE "C", period date, realtime_start timestamptz,
        value double precision, source text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_quarantine (
        key text COLLATE "C", kind text COLLATE "C", source text COLLATE "C",
        symbol text COLLATE "C", interval text COLLATE "C", ts timestamptz,
        reason text COLLATE "C", detail text, disposition text COLLATE "C",
        payload text, run_id text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_symbols (
        symbol text COLLATE "C", calendar text, kind text, description text, source text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_predictions (
        symbol text COLLATE "C", interval text COLLATE "C", ts timestamptz,
        model text COLLATE "C", version text, p_down double precision,
        p_neutral double precision, p_up double precision, threshold double precision
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_recommendations (
        symbol text COLLATE "C", interval text COLLATE "C", ts timestamptz,
        action text COLLATE "C", confidence double precision, reasons text, risk text,
        vetoed boolean
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_alerts (
        id text COLLATE "C", "at" timestamptz, level text COLLATE "C", source text COLLATE "C",
        kind text COLLATE "C", slot text COLLATE "C", message text, details text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_drift (
        "at" timestamptz, slot text COLLATE "C", version text, bar_ts timestamptz,
        status text COLLATE "C", data_score double precision, drifted double precision,
        confidence double precision, confidence_ref double precision,
        accuracy double precision, accuracy_ref double precision,
        macro_f1 double precision, macro_f1_ref double precision,
        n_window bigint, n_resolved bigint, details text
    ) ON COMMIT DELETE ROWS
    """,
    """
    CREATE TEMP TABLE IF NOT EXISTS _stage_left (
        row bigint, symbol text COLLATE "C", ts timestamptz
    ) ON COMMIT DELETE ROWS
    """,
    "CREATE TEMP TABLE IF NOT EXISTS _stage_times (ts timestamptz) ON COMMIT DELETE ROWS",
]

# The kind of every column a read returns: "str", "float", "int", "bool", "ts" (UTC
# instant) or "date". The store turns each into the dtype DuckDBStore returns.
COLUMN_KINDS = {
    "symbol": "str",
    "interval": "str",
    "ts": "ts",
    "open": "float",
    "high": "float",
    "low": "float",
    "close": "float",
    "volume": "float",
    "source": "str",
    "ingested_at": "ts",
    "first_ts": "ts",
    "last_ts": "ts",
    "n_bars": "int",
    "calendar": "str",
    "kind": "str",
    "description": "str",
    "ex_date": "date",
    "ratio": "float",
    "amount": "float",
    "prev_close": "float",
    "id": "str",
    "published_at": "ts",
    "available_at": "ts",
    "headline": "str",
    "symbols": "str",
    "body": "str",
    "url": "str",
    "sentiment": "float",
    "sentiment_model": "str",
    "series_id": "str",
    "period": "date",
    "realtime_start": "ts",
    "value": "float",
    "key": "str",
    "reason": "str",
    "detail": "str",
    "disposition": "str",
    "payload": "str",
    "run_id": "str",
    "n": "int",
    "target": "str",
    "started_at": "ts",
    "finished_at": "ts",
    "status": "str",
    "checksum": "str",
    "params": "str",
    "n_rejected": "int",
    "n_flagged": "int",
    "message": "str",
    "bar_ts": "ts",
    "model": "str",
    "version": "str",
    "p_down": "float",
    "p_neutral": "float",
    "p_up": "float",
    "threshold": "float",
    "action": "str",
    "confidence": "float",
    "reasons": "str",
    "risk": "str",
    "vetoed": "bool",
    "at": "ts",
    "level": "str",
    "slot": "str",
    "details": "str",
    "data_score": "float",
    "drifted": "float",
    "confidence_ref": "float",
    "accuracy": "float",
    "accuracy_ref": "float",
    "macro_f1": "float",
    "macro_f1_ref": "float",
    "n_window": "int",
    "n_resolved": "int",
}
