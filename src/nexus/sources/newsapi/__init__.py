"""News from a NewsAPI-style JSON endpoint (the newsapi.org v2 ``/v2/everything`` format).

Articles are tagged with tickers (the ticker of a per-ticker query, tickers and
company names mentioned in the text), given a content id shared with every
other source that carries the same story, and validated; see
:mod:`nexus.sources._news` for the reject reasons and the ``available_at``
policy, and :mod:`nexus.sources.newsapi._parse` for the wire format.
"""

from nexus.sources.newsapi._config import NewsApiConfig
from nexus.sources.newsapi._parse import Page, article_items, parse_page, parse_time
from nexus.sources.newsapi._source import NewsApiSource

__all__ = ["NewsApiConfig", "NewsApiSource", "Page", "article_items", "parse_page", "parse_time"]
