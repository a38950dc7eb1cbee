"""Turning the bytes of an RSS 2.0, RSS 1.0 or Atom feed into :class:`RawItem` values.

feedparser 6 does the parsing, always from bytes this source fetched (it is
never handed a URL or a path). Before that the document is decoded here:

- the encoding is the first of: a byte-order mark, the HTTP ``charset``, the
  XML declaration's ``encoding``, UTF-8, that decodes the whole document
  without error;
- when none does, undecodable bytes become U+FFFD and every item whose text
  holds one is rejected as ``not_utf8`` (feedparser alone would re-read the
  whole feed as windows-1252 and keep the garbled text);
- the document is handed to feedparser as UTF-8, its declaration rewritten.

Per entry: ``title`` -> headline, ``summary`` (or ``content``) -> body, both
as plain text; ``link`` -> url; ``published`` (or ``updated``) -> the
publication time, which feedparser reads in any of the formats feeds use
(RFC 822, ISO 8601, ...) and converts to UTC; ``tags`` -> categories.

A document feedparser cannot read (``bozo`` and no entries), or that is not a
feed at all (an HTML page, an empty body), gives one ``malformed_feed``
reject. A feed with a recoverable error (an undefined entity, a truncated
tail) keeps the entries feedparser recovered.
"""

from __future__ import annotations

import calendar
import codecs
import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import feedparser
import pandas as pd

from nexus.sources._news import RawItem, plain_text, reject_row, to_json
from nexus.sources.rss._config import Feed

__all__ = ["ParsedFeed", "decode_document", "parse_feed"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:\-]+)", re.I)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:\-]+)[\"']")
_DECLARATION = re.compile(r"^(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])([A-Za-z0-9._:\-]+)([\"'])")
_SNIPPET = 2_000


@dataclass(frozen=True)
class ParsedFeed:
    """The items of one feed document and its feed-level rejects."""

    items: list[RawItem] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)


def _candidates(content: bytes, content_type: str | None) -> list[str]:
    found = [enc for bom, enc in _BOMS if content.startswith(bom)][:1]
    charset = _CHARSET.search(content_type or "")
    declared = _DECLARED.match(content[:512])
    if charset:
        found.append(charset.group(1))
    if declared:
        found.append(declared.group(1).decode("ascii"))
    found.append("utf-8")
    usable = []
    for name in found:
        try:
            usable.append(codecs.lookup(name).name)
        except LookupError:
            continue
    return list(dict.fromkeys(usable))


def decode_document(content: bytes, content_type: str | None = None) -> tuple[bytes, bool]:
    """The document re-encoded as UTF-8, and whether some bytes could not be decoded.

    Parameters
    ----------
    content : bytes
        The body as fetched.
    content_type : str, optional
        The HTTP ``Content-Type`` (its ``charset`` is a candidate encoding).

    Returns
    -------
    document : bytes
        UTF-8, with the XML declaration (if any) saying so.
    lossy : bool
        True when no candidate encoding decoded every byte; the undecodable
        ones are U+FFFD.

    Examples
    --------
    >>> doc = '<?xml version="1.0" encoding="ISO-8859-1"?><rss/>'.encode("latin-1")
    >>> decode_document(doc)
    (b'<?xml version="1.0" encoding="utf-8"?><rss/>', False)
    >>> decode_document(b"<rss>caf\\xc3</rss>")
    (b'<rss>caf\\xef\\xbf\\xbd</rss>', True)
    """
    names = _candidates(content, content_type)
    for name in names:
        try:
            text, lossy = content.decode(name), False
            break
        except UnicodeDecodeError:
            continue
    else:
        text, lossy = content.decode(names[0], errors="replace"), True
    text = _DECLARATION.sub(r"\1utf-8\3", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8"), lossy


def _utc(parsed: time.struct_time | None) -> pd.Timestamp | None:
    """feedparser's UTC ``struct_time`` as a Timestamp (None when absent or out of range)."""
    if parsed is None:
        return None
    try:
        return pd.Timestamp(calendar.timegm(parsed), unit="s", tz="UTC")
    except (OverflowError, ValueError):
        return None


# entries are read with dict.get: FeedParserDict.get maps "updated" to "published" with a
# DeprecationWarning.


def _text(entry: Mapping[str, Any], key: str) -> str:
    """The entry's ``key`` (title, summary) as plain text; HTML only when typed so."""
    value = entry.get(key) or ""
    kind = (entry.get(f"{key}_detail") or {}).get("type", "text/html")
    return plain_text(value) if "html" in kind else " ".join(value.split())


def _body(entry: Mapping[str, Any]) -> str:
    if entry.get("summary"):
        return _text(entry, "summary")
    contents = entry.get("content") or []
    return plain_text(contents[0].get("value")) if contents else ""


def _payload(entry: Mapping[str, Any]) -> str:
    return to_json({k: v for k, v in entry.items() if not k.endswith("_parsed")})


def _item(entry: Mapping[str, Any], feed: Feed, fetched_at: pd.Timestamp, lossy: bool) -> RawItem:
    headline, body = _text(entry, "title"), _body(entry)
    key = "published" if dict.get(entry, "published") else "updated"
    published, parsed = dict.get(entry, key), dict.get(entry, f"{key}_parsed")
    return RawItem(
        headline=headline,
        body=body,
        url=str(entry.get("link") or ""),
        source=f"rss:{feed.name}",
        published=published,
        published_at=_utc(parsed),
        fetched_at=fetched_at,
        symbols=tuple(feed.symbols),
        tags=tuple(str(t.get("term") or "") for t in entry.get("tags") or ()),
        payload=_payload(entry),
        undecodable=lossy and "\ufffd" in f"{headline}{body}{entry.get('link', '')}",
    )


def _malformed(feed: Feed, document: bytes, problem: str) -> dict:
    snippet = document[:_SNIPPET].decode("utf-8", errors="replace")
    return reject_row(
        "malformed_feed",
        f"rss:{feed.name}: {feed.url} is not a readable RSS or Atom feed ({problem})",
        to_json({"feed": feed.name, "url": feed.url, "body": snippet}),
    )


def parse_feed(
    content: bytes,
    feed: Feed,
    fetched_at: pd.Timestamp,
    *,
    content_type: str | None = None,
) -> ParsedFeed:
    """The items of one fetched feed document, or a ``malformed_feed`` reject.

    Parameters
    ----------
    content : bytes
        The body as fetched.
    feed : Feed
        The feed it came from (name, URL, symbols).
    fetched_at : Timestamp
        When it arrived, UTC.
    content_type : str, optional
        The HTTP ``Content-Type``.

    Returns
    -------
    ParsedFeed

    Examples
    --------
    >>> doc = (b"<rss version='2.0'><channel><item><title>AAPL up</title>"
    ...        b"<pubDate>Wed, 01 May 2024 09:45:00 -0400</pubDate></item></channel></rss>")
    >>> feed = Feed(name="demo", url="https://example.com/rss")
    >>> got = parse_feed(doc, feed, pd.Timestamp("2024-05-01T14:00Z"))
    >>> [(i.headline, str(i.published_at), i.source) for i in got.items]
    [('AAPL up', '2024-05-01 13:45:00+00:00', 'rss:demo')]
    >>> parse_feed(b"{not: xml}", feed, pd.Timestamp.now("UTC")).rejects[0]["reason"]
    'malformed_feed'
    """
    document, lossy = decode_document(content, content_type)
    parsed = feedparser.parse(io.BytesIO(document))
    entries = parsed.get("entries") or []
    if not entries and parsed.get("bozo"):
        problem = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
        return ParsedFeed(rejects=[_malformed(feed, document, problem)])
    if not entries and not parsed.get("version"):
        return ParsedFeed(rejects=[_malformed(feed, document, "no rss, feed or RDF root")])
    return ParsedFeed(items=[_item(e, feed, fetched_at, lossy) for e in entries])
