"""``Client``: the Python SDK of the Nexus API (httpx for REST, websockets for the stream)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from nexus.client._errors import raise_for_status, unreachable
from nexus.client._schemas import (
    AlertInfo,
    BarsPage,
    DecisionInfo,
    DriftInfo,
    Health,
    JobInfo,
    MacroSeriesInfo,
    MacroSeriesPage,
    ModelsInfo,
    NewsInfo,
    PredictionInfo,
    Readiness,
    RecommendationInfo,
    ReportInfo,
    SlotDetail,
    SymbolInfo,
)
from nexus.client._stream import Stream

__all__ = ["Client"]

T = TypeVar("T")
_FINISHED = ("succeeded", "failed")


def _symbols(symbols: Iterable[str] | str | None) -> str | None:
    if symbols is None:
        return None
    return symbols if isinstance(symbols, str) else ",".join(symbols)


def _time(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Client:
    """A synchronous client of the Nexus API, with an async stream.

    Parameters
    ----------
    base_url : str
        Where the API runs, e.g. ``http://127.0.0.1:8000``.
    api_key : str, optional
        Sent as ``X-API-Key``; needed by :meth:`promote`, :meth:`rollback`
        and :meth:`retrain`.
    timeout : float
        Seconds for each HTTP request.
    transport : httpx.BaseTransport, optional
        For tests: e.g. ``httpx.ASGITransport`` is async only, so use a real server.

    Every error answer raises the ``nexus.errors`` exception the server named
    (``UnknownSymbolError`` for an unknown symbol, ``RegistryError`` for a refused
    promote, ``ConfigError`` for bad parameters or a missing or wrong API key),
    carrying the server's ``detail`` as its message and the HTTP status as
    ``status_code``.

    Examples
    --------
    With a server running (``nexus up``)::

        with Client("http://127.0.0.1:8000") as nexus:
            print([s.symbol for s in nexus.symbols()])  # ['SIM00', 'SIM01', ...]
            frame = nexus.bars("SIM00", limit=100).to_frame()
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=headers, transport=transport
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # -- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        if response.status_code not in ok:
            raise_for_status(response)
        return response

    def _get(self, path: str, kind: type[T] | Any, **params: Any) -> T:
        response = self._request("GET", path, params=_params(**params))
        return TypeAdapter(kind).validate_python(response.json())

    def _post(self, path: str, kind: type[T], body: dict[str, Any]) -> T:
        response = self._request("POST", path, json=body)
        return TypeAdapter(kind).validate_python(response.json())

    # -- market ----------------------------------------------------------------------------

    def symbols(self) -> list[SymbolInfo]:
        """Every instrument the server knows, with its stored intervals."""
        return self._get("/api/symbols", list[SymbolInfo])

    def bars(
        self,
        symbol: str,
        interval: str = "1m",
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        limit: int = 500,
        adjust: str = "none",
    ) -> BarsPage:
        """The newest ``limit`` bars of ``symbol`` in ``[start, end)`` (``.to_frame()``)."""
        return self._get(
            f"/api/bars/{quote(symbol, safe='')}",
            BarsPage,
            interval=interval,
            start=_time(start),
            end=_time(end),
            limit=limit,
            adjust=adjust,
        )

    def latest_predictions(
        self, symbols: Iterable[str] | str | None = None, *, interval: str | None = None
    ) -> list[PredictionInfo]:
        """Each symbol's newest prediction of every model slot."""
        return self._get(
            "/api/predictions/latest",
            list[PredictionInfo],
            symbols=_symbols(symbols),
            interval=interval,
        )

    def latest_recommendations(
        self, symbols: Iterable[str] | str | None = None, *, interval: str | None = None
    ) -> list[RecommendationInfo]:
        """Each symbol's newest recommendation, with its predictions."""
        return self._get(
            "/api/recommendations/latest",
            list[RecommendationInfo],
            symbols=_symbols(symbols),
            interval=interval,
        )

    def recommendations(
        self,
        symbol: str | None = None,
        *,
        interval: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[RecommendationInfo]:
        """Recommendation history, newest first."""
        return self._get(
            "/api/recommendations",
            list[RecommendationInfo],
            symbol=symbol,
            interval=interval,
            start=_time(start),
            end=_time(end),
            action=None if action is None else str(action),
            limit=limit,
        )

    # -- news and macro --------------------------------------------------------------------

    def news(
        self, symbol: str, limit: int = 20, before: datetime | str | None = None
    ) -> list[NewsInfo]:
        """The newest ``limit`` (1 to 200) stories mentioning ``symbol``, newest first.

        ``before`` keeps only stories available before that time (for the next page,
        pass the ``available_at`` of the last story of this one).
        """
        return self._get(
            f"/api/news/{quote(symbol, safe='')}",
            list[NewsInfo],
            limit=limit,
            before=_time(before),
        )

    def macro(self, *, as_of: datetime | str | None = None) -> list[MacroSeriesInfo]:
        """Every macro series: its newest value as known at ``as_of`` (default now), the change."""
        return self._get("/api/macro", list[MacroSeriesInfo], as_of=_time(as_of))

    def macro_series(
        self,
        series_id: str,
        as_of: datetime | str | None = None,
        *,
        limit: int | None = None,
    ) -> MacroSeriesPage:
        """``series_id`` as known at ``as_of`` (default now): a point per period (``.to_frame()``).

        Each period holds its newest vintage released by ``as_of`` and the list of
        its vintages released by then; nothing released later is shown.
        """
        return self._get(
            f"/api/macro/{quote(series_id, safe='')}",
            MacroSeriesPage,
            as_of=_time(as_of),
            limit=limit,
        )

    # -- models ----------------------------------------------------------------------------

    def models(self) -> ModelsInfo:
        """Every model slot: champion, previous, versions, last validation and retrain."""
        return self._get("/api/models", ModelsInfo)

    def model(self, slot: str) -> SlotDetail:
        """One slot with its decision history."""
        return self._get(f"/api/models/{quote(slot, safe='')}", SlotDetail)

    def promote(
        self, slot: str, version: str, *, reason: str = "promoted through the API"
    ) -> DecisionInfo:
        """Make ``version`` the champion of ``slot`` (needs the API key); return the decision."""
        body = {"version": version, "reason": reason}
        return self._post(f"/api/models/{quote(slot, safe='')}/promote", DecisionInfo, body)

    def rollback(self, slot: str, *, reason: str = "rolled back through the API") -> DecisionInfo:
        """Make the previous champion of ``slot`` the champion again (needs the API key)."""
        body = {"reason": reason}
        return self._post(f"/api/models/{quote(slot, safe='')}/rollback", DecisionInfo, body)

    def retrain(self, *, sessions: int = 5) -> JobInfo:
        """Start the nightly job on the server (needs the API key); return its job."""
        return self._post("/api/retrain", JobInfo, {"sessions": sessions})

    def job(self, job_id: str) -> JobInfo:
        """A background job's status."""
        return self._get(f"/api/jobs/{quote(job_id, safe='')}", JobInfo)

    def wait(self, job_id: str, *, timeout: float = 3600.0, poll: float = 0.5) -> JobInfo:
        """Poll job ``job_id`` until it has finished (or ``timeout`` passes); return it."""
        deadline = time.monotonic() + timeout
        job = self.job(job_id)
        while job.status not in _FINISHED and time.monotonic() < deadline:
            time.sleep(poll)
            job = self.job(job_id)
        return job

    # -- monitoring ------------------------------------------------------------------------

    def alerts(
        self,
        *,
        limit: int = 50,
        level: str | None = None,
        slot: str | None = None,
        since: datetime | str | None = None,
    ) -> list[AlertInfo]:
        """Stored alerts (drift, rollbacks, monitor faults), newest first."""
        return self._get(
            "/api/alerts", list[AlertInfo], limit=limit, level=level, slot=slot, since=_time(since)
        )

    def drift(self) -> list[DriftInfo]:
        """The newest drift check of each slot's champion."""
        return self._get("/api/drift", list[DriftInfo])

    def drift_history(self, slot: str, *, limit: int = 200) -> list[DriftInfo]:
        """``slot``'s drift checks, oldest first (each with its five highest-PSI features)."""
        return self._get(f"/api/drift/{quote(slot, safe='')}", list[DriftInfo], limit=limit)

    # -- operations ------------------------------------------------------------------------

    def health(self) -> Health:
        """Each component's status."""
        return self._get("/api/health", Health)

    def ready(self) -> Readiness:
        """Whether the server is ready (a 503 answer is returned as ``ready=False``)."""
        response = self._request("GET", "/api/ready", ok=(503,))
        return Readiness.model_validate(response.json())

    def reports(self) -> list[ReportInfo]:
        """The HTML reports the server has, newest first."""
        return self._get("/api/reports", list[ReportInfo])

    def report(self, name: str) -> str:
        """The HTML of report ``name``."""
        return self._request("GET", f"/reports/{quote(name, safe='')}").text

    def metrics(self) -> str:
        """The Prometheus metrics text."""
        return self._request("GET", "/metrics").text

    # -- stream ----------------------------------------------------------------------------

    def stream(
        self, symbols: Iterable[str] | str | None = None, *, open_timeout: float = 10.0
    ) -> Stream:
        """The live stream of ``symbols`` (None: every symbol) as an async iterator of messages.

        Use it as ``async with client.stream(["SIM00"]) as stream: async for message in
        stream: ...`` (or iterate it directly; ``await stream.close()`` ends it). The
        first message is the snapshot. An unknown symbol raises ``UnknownSymbolError``.
        """
        url = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        url += "/ws/stream"
        chosen = _symbols(symbols)
        if chosen:
            url += "?symbols=" + quote(chosen, safe=",")
        return Stream(url, open_timeout=open_timeout)
