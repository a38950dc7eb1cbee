"""Predictions, recommendations and newest bars: every backend stores and reads them alike.

Each test runs once per backend (``store`` fixture in ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from nexus.domain import BAR_COLUMNS, PREDICTION_COLUMNS, RECOMMENDATION_COLUMNS
from nexus.errors import ConfigError, StoreError, UnknownIntervalError
from nexus.store import Store, WriteBatch, WriteResult
from tests._threads import run_together

from .test_contract import BAR_DTYPES, TS, T, dtypes, make_bars, minutes

PREDICTION_DTYPES = {
    "symbol": "str",
    "interval": "str",
    "ts": TS,
    "model": "str",
    "version": "str",
    "p_down": "float64",
    "p_neutral": "float64",
    "p_up": "float64",
    "threshold": "float64",
}
RECOMMENDATION_DTYPES = {
    "symbol": "str",
    "interval": "str",
    "ts": TS,
    "action": "str",
    "confidence": "float64",
    "reasons": "str",
    "risk": "str",
    "vetoed": "bool",
}


def predictions(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (symbol, interval, ts, model, version, p_up); the rest derived from p_up."""
    frame = pd.DataFrame(rows, columns=["symbol", "interval", "ts", "model", "version", "p_up"])
    return frame.assign(
        ts=[T(t) for t in frame["ts"]],
        p_down=(1.0 - frame["p_up"]) / 3,
        p_neutral=2 * (1.0 - frame["p_up"]) / 3,
        threshold=0.45,
    ).loc[:, list(PREDICTION_COLUMNS)]


def recommendations(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (symbol, interval, ts, action, confidence); reasons/risk/vetoed derived."""
    cols = ["symbol", "interval", "ts", "action", "confidence"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.assign(
        ts=[T(t) for t in frame["ts"]],
        reasons=[f'["{a.lower()} because", "ünïcödé, \\"quoted\\""]' for a in frame["action"]],
        risk='{"exposure": 0.25}',
        vetoed=frame["action"] == "HOLD",
    ).loc[:, list(RECOMMENDATION_COLUMNS)]


def keys(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(r) for r in frame.loc[:, list(columns)].itertuples(index=False)]


# -- writes -------------------------------------------------------------------------------


def test_signals_round_trip_exactly_with_the_domain_dtypes(store: Store) -> None:
    preds = predictions(
        [
            ("MSFT", "1m", "2024-03-01 14:31", "lstm", "v2", 0.6),
            ("BRK.B", "1m", "2024-03-01 14:31", "transformer", "v7", 0.1 + 0.2),
            ("MSFT", "1m", "2024-03-01 14:30", "transformer", "v7", 1 / 3),
            ("MSFT", "1m", "2024-03-01 14:31", "transformer", "v7", 1e-300),
        ]
    )
    recs = recommendations(
        [
            ("MSFT", "1m", "2024-03-01 14:31", "BUY", 0.7),
            ("BRK.B", "1m", "2024-03-01 14:31", "HOLD", np.pi / 4),
            ("MSFT", "1m", "2024-03-01 14:30", "SELL", 0.55),
        ]
    )

    result = store.write(WriteBatch(predictions=preds, recommendations=recs))

    assert result == WriteResult(predictions=4, recommendations=3)
    out = store.read_predictions()
    assert dtypes(out) == PREDICTION_DTYPES
    expected = preds.iloc[[2, 1, 0, 3]].reset_index(drop=True)  # by ts, symbol, model
    pd.testing.assert_frame_equal(out, expected.astype(PREDICTION_DTYPES), check_exact=True)
    out = store.read_recommendations()
    assert dtypes(out) == RECOMMENDATION_DTYPES
    expected = recs.iloc[[2, 1, 0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected.astype(RECOMMENDATION_DTYPES), check_exact=True)


def test_rewriting_stored_signals_keeps_the_first_rows(store: Store) -> None:
    preds = predictions(
        [
            ("AAA", "1m", "2024-03-01 14:30", "lstm", "v1", 0.5),
            ("AAA", "1m", "2024-03-01 14:31", "lstm", "v1", 0.6),
        ]
    )
    recs = recommendations([("AAA", "1m", "2024-03-01 14:31", "BUY", 0.6)])
    store.write(WriteBatch(predictions=preds, recommendations=recs))
    before = (store.read_predictions(), store.read_recommendations())
    latest = (store.latest_predictions(), store.latest_recommendations())
    changed_preds = preds.assign(version="v9", p_up=0.9)
    changed_recs = recs.assign(action="SELL", confidence=0.9)

    result = store.write(WriteBatch(predictions=changed_preds, recommendations=changed_recs))

    assert result == WriteResult()
    pd.testing.assert_frame_equal(store.read_predictions(), before[0])
    pd.testing.assert_frame_equal(store.read_recommendations(), before[1])
    pd.testing.assert_frame_equal(store.latest_predictions(), latest[0])
    pd.testing.assert_frame_equal(store.latest_recommendations(), latest[1])
    # a batch repeating a key keeps its first row; a half-new batch counts the new half
    again = predictions(
        [
            ("AAA", "1m", "2024-03-01 14:32", "lstm", "v1", 0.7),
            ("AAA", "1m", "2024-03-01 14:32", "lstm", "v1", 0.1),
            ("AAA", "1m", "2024-03-01 14:31", "lstm", "v1", 0.2),
        ]
    )
    assert store.write(WriteBatch(predictions=again)) == WriteResult(predictions=1)
    assert store.read_predictions()["p_up"].tolist() == [0.5, 0.6, 0.7]


def test_signals_are_written_in_the_batch_transaction(store: Store) -> None:
    bars = make_bars("AAA", minutes("2024-03-01 14:30", 2))
    good = predictions([("AAA", "1m", "2024-03-01 14:31", "lstm", "v1", 0.5)])
    recs = recommendations([("AAA", "1m", "2024-03-01 14:31", "BUY", 0.6)])
    broken = recs.assign(confidence=np.nan)  # a NOT NULL column

    with pytest.raises(StoreError, match="nothing of this batch was stored"):
        store.write(WriteBatch(bars=bars, predictions=good, recommendations=broken))

    assert store.read_bars(["AAA"], "1m").empty
    assert store.read_predictions().empty
    assert store.latest_predictions().empty
    assert store.latest_recommendations().empty
    result = store.write(WriteBatch(bars=bars, predictions=good, recommendations=recs))
    assert result == WriteResult(bars=2, predictions=1, recommendations=1)


# -- newest rows --------------------------------------------------------------------------


def test_latest_predictions_are_each_symbol_and_models_newest(store: Store) -> None:
    store.write(
        WriteBatch(
            predictions=predictions(
                [
                    ("AAA", "1m", "2024-03-01 14:30", "lstm", "v1", 0.1),
                    ("AAA", "1m", "2024-03-01 14:30", "transformer", "v1", 0.2),
                    ("AAA", "1m", "2024-03-01 14:31", "lstm", "v1", 0.3),
                    ("BBB", "1m", "2024-03-01 14:29", "lstm", "v1", 0.4),
                    ("AAA", "5m", "2024-03-01 14:25", "lstm", "v1", 0.5),
                ]
            )
        )
    )
    # later writes: a newer version, and an older bar that must not replace the newest
    store.write(
        WriteBatch(
            predictions=predictions(
                [
                    ("AAA", "1m", "2024-03-01 14:32", "transformer", "v2", 0.6),
                    ("BBB", "1m", "2024-03-01 14:28", "lstm", "v1", 0.7),
                    ("AAA", "5m", "2024-03-01 14:35", "lstm", "v1", 0.8),
                ]
            )
        )
    )

    latest = store.latest_predictions(interval="1m")

    assert dtypes(latest) == PREDICTION_DTYPES
    assert keys(latest, "symbol", "model", "ts", "version", "p_up") == [
        ("AAA", "lstm", T("2024-03-01 14:31"), "v1", 0.3),
        ("AAA", "transformer", T("2024-03-01 14:32"), "v2", 0.6),
        ("BBB", "lstm", T("2024-03-01 14:29"), "v1", 0.4),
    ]
    assert keys(store.latest_predictions(["AAA"], "5m"), "ts", "p_up") == [
        (T("2024-03-01 14:35"), 0.8)
    ]
    # without an interval: the newest of each (symbol, model) over every interval
    assert keys(store.latest_predictions(), "symbol", "model", "interval", "p_up") == [
        ("AAA", "lstm", "5m", 0.8),
        ("AAA", "transformer", "1m", 0.6),
        ("BBB", "lstm", "1m", 0.4),
    ]
    assert keys(store.latest_predictions(["BBB", "NONE"]), "symbol", "p_up") == [("BBB", 0.4)]


def test_latest_recommendations_are_each_symbols_newest(store: Store) -> None:
    first = recommendations(
        [
            ("AAA", "1m", "2024-03-01 14:30", "BUY", 0.6),
            ("AAA", "1m", "2024-03-01 14:31", "HOLD", 0.5),
            ("BBB", "1m", "2024-03-01 14:31", "SELL", 0.7),
        ]
    )
    store.write(WriteBatch(recommendations=first))
    older = recommendations([("BBB", "1m", "2024-03-01 14:20", "BUY", 0.9)])
    store.write(WriteBatch(recommendations=older))

    latest = store.latest_recommendations()

    assert dtypes(latest) == RECOMMENDATION_DTYPES
    assert keys(latest, "symbol", "ts", "action", "vetoed") == [
        ("AAA", T("2024-03-01 14:31"), "HOLD", True),
        ("BBB", T("2024-03-01 14:31"), "SELL", False),
    ]
    assert latest["reasons"].iloc[0] == '["hold because", "ünïcödé, \\"quoted\\""]'
    assert latest["risk"].iloc[0] == '{"exposure": 0.25}'
    assert store.latest_recommendations(["BBB"], "1m")["action"].tolist() == ["SELL"]
    assert store.latest_recommendations(interval="1d").empty


def test_latest_bars_are_each_symbols_newest(store: Store) -> None:
    store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 5))))
    store.write(WriteBatch(bars=make_bars("BBB", minutes("2024-02-01 15:00", 2), [7.0, 8.0])))
    store.write(WriteBatch(bars=make_bars("AAA", ["2024-02-29"], [50.0], interval="1d")))
    store.write(WriteBatch(bars=make_bars("AAA", ["2024-03-01 14:20"], [1.0])))  # older

    latest = store.latest_bars()

    assert list(latest.columns) == list(BAR_COLUMNS)
    assert dtypes(latest) == BAR_DTYPES
    assert keys(latest, "symbol", "ts", "close") == [
        ("AAA", T("2024-03-01 14:34"), 104.0),
        ("BBB", T("2024-02-01 15:01"), 8.0),
    ]
    assert keys(store.latest_bars(["BBB", "NONE"], "1m"), "symbol", "close") == [("BBB", 8.0)]
    assert keys(store.latest_bars(interval="1d"), "symbol", "close") == [("AAA", 50.0)]
    assert dtypes(store.latest_bars(interval="5m")) == BAR_DTYPES
    assert store.latest_bars([], "1m").empty


# -- history reads ------------------------------------------------------------------------


def _history(store: Store) -> None:
    times = minutes("2024-03-01 14:30", 4)
    rows = [(s, "1m", t, m, "v1", 0.5) for t in times for s in ("AAA", "BBB") for m in ("a", "b")]
    rows.append(("AAA", "5m", "2024-03-01 14:30", "a", "v1", 0.5))
    actions = ["BUY", "SELL", "HOLD", "BUY"]
    recs = [
        (s, "1m", t, a, 0.6) for t, a in zip(times, actions, strict=True) for s in ("AAA", "BBB")
    ]
    store.write(WriteBatch(predictions=predictions(rows), recommendations=recommendations(recs)))


def test_read_predictions_filters_and_keeps_the_newest_rows(store: Store) -> None:
    _history(store)

    assert len(store.read_predictions()) == 17
    assert len(store.read_predictions(interval="1m")) == 16
    window = store.read_predictions(
        ["AAA"], "1min", start=T("2024-03-01 14:31"), end=pd.Timestamp("2024-03-01 14:33")
    )
    assert keys(window, "ts", "model") == [
        (T("2024-03-01 14:31"), "a"),
        (T("2024-03-01 14:31"), "b"),
        (T("2024-03-01 14:32"), "a"),
        (T("2024-03-01 14:32"), "b"),
    ]
    newest = store.read_predictions(interval="1m", limit=3)
    assert keys(newest, "ts", "symbol", "model") == [
        (T("2024-03-01 14:33"), "AAA", "b"),
        (T("2024-03-01 14:33"), "BBB", "a"),
        (T("2024-03-01 14:33"), "BBB", "b"),
    ]
    assert keys(store.read_predictions(["BBB"], limit=1, end=T("2024-03-01 14:31")), "ts") == [
        (T("2024-03-01 14:30"),)
    ]
    assert store.read_predictions(limit=0).empty
    assert store.read_predictions([]).empty


def test_read_recommendations_filters_by_action_and_keeps_the_newest(store: Store) -> None:
    _history(store)

    buys = store.read_recommendations(action="BUY")
    assert keys(buys, "ts", "symbol") == [
        (T("2024-03-01 14:30"), "AAA"),
        (T("2024-03-01 14:30"), "BBB"),
        (T("2024-03-01 14:33"), "AAA"),
        (T("2024-03-01 14:33"), "BBB"),
    ]
    newest = store.read_recommendations(["AAA"], "1m", action="buy", limit=1)
    assert keys(newest, "ts", "action") == [(T("2024-03-01 14:33"), "BUY")]
    window = store.read_recommendations(
        ["BBB"], start=T("2024-03-01 14:31"), end=T("2024-03-01 14:33"), limit=10
    )
    assert window["action"].tolist() == ["SELL", "HOLD"]
    assert store.read_recommendations(interval="5m").empty


def test_bad_arguments_raise_nexus_errors(store: Store) -> None:
    with pytest.raises(UnknownIntervalError):
        store.read_predictions(interval="7m")
    with pytest.raises(UnknownIntervalError):
        store.latest_predictions(interval="7m")
    with pytest.raises(UnknownIntervalError):
        store.read_recommendations(interval="7m")
    with pytest.raises(UnknownIntervalError):
        store.latest_recommendations(interval="7m")
    with pytest.raises(UnknownIntervalError):
        store.latest_bars(interval="7m")
    with pytest.raises(ConfigError, match="BUY, SELL, HOLD"):
        store.read_recommendations(action="SHORT")
    with pytest.raises(ConfigError, match="negative"):
        store.read_predictions(limit=-1)


def test_signal_reads_of_an_empty_store_have_the_columns_and_dtypes(store: Store) -> None:
    assert dtypes(store.read_predictions(["AAA"], "1m", limit=5)) == PREDICTION_DTYPES
    assert dtypes(store.latest_predictions()) == PREDICTION_DTYPES
    assert dtypes(store.read_recommendations(action="BUY")) == RECOMMENDATION_DTYPES
    assert dtypes(store.latest_recommendations(["AAA"], "1m")) == RECOMMENDATION_DTYPES
    assert dtypes(store.latest_bars()) == BAR_DTYPES


def test_a_reopened_store_keeps_its_signals(store: Store, open_url: Callable[[], Store]) -> None:
    store.write(WriteBatch(predictions=predictions([("A", "1m", "2024-03-01", "m", "v", 0.5)])))
    store.close()

    again = open_url()

    assert len(again.latest_predictions()) == 1
    assert (
        again.write(WriteBatch(predictions=predictions([("A", "1m", "2024-03-01", "m", "v", 0.1)])))
        == WriteResult()
    )


# -- threads ------------------------------------------------------------------------------


def test_threads_write_signals_while_others_read(store: Store) -> None:
    symbols = [f"S{i}" for i in range(5)]
    times = minutes("2024-03-01 14:30", 30)
    store.write(WriteBatch(bars=pd.concat(make_bars(s, times) for s in symbols)))
    per_time = {
        t: predictions([(s, "1m", t, m, "v1", 0.5) for s in symbols for m in ("a", "b")])
        for t in times
    }
    written: list[int] = []
    seen_groups: set[int] = set()

    def writer(offset: int) -> Callable[[], None]:
        def work() -> None:  # three writers, each writing every bar time: each key once
            order = times[offset:] + times[:offset]
            batches = (WriteBatch(predictions=per_time[t]) for t in order)
            written.append(sum(store.write(batch).predictions for batch in batches))

        return work

    def reader() -> None:
        for _ in range(15):
            assert len(store.read_bars(symbols, "1m")) == 150
            assert len(store.last_bars(symbols, "1m", 3)) == 15
            assert len(store.latest_bars(symbols)) == 5
            rows = store.read_predictions(interval="1m")
            # a batch is one transaction: a reader sees all of its ten rows or none
            seen_groups.update(rows.groupby("ts").size().tolist())
            assert len(store.latest_predictions(interval="1m")) in (0, 10)

    run_together(writer(0), writer(10), writer(20), reader, reader, reader)

    assert sum(written) == 300
    assert seen_groups <= {10}
    assert len(store.read_predictions()) == 300
    assert store.latest_predictions()["ts"].unique().tolist() == [T(times[-1])]
