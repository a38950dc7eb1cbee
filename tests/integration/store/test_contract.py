"""The Store contract: every backend stores, reads and refuses exactly alike.

Each test runs once per backend (``store`` fixture in ``conftest.py``).
Expected values are written out literally; adjusted prices are computed by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from nexus.domain import ACTION_COLUMNS, BAR_COLUMNS, MACRO_COLUMNS, NEWS_COLUMNS
from nexus.errors import StoreError
from nexus.store import IngestRecord, Store, WriteBatch, WriteResult

TS = "datetime64[us, UTC]"
BAR_DTYPES = {
    "symbol": "str",
    "interval": "str",
    "ts": TS,
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "source": "str",
}


def T(text: str) -> pd.Timestamp:
    """A UTC instant."""
    return pd.Timestamp(text, tz="UTC")


def minutes(start: str, n: int) -> list[str]:
    """``n`` consecutive minute stamps from ``start``."""
    return [str(t) for t in pd.date_range(start, periods=n, freq="1min")]


def make_bars(
    symbol: str,
    times: list[str],
    closes: list[float] | None = None,
    *,
    interval: str = "1m",
    source: str = "sim",
    volume: float | list[float] = 100.0,
) -> pd.DataFrame:
    """Bars with ``open = close``, ``high = close + 2``, ``low = close - 1``."""
    closes = closes if closes is not None else [100.0 + i for i in range(len(times))]
    close = np.asarray(closes, dtype="float64")
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": interval,
            "ts": [T(t) for t in times],
            "open": close,
            "high": close + 2.0,
            "low": close - 1.0,
            "close": close,
            "volume": volume,
            "source": source,
        }
    )


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items()}


def stamps(values: pd.Series) -> list[pd.Timestamp]:
    return list(values)


def raw_rows(store: Store, sql: str) -> list[tuple]:
    """Rows straight from the backend's connection (the protocol exposes no bar ``ingested_at``)."""
    duckdb = store.backend == "duckdb"
    connection = store._cursor() if duckdb else store._pool.connection()  # type: ignore[attr-defined]
    with connection as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


def actions(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ACTION_COLUMNS))


def macro(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(MACRO_COLUMNS))


def quarantine(rows: list[tuple]) -> pd.DataFrame:
    cols = ["key", "kind", "source", "symbol", "interval", "ts", "reason", "disposition"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.assign(detail="d", payload="{}", run_id="r1")


def news(rows: list[tuple]) -> pd.DataFrame:
    cols = ["id", "published_at", "available_at", "headline", "symbols", "body", "sentiment"]
    return pd.DataFrame(rows, columns=cols).assign(url="https://x.test/n", source="rss")


# -- bars: round trip, idempotency, conflicts, atomicity -----------------------------------


def test_bars_round_trip_keeps_exact_values_dtypes_and_order(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "symbol": ["MSFT", "BRK.B", "MSFT"],
            "interval": "1m",
            "ts": [T("2024-03-01 14:31"), T("2024-03-01 14:30"), T("2024-03-01 14:30:00.123456")],
            "open": [0.1 + 0.2, 1e-300, 123456789.12345679],
            "high": [1.7976931348623157e308, 2.5, 1.0000000000000002],
            "low": [5e-324, -3.25, 0.0],
            "close": [np.pi, np.e, 1 / 3],
            "volume": [0.0, 1e15, 12345.0],
            "source": ["sim", "yahoo", "sim"],
        }
    )
    assert store.write(WriteBatch(bars=frame)) == WriteResult(bars=3)

    out = store.read_bars(["MSFT", "BRK.B"], "1m")

    expected = frame.iloc[[1, 2, 0]].reset_index(drop=True).astype({"ts": TS})
    expected = expected.astype({"symbol": "str", "interval": "str", "source": "str"})
    assert list(out.columns) == list(BAR_COLUMNS)
    assert dtypes(out) == BAR_DTYPES
    pd.testing.assert_frame_equal(out, expected, check_exact=True)


def test_rewriting_stored_rows_stores_nothing_and_keeps_ingested_at(store: Store) -> None:
    batch = WriteBatch(
        bars=make_bars("AAA", minutes("2024-03-01 14:30", 3)),
        corporate_actions=actions([("AAA", date(2024, 3, 4), "split", 2.0, 0.0, "sim")]),
        news=news([("n1", T("2024-03-01 09:00"), T("2024-03-01 09:01"), "h", "AAA", "b", 0.5)]),
        macro=macro([("GDP", date(2024, 1, 1), T("2024-04-25 12:30"), 1.6, "fred")]),
        quarantine=quarantine(
            [("k1", "bar", "sim", "AAA", "1m", T("2024-03-01"), "ohlc", "rejected")]
        ),
    )
    assert store.write(batch) == WriteResult(
        bars=3, corporate_actions=1, news=1, macro=1, quarantine=1
    )
    stored_at = raw_rows(store, "SELECT symbol, ts, ingested_at FROM bars ORDER BY ts")
    quarantined_at = store.read_quarantine()["ingested_at"].tolist()
    # one batch, one stamp: every row of it was ingested at the same instant
    assert {pd.Timestamp(row[2]) for row in stored_at} == set(quarantined_at)
    time.sleep(0.002)  # a second write gets a later stamp

    assert store.write(batch) == WriteResult()

    assert raw_rows(store, "SELECT symbol, ts, ingested_at FROM bars ORDER BY ts") == stored_at
    assert store.read_quarantine()["ingested_at"].tolist() == quarantined_at
    assert len(store.read_bars(["AAA"], "1m")) == 3
    assert store.series()["n_bars"].tolist() == [3]
    assert len(store.read_corporate_actions()) == len(store.read_news()) == 1
    assert len(store.read_macro()) == 1


def test_rewriting_a_stored_key_with_other_prices_keeps_the_raw_bar(store: Store) -> None:
    store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 2), [10.0, 11.0])))
    changed = make_bars(
        "AAA", minutes("2024-03-01 14:30", 3), [99.0, 98.0, 12.0], source="other", volume=7.0
    )

    assert store.write(WriteBatch(bars=changed)) == WriteResult(bars=1)

    out = store.read_bars(["AAA"], "1m")
    assert out["close"].tolist() == [10.0, 11.0, 12.0]
    assert out["high"].tolist() == [12.0, 13.0, 14.0]
    assert out["volume"].tolist() == [100.0, 100.0, 7.0]
    assert out["source"].tolist() == ["sim", "sim", "other"]
    series = store.series().iloc[0]
    assert (series["n_bars"], series["last_ts"], series["source"]) == (
        3,
        T("2024-03-01 14:32"),
        "other",
    )


def _good_batch() -> dict[str, pd.DataFrame]:
    return {
        "bars": make_bars("AAA", minutes("2024-03-01 14:30", 4)),
        "corporate_actions": actions([("AAA", date(2024, 3, 4), "split", 2.0, 0.0, "sim")]),
        "news": news([("n1", T("2024-03-01 09:00"), T("2024-03-01 09:01"), "h", "AAA", "", 0.1)]),
        "macro": macro([("GDP", date(2024, 1, 1), T("2024-04-25 12:30"), 1.6, "fred")]),
        "quarantine": quarantine(
            [("k1", "bar", "sim", "AAA", "1m", T("2024-03-01"), "ohlc", "rejected")]
        ),
        "symbols": pd.DataFrame(
            [("AAA", "XNYS", "equity", "Alpha", "sim")],
            columns=["symbol", "calendar", "kind", "description", "source"],
        ),
    }


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        ("corporate_actions", "ratio"),  # fails right after the bars went in
        ("macro", "value"),  # fails after bars, actions and news went in
        ("bars", "close"),
    ],
)
def test_a_failing_write_stores_nothing_of_its_batch(store: Store, frame: str, column: str) -> None:
    broken = _good_batch()
    broken[frame] = broken[frame].copy()
    broken[frame].loc[0, column] = np.nan  # a NOT NULL column

    with pytest.raises(StoreError, match="nothing of this batch was stored"):
        store.write(WriteBatch(**broken))

    assert store.read_bars(["AAA"], "1m").empty
    assert store.series().empty
    assert store.read_corporate_actions().empty
    assert store.read_news().empty
    assert store.read_macro().empty
    assert store.read_quarantine().empty
    assert store.symbols().empty
    # the store is still usable, and nothing of the failed batch lingers
    assert store.write(WriteBatch(**_good_batch())) == WriteResult(
        bars=4, corporate_actions=1, news=1, macro=1, quarantine=1, symbols=1
    )


def test_series_counts_only_new_bars_across_writes(store: Store) -> None:
    writes = [
        make_bars("AAA", minutes("2024-03-04 14:30", 10)),  # 14:30-14:39
        make_bars("AAA", minutes("2024-03-04 14:35", 10), source="yahoo"),  # 5 new
        make_bars("AAA", minutes("2024-03-01 20:50", 5), source="old"),  # before the first
        make_bars("AAA", minutes("2024-03-04 14:30", 10)),  # all stored
        make_bars("AAA", ["2024-03-04 14:44", "2024-03-04 14:50"]),  # 1 new, after a gap
        make_bars("AAA", ["2024-03-04 14:45", "2024-03-04 14:55"], source="gap"),  # in and after
        make_bars("BBB", ["2024-03-01", "2024-03-04"], interval="1d", source="yahoo"),
        make_bars("BBB", ["2024-03-04"], interval="1d", source="yahoo"),
    ]

    counts = [store.write(WriteBatch(bars=b)).bars for b in writes]

    assert counts == [10, 5, 5, 0, 1, 2, 2, 0]
    # the series' source is that of the newest of the bars a write added
    mixed = make_bars("CCC", minutes("2024-03-04 14:30", 2)).assign(source=["x", "y"])
    assert store.write(WriteBatch(bars=mixed)).bars == 2
    assert store.series().iloc[-1]["source"] == "y"
    overlapping = make_bars("CCC", minutes("2024-03-04 14:31", 3)).assign(source=["y", "z", "w"])
    assert store.write(WriteBatch(bars=overlapping)).bars == 2
    assert store.series().iloc[-1][["source", "n_bars"]].tolist() == ["w", 4]
    store.write(WriteBatch(bars=make_bars("CCC", ["2024-03-04 14:36"], source="v")))
    inside = make_bars("CCC", ["2024-03-04 14:35", "2024-03-04 14:34"]).assign(source=["q", "p"])
    assert store.write(WriteBatch(bars=inside)).bars == 2  # both within the stored range
    store.write(WriteBatch(bars=make_bars("CCC", minutes("2024-03-04 14:30", 1))))  # stored
    series = store.series()
    assert dtypes(series) == {
        "symbol": "str",
        "interval": "str",
        "source": "str",
        "first_ts": TS,
        "last_ts": TS,
        "n_bars": "int64",
    }
    assert series.to_dict("records") == [
        {
            "symbol": "AAA",
            "interval": "1m",
            "source": "gap",
            "first_ts": T("2024-03-01 20:50"),
            "last_ts": T("2024-03-04 14:55"),
            "n_bars": 23,
        },
        {
            "symbol": "BBB",
            "interval": "1d",
            "source": "yahoo",
            "first_ts": T("2024-03-01"),
            "last_ts": T("2024-03-04"),
            "n_bars": 2,
        },
        {
            "symbol": "CCC",
            "interval": "1m",
            "source": "q",
            "first_ts": T("2024-03-04 14:30"),
            "last_ts": T("2024-03-04 14:36"),
            "n_bars": 7,
        },
    ]
    assert len(store.read_bars(["AAA"], "1m")) == 23


# -- bar reads ----------------------------------------------------------------------------


def test_read_bars_is_half_open_and_sorted_by_symbol_code_point(store: Store) -> None:
    symbols = ["aapl", "ZZ", "BRKA", "BRK.B"]
    frames = [make_bars(s, minutes("2024-03-01 14:30", 5)) for s in symbols]
    frames.append(make_bars("aapl", ["2024-03-01"], interval="1d"))
    store.write(WriteBatch(bars=pd.concat(frames)))

    out = store.read_bars(
        ["aapl", "BRKA", "NONE", "BRK.B", "ZZ", "aapl"],
        "1m",
        start=datetime(2024, 3, 1, 14, 31),  # naive: taken as UTC
        end=pd.Timestamp("2024-03-01 09:33", tz="America/New_York"),  # 14:33 UTC
    )

    assert out["symbol"].tolist() == ["BRK.B"] * 2 + ["BRKA"] * 2 + ["ZZ"] * 2 + ["aapl"] * 2
    assert stamps(out["ts"]) == [T("2024-03-01 14:31"), T("2024-03-01 14:32")] * 4
    assert dtypes(out) == BAR_DTYPES
    assert stamps(store.read_bars(["aapl"], "1m", start=T("2024-03-01 14:34"))["ts"]) == [
        T("2024-03-01 14:34")
    ]
    assert stamps(store.read_bars(["aapl"], "1d")["ts"]) == [T("2024-03-01")]
    assert store.read_bars([], "1m").empty


def test_last_bars_reaches_across_weekends_and_long_gaps(store: Store) -> None:
    aaa = [
        *minutes("2023-09-05 15:00", 3),  # six months before the rest
        "2024-03-01 20:58",  # a Friday
        "2024-03-01 20:59",
        *minutes("2024-03-04 14:30", 3),  # the Monday after
    ]
    store.write(WriteBatch(bars=make_bars("AAA", aaa)))
    store.write(WriteBatch(bars=make_bars("BBB", minutes("2023-03-01 14:30", 2))))  # stale

    out = store.last_bars(["CCC", "BBB", "AAA"], "1m", 7)

    assert out["symbol"].tolist() == ["AAA"] * 7 + ["BBB"] * 2
    assert stamps(out["ts"]) == [T(t) for t in aaa[1:] + minutes("2023-03-01 14:30", 2)]
    assert out["close"].tolist() == [101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 100.0, 101.0]
    assert dtypes(out) == BAR_DTYPES
    assert stamps(store.last_bars(["AAA", "BBB"], "1m", 2)["ts"]) == [
        T("2024-03-04 14:31"),
        T("2024-03-04 14:32"),
        T("2023-03-01 14:30"),
        T("2023-03-01 14:31"),
    ]
    assert len(store.last_bars(["AAA", "BBB"], "1m", 100)) == 10
    empty = store.last_bars(["AAA"], "1m", 0)
    assert empty.empty
    assert dtypes(empty) == BAR_DTYPES


def test_last_bars_of_daily_bars_skip_holidays(store: Store) -> None:
    days = ["2024-03-27", "2024-03-28", "2024-04-01", "2024-04-02"]  # Good Friday off
    store.write(WriteBatch(bars=make_bars("DDD", days, interval="1d")))

    assert stamps(store.last_bars(["DDD"], "1d", 3)["ts"]) == [T(d) for d in days[1:]]
    assert store.last_bars(["DDD"], "1m", 3).empty


def test_last_timestamps_per_interval_and_symbol(store: Store) -> None:
    store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 3))))
    store.write(WriteBatch(bars=make_bars("BBB", minutes("2024-03-01 15:00", 2))))
    store.write(WriteBatch(bars=make_bars("AAA", ["2024-02-29"], interval="1d")))

    assert store.last_timestamps("1m") == {
        "AAA": T("2024-03-01 14:32"),
        "BBB": T("2024-03-01 15:01"),
    }
    assert store.last_timestamps("1m", ["AAA", "ZZZ"]) == {"AAA": T("2024-03-01 14:32")}
    assert store.last_timestamps("1d") == {"AAA": T("2024-02-29")}
    assert store.last_timestamps("5m") == {}
    assert str(store.last_timestamps("1d")["AAA"].tz) == "UTC"


def test_asof_bars_sees_a_bar_only_once_it_has_closed(store: Store) -> None:
    store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 2), [10.0, 11.0])))
    store.write(WriteBatch(bars=make_bars("AAA", ["2024-03-01"], [50.0], interval="1d")))
    left = pd.DataFrame(
        {
            "symbol": ["AAA", "AAA", "BBB", "AAA", "AAA"],
            "ts": [
                T("2024-03-01 14:32:30"),
                T("2024-03-01 14:30:59"),  # the 14:30 bar closes at 14:31
                T("2024-03-01 14:35"),
                T("2024-03-01 14:31"),  # exactly at its close
                T("2024-03-01 14:32:30"),
            ],
        },
        index=[10, 11, 12, 13, 14],
    )

    out = store.asof_bars(left, "1m")

    assert list(out.columns) == ["symbol", "ts", "bar_ts", "open", "high", "low", "close", "volume"]
    assert dtypes(out) == {
        "symbol": "str",
        "ts": TS,
        "bar_ts": TS,
        **{c: "float64" for c in ("open", "high", "low", "close", "volume")},
    }
    assert out["symbol"].tolist() == left["symbol"].tolist()
    assert stamps(out["ts"]) == stamps(left["ts"])
    bar_ts = [T("2024-03-01 14:31"), pd.NaT, pd.NaT, T("2024-03-01 14:30"), T("2024-03-01 14:31")]
    assert out["bar_ts"].tolist() == bar_ts
    np.testing.assert_array_equal(out["close"], [11.0, np.nan, np.nan, 10.0, 11.0])
    np.testing.assert_array_equal(out["high"], [13.0, np.nan, np.nan, 12.0, 13.0])

    daily = store.asof_bars(
        pd.DataFrame({"symbol": ["AAA", "AAA"], "ts": [T("2024-03-01 23:59"), T("2024-03-02")]}),
        "1d",
    )
    np.testing.assert_array_equal(daily["close"], [np.nan, 50.0])


# -- corporate actions and adjusted reads -------------------------------------------------


def test_adjusted_reads_match_hand_computed_prices(store: Store) -> None:
    # Daily: a 2:1 split goes ex on 03-04, a $1 dividend on 03-06. The last raw daily
    # close before 03-06 is 50, so the dividend factor is 1 - 1/50 = 0.98.
    daily = make_bars(
        "XYZ",
        ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"],
        [100.0, 52.0, 50.0, 49.0],
        interval="1d",
        volume=[1000.0, 2000.0, 2000.0, 1500.0],
    )
    # 1m: the last raw 1m close before 03-06 is 40, so there the factor is 1 - 1/40.
    intraday = make_bars("XYZ", ["2024-03-05 20:59", "2024-03-06 14:30"], [40.0, 39.0])
    other = make_bars("OTH", ["2024-03-01", "2024-03-06"], [10.0, 10.0], interval="1d")
    acts = actions(
        [
            ("XYZ", date(2024, 3, 4), "split", 2.0, 0.0, "sim"),
            ("XYZ", date(2024, 3, 6), "dividend", 1.0, 1.0, "sim"),
        ]
    )
    store.write(WriteBatch(bars=pd.concat([daily, intraday, other]), corporate_actions=acts))

    raw = store.read_bars(["XYZ"], "1d")
    splits = store.read_bars(["XYZ", "OTH"], "1d", adjust="splits")
    full = store.read_bars(["XYZ", "OTH"], "1d", adjust="all")

    assert raw["close"].tolist() == [100.0, 52.0, 50.0, 49.0]
    xyz_s, xyz_a = splits[splits["symbol"] == "XYZ"], full[full["symbol"] == "XYZ"]
    np.testing.assert_allclose(xyz_s["close"], [50.0, 52.0, 50.0, 49.0], rtol=1e-12)
    np.testing.assert_allclose(xyz_s["high"], [51.0, 54.0, 52.0, 51.0], rtol=1e-12)
    np.testing.assert_allclose(xyz_s["volume"], [2000.0, 2000.0, 2000.0, 1500.0], rtol=1e-12)
    np.testing.assert_allclose(xyz_a["close"], [49.0, 50.96, 49.0, 49.0], rtol=1e-12)
    np.testing.assert_allclose(xyz_a["low"], [48.51, 49.98, 48.02, 48.0], rtol=1e-12)
    np.testing.assert_allclose(xyz_a["volume"], [2000.0, 2000.0, 2000.0, 1500.0], rtol=1e-12)
    assert full[full["symbol"] == "OTH"]["close"].tolist() == [10.0, 10.0]
    assert dtypes(full) == BAR_DTYPES

    minute = store.read_bars(["XYZ"], "1m", adjust="all")
    np.testing.assert_allclose(minute["close"], [39.0, 39.0], rtol=1e-12)  # 40 * 0.975
    assert store.read_bars(["XYZ"], "1m", adjust="splits")["close"].tolist() == [40.0, 39.0]
    # adjusting never rewrites the stored raw bars
    pd.testing.assert_frame_equal(store.read_bars(["XYZ"], "1d"), raw)


def test_corporate_actions_round_trip_sorted_and_never_rewritten(store: Store) -> None:
    acts = actions(
        [
            ("ZZ", date(2024, 1, 2), "split", 3.0, 0.0, "sim"),
            ("AAA", date(2024, 5, 1), "split", 2.0, 0.0, "sim"),
            ("AAA", date(2024, 2, 1), "split", 4.0, 0.0, "sim"),
            ("AAA", date(2024, 2, 1), "dividend", 1.0, 0.25, "yahoo"),
        ]
    )
    assert store.write(WriteBatch(corporate_actions=acts)) == WriteResult(corporate_actions=4)
    changed = acts.assign(ratio=9.0, amount=9.0)
    assert store.write(WriteBatch(corporate_actions=changed)) == WriteResult()

    out = store.read_corporate_actions()

    assert list(out.columns) == list(ACTION_COLUMNS)
    assert dtypes(out) == {
        "symbol": "str",
        "ex_date": "object",
        "kind": "str",
        "ratio": "float64",
        "amount": "float64",
        "source": "str",
    }
    assert [tuple(r) for r in out.itertuples(index=False)] == [
        ("AAA", date(2024, 2, 1), "dividend", 1.0, 0.25, "yahoo"),
        ("AAA", date(2024, 2, 1), "split", 4.0, 0.0, "sim"),
        ("AAA", date(2024, 5, 1), "split", 2.0, 0.0, "sim"),
        ("ZZ", date(2024, 1, 2), "split", 3.0, 0.0, "sim"),
    ]
    assert type(out["ex_date"].iloc[0]) is date
    assert store.read_corporate_actions(["ZZ", "NONE"])["symbol"].tolist() == ["ZZ"]


# -- news, macro --------------------------------------------------------------------------


def test_news_round_trip_and_symbol_and_time_filters(store: Store) -> None:
    headline = 'Apple, "quoted"\nsecond line, ünïcödé ✓'
    items = news(
        [
            ("n1", T("2024-03-01 09:00"), T("2024-03-01 09:05"), headline, "AAPL,MSFT", "", np.nan),
            ("n2", T("2024-03-01 08:59"), T("2024-03-01 09:01"), "Tesla", "TSLA", "b", -0.5),
            ("n0", T("2024-03-01 09:04"), T("2024-03-01 09:05"), "Microsoft", "MSFT", "c", 0.25),
        ]
    )
    assert store.write(WriteBatch(news=items)) == WriteResult(news=3)
    assert store.write(WriteBatch(news=items.assign(headline="changed"))) == WriteResult()

    out = store.read_news()

    assert list(out.columns) == list(NEWS_COLUMNS)
    assert out["id"].tolist() == ["n2", "n0", "n1"]
    first = out[out["id"] == "n1"].iloc[0]
    assert (first["headline"], first["body"], first["symbols"]) == (headline, "", "AAPL,MSFT")
    assert np.isnan(first["sentiment"])
    assert out["sentiment"].tolist()[:2] == [-0.5, 0.25]
    assert stamps(out["published_at"]) == [
        T("2024-03-01 08:59"),
        T("2024-03-01 09:04"),
        T("2024-03-01 09:00"),
    ]
    assert dtypes(out)["available_at"] == TS
    assert dtypes(out)["headline"] == "str"
    assert store.read_news(["MSFT"])["id"].tolist() == ["n0", "n1"]
    assert store.read_news(["SFT", "AAP"]).empty  # whole tickers only
    assert store.read_news(["TSLA", "AAPL"])["id"].tolist() == ["n2", "n1"]
    window = store.read_news(start=T("2024-03-01 09:01"), end=T("2024-03-01 09:05"))
    assert window["id"].tolist() == ["n2"]


def test_a_story_from_two_feeds_is_stored_once_with_both_sources(store: Store) -> None:
    first = news(
        [("s1", T("2024-03-01 09:00"), T("2024-03-01 09:05"), "Acme beats", "ACME", "", np.nan)]
    )
    later = first.assign(
        source="newsapi:Reuters",
        symbols="ACME,BETA",
        available_at=T("2024-03-01 09:02"),  # the second feed had it first
        sentiment=0.6,
        sentiment_model="lexicon-vader-finance@abc",
    )
    assert store.write(WriteBatch(news=first)) == WriteResult(news=1)
    assert store.write(WriteBatch(news=later)) == WriteResult()
    both = pd.concat([first.assign(id="s2", source="rss:b"), first.assign(id="s2")])
    assert store.write(WriteBatch(news=both)) == WriteResult(news=1)  # one batch, two copies

    out = store.read_news().set_index("id")

    assert len(out) == 2
    row = out.loc["s1"]
    assert (row["source"], row["symbols"]) == ("newsapi:Reuters,rss", "ACME,BETA")
    assert pd.Timestamp(row["available_at"]) == T("2024-03-01 09:02")
    assert (row["sentiment"], row["sentiment_model"]) == (0.6, "lexicon-vader-finance@abc")
    assert out.loc["s2", "source"] == "rss,rss:b"
    assert out.loc["s2", "sentiment_model"] == ""


def test_macro_vintages_are_point_in_time(store: Store) -> None:
    releases = macro(
        [
            ("GDP", date(2024, 1, 1), T("2024-04-25 12:30"), 1.6, "fred"),
            ("GDP", date(2024, 1, 1), T("2024-05-30 12:30"), 1.3, "fred"),  # a revision
            ("GDP", date(2024, 4, 1), T("2024-07-25 12:30"), 2.8, "fred"),
            ("CPI", date(2024, 3, 1), T("2024-04-10 12:30"), 3.5, "fred"),
        ]
    )
    assert store.write(WriteBatch(macro=releases)) == WriteResult(macro=4)
    assert store.write(WriteBatch(macro=releases.assign(value=0.0))) == WriteResult()

    stored = store.read_macro(["GDP"])
    assert stored["value"].tolist() == [1.6, 1.3, 2.8]
    since = store.read_macro(["GDP", "CPI"], start=T("2024-04-25 12:30"))
    assert since["value"].tolist() == [1.6, 1.3, 2.8]  # published at or after start
    assert store.read_macro(start=T("2024-05-01"))["value"].tolist() == [1.3, 2.8]
    assert stored["period"].tolist() == [date(2024, 1, 1), date(2024, 1, 1), date(2024, 4, 1)]

    times = [
        T("2024-08-01"),
        T("2024-04-24"),
        T("2024-04-25 12:30"),
        T("2024-05-29"),
        T("2024-06-01"),
        T("2024-04-24"),
    ]
    out = store.asof_macro(times, ["GDP", "CPI", "NONE"])

    assert list(out.columns) == ["ts", "series_id", "period", "value", "realtime_start"]
    assert dtypes(out) == {
        "ts": TS,
        "series_id": "str",
        "period": "object",
        "value": "float64",
        "realtime_start": TS,
    }
    assert [tuple(r) for r in out.itertuples(index=False)] == [
        (T("2024-04-24"), "CPI", date(2024, 3, 1), 3.5, T("2024-04-10 12:30")),
        (T("2024-04-25 12:30"), "CPI", date(2024, 3, 1), 3.5, T("2024-04-10 12:30")),
        (T("2024-04-25 12:30"), "GDP", date(2024, 1, 1), 1.6, T("2024-04-25 12:30")),
        (T("2024-05-29"), "CPI", date(2024, 3, 1), 3.5, T("2024-04-10 12:30")),
        (T("2024-05-29"), "GDP", date(2024, 1, 1), 1.6, T("2024-04-25 12:30")),
        (T("2024-06-01"), "CPI", date(2024, 3, 1), 3.5, T("2024-04-10 12:30")),
        (T("2024-06-01"), "GDP", date(2024, 1, 1), 1.3, T("2024-05-30 12:30")),
        (T("2024-08-01"), "CPI", date(2024, 3, 1), 3.5, T("2024-04-10 12:30")),
        (T("2024-08-01"), "GDP", date(2024, 4, 1), 2.8, T("2024-07-25 12:30")),
    ]


# -- quarantine, ingest log, symbols ------------------------------------------------------


def test_quarantine_is_idempotent_by_key_and_reads_newest_first(store: Store) -> None:
    first = quarantine(
        [
            ("k1", "bar", "sim", "AAA", "1m", T("2024-03-01 14:30"), "ohlc", "rejected"),
            ("k2", "bar", "sim", "AAA", "1m", T("2024-03-01 14:31"), "spike", "flagged"),
            ("k3", "news", "rss", None, None, pd.NaT, "parse", "rejected"),
        ]
    )
    assert store.write(WriteBatch(quarantine=first)) == WriteResult(quarantine=3)
    assert store.write(WriteBatch(quarantine=first.assign(reason="other"))) == WriteResult()
    time.sleep(0.002)
    second = quarantine(
        [
            ("k5", "bar", "sim", "CCC", "1m", T("2024-03-02 14:30"), "ohlc", "rejected"),
            ("k4", "bar", "yahoo", "BBB", "1d", T("2024-03-02"), "ohlc", "rejected"),
        ]
    )
    assert store.write(WriteBatch(quarantine=second)) == WriteResult(quarantine=2)

    out = store.read_quarantine()

    assert out["key"].tolist() == ["k4", "k5", "k1", "k2", "k3"]
    assert out["reason"].tolist() == ["ohlc", "ohlc", "ohlc", "spike", "parse"]
    assert dtypes(out)["ts"] == TS
    assert dtypes(out)["ingested_at"] == TS
    k3 = out.iloc[4]
    assert pd.isna(k3["symbol"])
    assert pd.isna(k3["interval"])
    assert pd.isna(k3["ts"])
    assert out.iloc[1]["symbol"] == "CCC"
    assert store.read_quarantine(limit=2)["key"].tolist() == ["k4", "k5"]
    assert store.read_quarantine(disposition="flagged")["key"].tolist() == ["k2"]
    counts = store.quarantine_counts()
    assert dtypes(counts) == {
        "kind": "str",
        "source": "str",
        "reason": "str",
        "disposition": "str",
        "n": "int64",
    }
    assert [tuple(r) for r in counts.itertuples(index=False)] == [
        ("bar", "sim", "ohlc", "rejected", 2),
        ("bar", "sim", "spike", "flagged", 1),
        ("bar", "yahoo", "ohlc", "rejected", 1),
        ("news", "rss", "parse", "rejected", 1),
    ]


def test_ingest_log_inserts_then_updates_and_lists_newest_first(store: Store) -> None:
    run = IngestRecord(
        run_id="r1",
        source="sim",
        target="1m",
        started_at=T("2024-03-01 10:00"),
        params={"b": 2, "a": [1, "x"]},
    )
    store.record_ingest(run)
    store.record_ingest(
        IngestRecord(run_id="r2", source="files", target="1d", started_at=T("2024-03-01 11:00"))
    )
    store.record_ingest(
        IngestRecord(
            run_id="r1",
            source="sim",
            target="1m",
            started_at=T("2024-03-01 10:00"),
            finished_at=T("2024-03-01 10:05"),
            status="ok",
            checksum="abc",
            params={"b": 2, "a": [1, "x"]},
            n_bars=10,
            n_rejected=1,
            n_flagged=2,
            message="done",
        )
    )

    log = store.ingest_log()

    assert log["run_id"].tolist() == ["r2", "r1"]
    assert log.iloc[1].to_dict() == {
        "run_id": "r1",
        "source": "sim",
        "target": "1m",
        "started_at": T("2024-03-01 10:00"),
        "finished_at": T("2024-03-01 10:05"),
        "status": "ok",
        "checksum": "abc",
        "params": '{"a": [1, "x"], "b": 2}',
        "n_bars": 10,
        "n_rejected": 1,
        "n_flagged": 2,
        "message": "done",
    }
    assert pd.isna(log.iloc[0]["finished_at"])
    assert log.iloc[0]["status"] == "running"
    assert dtypes(log)["finished_at"] == TS
    assert dtypes(log)["n_bars"] == "int64"
    assert store.ingest_log(limit=1)["run_id"].tolist() == ["r2"]


def test_symbols_are_upserted(store: Store) -> None:
    def table(rows: list[tuple]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["symbol", "calendar", "kind", "description", "source"])

    first = table(
        [("BBB", "XNYS", "equity", "Beta", "sim"), ("AAA", "XNYS", "equity", "Alpha", "sim")]
    )
    assert store.write(WriteBatch(symbols=first)) == WriteResult(symbols=2)
    update = table([("AAA", "XNAS", "etf", "Alpha Inc", "yahoo")])
    assert store.write(WriteBatch(symbols=update)) == WriteResult(symbols=1)

    out = store.symbols()

    assert [tuple(r) for r in out.itertuples(index=False)] == [
        ("AAA", "XNAS", "etf", "Alpha Inc", "yahoo"),
        ("BBB", "XNYS", "equity", "Beta", "sim"),
    ]
    assert set(dtypes(out).values()) == {"str"}


# -- lifecycle, empty reads ---------------------------------------------------------------


def test_a_reopened_store_keeps_its_data_and_stays_idempotent(
    store: Store, open_url: Callable[[], Store]
) -> None:
    bars = make_bars("AAA", minutes("2024-03-01 14:30", 5))
    store.write(WriteBatch(bars=bars))
    before = store.read_bars(["AAA"], "1m")
    store.close()

    again = open_url()

    pd.testing.assert_frame_equal(again.read_bars(["AAA"], "1m"), before)
    assert again.write(WriteBatch(bars=bars)) == WriteResult()
    assert again.series()["n_bars"].tolist() == [5]


def test_reads_of_an_empty_store_have_the_same_columns_and_dtypes(store: Store) -> None:
    assert store.write(WriteBatch()) == WriteResult()
    assert dtypes(store.read_bars(["AAA"], "1m", adjust="all")) == BAR_DTYPES
    assert dtypes(store.last_bars(["AAA"], "1m", 5)) == BAR_DTYPES
    assert dtypes(store.series()) == {
        "symbol": "str",
        "interval": "str",
        "source": "str",
        "first_ts": TS,
        "last_ts": TS,
        "n_bars": "int64",
    }
    assert dtypes(store.read_corporate_actions())["symbol"] == "str"
    assert list(store.read_news().columns) == list(NEWS_COLUMNS)
    assert dtypes(store.read_news())["published_at"] == TS
    assert list(store.read_macro().columns) == list(MACRO_COLUMNS)
    assert dtypes(store.read_quarantine())["ingested_at"] == TS
    assert list(store.quarantine_counts().columns) == [
        "kind",
        "source",
        "reason",
        "disposition",
        "n",
    ]
    assert dtypes(store.ingest_log())["started_at"] == TS
    assert list(store.symbols().columns) == ["symbol", "calendar", "kind", "description", "source"]
    assert store.asof_macro([T("2024-01-01")], ["GDP"]).empty
    assert store.last_timestamps("1m") == {}
