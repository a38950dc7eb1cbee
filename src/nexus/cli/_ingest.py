"""``nexus ingest``: load data from a source into the store."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from nexus.bus import TOPIC_BARS, Bus, open_bus
from nexus.cli._app import app, settings_of
from nexus.cli._output import batch_progress, emit_json, stderr, stdout
from nexus.config import read_yaml
from nexus.errors import ConfigError
from nexus.ingest import Ingestor, IngestReport
from nexus.store import open_store

__all__ = ["ingest_app"]

ingest_app = typer.Typer(help="Load data from a source into the store.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
ResampleOpt = Annotated[
    str,
    typer.Option(help="Comma-separated coarser intervals to derive and store, e.g. 5m,30m,1d."),
]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date", fix="write it as YYYY-MM-DD, e.g. 2025-01-02"
        ) from None


def _intervals(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _run(
    ctx: typer.Context,
    source,
    *,
    as_json: bool,
    resample: str = "",
    target: str = "",
    scorer=None,
):
    settings = settings_of(ctx)
    with (
        open_store(settings) as store,
        batch_progress(f"ingest {source.name}", quiet=as_json) as on_batch,
    ):
        ingestor = Ingestor(
            store, resample_to=_intervals(resample), on_batch=on_batch, scorer=scorer
        )
        report = ingestor.run(source, target=target)
    _print_report(report, as_json)


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
        return
    totals = report.to_dict()["totals"]
    if totals["rows"] == 0:
        stdout.print(
            f"nothing new from {report.source}: the store already holds everything it offers "
            f"[dim](run {report.run_id}; see `nexus data status`)[/]"
        )
        return
    if report.source in _FEEDS:
        stdout.print(
            f"[bold green]ingested[/] {report.source}: {totals['news']:,} new stories, "
            f"{totals['macro']:,} new macro vintages, {totals['rejected']:,} rows quarantined "
            f"[dim](run {report.run_id})[/]"
        )
    else:
        _print_bars_report(report, totals)
    if report.reasons():
        reasons = ", ".join(f"{n:,} {r}" for r, n in report.reasons().items())
        stdout.print(f"  quarantine reasons: {reasons}  [dim](see `nexus data quarantine`)[/]")


_FEEDS = frozenset({"rss", "newsapi", "fred"})  # news and macro sources: no bars


def _print_bars_report(report: IngestReport, totals: dict) -> None:
    stdout.print(
        f"[bold green]ingested[/] {report.source}: {totals['stored']:,} new bars stored, "
        f"{totals['already_stored']:,} already stored, {totals['rejected']:,} rows quarantined, "
        f"{totals['flagged']:,} flagged, {totals['missing']:,} missing bars (gaps, not filled), "
        f"{totals['corporate_actions']:,} corporate actions, {totals['news']:,} news items, "
        f"{totals['macro']:,} macro vintages [dim](run {report.run_id})[/]"
    )


@ingest_app.command("sim")
def ingest_sim(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML simulator config (see configs/simulator/); options override it."),
    ] = None,
    symbols: Annotated[int, typer.Option(help="Number of simulated symbols.")] = 20,
    sectors: Annotated[
        int | None, typer.Option(help="Number of sectors; default min(4, symbols).")
    ] = None,
    sessions: Annotated[int, typer.Option(help="Trading sessions of history.")] = 60,
    interval: Annotated[str, typer.Option(help="Bar interval: 1m, 5m, 15m, 30m, 1h, 1d.")] = "1m",
    start: Annotated[str | None, typer.Option(help="First session date (YYYY-MM-DD).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same market).")] = 7,
    alpha: Annotated[float, typer.Option(help="Strength of the planted edge; 0 = none.")] = 0.05,
    resample: ResampleOpt = "",
    live: Annotated[
        bool, typer.Option(help="After history, stream new bars as they close.")
    ] = False,
    speed: Annotated[float, typer.Option(help="Live speed as a multiple of real time.")] = 60.0,
    max_bars: Annotated[
        int | None, typer.Option(help="Live: stop after this many bar times.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a market (deterministic, offline) and ingest it."""
    from nexus.sources.simulator import SimulatorConfig, SimulatorSource

    options = {
        "symbols": symbols,
        "sectors": sectors,
        "sessions": sessions,
        "interval": interval,
        "seed": seed,
        "alpha": alpha,
        "start": _date(start, "--start"),
    }
    fields = read_yaml(config, example="configs/simulator/default.yaml") if config else {}
    given = {k: v for k, v in options.items() if v is not None}
    if config:  # a config file is the base; only options typed on the command line override it
        given = {k: v for k, v in given.items() if _typed(ctx, k)}
    sim = SimulatorConfig(**{**fields, **given})
    source = SimulatorSource(sim, speed=speed)
    _run(ctx, source, as_json=as_json, resample=resample, target=f"{sim.symbols} symbols")
    if live:
        _run_live(ctx, source, max_bars=max_bars, as_json=as_json)


def _typed(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _run_live(
    ctx: typer.Context,
    source,
    *,
    max_bars: int | None,
    as_json: bool,
    scorer=None,
    feed: bool = False,
) -> None:
    """Stream ``source``; ``feed``: a news or macro feed (a line per batch, not per bar)."""
    settings = settings_of(ctx)
    # NEXUS_BUS_URL=redis://... feeds a separate engine and API
    bus = open_bus(settings.bus_url, prefix=settings.bus_prefix)
    on_batch = _print_feed_batch if feed and not as_json else None
    with open_store(settings) as store:
        ingestor = Ingestor(store, bus=bus, scorer=scorer, on_batch=on_batch)
        report = asyncio.run(_live(ingestor, bus, source, max_bars, as_json))
    _print_report(report, as_json)


def _print_feed_batch(batch, done: int, total: int | None) -> None:
    reasons = ", ".join(f"{n} {r}" for r, n in sorted(batch.reasons.items()))
    stderr.print(
        f"{batch.label}: {batch.news:,} new stories, {batch.macro:,} new vintages"
        + (f", quarantined: {reasons}" if reasons else "")
    )


async def _live(ingestor: Ingestor, bus: Bus, source, max_bars, as_json) -> IngestReport:
    async with bus:
        return await _stream(ingestor, bus, source, max_bars, as_json)


async def _stream(ingestor: Ingestor, bus: Bus, source, max_bars, as_json) -> IngestReport:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    events = bus.subscribe(TOPIC_BARS)
    printer = asyncio.create_task(_print_events(events, as_json))
    if not as_json:
        stderr.print(f"streaming {source.name} live; Ctrl-C stops cleanly")
    try:
        return await ingestor.run_live(source, stop=stop, max_batches=max_bars)
    finally:
        while events.pending() and not printer.done():  # print what was stored before stopping
            await asyncio.sleep(0)
        printer.cancel()
        events.close()


async def _print_events(events, as_json: bool) -> None:
    async for event in events:
        if as_json:
            continue
        closes = ", ".join(f"{b.symbol} {b.close:.2f}" for b in event.bars[:4])
        more = f" (+{len(event.bars) - 4} more)" if len(event.bars) > 4 else ""
        stderr.print(f"{event.ts:%Y-%m-%d %H:%M} {event.interval}: {closes}{more}")


@ingest_app.command("files")
def ingest_files(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="CSV/Parquet files, folders or zip archives.")
    ],
    symbol: Annotated[
        str | None, typer.Option(help="Symbol for files without a symbol column.")
    ] = None,
    interval: Annotated[
        str | None, typer.Option(help="Bar interval; default inferred from the timestamps.")
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone of naive timestamps.")] = "America/New_York",
    label: Annotated[
        str, typer.Option(help="Bars labelled by their 'open' or 'close' time.")
    ] = "open",
    sha256: Annotated[str | None, typer.Option(help="Expected SHA-256 of a zip archive.")] = None,
    calendar: Annotated[str, typer.Option(help="Exchange calendar of the symbols.")] = "XNYS",
    resample: ResampleOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Ingest CSV or Parquet files, or zip archives of them."""
    from nexus.sources.files import FilesConfig, FilesSource

    config = FilesConfig(
        paths=[str(p) for p in paths],
        symbol=symbol,
        interval=interval,
        tz=tz,
        label=label,
        sha256=sha256,
        calendar=calendar,
    )
    source = FilesSource(config, settings=settings_of(ctx))
    _run(ctx, source, as_json=as_json, resample=resample, target=" ".join(map(str, paths)))


@ingest_app.command("samples")
def ingest_samples(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(help="Sample names; default all (see --list).")
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the samples and exit.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ingest real daily data shipped inside installed packages (no network)."""
    from nexus.sources.samples import SamplesConfig, SamplesSource, available_samples

    if list_only:
        _print_samples(available_samples(), as_json)
        return
    config = SamplesConfig(names=names) if names else SamplesConfig()
    _run(ctx, SamplesSource(config), as_json=as_json, target=" ".join(names or ["all"]))


def _print_samples(samples, as_json: bool) -> None:
    rows = [s if isinstance(s, dict) else s._asdict() for s in samples]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        stdout.print(" ".join(f"{k}={v}" for k, v in row.items()))


@ingest_app.command("yahoo")
def ingest_yahoo(
    ctx: typer.Context,
    symbols: Annotated[list[str], typer.Argument(help="Yahoo Finance tickers.")],
    interval: Annotated[str, typer.Option(help="Bar interval.")] = "1d",
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="End date, exclusive (YYYY-MM-DD).")] = None,
    period: Annotated[str | None, typer.Option(help="Instead of dates: 1mo, 1y, max, ...")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest from Yahoo Finance (yfinance; needs network), with retries and backoff."""
    from nexus.sources.yahoo import YahooConfig, YahooSource

    config = YahooConfig(
        symbols=symbols,
        interval=interval,
        start=_date(start, "--start"),
        end=_date(end, "--end"),
        period=period,
    )
    _run(ctx, YahooSource(config), as_json=as_json, target=" ".join(symbols))


# -- news and macro feeds -------------------------------------------------------------------

LiveOpt = Annotated[
    bool, typer.Option(help="After the first fetch, keep polling and store what is new.")
]
PollsOpt = Annotated[
    int | None, typer.Option(help="Live: stop after this many batches (one per feed and poll).")
]
RetriesOpt = Annotated[
    int | None, typer.Option(help="Retries of a failed request (timeouts, 5xx, 429).")
]
ScoreOpt = Annotated[
    bool,
    typer.Option(
        help="Score unscored headlines (NEXUS_SENTIMENT_MODEL, else the finance lexicon)."
    ),
]


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _feed_config(config: Path | None, typed: dict[str, object], example: str) -> dict[str, object]:
    """A YAML config file as the base, with the options given on the command line on top."""
    fields = read_yaml(config, example=example) if config else {}
    given = {k: v for k, v in typed.items() if v not in (None, [], {}, "")}
    return {**fields, **given}


def _store_universe(ctx: typer.Context) -> list[str]:
    """Every symbol the store knows: the default tickers to look for in headlines."""
    with open_store(settings_of(ctx)) as store:
        return sorted(set(store.series()["symbol"].astype(str)))


def _scorer(ctx: typer.Context, score: bool):
    if not score:
        return None
    from nexus.features import sentiment_scorer

    return sentiment_scorer(settings_of(ctx))


def _ingest_feed(ctx, source, *, live: bool, max_polls, as_json: bool, score: bool, target: str):
    scorer = _scorer(ctx, score)
    with contextlib.closing(source):
        if live:
            _run_live(ctx, source, max_bars=max_polls, as_json=as_json, scorer=scorer, feed=True)
        else:
            _run(ctx, source, as_json=as_json, target=target, scorer=scorer)


@ingest_app.command("rss")
def ingest_rss(
    ctx: typer.Context,
    feeds: Annotated[
        list[str] | None,
        typer.Argument(help="Feed URLs (RSS or Atom), or NAME=URL to name a feed."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML RssConfig (feeds, universe, names, ...).")
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated tickers every item is about.")
    ] = None,
    universe: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated tickers to find in headlines; default: the store's symbols."
        ),
    ] = None,
    poll_seconds: Annotated[float | None, typer.Option(help="Live: seconds between polls.")] = None,
    available_after: Annotated[
        float | None,
        typer.Option(
            help="Seconds after publication an archived item counts as known; default: "
            "the time it was fetched (no lookahead)."
        ),
    ] = None,
    live: LiveOpt = False,
    max_polls: PollsOpt = None,
    max_retries: RetriesOpt = None,
    score: ScoreOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest news from RSS/Atom feeds (validated, de-duplicated, scored)."""
    from nexus.sources.rss import RssConfig, RssSource

    fields = _feed_config(
        config,
        {
            "feeds": [_named_feed(f) for f in feeds or []],
            "symbols": _split(symbols),
            "universe": _split(universe),
            "poll_seconds": poll_seconds,
            "available_after": available_after,
            "max_retries": max_retries,
        },
        "configs/news/rss.yaml",
    )
    if not fields.get("universe") and not fields.get("names"):
        fields["universe"] = _store_universe(ctx)
    source = RssSource(RssConfig(**fields))
    target = " ".join(f.name for f in source.config.feeds)
    _ingest_feed(
        ctx, source, live=live, max_polls=max_polls, as_json=as_json, score=score, target=target
    )


def _named_feed(text: str) -> object:
    name, sep, url = text.partition("=")
    if sep and "://" not in name:
        return {"name": name, "url": url}
    return text


@ingest_app.command("newsapi")
def ingest_newsapi(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(help="Search text; tickers are found in the articles.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML NewsApiConfig (queries, universe, ...).")
    ] = None,
    per_symbol: Annotated[
        list[str] | None,
        typer.Option(
            "--for", help="SYMBOL=SEARCH TEXT: one query per ticker, e.g. AAPL='Apple Inc'."
        ),
    ] = None,
    universe: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated tickers to find in articles; default: the store's symbols."
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="API root; default https://newsapi.org.")
    ] = None,
    max_pages: Annotated[int | None, typer.Option(help="Pages of 100 per query.")] = None,
    poll_seconds: Annotated[float | None, typer.Option(help="Live: seconds between polls.")] = None,
    live: LiveOpt = False,
    max_polls: PollsOpt = None,
    max_retries: RetriesOpt = None,
    score: ScoreOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest news from a NewsAPI-style search API (key: NEXUS_NEWSAPI_KEY)."""
    from nexus.sources.newsapi import NewsApiConfig, NewsApiSource

    queries = dict(_pair(p, "--for") for p in per_symbol or [])
    fields = _feed_config(
        config,
        {
            "query": query,
            "queries": queries,
            "universe": _split(universe),
            "base_url": base_url,
            "max_pages": max_pages,
            "poll_seconds": poll_seconds,
            "max_retries": max_retries,
        },
        "configs/news/newsapi.yaml",
    )
    if fields.get("query") and not fields.get("universe") and not fields.get("names"):
        fields["universe"] = _store_universe(ctx)
    source = NewsApiSource(NewsApiConfig(**fields), settings=settings_of(ctx))
    target = query or ",".join(queries)
    _ingest_feed(
        ctx, source, live=live, max_polls=max_polls, as_json=as_json, score=score, target=target
    )


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(
            f"{option} {text!r} is not KEY=VALUE", fix=f"write it as {option} AAPL='Apple Inc'"
        )
    return key.strip(), value.strip()


@ingest_app.command("fred")
def ingest_fred(
    ctx: typer.Context,
    series: Annotated[
        list[str] | None, typer.Argument(help="FRED series ids, e.g. CPIAUCSL UNRATE GDP.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML FredConfig.")] = None,
    release_time: Annotated[
        str | None,
        typer.Option(
            help="HH:MM New York time the series is released (e.g. 08:30); default: a "
            "vintage counts as public at the end of its date (no lookahead)."
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="API root; default https://api.stlouisfed.org.")
    ] = None,
    poll_seconds: Annotated[float | None, typer.Option(help="Live: seconds between polls.")] = None,
    live: LiveOpt = False,
    max_polls: PollsOpt = None,
    max_retries: RetriesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest every vintage of FRED series (point in time; key: NEXUS_FRED_API_KEY)."""
    from nexus.sources.fred import FredConfig, FredSource

    fields = _feed_config(
        config,
        {
            "series": list(series or []),
            "release_time": release_time,
            "base_url": base_url,
            "poll_seconds": poll_seconds,
            "max_retries": max_retries,
        },
        "configs/news/fred.yaml",
    )
    source = FredSource(FredConfig(**fields), settings=settings_of(ctx))
    target = " ".join(source.config.series)
    if live:
        _run_live(ctx, source, max_bars=max_polls, as_json=as_json, feed=True)
    else:
        _run(ctx, source, as_json=as_json, target=target)
