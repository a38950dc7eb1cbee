"""Turning NewsAPI v2 ``/v2/everything`` responses into :class:`RawItem` values.

A page (newsapi.org v2)::

    {"status": "ok", "totalResults": 1234,
     "articles": [{"source": {"id": "reuters", "name": "Reuters"}, "author": "...",
                   "title": "...", "description": "...", "url": "https://...",
                   "urlToImage": "https://...", "publishedAt": "2024-05-01T13:45:00Z",
                   "content": "... [+2345 chars]"}]}

and an error (with HTTP 400, 401, 426, 429 or 500)::

    {"status": "error", "code": "apiKeyInvalid", "message": "Your API key is invalid..."}

Per article: ``title`` -> headline, ``description`` (else ``content``, which
NewsAPI truncates) -> body as plain text, ``url``, ``publishedAt`` (ISO 8601;
without an offset it is taken as UTC) and ``source.name`` -> ``source =
"newsapi:<outlet>"``. Withdrawn articles, which NewsAPI keeps as ``[Removed]``
placeholders, are rejected as ``removed``. A body that is not JSON is
``malformed_json``; JSON with ``"status": "error"`` is ``api_error``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from nexus.sources._news import RawItem, plain_text, reject_row, to_json

__all__ = ["Page", "article_items", "parse_page", "parse_time"]

_REMOVED = "[Removed]"
_SNIPPET = 2_000


@dataclass(frozen=True)
class Page:
    """One response: its articles, ``totalResults``, and a page-level reject if any.

    ``lossy`` is True when the body was not valid UTF-8 (undecodable bytes are
    U+FFFD; articles holding one are rejected as ``not_utf8``).
    """

    articles: list[Any] = field(default_factory=list)
    total: int | None = None
    rejects: list[dict] = field(default_factory=list)
    lossy: bool = False


def parse_time(text: object) -> pd.Timestamp | None:
    """An ISO 8601 time as UTC (naive is UTC); None when it is not one.

    Examples
    --------
    >>> parse_time("2024-05-01T13:45:00Z")
    Timestamp('2024-05-01 13:45:00+0000', tz='UTC')
    >>> parse_time("2024-05-01T09:45:00-04:00") == parse_time("2024-05-01T13:45:00")
    True
    >>> parse_time("yesterday") is None, parse_time(17) is None
    (True, True)
    """
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _page_reject(reason: str, detail: str, url: str, body: str) -> Page:
    payload = to_json({"url": url, "body": body[:_SNIPPET]})
    return Page(rejects=[reject_row(reason, detail, payload)])


def parse_page(content: bytes, *, label: str, url: str) -> Page:
    """Read one response body.

    Parameters
    ----------
    content : bytes
        The body as fetched.
    label : str
        What was asked (for reject details), e.g. ``newsapi:AAPL``.
    url : str
        The request URL without the key (for reject payloads).

    Returns
    -------
    Page

    Examples
    --------
    >>> page = parse_page(b'{"status":"ok","totalResults":0,"articles":[]}', label="q", url="u")
    >>> page.total, page.articles, page.rejects
    (0, [], [])
    >>> parse_page(b'{"status": "ok", "art', label="q", url="u").rejects[0]["reason"]
    'malformed_json'
    """
    try:
        text, lossy = content.decode("utf-8"), False
    except UnicodeDecodeError:
        text, lossy = content.decode("utf-8", errors="replace"), True
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _page_reject(
            "malformed_json", f"{label}: the response is not JSON ({exc})", url, text
        )
    if isinstance(data, dict) and data.get("status") == "error":
        detail = f"{label}: the API answered {data.get('code')}: {data.get('message')}"
        return _page_reject("api_error", detail, url, text)
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        detail = f"{label}: the response has no 'articles' list"
        return _page_reject("malformed_json", detail, url, text)
    total = data.get("totalResults")
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return Page(articles=data["articles"], total=total, lossy=lossy)


def _outlet(article: dict) -> str:
    source = article.get("source")
    if isinstance(source, dict):
        name = source.get("name") or source.get("id")
        if name:
            return " ".join(str(name).split())
    return "unknown"


def _text(value: object) -> str:
    return plain_text(value) if isinstance(value, str) else ""


def _item(
    article: dict, symbols: tuple[str, ...], fetched_at: pd.Timestamp, lossy: bool
) -> RawItem:
    headline = " ".join(str(article.get("title") or "").split())
    body = _text(article.get("description")) or _text(article.get("content"))
    url = str(article.get("url") or "")
    published = article.get("publishedAt")
    return RawItem(
        headline=headline,
        body=body,
        url=url,
        source=f"newsapi:{_outlet(article)}",
        published=None if published is None else str(published),
        published_at=parse_time(published),
        fetched_at=fetched_at,
        symbols=symbols,
        payload=to_json(article),
        undecodable=lossy and "\ufffd" in f"{headline}{body}{url}",
    )


def article_items(
    page: Page, *, label: str, symbols: tuple[str, ...], fetched_at: pd.Timestamp
) -> tuple[list[RawItem], list[dict]]:
    """The page's articles as items, and rejects for those that are not articles.

    Parameters
    ----------
    page : Page
        A parsed response.
    label : str
        What was asked, for reject details.
    symbols : tuple of str
        Tickers every article of this query is about (a per-ticker query), or ().
    fetched_at : Timestamp
        When the page arrived, UTC.
    """
    items, rejects = [], []
    for article in page.articles:
        if not isinstance(article, dict):
            detail = f"{label}: an article is a {type(article).__name__}, not an object"
            rejects.append(reject_row("malformed_item", detail, to_json(article)))
        elif article.get("title") == _REMOVED:
            detail = f"{label}: NewsAPI lists a withdrawn article ([Removed])"
            rejects.append(reject_row("removed", detail, to_json(article)))
        else:
            items.append(_item(article, symbols, fetched_at, page.lossy))
    return items, rejects
