"""The Yahoo Finance source: daily and intraday bars, splits and dividends.

All network I/O goes through ``history``, a callable with the signature of
``yfinance.Ticker(symbol).history``; tests pass one that runs yfinance's own
parsing code on Yahoo-shaped payloads.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping

import pandas as pd

from nexus.domain import ACTION_COLUMNS, FOREX_CALENDAR, Interval, actions_frame, empty_bars
from nexus.errors import ConfigError, SourceError, UnknownSymbolError
from nexus.sources._base import SourceBatch, rejects_frame
from nexus.sources.yahoo._config import YahooConfig
from nexus.sources.yahoo._history import Failure, classify, looks_failed, yfinance_history
from nexus.sources.yahoo._parse import SOURCE, Parsed, parse_history

__all__ = ["YahooSource", "guess_market"]

History = Callable[..., pd.DataFrame]

_SUFFIX_CALENDARS = {
    ".L": "XLON",
    ".DE": "XETR",
    ".PA": "XPAR",
    ".AS": "XAMS",
    ".MI": "XMIL",
    ".SW": "XSWX",
    ".TO": "XTSE",
    ".T": "XTKS",
    ".HK": "XHKG",
    ".AX": "XASX",
}
_CRYPTO = re.compile(r"-(USD|USDT|USDC|EUR|GBP|BTC|ETH)$")


def guess_market(symbol: str) -> tuple[str, str]:
    """Guess ``(calendar, kind)`` from a Yahoo ticker's shape.

    Examples
    --------
    >>> [guess_market(s) for s in ["AAPL", "^GSPC", "EURUSD=X", "BTC-USD", "VOD.L"]]
    [('XNYS', 'equity'), ('XNYS', 'index'), ('FX', 'fx'), ('24/7', 'crypto'), ('XLON', 'equity')]
    """
    if symbol.endswith("=X"):
        return FOREX_CALENDAR, "fx"
    if symbol.endswith("=F"):
        return "CMES", "future"
    if _CRYPTO.search(symbol):
        return "24/7", "crypto"
    if symbol.startswith("^"):
        return "XNYS", "index"
    suffix = symbol[symbol.rfind(".") :] if "." in symbol else ""
    return _SUFFIX_CALENDARS.get(suffix, "XNYS"), "equity"


def _empty() -> Parsed:
    actions = actions_frame(pd.DataFrame({c: [] for c in ACTION_COLUMNS}))
    return Parsed(bars=empty_bars(), actions=actions, rejects=rejects_frame([]))


class YahooSource:
    """Bars and corporate actions from Yahoo Finance through yfinance.

    Parameters
    ----------
    config : YahooConfig
        Symbols, interval, range and retry policy.
    history : callable, optional
        ``(symbol, **kwargs) -> DataFrame`` shaped like
        ``yfinance.Ticker(symbol).history(**kwargs)``; it is called with
        ``interval, start, end, period, auto_adjust=False, actions=True``.
        Default: :func:`~nexus.sources.yahoo._history.yfinance_history`.
    sleep : callable
        ``(seconds) -> None``, used between retries.
    rng : random.Random, optional
        The source of retry jitter.

    Notes
    -----
    One batch per symbol: raw (split-unadjusted) bars, the symbol's splits and
    dividends (amounts per share as paid), and rejects. The first batch carries
    the ``symbols`` rows. With ``since``, a symbol is fetched from the date of
    its newest stored bar. A transient failure (network, rate limit, an empty
    frame from a swallowed error) is retried up to ``max_retries`` times with
    exponential backoff and jitter.
    """

    name = SOURCE

    def __init__(
        self,
        config: YahooConfig,
        history: History | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.history = history or yfinance_history
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._notes: list[str] = []

    def describe(self) -> dict:
        """The configuration and notes about what was not used."""
        return {**self.config.model_dump(mode="json"), "notes": list(self._notes)}

    def total(self) -> int:
        """One batch per symbol."""
        return len(self.config.symbols)

    def fetch(self, *, since: Mapping[str, pd.Timestamp] | None = None) -> Iterator[SourceBatch]:
        """Yield one batch per symbol.

        Raises
        ------
        UnknownSymbolError
            If Yahoo does not know a symbol or has no prices for it in the range.
        ConfigError
            If Yahoo refuses the request (a range it does not keep).
        SourceError
            If Yahoo keeps failing after ``max_retries`` retries.
        """
        interval = Interval.parse(self.config.interval)
        self._notes = []
        for i, symbol in enumerate(self.config.symbols):
            narrowed, kwargs = self._request(symbol, since)
            frame = self._download(symbol, kwargs, narrowed)
            parsed = self._parse(frame, symbol, interval)
            yield SourceBatch(
                label=symbol,
                bars=parsed.bars,
                corporate_actions=parsed.actions,
                symbols=self._symbols_frame() if i == 0 else None,
                rejects=parsed.rejects,
            )

    # -- requesting --------------------------------------------------------------

    def _request(
        self, symbol: str, since: Mapping[str, pd.Timestamp] | None
    ) -> tuple[bool, dict[str, object]]:
        cfg = self.config
        kwargs: dict[str, object] = {
            "interval": cfg.interval,
            "start": cfg.start,
            "end": cfg.end,
            "period": cfg.period,
            "auto_adjust": False,
            "actions": True,
        }
        stamp = (since or {}).get(symbol)
        if stamp is None or pd.isna(stamp):
            return False, kwargs
        day = pd.Timestamp(stamp).date()
        if (cfg.start and cfg.start >= day) or (cfg.end and day >= cfg.end):
            return False, kwargs
        kwargs.update(start=day, period=None)
        return True, kwargs

    def _delay(self, retry: int) -> float:
        return self.config.backoff_seconds * 2 ** (retry - 1) * (1.0 + 0.5 * self.rng.random())

    def _download(
        self, symbol: str, kwargs: dict[str, object], narrowed: bool
    ) -> pd.DataFrame | None:
        last = ""
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            if attempt:
                self.sleep(self._delay(attempt))
            try:
                frame = self.history(symbol, **kwargs)
            except Exception as exc:
                failure = classify(exc)
                if failure != "transient":
                    return self._permanent(symbol, failure, exc, narrowed)
                last = f"{type(exc).__name__}: {exc}"
                continue
            if not looks_failed(frame):
                return frame
            last = "yfinance returned an empty frame without action columns (an error it logged)"
        raise SourceError(
            f"Yahoo Finance failed for {symbol!r} after {attempts} attempts; last error: {last}",
            fix="check the network connection and try again later (Yahoo rate-limits bursts), "
            "or raise max_retries / backoff_seconds",
        )

    def _permanent(
        self, symbol: str, failure: Failure, exc: Exception, narrowed: bool
    ) -> pd.DataFrame | None:
        if failure == "no_data" and narrowed:
            return None  # nothing newer than what is stored
        if failure == "invalid":
            raise ConfigError(
                f"Yahoo Finance refused the request for {symbol!r} ({exc})",
                fix="Yahoo keeps 1m bars for about 7 days and other intraday bars for 60 days "
                "(1h: 730): move start/period inside that, or use interval 1d",
            ) from exc
        raise UnknownSymbolError(
            f"Yahoo Finance has no {self.config.interval} prices for {symbol!r} ({exc})",
            fix="check the ticker on https://finance.yahoo.com (indices start with ^, FX ends "
            "with =X) and the start/end/period; the symbol may be delisted",
        ) from exc

    # -- parsing ---------------------------------------------------------------------

    def _parse(self, frame: pd.DataFrame | None, symbol: str, interval: Interval) -> Parsed:
        if frame is None or frame.empty:
            return _empty()
        gains = frame.get("Capital Gains")
        if gains is not None and (gains.fillna(0) != 0).any():
            self._notes.append(f"{symbol}: capital gains distributions are not stored")
        return parse_history(frame, symbol, interval)

    def _symbols_frame(self) -> pd.DataFrame:
        rows = []
        for symbol in self.config.symbols:
            calendar, kind = guess_market(symbol)
            rows.append(
                {
                    "symbol": symbol,
                    "calendar": self.config.calendar or calendar,
                    "kind": kind,
                    "description": f"{symbol} from Yahoo Finance",
                    "source": SOURCE,
                }
            )
        return pd.DataFrame(rows, columns=["symbol", "calendar", "kind", "description", "source"])
