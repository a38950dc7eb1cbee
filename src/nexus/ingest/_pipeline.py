"""Running a source into a store: validate, quarantine, store, log, publish."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from nexus.bus import TOPIC_BARS, BarsClosed, InProcessBus
from nexus.domain import DEFAULT_CALENDAR, Bar, Interval
from nexus.errors import NoUsableRowsError
from nexus.ingest._metrics import IngestMetrics
from nexus.ingest._quarantine import EMPTY as _EMPTY_Q
from nexus.ingest._quarantine import bar_quarantine, reject_quarantine
from nexus.ingest._resample import resample_bars
from nexus.ingest._validate import ValidationConfig, count_missing_bars, validate_bars
from nexus.sources import LiveSource, Source, SourceBatch
from nexus.store import IngestRecord, Store, WriteBatch
from nexus.store._common import now_utc

if TYPE_CHECKING:  # nexus.features (numba, TA-Lib) is imported only by those who score
    from nexus.features import SentimentScorer

__all__ = ["BatchReport", "IngestReport", "Ingestor", "score_news"]


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What happened to one batch.

    ``stored`` counts the bars that were new to the store (including derived
    coarser bars), ``already_stored`` the valid bars that were there before (a
    resumed or repeated ingest), ``resampled`` the coarser bars derived from
    the batch, ``rejected`` the rows
    quarantined, ``flagged`` the stored bars marked suspicious, ``missing`` the
    bars the covered sessions should have but the input lacks (gaps).
    """

    label: str
    rows: int
    stored: int
    already_stored: int
    rejected: int
    flagged: int
    resampled: int = 0
    corporate_actions: int = 0
    news: int = 0
    macro: int = 0
    missing: int = 0
    reasons: Mapping[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class IngestReport:
    """The outcome of one ingest run."""

    run_id: str
    source: str
    started_at: datetime
    finished_at: datetime | None = None
    batches: list[BatchReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Sum of one :class:`BatchReport` counter over every batch."""
        return sum(getattr(b, name) for b in self.batches)

    def reasons(self) -> dict[str, int]:
        """Rejected and flagged rows by reason, over every batch."""
        out: dict[str, int] = {}
        for batch in self.batches:
            for reason, n in batch.reasons.items():
                out[reason] = out.get(reason, 0) + n
        return dict(sorted(out.items()))

    def to_dict(self) -> dict:
        """A JSON-ready summary."""
        counters = (
            "rows",
            "stored",
            "already_stored",
            "rejected",
            "flagged",
            "resampled",
            "corporate_actions",
            "news",
            "macro",
            "missing",
        )
        return {
            "run_id": self.run_id,
            "source": self.source,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "totals": {name: self.total(name) for name in counters},
            "reasons": self.reasons(),
            "batches": [asdict(b) | {"reasons": dict(b.reasons)} for b in self.batches],
        }


OnBatch = Callable[[BatchReport, int, int | None], None]


def _rows(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None else len(frame)


def score_news(news: pd.DataFrame, scorer: SentimentScorer) -> pd.DataFrame:
    """``news`` with the headlines of its unscored items scored by ``scorer``.

    Items that already carry a sentiment (the simulator's, or a vendor's) keep it.
    The scorer's ``name@version`` goes into ``sentiment_model``.

    Examples
    --------
    >>> from nexus.features import LexiconSentiment
    >>> items = pd.DataFrame({"headline": ["Acme beats estimates", "Acme misses"],
    ...                       "sentiment": [float("nan"), -0.2]})
    >>> out = score_news(items, LexiconSentiment())
    >>> bool(out.loc[0, "sentiment"] > 0), float(out.loc[1, "sentiment"])
    (True, -0.2)
    >>> out.loc[0, "sentiment_model"].startswith("lexicon-vader-finance@")
    True
    """
    out = news.copy()
    if "sentiment_model" not in out.columns:
        out["sentiment_model"] = ""
    todo = out["sentiment"].isna().to_numpy()
    if todo.any():
        texts = out.loc[todo, "headline"].astype(str).tolist()
        out.loc[todo, "sentiment"] = scorer.score(texts)
        out.loc[todo, "sentiment_model"] = f"{scorer.name}@{scorer.version}"
    return out


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated batch, ready to be written."""

    batch: SourceBatch
    good: pd.DataFrame
    resampled: pd.DataFrame
    quarantine: pd.DataFrame
    rows: int
    missing: int


class Ingestor:
    """Runs sources into a store.

    Every batch is validated (:func:`~nexus.ingest.validate_bars`), its bad
    rows quarantined with their reason, and the rest written in one
    transaction together with the quarantine records, corporate actions and
    news of the batch. Writes are idempotent, so an ingest that was killed and
    is run again ends with exactly the rows of one clean run.

    Parameters
    ----------
    store : Store
    validation : ValidationConfig, optional
    resample_to : sequence of Interval or str
        Coarser intervals to derive from each batch's bars and store alongside.
    bus : InProcessBus, optional
        Where live ingest publishes :class:`~nexus.bus.BarsClosed` events.
    on_batch : callable, optional
        Called as ``on_batch(report, done, total)`` after each batch is stored.
    scorer : SentimentScorer, optional
        Scores the headline of every news item that comes without a sentiment;
        the score is stored with the scorer's ``name@version``. None: items are
        stored unscored.
    metrics : IngestMetrics, optional
        Where bars stored, rows rejected, the live lag and write times are
        counted (:class:`~nexus.ingest.IngestMetrics`). None: nothing is measured.
    """

    def __init__(
        self,
        store: Store,
        *,
        validation: ValidationConfig | None = None,
        resample_to: Sequence[Interval | str] = (),
        bus: InProcessBus | None = None,
        on_batch: OnBatch | None = None,
        scorer: SentimentScorer | None = None,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.store = store
        self.validation = validation or ValidationConfig()
        self.resample_to = tuple(Interval.parse(i) for i in resample_to)
        self.bus = bus
        self.on_batch = on_batch
        self.scorer = scorer
        self.metrics = metrics

    # -- history ---------------------------------------------------------------------------

    def run(self, source: Source, *, target: str = "") -> IngestReport:
        """Ingest everything ``source`` yields; return the report.

        Raises
        ------
        NoUsableRowsError
            If a batch holds rows but none of them can be stored; that batch
            is not written (earlier batches are kept).
        """
        report = IngestReport(run_id=_run_id(), source=source.name, started_at=now_utc())
        calendars = self._known_calendars()
        since = self._since(source)
        total = source.total()
        batches = iter(source.fetch(since=since))

        def prepare_next() -> _Prepared | None:
            batch = next(batches, None)
            return (
                None
                if batch is None
                else self._prepare(batch, report.run_id, source.name, calendars)
            )

        # one batch is validated in a worker thread while the one before it is written
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nexus-ingest") as pool:
                pending = pool.submit(prepare_next)
                while (prepared := pending.result()) is not None:
                    pending = pool.submit(prepare_next)
                    report.batches.append(self._store(prepared, source.name))
                    if len(report.batches) == 1:  # logged once something was written
                        self.store.record_ingest(self._record(report, source, target))
                    if self.on_batch:
                        self.on_batch(report.batches[-1], len(report.batches), total)
        except BaseException as exc:
            if report.batches:
                self._finish(report, source, target, "failed", _message(exc))
            raise
        self._finish(report, source, target, "ok", "")
        return report

    # -- live ------------------------------------------------------------------------------

    async def run_live(
        self,
        source: LiveSource,
        *,
        stop: asyncio.Event | None = None,
        max_batches: int | None = None,
    ) -> IngestReport:
        """Stream ``source`` into the store, one bar time at a time, publishing each.

        Resumes after the newest stored bar of each symbol. Returns when
        ``stop`` is set, after ``max_batches`` batches, or when the stream ends.
        """
        report = IngestReport(run_id=_run_id(), source=source.name, started_at=now_utc())
        calendars = self._known_calendars()
        self.store.record_ingest(self._record(report, source, "live"))
        status, message = "ok", ""
        simulated = _simulated_clock(source)
        try:
            async for batch in source.stream(since=self._since(source)):
                emitted_at = time.time() if simulated else None  # a simulated bar's close
                # a bar time whose rows are all bad is quarantined; the stream goes on
                prepared = self._prepare(
                    batch, report.run_id, source.name, calendars, refuse_empty=False
                )
                report.batches.append(
                    self._store(prepared, source.name, live=True, emitted_at=emitted_at)
                )
                self._publish(prepared.good)
                if self.on_batch:
                    self.on_batch(report.batches[-1], len(report.batches), None)
                if (stop is not None and stop.is_set()) or (
                    max_batches is not None and len(report.batches) >= max_batches
                ):
                    break
        except BaseException as exc:
            status, message = "failed", _message(exc)
            raise
        finally:
            self._finish(report, source, "live", status, message)
        return report

    # -- one batch -------------------------------------------------------------------------

    def _prepare(
        self,
        batch: SourceBatch,
        run_id: str,
        source: str,
        calendars: dict[str, str],
        *,
        refuse_empty: bool = True,
    ) -> _Prepared:
        """Validate, quarantine and resample one batch (no store access).

        With ``refuse_empty``, a batch that holds rows but none usable raises
        :class:`NoUsableRowsError` instead of being quarantined.
        """
        calendars.update(_calendars_of(batch.symbols))
        bars = batch.bars if batch.bars is not None else pd.DataFrame()
        result = None
        if len(bars):
            result = validate_bars(
                bars, calendars=calendars, actions=batch.corporate_actions, config=self.validation
            )
        good = result.good if result else bars
        quarantine = _quarantine_of(batch, result, run_id=run_id, source=source)
        others = sum(_rows(f) for f in (batch.news, batch.macro, batch.corporate_actions))
        rows = len(bars) + _rows(batch.news) + _rows(batch.macro) + _rows(batch.rejects)
        # a price batch of nothing but bad rows is refused (the input needs fixing); a
        # news or macro feed's batch of only rejects is quarantined and the feed goes on
        if refuse_empty and batch.bars is not None and rows and good.empty and not others:
            raise _no_usable_rows(batch.label, rows, quarantine)
        if self.scorer is not None and _rows(batch.news):
            batch = replace(batch, news=score_news(batch.news, self.scorer))
        return _Prepared(
            batch=batch,
            good=good,
            resampled=self._resample(good, calendars),
            quarantine=quarantine,
            rows=rows,
            missing=_missing(good, calendars),
        )

    def _store(
        self,
        prepared: _Prepared,
        source: str,
        *,
        live: bool = False,
        emitted_at: float | None = None,
    ) -> BatchReport:
        """Write one prepared batch in one transaction; report (and measure) what happened."""
        batch, good, resampled, quarantine = (
            prepared.batch,
            prepared.good,
            prepared.resampled,
            prepared.quarantine,
        )
        bars = pd.concat([good, resampled], ignore_index=True) if len(resampled) else good
        clock = time.perf_counter()
        written = self.store.write(
            WriteBatch(
                bars=bars,
                corporate_actions=batch.corporate_actions,
                news=batch.news,
                macro=batch.macro,
                quarantine=quarantine,
                symbols=batch.symbols,
            )
        )
        seconds = time.perf_counter() - clock
        rejected = int((quarantine["disposition"] == "rejected").sum())
        if self.metrics is not None:
            self.metrics.observe_batch(
                source,
                bars,
                new=written.bars,
                rejected=rejected,
                seconds=seconds,
                lag=live,
                emitted_at=emitted_at,
            )
        return BatchReport(
            label=batch.label,
            rows=prepared.rows,
            stored=written.bars,
            already_stored=len(good) + len(resampled) - written.bars,
            rejected=rejected,
            flagged=len(quarantine) - rejected,
            resampled=len(resampled),
            corporate_actions=written.corporate_actions,
            news=written.news,
            macro=written.macro,
            missing=prepared.missing,
            reasons=quarantine["reason"].value_counts().sort_index().to_dict(),
        )

    def _resample(self, good: pd.DataFrame, calendars: Mapping[str, str]) -> pd.DataFrame:
        if not self.resample_to or good.empty:
            return pd.DataFrame()
        parts = []
        for symbol, bars in good.groupby("symbol", sort=False):
            calendar = calendars.get(symbol, DEFAULT_CALENDAR)
            parts.extend(
                resample_bars(bars, to, calendar=calendar, edges="drop") for to in self.resample_to
            )
        return pd.concat(parts, ignore_index=True)

    def _publish(self, good: pd.DataFrame) -> None:
        """Publish the stored (valid) bars, one event per interval and bar time."""
        if self.bus is None or good.empty:
            return
        for (interval, ts), bars in good.groupby(["interval", "ts"], sort=True):
            event = BarsClosed(
                interval=Interval.parse(interval),
                ts=pd.Timestamp(ts).to_pydatetime(),
                bars=tuple(Bar.from_frame(bars)),
            )
            self.bus.publish(TOPIC_BARS, event)

    # -- bookkeeping -----------------------------------------------------------------------

    def _known_calendars(self) -> dict[str, str]:
        table = self.store.symbols()
        return dict(zip(table["symbol"], table["calendar"], strict=True))

    def _since(self, source: Source | LiveSource) -> dict[str, pd.Timestamp]:
        interval = _describe(source).get("interval")
        return self.store.last_timestamps(interval) if interval else {}

    def _record(self, report: IngestReport, source, target: str) -> IngestRecord:
        return IngestRecord(
            run_id=report.run_id,
            source=source.name,
            target=target,
            started_at=report.started_at,
            params=_describe(source),
            checksum=str(_describe(source).get("sha256", "") or ""),
        )

    def _finish(self, report: IngestReport, source, target: str, status: str, message: str) -> None:
        report.finished_at = now_utc()
        record = self._record(report, source, target)
        self.store.record_ingest(
            IngestRecord(
                **{
                    **{f: getattr(record, f) for f in record.__dataclass_fields__},
                    "finished_at": report.finished_at,
                    "status": status,
                    "n_bars": report.total("stored"),
                    "n_rejected": report.total("rejected"),
                    "n_flagged": report.total("flagged"),
                    "message": message,
                }
            )
        )


def _quarantine_of(batch: SourceBatch, result, *, run_id: str, source: str) -> pd.DataFrame:
    """Quarantine records of one batch: unparseable rows, rejected bars, flagged bars."""
    parts = [reject_quarantine(batch.rejects, kind="bar", run_id=run_id, source=source)]
    if result is not None:
        for rows, disposition in ((result.rejected, "rejected"), (result.flagged, "flagged")):
            parts.append(
                bar_quarantine(rows, disposition=disposition, run_id=run_id, source=source)
            )
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts or [_EMPTY_Q])[0]


def _run_id() -> str:
    return uuid.uuid4().hex[:16]


def _describe(source) -> dict:
    describe = getattr(source, "describe", None)
    return describe() if callable(describe) else {}


def _simulated_clock(source) -> bool:
    """Whether ``source`` dates its bars on a simulated clock paced by a ``speed``.

    The simulator (and any replay) says so by reporting its ``speed`` in
    ``describe()``; its bars' times are not wall-clock times, so the ingest lag
    is measured from the moment a batch is emitted (see :class:`IngestMetrics`).
    """
    return "speed" in _describe(source)


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _calendars_of(symbols: pd.DataFrame | None) -> dict[str, str]:
    if symbols is None or symbols.empty:
        return {}
    return dict(zip(symbols["symbol"].astype(str), symbols["calendar"].astype(str), strict=True))


def _missing(good: pd.DataFrame, calendars: Mapping[str, str]) -> int:
    if good.empty or len(good) < 2:
        return 0
    total = 0
    for (symbol, interval), bars in good.groupby(["symbol", "interval"], sort=False):
        total += count_missing_bars(
            calendars.get(symbol, DEFAULT_CALENDAR),
            Interval.parse(interval),
            bars["ts"].min(),
            bars["ts"].max(),
            len(bars),
        )
    return total


def _no_usable_rows(label: str, rows: int, quarantine: pd.DataFrame) -> NoUsableRowsError:
    reasons = quarantine["reason"].value_counts()
    summary = ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    example = quarantine["detail"].iloc[0] if len(quarantine) else "no rows"
    return NoUsableRowsError(
        f"{label}: none of its {rows} rows can be stored ({summary}; e.g. {example}); "
        "nothing from it was written",
        fix="fix the input (columns, time zone with --tz, interval with --interval) and run again",
    )
