"""One test per validation rule, plus spikes and gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.domain import Interval
from nexus.ingest import RULES, ValidationConfig, count_missing_bars, validate_bars


def minute_bars(n: int = 5, symbol: str = "AAA", start: str = "2025-01-02 14:30") -> pd.DataFrame:
    """``n`` clean 1-minute bars inside the 2 Jan 2025 NYSE session."""
    ts = pd.date_range(start, periods=n, freq="min", tz="UTC")
    close = 100 + np.arange(n, dtype=float) * 0.1
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": "1m",
            "ts": ts,
            "open": close - 0.05,
            "high": close + 0.1,
            "low": close - 0.1,
            "close": close,
            "volume": 1000.0,
            "source": "test",
        }
    )


def reasons(frame: pd.DataFrame) -> list[str]:
    return validate_bars(frame).rejected["reason"].tolist()


def test_clean_bars_pass_untouched() -> None:
    bars = minute_bars()
    result = validate_bars(bars)
    assert result.rejected.empty
    assert result.flagged.empty
    pd.testing.assert_frame_equal(result.good, bars)


def test_rules_are_documented_in_order() -> None:
    assert RULES == (
        "missing_value",
        "non_positive_price",
        "negative_volume",
        "ohlc_inconsistent",
        "out_of_session",
        "duplicate",
        "out_of_order",
    )


def test_missing_value() -> None:
    bars = minute_bars()
    bars.loc[1, "close"] = np.nan
    bars.loc[3, "ts"] = pd.NaT
    assert reasons(bars) == ["missing_value", "missing_value"]


def test_non_positive_price() -> None:
    bars = minute_bars()
    bars.loc[0, ["open", "low"]] = [-1.0, -1.5]
    bars.loc[2, ["low"]] = [0.0]
    bars.loc[4, ["high"]] = [np.inf]
    assert reasons(bars) == ["non_positive_price"] * 3


def test_negative_volume() -> None:
    bars = minute_bars()
    bars.loc[2, "volume"] = -5.0
    result = validate_bars(bars)
    assert result.rejected["reason"].tolist() == ["negative_volume"]
    assert result.rejected["ts"].tolist() == [bars.loc[2, "ts"]]
    assert len(result.good) == 4


def test_zero_volume_is_valid() -> None:
    bars = minute_bars()
    bars.loc[2, "volume"] = 0.0
    assert reasons(bars) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [("high", 99.0), ("low", 200.0), ("open", 500.0), ("close", 0.5)],
)
def test_ohlc_inconsistent(column: str, value: float) -> None:
    bars = minute_bars()
    bars.loc[1, column] = value
    assert reasons(bars) == ["ohlc_inconsistent"]


def test_out_of_session_intraday() -> None:
    bars = minute_bars(3)
    extra = minute_bars(3, start="2025-01-02 21:00")  # 16:00 ET: after the close
    weekend = minute_bars(1, start="2025-01-04 15:00")  # Saturday
    holiday = minute_bars(1, start="2025-01-09 15:00")  # national day of mourning, NYSE closed
    off_grid = minute_bars(1, start="2025-01-02 15:00:30")  # not on the 1m grid
    frame = pd.concat([bars, extra, weekend, holiday, off_grid], ignore_index=True)
    result = validate_bars(frame)
    assert result.rejected["reason"].tolist() == ["out_of_session"] * 6
    assert "bar grid" in result.rejected["detail"].iloc[-1]
    assert len(result.good) == 3


def test_out_of_session_daily_and_calendar_per_symbol() -> None:
    days = pd.to_datetime(["2025-01-03", "2025-01-04", "2025-01-06"], utc=True)  # Fri, Sat, Mon
    frame = pd.DataFrame(
        {
            "symbol": ["EQ", "EQ", "FX"],
            "interval": "1d",
            "ts": days,
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": 0.0,
            "source": "t",
        }
    )
    result = validate_bars(frame, calendars={"FX": "24/5"})
    assert result.rejected["ts"].tolist() == [days[1]]
    assert result.rejected["reason"].tolist() == ["out_of_session"]


def test_session_check_can_be_disabled() -> None:
    frame = minute_bars(2, start="2025-01-04 15:00")
    assert validate_bars(frame, config=ValidationConfig(check_sessions=False)).rejected.empty


def test_duplicate_keeps_first() -> None:
    bars = minute_bars(3)
    dup = bars.iloc[[1]].assign(close=100.15)
    frame = pd.concat([bars, dup], ignore_index=True)
    result = validate_bars(frame)
    assert result.rejected["reason"].tolist() == ["duplicate"]
    assert result.good["close"].tolist() == bars["close"].tolist()


def test_same_time_for_other_symbol_is_not_duplicate() -> None:
    frame = pd.concat([minute_bars(3, "AAA"), minute_bars(3, "BBB")], ignore_index=True)
    assert reasons(frame) == []


def test_out_of_order() -> None:
    bars = minute_bars(5)
    frame = bars.iloc[[0, 1, 3, 2, 4]].reset_index(drop=True)
    result = validate_bars(frame)
    assert result.rejected["reason"].tolist() == ["out_of_order"]
    assert result.rejected["ts"].tolist() == [bars.loc[2, "ts"]]


def test_first_failing_rule_wins() -> None:
    bars = minute_bars(2)
    bars.loc[1, ["low", "volume"]] = [-1.0, -1.0]
    assert reasons(bars) == ["non_positive_price"]


def spiky_bars() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    bars = minute_bars(390)
    ret = rng.normal(0, 0.0005, len(bars))
    ret[200] = 0.05  # a +5% one-minute jump: ~100 robust sigmas
    close = 100 * np.exp(np.cumsum(ret))
    return bars.assign(open=close, high=close * 1.0001, low=close * 0.9999, close=close)


def test_spike_is_flagged_and_stored() -> None:
    bars = spiky_bars()
    result = validate_bars(bars)
    assert result.rejected.empty
    assert len(result.good) == 390
    assert result.flagged["ts"].tolist() == [bars.loc[200, "ts"]]
    assert result.flagged["reason"].tolist() == ["spike"]


def test_spike_threshold_is_configurable() -> None:
    assert validate_bars(spiky_bars(), config=ValidationConfig(spike_z=1e6)).flagged.empty


def test_split_is_not_a_spike() -> None:
    days = pd.bdate_range("2025-02-03", periods=40, tz="UTC")
    close = np.full(40, 100.0) * np.exp(np.random.default_rng(0).normal(0, 0.01, 40))
    close[20:] /= 2.0  # 2-for-1 split effective on day 20
    bars = pd.DataFrame(
        {
            "symbol": "S",
            "interval": "1d",
            "ts": days,
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": 1.0,
            "source": "t",
        }
    )
    assert len(validate_bars(bars).flagged) == 1
    actions = pd.DataFrame(
        {
            "symbol": ["S"],
            "ex_date": [days[20].date()],
            "kind": ["split"],
            "ratio": [2.0],
            "amount": [0.0],
            "source": ["t"],
        }
    )
    assert validate_bars(bars, actions=actions).flagged.empty


def test_count_missing_bars() -> None:
    first = pd.Timestamp("2025-01-02 14:30", tz="UTC")
    last = pd.Timestamp("2025-01-03 20:59", tz="UTC")  # two full sessions: 780 bars
    assert count_missing_bars("XNYS", Interval.M1, first, last, 780) == 0
    assert count_missing_bars("XNYS", Interval.M1, first, last, 700) == 80
    daily_first = pd.Timestamp("2025-01-02", tz="UTC")
    daily_last = pd.Timestamp("2025-01-10", tz="UTC")  # 2,3,6,7,8,10 (9th closed)
    assert count_missing_bars("XNYS", Interval.D1, daily_first, daily_last, 5) == 1
