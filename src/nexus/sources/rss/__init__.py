"""News from RSS and Atom feeds, fetched over HTTP and polled live.

Items are tagged with tickers (a feed's own symbols, tickers and company names
mentioned in the text), given a content id shared by every feed that carries
the same story, and validated; see :mod:`nexus.sources._news` for the reject
reasons and the ``available_at`` policy, and :mod:`nexus.sources.rss._parse`
for how a feed is decoded and read.
"""

from nexus.sources.rss._config import Feed, RssConfig
from nexus.sources.rss._parse import ParsedFeed, decode_document, parse_feed
from nexus.sources.rss._source import RssSource

__all__ = ["Feed", "ParsedFeed", "RssConfig", "RssSource", "decode_document", "parse_feed"]
