"""The finance lexicon layered on VADER's, on VADER's valence scale (-4 .. 4).

Three kinds of entries:

* finance events VADER does not know or scores too weakly (``beats``,
  ``downgraded``, ``plunge``, ``lawsuit`` ...);
* words VADER scores by their everyday meaning that are neutral terms of art in
  finance: set to 0 (``shares`` is +1.2 and ``gross`` -2.1 in VADER, but "gross
  margin" and "shares rose" carry no sentiment by themselves), or flipped
  (``overweight`` is an analyst's buy rating, not a body weight);
* phrases (keys with a space) whose meaning comes from the combination:
  "raises guidance", "record profit", "chapter 11". Before scoring, a phrase
  in the text is joined with ``_`` into one token that the lexicon scores.

Changing anything here changes :attr:`LexiconSentiment.version`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["FINANCE_LEXICON"]

_BULLISH = {
    "beat": 2.0,
    "beats": 2.0,
    "exceed": 1.5,
    "exceeds": 1.5,
    "exceeded": 1.5,
    "outperform": 2.0,
    "outperforms": 2.0,
    "outperformed": 2.0,
    "upgrade": 2.0,
    "upgrades": 2.0,
    "upgraded": 2.0,
    "overweight": 1.5,  # VADER: -1.5 (body weight); in finance a buy rating
    "surge": 2.5,
    "surges": 2.5,
    "surged": 2.5,
    "soar": 2.5,
    "soars": 2.5,
    "soared": 2.5,
    "jump": 1.5,
    "jumps": 1.5,
    "jumped": 1.5,
    "rally": 2.0,
    "rallies": 2.0,
    "rallied": 2.0,
    "rebound": 1.5,
    "rebounds": 1.5,
    "rebounded": 1.5,
    "bullish": 2.5,
    "upbeat": 1.8,
    "tailwind": 1.5,
    "tailwinds": 1.5,
    "buyback": 1.5,
    "buybacks": 1.5,
    "raise guidance": 2.5,
    "raises guidance": 2.5,
    "raised guidance": 2.5,
    "lifts guidance": 2.5,
    "boosts guidance": 2.5,
    "record profit": 3.0,
    "record earnings": 3.0,
    "record revenue": 2.5,
    "record sales": 2.5,
    "record high": 2.5,
    "all-time high": 2.5,
}

_BEARISH = {
    "miss": -2.0,  # VADER: -0.6
    "misses": -2.0,  # VADER: -0.9
    "missed": -2.0,  # VADER: -1.2
    "shortfall": -2.0,
    "underperform": -2.0,
    "underperforms": -2.0,
    "underperformed": -2.0,
    "downgrade": -2.0,
    "downgrades": -2.0,
    "downgraded": -2.0,
    "underweight": -1.5,
    "plunge": -2.5,
    "plunges": -2.5,
    "plunged": -2.5,
    "tumble": -2.2,
    "tumbles": -2.2,
    "tumbled": -2.2,
    "slump": -2.2,
    "slumps": -2.2,
    "slumped": -2.2,
    "sink": -2.0,
    "sinks": -2.0,
    "sank": -2.0,
    "selloff": -2.0,
    "sell-off": -2.0,
    "bearish": -2.5,
    "downbeat": -1.5,
    "headwind": -1.5,
    "headwinds": -1.5,
    "lawsuit": -2.0,  # VADER: -0.9
    "lawsuits": -2.0,
    "sued": -2.0,
    "sues": -2.0,
    "probe": -2.0,
    "probes": -2.0,
    "investigation": -1.5,
    "subpoena": -2.0,
    "subpoenaed": -2.0,
    "fined": -2.0,
    "recall": -2.0,
    "recalls": -2.0,
    "recalled": -2.0,
    "halted": -1.5,
    "bankruptcy": -3.0,
    "insolvency": -3.0,
    "insolvent": -3.0,
    "default": -2.5,
    "defaults": -2.5,
    "defaulted": -2.5,
    "delisted": -2.5,
    "delisting": -2.5,
    "layoff": -2.0,
    "layoffs": -2.0,
    "impairment": -1.8,
    "writedown": -1.8,
    "write-down": -1.8,
    "cuts guidance": -2.5,
    "cut guidance": -2.5,
    "lower guidance": -2.5,
    "lowers guidance": -2.5,
    "lowered guidance": -2.5,
    "slashes guidance": -2.5,
    "withdraws guidance": -2.0,
    "profit warning": -3.0,
    "record loss": -3.0,
    "record low": -2.5,
    "chapter 11": -3.0,
}

# Everyday-sentiment words that are neutral terms of art in finance news
# (VADER's valence in the comment).
_NEUTRAL = {
    "share": 0.0,  # +1.2  "shares rose", "share price"
    "shares": 0.0,  # +1.2
    "gross": 0.0,  # -2.1  "gross margin", "gross profit"
    "liability": 0.0,  # -0.8  balance-sheet item
    "liabilities": 0.0,  # -0.8
    "asset": 0.0,  # +1.5  balance-sheet item
    "assets": 0.0,  # +0.7  "assets under management"
    "debt": 0.0,  # -1.5  "debt offering", "debt markets"
    "interest": 0.0,  # +2.0  "interest rates", "interest income"
    "credit": 0.0,  # +1.6  "credit rating", "credit spreads"
    "credits": 0.0,  # +1.5  "tax credits"
    "security": 0.0,  # +1.4  a traded instrument
    "securities": 0.0,  # +1.2  "Securities and Exchange Commission"
    "treasury": 0.0,  # +0.8  "Treasury yields"
    "outstanding": 0.0,  # +3.0  "shares outstanding", "outstanding debt"
    "mature": 0.0,  # +1.8  "the notes mature in 2030"
    "free": 0.0,  # +2.3  "free cash flow"
    "crude": 0.0,  # -2.7  crude oil
    "united": 0.0,  # +1.8  United Airlines, UnitedHealth, United States
    "trust": 0.0,  # +2.3  "investment trust", bank names
    "care": 0.0,  # +2.2  "health care"
    "fine": 0.0,  # +0.8  ambiguous in news: a penalty as often as "all right"
    "demand": 0.0,  # -0.5  "demand for chips"
    "pay": 0.0,  # -0.4  "CEO pay"
}

FINANCE_LEXICON = MappingProxyType({**_BULLISH, **_BEARISH, **_NEUTRAL})
"""The finance entries (word or phrase -> valence on VADER's -4 .. 4 scale), read-only."""
