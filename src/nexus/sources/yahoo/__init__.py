"""Bars, splits and dividends from Yahoo Finance (through yfinance).

Yahoo's prices are split-adjusted; this source undoes that so Nexus stores raw
prices, and reports splits and dividends as corporate actions. See
:mod:`nexus.sources.yahoo._parse` for the frame it reads.
"""

from nexus.sources.yahoo._config import YahooConfig
from nexus.sources.yahoo._history import yfinance_history
from nexus.sources.yahoo._source import YahooSource

__all__ = ["YahooConfig", "YahooSource", "yfinance_history"]
