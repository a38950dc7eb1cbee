"""Alerts and drift checks: every backend stores and reads them alike.

Each test runs once per backend (``store`` fixture in ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from nexus.domain import ALERT_COLUMNS, DRIFT_COLUMNS
from nexus.errors import ConfigError, DataError, StoreError
from nexus.store import Store, WriteBatch, WriteResult

from .test_contract import TS, T, dtypes, make_bars, minutes, raw_rows
from .test_signals import keys, predictions

ALERT_DTYPES = {c: TS if c == "at" else "str" for c in ALERT_COLUMNS}
DRIFT_DTYPES = {
    "at": TS,
    "slot": "str",
    "version": "str",
    "bar_ts": TS,
    "status": "str",
    "data_score": "float64",
    "drifted": "float64",
    "confidence": "float64",
    "confidence_ref": "float64",
    "accuracy": "float64",
    "accuracy_ref": "float64",
    "macro_f1": "float64",
    "macro_f1_ref": "float64",
    "n_window": "int64",
    "n_resolved": "int64",
    "details": "str",
}


def alerts(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (id, at, level, source, slot); kind, message and details derived."""
    frame = pd.DataFrame(rows, columns=["id", "at", "level", "source", "slot"])
    return frame.assign(
        at=[T(t) for t in frame["at"]],
        kind=[f"{s}_check" for s in frame["source"]],
        message=[f'{i}: ünïcödé, "quoted", line\nbreak' for i in frame["id"]],
        details=[f'{{"id": "{i}", "psi": 0.25}}' for i in frame["id"]],
    ).loc[:, list(ALERT_COLUMNS)]


def drift(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (at, slot, status, accuracy); the other columns derived."""
    frame = pd.DataFrame(rows, columns=["at", "slot", "status", "accuracy"])
    return frame.assign(
        at=[T(t) for t in frame["at"]],
        version="v1",
        bar_ts=[T(t) - pd.Timedelta(minutes=1) for t in frame["at"]],
        data_score=0.1,
        drifted=0.0,
        confidence=0.6,
        confidence_ref=0.65,
        accuracy_ref=0.55,
        macro_f1=np.nan,
        macro_f1_ref=0.5,
        n_window=500,
        n_resolved=120,
        details="{}",
    ).loc[:, list(DRIFT_COLUMNS)]


def execute(store: Store, sql: str) -> None:
    """Run ``sql`` straight on the backend's connection."""
    duckdb = store.backend == "duckdb"
    connection = store._cursor() if duckdb else store._pool.connection()  # type: ignore[attr-defined]
    with connection as con:
        con.execute(sql)


# -- alerts -------------------------------------------------------------------------------


def test_alerts_round_trip_exactly_with_the_domain_dtypes(store: Store) -> None:
    rows = alerts(
        [
            ("a3", "2024-03-01 14:31", "critical", "drift", "lstm"),
            ("a1", "2024-03-01 14:30", "info", "data", ""),
            ("a2", "2024-03-01 14:30", "warning", "drift", "transformer"),
        ]
    )

    assert store.write(WriteBatch(alerts=rows)) == WriteResult(alerts=3)

    out = store.read_alerts()
    assert list(out.columns) == list(ALERT_COLUMNS)
    assert dtypes(out) == ALERT_DTYPES
    expected = rows.iloc[[1, 2, 0]].reset_index(drop=True)  # by at, then id
    pd.testing.assert_frame_equal(out, expected.astype(ALERT_DTYPES), check_exact=True)


def test_a_repeated_alert_is_ignored_and_not_counted(store: Store) -> None:
    first = alerts([("a1", "2024-03-01 14:30", "warning", "drift", "lstm")])
    store.write(WriteBatch(alerts=first))
    before = store.read_alerts()

    changed = first.assign(level="critical", message="other")
    assert store.write(WriteBatch(alerts=changed)) == WriteResult()

    pd.testing.assert_frame_equal(store.read_alerts(), before)
    # a batch repeating an id keeps its first row; a half-new batch counts the new half
    again = alerts(
        [
            ("a2", "2024-03-01 14:31", "info", "drift", "lstm"),
            ("a2", "2024-03-01 14:32", "critical", "drift", "lstm"),
            ("a1", "2024-03-01 14:33", "info", "drift", "lstm"),
        ]
    )
    assert store.write(WriteBatch(alerts=again)) == WriteResult(alerts=1)
    assert keys(store.read_alerts(), "id", "level") == [("a1", "warning"), ("a2", "info")]


def _alert_history(store: Store) -> None:
    store.write(
        WriteBatch(
            alerts=alerts(
                [
                    ("a1", "2024-03-01 14:30", "info", "data", ""),
                    ("a2", "2024-03-01 14:31", "warning", "drift", "lstm"),
                    ("a3", "2024-03-01 14:32", "critical", "drift", "lstm"),
                    ("a4", "2024-03-01 14:32", "warning", "drift", "transformer"),
                    ("a5", "2024-03-01 14:33", "warning", "rollback", "lstm"),
                ]
            )
        )
    )


def test_read_alerts_filters_by_level_source_slot_and_time(store: Store) -> None:
    _alert_history(store)

    assert store.read_alerts(level="warning")["id"].tolist() == ["a2", "a4", "a5"]
    assert store.read_alerts(level="CRITICAL")["id"].tolist() == ["a3"]
    assert store.read_alerts(source="drift")["id"].tolist() == ["a2", "a3", "a4"]
    assert store.read_alerts(slot="lstm")["id"].tolist() == ["a2", "a3", "a5"]
    assert store.read_alerts(slot="")["id"].tolist() == ["a1"]
    narrow = store.read_alerts(source="drift", slot="lstm", level="warning")
    assert narrow["id"].tolist() == ["a2"]
    window = store.read_alerts(start=T("2024-03-01 14:31"), end=pd.Timestamp("2024-03-01 14:33"))
    assert window["id"].tolist() == ["a2", "a3", "a4"]
    assert store.read_alerts(start=T("2024-03-01 14:34")).empty
    assert store.read_alerts(source="nobody").empty


def test_read_alerts_limit_keeps_the_newest_in_ascending_order(store: Store) -> None:
    _alert_history(store)

    assert store.read_alerts(limit=3)["id"].tolist() == ["a3", "a4", "a5"]
    assert store.read_alerts(level="warning", limit=2)["id"].tolist() == ["a4", "a5"]
    assert store.read_alerts(end=T("2024-03-01 14:32"), limit=1)["id"].tolist() == ["a2"]
    assert store.read_alerts(limit=10)["id"].tolist() == ["a1", "a2", "a3", "a4", "a5"]
    assert dtypes(store.read_alerts(limit=0)) == ALERT_DTYPES


# -- drift checks -------------------------------------------------------------------------


def test_drift_round_trip_keeps_nan_scores_and_a_missing_bar_time(store: Store) -> None:
    rows = drift(
        [
            ("2024-03-01 14:35", "lstm", "drift", 0.41),
            ("2024-03-01 14:30", "transformer", "ok", 0.1 + 0.2),
            ("2024-03-01 14:30", "lstm", "insufficient", np.nan),
        ]
    )
    rows.loc[2, "bar_ts"] = pd.NaT
    rows.loc[2, ["data_score", "confidence", "confidence_ref"]] = np.nan
    rows.loc[2, ["n_window", "n_resolved"]] = 0
    rows.loc[0, "details"] = '{"features": {"rsi_14": 0.31}, "note": "ünïcödé, \\"q\\""}'

    assert store.write(WriteBatch(drift=rows)) == WriteResult(drift=3)

    out = store.read_drift()
    assert list(out.columns) == list(DRIFT_COLUMNS)
    assert dtypes(out) == DRIFT_DTYPES
    expected = rows.iloc[[2, 1, 0]].reset_index(drop=True)  # by at, then slot
    pd.testing.assert_frame_equal(out, expected.astype(DRIFT_DTYPES), check_exact=True)
    assert out["bar_ts"].isna().tolist() == [True, False, False]
    assert np.isnan(out["accuracy"].iloc[0])
    assert out["accuracy"].iloc[1] == 0.1 + 0.2
    # not known is stored as NULL, not as a NaN value
    assert raw_rows(store, "SELECT count(*) FROM drift WHERE macro_f1 IS NULL") == [(3,)]


def test_a_repeated_drift_check_is_ignored_and_not_counted(store: Store) -> None:
    first = drift([("2024-03-01 14:30", "lstm", "ok", 0.5)])
    store.write(WriteBatch(drift=first))

    assert store.write(WriteBatch(drift=first.assign(status="drift"))) == WriteResult()
    assert store.read_drift()["status"].tolist() == ["ok"]
    # the key is (slot, at): the same time for another slot is a new check
    other = drift([("2024-03-01 14:30", "transformer", "ok", 0.5)])
    assert store.write(WriteBatch(drift=pd.concat([first, other]))) == WriteResult(drift=1)


def test_read_drift_filters_and_latest_drift_is_each_slots_newest(store: Store) -> None:
    store.write(
        WriteBatch(
            drift=drift(
                [
                    ("2024-03-01 14:30", "lstm", "ok", 0.5),
                    ("2024-03-01 14:30", "transformer", "ok", 0.6),
                    ("2024-03-01 14:40", "lstm", "drift", 0.4),
                    ("2024-03-01 14:50", "transformer", "drift", 0.3),
                ]
            )
        )
    )
    # a later write of an older check does not become the newest
    store.write(WriteBatch(drift=drift([("2024-03-01 14:20", "lstm", "ok", 0.9)])))

    assert keys(store.read_drift("lstm"), "at", "status") == [
        (T("2024-03-01 14:20"), "ok"),
        (T("2024-03-01 14:30"), "ok"),
        (T("2024-03-01 14:40"), "drift"),
    ]
    window = store.read_drift(start=T("2024-03-01 14:30"), end=T("2024-03-01 14:50"))
    assert keys(window, "at", "slot") == [
        (T("2024-03-01 14:30"), "lstm"),
        (T("2024-03-01 14:30"), "transformer"),
        (T("2024-03-01 14:40"), "lstm"),
    ]
    assert keys(store.read_drift(["lstm", "transformer"], limit=2), "at", "slot") == [
        (T("2024-03-01 14:40"), "lstm"),
        (T("2024-03-01 14:50"), "transformer"),
    ]
    assert store.read_drift([]).empty

    latest = store.latest_drift()
    assert dtypes(latest) == DRIFT_DTYPES
    assert keys(latest, "slot", "at", "status", "accuracy") == [
        ("lstm", T("2024-03-01 14:40"), "drift", 0.4),
        ("transformer", T("2024-03-01 14:50"), "drift", 0.3),
    ]
    assert store.latest_drift("transformer")["status"].tolist() == ["drift"]
    assert store.latest_drift(["nope"]).empty


# -- one transaction, empty reads, bad arguments, older stores -----------------------------


def test_alerts_and_drift_are_written_in_the_batch_transaction(store: Store) -> None:
    bars = make_bars("AAA", minutes("2024-03-01 14:30", 2))
    preds = predictions([("AAA", "1m", "2024-03-01 14:31", "lstm", "v1", 0.5)])
    checks = drift([("2024-03-01 14:31", "lstm", "ok", 0.5)])
    news = alerts([("a1", "2024-03-01 14:31", "warning", "drift", "lstm")])
    broken = preds.assign(p_up=np.nan)  # a NOT NULL column, written after alerts and drift

    with pytest.raises(StoreError, match="nothing of this batch was stored"):
        store.write(WriteBatch(bars=bars, predictions=broken, alerts=news, drift=checks))

    assert store.read_bars(["AAA"], "1m").empty
    assert store.read_predictions().empty
    assert store.read_alerts().empty
    assert store.read_drift().empty
    assert store.latest_drift().empty
    result = store.write(WriteBatch(bars=bars, predictions=preds, alerts=news, drift=checks))
    assert result == WriteResult(bars=2, predictions=1, alerts=1, drift=1)


def test_a_bad_frame_is_refused_before_anything_is_written(store: Store) -> None:
    bad = alerts([("a1", "2024-03-01 14:31", "loud", "drift", "lstm")])
    bars = make_bars("AAA", minutes("2024-03-01 14:30", 2))

    with pytest.raises(DataError, match="'level'"):
        store.write(WriteBatch(bars=bars, alerts=bad))

    assert store.read_bars(["AAA"], "1m").empty


def test_monitor_reads_of_an_empty_store_have_the_columns_and_dtypes(store: Store) -> None:
    assert dtypes(store.read_alerts()) == ALERT_DTYPES
    assert dtypes(store.read_alerts(level="info", source="x", slot="y", limit=5)) == ALERT_DTYPES
    assert dtypes(store.read_drift("lstm", start=T("2024-01-01"), limit=5)) == DRIFT_DTYPES
    assert dtypes(store.latest_drift()) == DRIFT_DTYPES


def test_bad_monitor_read_arguments_raise_config_errors(store: Store) -> None:
    with pytest.raises(ConfigError, match="info, warning, critical"):
        store.read_alerts(level="loud")
    with pytest.raises(ConfigError, match="negative"):
        store.read_alerts(limit=-1)
    with pytest.raises(ConfigError, match="negative"):
        store.read_drift(limit=-1)


def test_a_store_made_before_the_monitor_tables_gains_them(
    store: Store, open_url: Callable[[], Store]
) -> None:
    store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 2))))
    execute(store, "DROP TABLE alerts")  # as an older Nexus left it
    execute(store, "DROP TABLE drift")
    store.close()

    again = open_url()

    assert len(again.read_bars(["AAA"], "1m")) == 2
    assert again.read_alerts().empty
    result = again.write(
        WriteBatch(
            alerts=alerts([("a1", "2024-03-01 14:31", "info", "data", "")]),
            drift=drift([("2024-03-01 14:31", "lstm", "ok", 0.5)]),
        )
    )
    assert result == WriteResult(alerts=1, drift=1)
    assert len(again.latest_drift()) == 1
