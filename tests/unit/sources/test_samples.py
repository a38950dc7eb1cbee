"""The samples source: real data shipped by backtesting and arch, loaded offline."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nexus.domain import BAR_COLUMNS, Interval
from nexus.errors import UnknownSymbolError
from nexus.sources import _base
from nexus.sources.samples import SamplesConfig, SamplesSource, available_samples
from nexus.sources.samples._parse import parse_sample


@pytest.fixture(scope="module")
def batches() -> dict[str, _base.SourceBatch]:
    return {b.bars["symbol"].iloc[0]: b for b in SamplesSource().fetch()}


def test_available_samples_lists_name_description_interval_rows() -> None:
    info = available_samples()
    assert [(s.name, s.interval, s.rows) for s in info] == [
        ("GOOG", "1d", 2148),
        ("EURUSD", "1h", 5000),
        ("SPX", "1d", 5031),
        ("NASDAQ", "1d", 5031),
    ]
    assert "^IXIC" in info[3].description
    name, description, interval, rows = info[0]  # a plain tuple as well
    assert (name, interval, rows) == ("GOOG", "1d", 2148)
    assert "raw" in description


@pytest.mark.parametrize(
    ("symbol", "first", "last", "rows"),
    [
        ("GOOG", "2004-08-19", "2013-03-01", 2148),
        ("EURUSD", "2017-04-19 09:00", "2018-02-07 15:00", 5000),
        ("SPX", "1999-01-04", "2018-12-31", 5031),
        ("NASDAQ", "1999-01-04", "2018-12-31", 5031),
    ],
)
def test_each_sample_has_its_range_in_utc(
    batches: dict[str, _base.SourceBatch], symbol: str, first: str, last: str, rows: int
) -> None:
    bars = batches[symbol].bars
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert len(bars) == rows
    assert bars["ts"].iloc[0] == pd.Timestamp(first, tz="UTC")
    assert bars["ts"].iloc[-1] == pd.Timestamp(last, tz="UTC")
    assert str(bars["ts"].dtype) == "datetime64[us, UTC]"
    assert set(bars["source"]) == {"samples"}
    assert batches[symbol].rejects.empty


def test_goog_prices_are_the_raw_shipped_values(batches: dict[str, _base.SourceBatch]) -> None:
    first = batches["GOOG"].bars.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        100.0,
        104.06,
        95.96,
        100.34,
    )
    assert first["volume"] == 22351900.0


def test_daily_samples_are_midnight_session_dates(batches: dict[str, _base.SourceBatch]) -> None:
    for symbol in ("GOOG", "SPX", "NASDAQ"):
        ts = batches[symbol].bars["ts"]
        assert (ts == ts.dt.normalize()).all()
        assert set(batches[symbol].bars["interval"]) == {"1d"}
        assert not (ts.dt.day_of_week >= 5).any()


def test_eurusd_weeks_open_at_17_new_york(batches: dict[str, _base.SourceBatch]) -> None:
    bars = batches["EURUSD"].bars
    assert set(bars["interval"]) == {"1h"}
    ts = bars["ts"]
    week_open = ts[ts.diff() > pd.Timedelta(days=1)]
    local = week_open.dt.tz_convert("America/New_York")
    assert set(local.dt.hour) == {17}  # UTC open labels: 21:00 UTC (EDT), 22:00 UTC (EST)
    assert set(week_open.dt.hour) == {21, 22}


def test_first_batch_carries_all_symbols(batches: dict[str, _base.SourceBatch]) -> None:
    symbols = next(iter(batches.values())).symbols
    assert symbols.set_index("symbol")[["calendar", "kind"]].to_dict("index") == {
        "GOOG": {"calendar": "XNYS", "kind": "equity"},
        "EURUSD": {"calendar": "FX", "kind": "fx"},
        "SPX": {"calendar": "XNYS", "kind": "index"},
        "NASDAQ": {"calendar": "XNYS", "kind": "index"},
    }
    assert set(symbols["source"]) == {"samples"}
    assert [b.symbols is None for b in batches.values()] == [False, True, True, True]


def test_names_are_case_insensitive_and_ordered() -> None:
    source = SamplesSource(SamplesConfig(names=["spx", "goog", "SPX"]))
    assert source.total() == 2
    assert [b.bars["symbol"].iloc[0] for b in source.fetch()] == ["SPX", "GOOG"]
    assert source.describe()["names"] == ["SPX", "GOOG"]
    assert source.describe()["samples"][0]["origin"] == "arch.data.sp500.load()"
    assert isinstance(source, _base.Source)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSymbolError, match=r"'NDX' is not known; use one of GOOG, EURUSD"):
        SamplesConfig(names=["NDX"])


def test_unusable_rows_become_rejects() -> None:
    frame = pd.DataFrame(
        {
            "Open": [1.0, None, 3.0],
            "High": [2.0, 2.0, float("inf")],
            "Low": 0.5,
            "Close": 1.5,
            "Volume": [10, 20, 30],
        },
        index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
    )
    bars, rejects = parse_sample(frame, "X", Interval.D1)
    assert bars["ts"].tolist() == [pd.Timestamp("2024-01-02", tz="UTC")]
    assert rejects["reason"].tolist() == ["missing_column_value", "bad_number"]
    assert json.loads(rejects["payload"].iloc[0])["Open"] is None
    assert rejects["ts"].iloc[1] == pd.Timestamp("2024-01-04", tz="UTC")
