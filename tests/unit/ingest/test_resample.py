"""Session-aware resampling against bars computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.errors import ConfigError, DataError
from nexus.ingest import resample_bars


def bars(
    ts: list[str] | pd.DatetimeIndex, interval: str = "1m", symbol: str = "AAA"
) -> pd.DataFrame:
    """Bar i has open i, high i+0.5, low i-0.5, close i+0.25, volume 10*(i+1)."""
    ts = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    i = np.arange(len(ts), dtype=float) + 100
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": interval,
            "ts": ts,
            "open": i,
            "high": i + 0.5,
            "low": i - 0.5,
            "close": i + 0.25,
            "volume": 10 * (i - 99),
            "source": "t",
        }
    )


def ohlcv(frame: pd.DataFrame) -> list[list]:
    return [
        [str(r.ts), r.open, r.high, r.low, r.close, r.volume] for r in frame.itertuples(index=False)
    ]


def test_one_minute_to_five_minutes() -> None:
    one = bars(pd.date_range("2025-01-02 14:30", periods=7, freq="min"))
    five = resample_bars(one, "5m")
    assert ohlcv(five) == [
        ["2025-01-02 14:30:00+00:00", 100.0, 104.5, 99.5, 104.25, 150.0],
        ["2025-01-02 14:35:00+00:00", 105.0, 106.5, 104.5, 106.25, 130.0],
    ]
    assert five["interval"].unique().tolist() == ["5m"]


def test_gaps_are_not_invented() -> None:
    one = bars(["2025-01-02 14:30", "2025-01-02 14:31", "2025-01-02 14:47"])
    five = resample_bars(one, "5m")
    assert [str(t) for t in five["ts"]] == [
        "2025-01-02 14:30:00+00:00",
        "2025-01-02 14:45:00+00:00",
    ]


def test_hour_bars_end_at_the_close_and_never_span_sessions() -> None:
    # 15:00-15:59 ET and 15:30 ET on 2 Jan, then the 9:30 ET open on 3 Jan
    one = bars(
        [
            "2025-01-02 20:00",
            "2025-01-02 20:29",
            "2025-01-02 20:30",
            "2025-01-02 20:59",
            "2025-01-03 14:30",
            "2025-01-03 14:31",
        ]
    )
    hourly = resample_bars(one, "1h")
    assert ohlcv(hourly) == [
        ["2025-01-02 19:30:00+00:00", 100.0, 101.5, 99.5, 101.25, 30.0],
        ["2025-01-02 20:30:00+00:00", 102.0, 103.5, 101.5, 103.25, 70.0],  # the 30-minute stub
        ["2025-01-03 14:30:00+00:00", 104.0, 105.5, 103.5, 105.25, 110.0],
    ]


def test_daily_bars_per_session_on_a_half_day() -> None:
    # 29 Nov 2024 closes at 13:00 ET (18:00 UTC); 2 Dec is a full day
    one = bars(["2024-11-29 14:30", "2024-11-29 17:59", "2024-12-02 14:30", "2024-12-02 20:59"])
    daily = resample_bars(one, "1d")
    assert ohlcv(daily) == [
        ["2024-11-29 00:00:00+00:00", 100.0, 101.5, 99.5, 101.25, 30.0],
        ["2024-12-02 00:00:00+00:00", 102.0, 103.5, 101.5, 103.25, 70.0],
    ]


def test_thirty_minutes_of_a_half_day_close_on_time() -> None:
    one = bars(pd.date_range("2024-11-29 14:30", "2024-11-29 17:59", freq="min"))
    thirty = resample_bars(one, "30m")
    assert len(thirty) == 7
    assert str(thirty["ts"].iloc[-1]) == "2024-11-29 17:30:00+00:00"
    assert thirty["volume"].sum() == one["volume"].sum()


def test_symbols_are_kept_apart() -> None:
    ts = pd.date_range("2025-01-02 14:30", periods=5, freq="min")
    frame = pd.concat([bars(ts, symbol="BBB"), bars(ts, symbol="AAA")], ignore_index=True)
    five = resample_bars(frame, "5m")
    assert five["symbol"].tolist() == ["AAA", "BBB"]
    assert five["volume"].tolist() == [150.0, 150.0]


def test_resampling_to_a_finer_interval_is_refused() -> None:
    with pytest.raises(ConfigError, match="coarser"):
        resample_bars(bars(["2025-01-02 14:30"], interval="5m"), "1m")


def test_bars_outside_sessions_are_refused() -> None:
    with pytest.raises(DataError, match="outside every XNYS session"):
        resample_bars(bars(["2025-01-04 15:00"]), "5m")


def test_partial_edge_buckets_can_be_dropped() -> None:
    # starts at 14:32 (inside the 14:30 bucket), ends at 14:41 (inside the 14:40 bucket)
    one = bars(pd.date_range("2025-01-02 14:32", "2025-01-02 14:41", freq="min"))
    assert [str(t)[11:16] for t in resample_bars(one, "5m")["ts"]] == ["14:30", "14:35", "14:40"]
    kept = resample_bars(one, "5m", edges="drop")
    assert [str(t)[11:16] for t in kept["ts"]] == ["14:35"]


def test_complete_session_keeps_its_edges() -> None:
    day = bars(pd.date_range("2024-11-29 14:30", "2024-11-29 17:59", freq="min"))  # half day
    assert len(resample_bars(day, "1h", edges="drop")) == 4  # last bar 17:30-18:00 is complete
    assert len(resample_bars(day, "1d", edges="drop")) == 1
    assert resample_bars(day.iloc[1:], "1d", edges="drop").empty
