"""DuckDB tables of the embedded store."""

from __future__ import annotations

__all__ = ["DDL", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

DDL = [
    """
    CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)
    """,
    # Raw bars. No primary-key index: uniqueness of (symbol, interval, ts) is kept by
    # the anti-join upsert in DuckDBStore (DuckDB has one writer per file), which
    # ingests 2-5x faster than a PRIMARY KEY index would.
    """
    CREATE TABLE IF NOT EXISTS bars (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        open DOUBLE NOT NULL,
        high DOUBLE NOT NULL,
        low DOUBLE NOT NULL,
        close DOUBLE NOT NULL,
        volume DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS series (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        first_ts TIMESTAMPTZ NOT NULL,
        last_ts TIMESTAMPTZ NOT NULL,
        n_bars BIGINT NOT NULL,
        PRIMARY KEY (symbol, interval)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS symbols (
        symbol VARCHAR PRIMARY KEY,
        calendar VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS corporate_actions (
        symbol VARCHAR NOT NULL,
        ex_date DATE NOT NULL,
        kind VARCHAR NOT NULL,
        ratio DOUBLE NOT NULL,
        amount DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (symbol, ex_date, kind)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS news (
        id VARCHAR PRIMARY KEY,
        published_at TIMESTAMPTZ NOT NULL,
        available_at TIMESTAMPTZ NOT NULL,
        headline VARCHAR NOT NULL,
        symbols VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        url VARCHAR NOT NULL,
        sentiment DOUBLE,
        sentiment_model VARCHAR NOT NULL DEFAULT '',
        source VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    # stores made before news scores named their scorer
    "ALTER TABLE news ADD COLUMN IF NOT EXISTS sentiment_model VARCHAR DEFAULT ''",
    """
    CREATE TABLE IF NOT EXISTS macro (
        series_id VARCHAR NOT NULL,
        period DATE NOT NULL,
        realtime_start TIMESTAMPTZ NOT NULL,
        value DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (series_id, period, realtime_start)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        key VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        symbol VARCHAR,
        interval VARCHAR,
        ts TIMESTAMPTZ,
        reason VARCHAR NOT NULL,
        detail VARCHAR NOT NULL,
        disposition VARCHAR NOT NULL,
        payload VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_log (
        run_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        status VARCHAR NOT NULL,
        checksum VARCHAR NOT NULL,
        params VARCHAR NOT NULL,
        n_bars BIGINT NOT NULL,
        n_rejected BIGINT NOT NULL,
        n_flagged BIGINT NOT NULL,
        message VARCHAR NOT NULL
    )
    """,
    # The live engine's output. Like bars, no primary-key index (on DuckDB it would make the
    # file some fifty times larger): DuckDBStore inserts only keys not stored yet, one
    # writer at a time. ``*_latest`` keep each key's newest row for the ``latest_*`` reads.
    """
    CREATE TABLE IF NOT EXISTS predictions (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        model VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        p_down DOUBLE NOT NULL,
        p_neutral DOUBLE NOT NULL,
        p_up DOUBLE NOT NULL,
        threshold DOUBLE NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS predictions_latest (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        model VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        p_down DOUBLE NOT NULL,
        p_neutral DOUBLE NOT NULL,
        p_up DOUBLE NOT NULL,
        threshold DOUBLE NOT NULL,
        PRIMARY KEY (symbol, interval, model)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS recommendations (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        action VARCHAR NOT NULL,
        confidence DOUBLE NOT NULL,
        reasons VARCHAR NOT NULL,
        risk VARCHAR NOT NULL,
        vetoed BOOLEAN NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS recommendations_latest (
        symbol VARCHAR NOT NULL,
        interval VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        action VARCHAR NOT NULL,
        confidence DOUBLE NOT NULL,
        reasons VARCHAR NOT NULL,
        risk VARCHAR NOT NULL,
        vetoed BOOLEAN NOT NULL,
        PRIMARY KEY (symbol, interval)
    )
    """,
    # The monitor's records: few rows, so real primary keys. ``at`` is quoted: it is a
    # keyword of DuckDB's grammar. Stores made before these tables gain them on open.
    """
    CREATE TABLE IF NOT EXISTS alerts (
        id VARCHAR PRIMARY KEY,
        "at" TIMESTAMPTZ NOT NULL,
        level VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        slot VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        details VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    )
    """,
    'CREATE INDEX IF NOT EXISTS alerts_at ON alerts ("at")',
    """
    CREATE TABLE IF NOT EXISTS drift (
        "at" TIMESTAMPTZ NOT NULL,
        slot VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        bar_ts TIMESTAMPTZ,
        status VARCHAR NOT NULL,
        data_score DOUBLE,
        drifted DOUBLE,
        confidence DOUBLE,
        confidence_ref DOUBLE,
        accuracy DOUBLE,
        accuracy_ref DOUBLE,
        macro_f1 DOUBLE,
        macro_f1_ref DOUBLE,
        n_window BIGINT NOT NULL,
        n_resolved BIGINT NOT NULL,
        details VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (slot, "at")
    )
    """,
]
