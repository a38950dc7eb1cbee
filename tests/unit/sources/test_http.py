"""The HTTP fetcher every web source uses, against a scripted loopback server."""

from __future__ import annotations

import pytest

from nexus.errors import PayloadTooLargeError, RateLimitedError, SourceError
from nexus.sources._http import HttpFetcher
from tests._http_server import Reply, scripted_server


def _fetcher(**kwargs) -> tuple[HttpFetcher, list[float]]:
    waits: list[float] = []
    options = {"max_retries": 3, "backoff_s": 0.5, "timeout_s": 0.3, "sleep": waits.append}
    return HttpFetcher("test feed", **{**options, **kwargs}), waits


def test_a_plain_get_returns_the_body_and_sends_params_and_headers() -> None:
    with scripted_server() as server:
        server.script("/feed", Reply("hello"))
        fetcher, waits = _fetcher()
        got = fetcher.get(server.url("/feed"), params={"q": "AAPL"}, headers={"X-Api-Key": "k"})
    assert (got.status, got.content, got.attempts) == (200, b"hello", 1)
    assert waits == []
    seen = server.requests[0]
    assert seen.query == {"q": ["AAPL"]}
    assert seen.headers["x-api-key"] == "k"
    assert seen.headers["user-agent"].startswith("nexus-quant/")


def test_500s_and_a_timeout_are_retried_with_growing_backoff() -> None:
    with scripted_server() as server:
        server.script(
            "/feed",
            Reply("down", status=500),
            Reply("slow", delay_s=1.0),
            Reply("down", status=502),
            Reply("ok"),
        )
        fetcher, waits = _fetcher()
        got = fetcher.get(server.url("/feed"))
    assert got.content == b"ok"
    assert got.attempts == 4
    assert len(waits) == 3
    for i, wait in enumerate(waits):  # 0.5 * 2**i plus up to 50% jitter
        assert 0.5 * 2**i <= wait <= 0.75 * 2**i


def test_429_waits_what_retry_after_asks() -> None:
    with scripted_server() as server:
        server.script(
            "/feed", Reply("slow down", status=429, headers={"Retry-After": "7"}), Reply("ok")
        )
        fetcher, waits = _fetcher()
        assert fetcher.get(server.url("/feed")).content == b"ok"
    assert waits == [7.0]


def test_a_retry_after_longer_than_allowed_raises_with_the_wait() -> None:
    with scripted_server() as server:
        server.script("/feed", Reply("later", status=429, headers={"Retry-After": "3600"}))
        fetcher, waits = _fetcher(max_wait_s=60)
        with pytest.raises(RateLimitedError, match="wait 3600 s") as caught:
            fetcher.get(server.url("/feed"))
    assert caught.value.retry_after == 3600.0
    assert waits == []
    assert server.hits("/feed") == 1


def test_a_permanent_4xx_fails_at_once_naming_the_status() -> None:
    with scripted_server() as server:
        server.script("/feed", Reply('{"message": "bad key"}', status=401))
        fetcher, waits = _fetcher()
        with pytest.raises(SourceError, match=r"HTTP 401: \{\"message\": \"bad key\"\}"):
            fetcher.get(server.url("/feed"))
    assert server.hits("/feed") == 1
    assert waits == []


def test_giving_up_names_the_attempts_and_the_last_problem() -> None:
    with scripted_server() as server:
        server.script("/feed", Reply("down", status=503))
        fetcher, _ = _fetcher(max_retries=2)
        with pytest.raises(SourceError, match=r"failed 3 times \(last: HTTP 503\)"):
            fetcher.get(server.url("/feed"))
    assert server.hits("/feed") == 3


def test_an_unreachable_host_is_a_source_error_not_a_traceback() -> None:
    fetcher, _ = _fetcher(max_retries=1)
    with pytest.raises(SourceError, match="could not connect"):
        fetcher.get("http://127.0.0.1:9/feed")


def test_an_oversized_body_is_refused_declared_or_not() -> None:
    with scripted_server() as server:
        server.script("/big", Reply(b"x" * 5000))
        fetcher, _ = _fetcher(max_bytes=1000)
        with pytest.raises(PayloadTooLargeError, match="more than 1,000 bytes"):
            fetcher.get(server.url("/big"))


def test_requests_are_spaced_by_the_minimum_interval() -> None:
    with scripted_server() as server:
        server.script("/feed", Reply("ok"))
        fetcher, waits = _fetcher(min_interval_s=30)
        fetcher.get(server.url("/feed"))
        fetcher.get(server.url("/feed"))
    assert len(waits) == 1
    assert 29 < waits[0] <= 30
