"""The Yahoo source, driven through yfinance's own parsing code.

No network: ``FakeYahoo`` stands in for ``yfinance.data.YfData`` (the object
yfinance sends its HTTP GETs through) and answers ``/v8/finance/chart/<symbol>``
with JSON shaped like Yahoo's. The history callable then runs the real
``yfinance.scrapers.history.PriceHistory.history`` (yfinance 1.7.0, the code
behind ``Ticker.history``) with the time zone a ``Ticker`` would have looked
up, so the frames the source parses are exactly what yfinance builds:
a ``Date`` / ``Datetime`` index in the exchange time zone, split-adjusted
OHLC, ``Adj Close``, ``Dividends``, ``Stock Splits``.
"""

from __future__ import annotations

import inspect
import json
import random
from datetime import date

import pandas as pd
import pytest
from pydantic import ValidationError
from yfinance.exceptions import YFRateLimitError
from yfinance.scrapers.history import PriceHistory

from nexus.domain import ACTION_COLUMNS, BAR_COLUMNS
from nexus.errors import ConfigError, SourceError, UnknownSymbolError
from nexus.sources import _base
from nexus.sources.yahoo import YahooConfig, YahooSource, yfinance_history
from nexus.sources.yahoo._history import yfinance_raising

NY = "America/New_York"
RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]


def _epoch(local: str, tz: str = NY) -> int:
    return int(pd.Timestamp(local, tz=tz).timestamp())


def _meta(symbol: str, granularity: str, last: int, **extra: object) -> dict:
    return {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NMS",
        "fullExchangeName": "NasdaqGS",
        "instrumentType": "EQUITY",
        "firstTradeDate": 345479400,
        "regularMarketTime": last,
        "hasPrePostMarketData": True,
        "gmtoffset": -14400,
        "timezone": "EDT",
        "exchangeTimezoneName": NY,
        "regularMarketPrice": 100.0,
        "priceHint": 2,
        "dataGranularity": granularity,
        "range": "",
        "validRanges": RANGES,
        **extra,
    }


def chart(
    symbol: str,
    stamps: list[int],
    bars: list[tuple[float, float, float, float, int]],
    *,
    granularity: str = "1d",
    events: dict | None = None,
    **meta: object,
) -> dict:
    """A Yahoo v8 chart response body."""
    quote = dict(
        zip(
            ["open", "high", "low", "close", "volume"],
            map(list, zip(*bars, strict=True)),
            strict=True,
        )
    )
    result = {
        "meta": _meta(symbol, granularity, stamps[-1] if stamps else 0, **meta),
        "timestamp": stamps,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]},
    }
    if events:
        result["events"] = events
    return {"chart": {"result": [result], "error": None}}


def chart_error(description: str, code: str = "Not Found") -> dict:
    return {"chart": {"result": None, "error": {"code": code, "description": description}}}


class FakeResponse:
    def __init__(self, text: str) -> None:
        self.text = text

    def json(self) -> dict:
        return json.loads(self.text)  # a fresh body each time: yfinance edits it in place


class FakeYahoo:
    """Answers yfinance's GETs from a script: a body or an exception per call."""

    def __init__(self, *answers: dict | Exception) -> None:
        self.answers = [a if isinstance(a, Exception) else json.dumps(a) for a in answers]
        self.calls: list[dict] = []

    def get(self, url: str, params: dict | None = None, timeout: float | None = None) -> object:
        self.calls.append({"url": url, **(params or {})})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer)

    cache_get = get


def via_yfinance(fake: FakeYahoo, tz: str | None = NY, *, raising: bool = True):
    """A history callable: the real yfinance code on the fake transport."""

    def history(symbol: str, **kwargs: object) -> pd.DataFrame:
        prices = PriceHistory(fake, symbol, tz, session=object())
        if not raising:  # yfinance's default: log errors, return an empty frame
            return prices.history(**kwargs)
        with yfinance_raising():
            return prices.history(**kwargs)

    return history


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _source(fake: FakeYahoo, tz: str | None = NY, **config: object) -> tuple[YahooSource, Sleeps]:
    config = {"symbols": ["ACME"], "start": date(2024, 6, 3), "end": date(2024, 6, 10), **config}
    sleeps = Sleeps()
    source = YahooSource(
        YahooConfig(**config), via_yfinance(fake, tz), sleeps, rng=random.Random(7)
    )
    return source, sleeps


DAYS = ["2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07"]
RAW = [  # what the exchange printed; a 2-for-1 split goes ex on 06-06
    (100.0, 102.0, 99.0, 101.0, 1000),
    (101.0, 103.0, 100.0, 102.0, 1100),
    (102.0, 104.0, 101.0, 103.0, 1200),
    (51.5, 52.0, 51.0, 51.8, 2600),
    (51.8, 52.5, 51.5, 52.0, 2400),
]


def _split_adjusted(raw: list[tuple], factors: list[float]) -> list[tuple]:
    return [
        (o / f, h / f, lo / f, c / f, int(v * f))
        for (o, h, lo, c, v), f in zip(raw, factors, strict=True)
    ]


def daily_chart(symbol: str = "ACME") -> dict:
    """Yahoo's view: prices before 06-06 halved, volumes doubled, dividend halved."""
    stamps = [_epoch(f"{d} 09:30") for d in DAYS]
    split, dividend = stamps[3], stamps[1]
    events = {
        "dividends": {str(dividend): {"amount": 0.25, "date": dividend}},
        "splits": {
            str(split): {"date": split, "numerator": 2.0, "denominator": 1.0, "splitRatio": "2:1"}
        },
    }
    bars = _split_adjusted(RAW, [2, 2, 2, 1, 1])
    return chart(symbol, stamps, bars, events=events)


# -- the frame yfinance builds ---------------------------------------------------------------


def test_fake_produces_yfinance_shaped_frames() -> None:
    frame = via_yfinance(FakeYahoo(daily_chart()))(
        "ACME", start=date(2024, 6, 3), end=date(2024, 6, 10), auto_adjust=False, actions=True
    )
    assert frame.index.name == "Date"
    assert str(frame.index.tz) == NY
    assert frame.index[0] == pd.Timestamp("2024-06-03", tz=NY)
    assert list(frame.columns) == [
        "Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits"
    ]  # fmt: skip
    assert frame["Close"].iloc[0] == 50.5  # split-adjusted, as Yahoo serves it
    assert frame["Stock Splits"].tolist() == [0, 0, 0, 2.0, 0]


# -- daily bars, splits and dividends ----------------------------------------------------------


def test_daily_bars_are_unadjusted_to_raw_prices_and_volumes() -> None:
    source, sleeps = _source(FakeYahoo(daily_chart()))
    (batch,) = list(source.fetch())
    bars = batch.bars
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert bars["ts"].tolist() == [pd.Timestamp(d, tz="UTC") for d in DAYS]
    assert bars[["open", "high", "low", "close", "volume"]].to_numpy().tolist() == [
        list(r) for r in RAW
    ]
    assert set(bars["symbol"]) == {"ACME"}
    assert set(bars["interval"]) == {"1d"}
    assert set(bars["source"]) == {"yahoo"}
    assert batch.rejects.empty
    assert sleeps == []


def test_split_and_dividend_become_corporate_actions() -> None:
    source, _ = _source(FakeYahoo(daily_chart()))
    (batch,) = list(source.fetch())
    actions = batch.corporate_actions
    assert list(actions.columns) == list(ACTION_COLUMNS)
    assert actions.to_dict("records") == [
        {
            "symbol": "ACME",
            "ex_date": date(2024, 6, 4),
            "kind": "dividend",
            "ratio": 1.0,
            "amount": 0.5,  # Yahoo's 0.25 is split-adjusted; 0.50 was paid per share
            "source": "yahoo",
        },
        {
            "symbol": "ACME",
            "ex_date": date(2024, 6, 6),
            "kind": "split",
            "ratio": 2.0,
            "amount": 0.0,
            "source": "yahoo",
        },
    ]


def test_later_splits_compound() -> None:
    stamps = [_epoch(f"{d} 09:30") for d in DAYS[:3]]
    splits = {
        str(s): {"date": s, "numerator": n, "denominator": 1.0, "splitRatio": f"{n:g}:1"}
        for s, n in [(stamps[1], 2.0), (stamps[2], 3.0)]
    }
    raw = [(60.0, 60.0, 60.0, 60.0, 100), (30.0, 30.0, 30.0, 30.0, 200), (10, 10, 10, 10, 600)]
    body = chart("ACME", stamps, _split_adjusted(raw, [6, 3, 1]), events={"splits": splits})
    source, _ = _source(FakeYahoo(body))
    (batch,) = list(source.fetch())
    assert batch.bars["close"].tolist() == [60.0, 30.0, 10.0]
    assert batch.bars["volume"].tolist() == [100.0, 200.0, 600.0]


def test_upcoming_dividend_on_a_row_without_prices_is_kept_and_the_row_rejected() -> None:
    body = daily_chart()
    upcoming = _epoch("2024-06-10 09:30")
    body["chart"]["result"][0]["events"]["dividends"][str(upcoming)] = {
        "amount": 0.3,
        "date": upcoming,
    }
    source, _ = _source(FakeYahoo(body), end=date(2024, 6, 12))
    (batch,) = list(source.fetch())
    assert len(batch.bars) == 5
    (reject,) = batch.rejects.to_dict("records")
    assert reject["reason"] == "missing_column_value"
    assert reject["ts"] == pd.Timestamp("2024-06-10", tz="UTC")
    assert json.loads(reject["payload"])["Dividends"] == 0.3
    assert batch.corporate_actions["ex_date"].tolist()[-1] == date(2024, 6, 10)


# -- intraday ----------------------------------------------------------------------------------


def test_intraday_bars_are_utc_open_times_and_unadjusted() -> None:
    days = ["2024-01-02", "2024-01-03"]  # EST: 09:30 New York is 14:30 UTC
    stamps = [_epoch(f"{d} {t}") for d in days for t in ("09:30", "09:35")]
    split = stamps[2]
    periods = [
        [{"timezone": "EST", "start": _epoch(f"{d} 09:30"), "end": _epoch(f"{d} 16:00"),
          "gmtoffset": -18000}]
        for d in days
    ]  # fmt: skip
    raw = [(10.0, 10.0, 10.0, 10.0, 10), (12, 12, 12, 12, 10), (6, 6, 6, 6, 20), (7, 7, 7, 7, 20)]
    body = chart(
        "ACME",
        stamps,
        _split_adjusted(raw, [2, 2, 1, 1]),
        granularity="5m",
        events={"splits": {str(split): {"date": split, "numerator": 2, "denominator": 1}}},
        tradingPeriods=periods,
    )
    fake = FakeYahoo(body)
    source, _ = _source(fake, interval="5m", start=date(2024, 1, 2), end=date(2024, 1, 4))
    (batch,) = list(source.fetch())
    assert fake.calls[0]["interval"] == "5m"
    assert batch.bars["ts"].tolist() == [
        pd.Timestamp("2024-01-02 14:30", tz="UTC"),
        pd.Timestamp("2024-01-02 14:35", tz="UTC"),
        pd.Timestamp("2024-01-03 14:30", tz="UTC"),
        pd.Timestamp("2024-01-03 14:35", tz="UTC"),
    ]
    assert batch.bars["close"].tolist() == [10.0, 12.0, 6.0, 7.0]
    assert set(batch.bars["interval"]) == {"5m"}
    assert batch.corporate_actions[["ex_date", "ratio"]].values.tolist() == [
        [date(2024, 1, 3), 2.0]
    ]


# -- retries and failures -----------------------------------------------------------------------


def test_transient_failures_are_retried_with_growing_jittered_sleeps() -> None:
    fake = FakeYahoo(ConnectionError("connection reset"), YFRateLimitError(), daily_chart())
    source, sleeps = _source(fake, backoff_seconds=1.0)
    (batch,) = list(source.fetch())
    assert len(batch.bars) == 5
    assert len(fake.calls) == 3
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] < 1.5
    assert 2.0 <= sleeps[1] < 3.0


def test_empty_frame_from_a_swallowed_error_is_retried() -> None:
    fake = FakeYahoo(ConnectionError("timeout"), daily_chart())
    sleeps = Sleeps()
    config = YahooConfig(symbols=["ACME"], start=date(2024, 6, 3), end=date(2024, 6, 10))
    history = via_yfinance(fake, raising=False)  # yfinance logs and returns empty_df()
    (batch,) = list(YahooSource(config, history, sleeps).fetch())
    assert len(batch.bars) == 5
    assert len(sleeps) == 1


def test_permanent_failure_is_a_source_error_naming_symbol_and_last_error() -> None:
    fake = FakeYahoo(ConnectionError("network is unreachable"))
    source, sleeps = _source(fake, max_retries=2)
    with pytest.raises(SourceError) as err:
        list(source.fetch())
    message = str(err.value)
    assert "'ACME' after 3 attempts" in message
    assert "ConnectionError: network is unreachable" in message
    assert "try again later" in message
    assert len(fake.calls) == 3
    assert len(sleeps) == 2


def test_symbol_without_time_zone_is_unknown_without_retries() -> None:
    fake = FakeYahoo(daily_chart())
    source, sleeps = _source(fake, tz=None, symbols=["NOPE"])  # Ticker found no time zone
    with pytest.raises(UnknownSymbolError, match=r"'NOPE'.*no timezone found.*finance\.yahoo"):
        list(source.fetch())
    assert sleeps == []


def test_yahoo_not_found_is_unknown_symbol() -> None:
    fake = FakeYahoo(chart_error("No data found, symbol may be delisted"))
    source, sleeps = _source(fake, symbols=["ZZZZ"], start=None, end=None, period="1mo")
    with pytest.raises(UnknownSymbolError, match="symbol may be delisted"):
        list(source.fetch())
    assert (len(fake.calls), sleeps) == (1, [])


def test_no_prices_in_range_is_unknown_unless_fetching_since_stored() -> None:
    empty = chart("ACME", [], [(1.0, 1.0, 1.0, 1.0, 1)])
    empty["chart"]["result"][0]["indicators"]["quote"] = [{}]
    source, _ = _source(FakeYahoo(empty))
    with pytest.raises(UnknownSymbolError, match="no price data found"):
        list(source.fetch())
    (batch,) = list(source.fetch(since={"ACME": pd.Timestamp("2024-06-07", tz="UTC")}))
    assert batch.bars.empty
    assert batch.corporate_actions.empty


def test_range_yahoo_does_not_keep_is_a_config_error() -> None:
    reason = "1m data not available for startTime=1 and endTime=2. The requested range must be within the last 30 days."  # noqa: E501
    fake = FakeYahoo(chart_error(reason, code="Unprocessable Entity"))
    source, _ = _source(fake, interval="1m")
    with pytest.raises(ConfigError, match=r"1m data not available.*7 days"):
        list(source.fetch())


# -- requests -------------------------------------------------------------------------------------


def test_since_narrows_the_request_to_the_newest_stored_day() -> None:
    fake = FakeYahoo(daily_chart())
    source, _ = _source(fake, start=date(2024, 1, 1), end=None, period=None)
    list(source.fetch(since={"ACME": pd.Timestamp("2024-06-05", tz="UTC")}))
    assert fake.calls[0]["period1"] == _epoch("2024-06-05")


def test_default_history_calls_yfinance_with_raw_prices_and_actions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yfinance

    seen: list[tuple[str, dict, bool]] = []

    class FakeTicker:
        def __init__(self, symbol: str) -> None:
            self.symbol = symbol

        def history(self, **kwargs: object) -> pd.DataFrame:
            seen.append((self.symbol, kwargs, yfinance.config.debug.hide_exceptions))
            return via_yfinance(FakeYahoo(daily_chart()))(self.symbol, **kwargs)

    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    source = YahooSource(
        YahooConfig(symbols=["acme"], start=date(2024, 6, 3), end=date(2024, 6, 10))
    )
    assert source.history is yfinance_history
    (batch,) = list(source.fetch())
    assert len(batch.bars) == 5
    ((symbol, kwargs, hidden),) = seen
    assert symbol == "ACME"
    assert kwargs["auto_adjust"] is False
    assert kwargs["actions"] is True
    assert hidden is False  # yfinance raises instead of logging while we call it
    assert yfinance.config.debug.hide_exceptions is True  # and is restored after
    inspect.signature(PriceHistory.history).bind(None, **kwargs)  # yfinance accepts them


# -- metadata ------------------------------------------------------------------------------


def test_first_batch_carries_symbols_with_guessed_calendars() -> None:
    fake = FakeYahoo(daily_chart())
    source, _ = _source(fake, symbols=["ACME", "EURUSD=X", "^GSPC"])
    batches = list(source.fetch())
    assert source.total() == 3
    assert [b.label for b in batches] == ["ACME", "EURUSD=X", "^GSPC"]
    symbols = batches[0].symbols
    assert symbols[["symbol", "calendar", "kind"]].values.tolist() == [
        ["ACME", "XNYS", "equity"],
        ["EURUSD=X", "FX", "fx"],
        ["^GSPC", "XNYS", "index"],
    ]
    assert set(symbols["source"]) == {"yahoo"}
    assert batches[1].symbols is None
    assert isinstance(source, _base.Source)
    assert source.describe()["symbols"] == ["ACME", "EURUSD=X", "^GSPC"]


def test_fund_capital_gains_are_noted() -> None:
    body = daily_chart("FUND")
    body["chart"]["result"][0]["meta"]["instrumentType"] = "ETF"
    gain = _epoch("2024-06-05 09:30")
    body["chart"]["result"][0]["events"]["capitalGains"] = {
        str(gain): {"amount": 0.1, "date": gain}
    }
    source, _ = _source(FakeYahoo(body), symbols=["FUND"])
    (batch,) = list(source.fetch())
    assert len(batch.bars) == 5
    assert any("capital gains" in n for n in source.describe()["notes"])


@pytest.mark.parametrize(
    "config",
    [
        {"symbols": []},
        {"symbols": ["A"], "interval": "1wk"},
        {"symbols": ["A"], "period": "7y"},
        {"symbols": ["A"], "start": date(2024, 1, 1), "end": date(2024, 2, 1), "period": "1y"},
        {"symbols": ["A"], "start": date(2024, 2, 1), "end": date(2024, 1, 1)},
        {"symbols": ["A"], "max_retries": -1},
    ],
)
def test_bad_configs_are_rejected(config: dict) -> None:
    with pytest.raises(ValidationError):
        YahooConfig(**config)
