"""The FRED source against a scripted loopback server answering with FRED-shaped payloads:
vintages and revisions, missing values, pagination, retries, refused keys, malformed and
oversized responses, release times across DST, point-in-time reads, and the polling stream."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time

import pandas as pd
import pytest
from pydantic import ValidationError

import nexus.sources.fred as fred
from nexus.domain import MACRO_COLUMNS
from nexus.errors import ConfigError, SourceError
from nexus.sources import LiveSource, Source
from nexus.sources._base import REJECT_COLUMNS
from nexus.sources._http import HttpFetcher
from nexus.sources.fred import FredConfig, FredSource, public_at
from nexus.store import DuckDBStore, WriteBatch
from tests._http_server import Reply, scripted_server

KEY = "abcdef0123456789abcdef0123456789"
PATH = "/fred/series/observations"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

# GDP, 2013 Q1 and Q2, as ALFRED lists them: the advance estimate, then revisions.
GDP_ROWS = [
    {"realtime_start": "2013-04-26", "realtime_end": "2013-05-29", "date": "2013-01-01",
     "value": "15965.6"},
    {"realtime_start": "2013-05-30", "realtime_end": "2013-06-25", "date": "2013-01-01",
     "value": "15984.1"},
    {"realtime_start": "2013-07-31", "realtime_end": "2013-08-28", "date": "2013-04-01",
     "value": "16633.4"},
    {"realtime_start": "2013-08-29", "realtime_end": "9999-12-31", "date": "2013-04-01",
     "value": "16661.0"},
]  # fmt: skip
UNRATE_ROWS = [
    {"realtime_start": "2013-05-03", "realtime_end": "2013-06-06", "date": "2013-04-01",
     "value": "7.5"},
    {"realtime_start": "2013-06-07", "realtime_end": "9999-12-31", "date": "2013-05-01",
     "value": "."},
]  # fmt: skip


def _payload(rows: list, *, count: int | None = None, offset: int = 0, limit: int = 100000) -> str:
    """A ``series/observations`` response exactly as FRED shapes it."""
    return json.dumps(
        {
            "realtime_start": "1776-07-04",
            "realtime_end": "9999-12-31",
            "observation_start": "1600-01-01",
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(rows) if count is None else count,
            "offset": offset,
            "limit": limit,
            "observations": rows,
        }
    )


def _ok(rows: list, **kwargs) -> Reply:
    return Reply(_payload(rows, **kwargs), content_type="application/json; charset=UTF-8")


def _error(status: int, message: str) -> Reply:
    body = json.dumps({"error_code": status, "error_message": message})
    return Reply(body, status=status, content_type="application/json; charset=UTF-8")


BAD_KEY = _error(
    400,
    "Bad Request.  The value for variable api_key is not registered.  Read "
    "https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
)


def _fetcher(waits: list[float], **kwargs) -> HttpFetcher:
    options = {"max_retries": 3, "backoff_s": 0.5, "timeout_s": 0.3, "sleep": waits.append}
    return HttpFetcher("FRED", **{**options, **kwargs})


def _source(base: str, series: list[str], fetcher: HttpFetcher, **fields) -> FredSource:
    config = FredConfig(series=series, api_key=KEY, base_url=base, **fields)
    return FredSource(config, fetcher=fetcher, now=lambda: NOW)


def _fetch(series: list[str], *replies: Reply, **fields) -> tuple[dict, list, list[float]]:
    """Fetch ``series`` from a server that answers ``replies`` in order."""
    waits: list[float] = []
    with scripted_server() as server, _fetcher(waits) as fetcher:
        server.script(PATH, *replies)
        batches = {b.label: b for b in _source(server.base, series, fetcher, **fields).fetch()}
    return batches, server.requests, waits


# --------------------------------------------------------------------------- config


def test_public_names() -> None:
    assert fred.__all__ == [
        "REASONS",
        "FredConfig",
        "FredSource",
        "parse_observations",
        "public_at",
        "resolve_api_key",
    ]
    assert set(fred.REASONS) == {
        "no_value",
        "bad_value",
        "bad_date",
        "absurd_date",
        "malformed_json",
        "fetch_failed",
        "too_large",
    }


def test_config_defaults_and_normalising() -> None:
    config = FredConfig(series=[" gdp", "UNRATE", "GDP"], api_key=KEY, release_time="8:30")
    assert config.series == ["GDP", "UNRATE"]
    assert config.base_url == "https://api.stlouisfed.org"
    assert (config.poll_seconds, config.page_size, config.release_time) == (3600.0, 100000, "08:30")
    assert config.release_clock == time(8, 30)
    assert (config.realtime_start, config.observation_start) == (None, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"series": []}, "at least 1 item"),
        ({"series": ["GDP PER CAPITA"]}, "not FRED series ids"),
        ({"release_time": "25:00"}, "not a time of day HH:MM"),
        ({"release_time": "8.30am"}, "not a time of day HH:MM"),
        ({"poll_seconds": 0}, "greater than 0"),
        ({"page_size": 100001}, "less than or equal to 100000"),
        ({"base_url": "ftp://fred"}, "not an http"),
        ({"realtime_start": "1700-01-01"}, "before 1776-07-04"),
        ({"seriess": ["GDP"]}, "Extra inputs are not permitted"),
    ],
)
def test_config_rejects_bad_values_without_showing_the_key(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        FredConfig(**{"series": ["GDP"], "api_key": KEY, **fields})
    assert KEY not in str(caught.value)


def test_the_key_is_never_shown() -> None:
    config = FredConfig(series=["GDP"], api_key=KEY)
    source = FredSource(config)
    assert KEY not in repr(config)
    assert "api_key" not in config.model_dump()
    assert KEY not in json.dumps(source.describe())
    assert source.describe()["series"] == ["GDP"]


def test_a_missing_key_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEXUS_FRED_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="NEXUS_FRED_API_KEY"):
        FredSource(FredConfig(series=["GDP"]))
    monkeypatch.setenv("NEXUS_FRED_API_KEY", "from-the-environment")
    assert fred.resolve_api_key(FredConfig(series=["GDP"])) == "from-the-environment"
    assert fred.resolve_api_key(FredConfig(series=["GDP"], api_key=KEY)) == KEY


def test_it_is_a_source_and_a_live_source() -> None:
    source = FredSource(FredConfig(series=["GDP", "UNRATE"], api_key=KEY))
    assert isinstance(source, Source)
    assert isinstance(source, LiveSource)
    assert (source.name, source.total()) == ("fred", 2)


# --------------------------------------------------------------------------- fetching


def test_every_vintage_becomes_a_row_and_the_request_asks_for_all_of_them() -> None:
    batches, requests, waits = _fetch(["GDP"], _ok(GDP_ROWS))
    macro = batches["GDP"].macro
    assert list(macro.columns) == list(MACRO_COLUMNS)
    assert macro["value"].tolist() == [15965.6, 15984.1, 16633.4, 16661.0]
    assert macro["period"].tolist() == [date(2013, 1, 1)] * 2 + [date(2013, 4, 1)] * 2
    assert set(macro["series_id"]) == {"GDP"}
    assert set(macro["source"]) == {"fred"}
    # a revision: one period, two vintages, each public at the end of its day in New York
    assert macro["realtime_start"].astype(str).tolist()[:2] == [
        "2013-04-27 04:00:00+00:00",
        "2013-05-31 04:00:00+00:00",
    ]
    assert str(macro["realtime_start"].dtype) == "datetime64[us, UTC]"
    assert batches["GDP"].rejects.empty
    assert waits == []
    assert [r.path for r in requests] == [PATH]
    assert requests[0].query == {
        "series_id": ["GDP"],
        "api_key": [KEY],
        "file_type": ["json"],
        "realtime_start": ["1776-07-04"],
        "realtime_end": ["9999-12-31"],
        "limit": ["100000"],
        "offset": ["0"],
    }


def test_without_a_fetcher_it_builds_one_from_the_config() -> None:
    with scripted_server() as server:
        server.script(PATH, _ok(GDP_ROWS))
        config = FredConfig(
            series=["GDP"], api_key=KEY, base_url=server.base + "/", min_interval_s=0.0
        )
        (batch,) = FredSource(config, now=lambda: NOW).fetch()
    assert len(batch.macro) == 4
    assert server.requests[0].headers["user-agent"].startswith("nexus-quant/")


def test_options_reach_the_request() -> None:
    _, requests, _ = _fetch(
        ["GDP"],
        _ok(GDP_ROWS),
        realtime_start=date(2013, 5, 1),
        observation_start=date(2013, 4, 1),
    )
    query = requests[0].query
    assert query["realtime_start"] == ["2013-05-01"]
    assert query["observation_start"] == ["2013-04-01"]


def test_missing_values_are_rejected_as_no_value_and_the_rest_kept() -> None:
    batches, _, _ = _fetch(["GDP", "UNRATE"], _ok(GDP_ROWS), _ok(UNRATE_ROWS))
    unrate = batches["UNRATE"]
    assert unrate.macro["value"].tolist() == [7.5]
    rejects = unrate.rejects
    assert list(rejects.columns) == list(REJECT_COLUMNS)
    assert rejects["reason"].tolist() == ["no_value"]
    assert rejects["symbol"].tolist() == ["UNRATE"]
    assert rejects["ts"].tolist() == [pd.Timestamp("2013-05-01", tz="UTC")]
    assert json.loads(rejects["payload"][0]) == UNRATE_ROWS[1]
    assert len(batches["GDP"].macro) == 4


def test_long_histories_are_read_page_by_page() -> None:
    rows = GDP_ROWS + UNRATE_ROWS[:1]  # five rows, pages of two
    pages = [
        _ok(rows[0:2], count=5, offset=0, limit=2),
        _ok(rows[2:4], count=5, offset=2, limit=2),
        _ok(rows[4:5], count=5, offset=4, limit=2),
    ]
    batches, requests, _ = _fetch(["GDP"], *pages, page_size=2)
    assert [r.query["offset"] for r in requests] == [["0"], ["2"], ["4"]]
    assert all(r.query["limit"] == ["2"] for r in requests)
    assert len(batches["GDP"].macro) == 5


def test_an_empty_page_ends_the_paging() -> None:
    batches, requests, _ = _fetch(["GDP"], _ok(GDP_ROWS[:2], count=9), _ok([], count=9))
    assert len(requests) == 2
    assert len(batches["GDP"].macro) == 2


def test_timeouts_429_and_500_are_retried_then_the_answer_is_used() -> None:
    batches, requests, waits = _fetch(
        ["GDP"],
        Reply("late", delay_s=1.0),
        Reply("slow down", status=429, headers={"Retry-After": "3"}),
        Reply("Internal Server Error", status=500),
        _ok(GDP_ROWS),
    )
    assert len(requests) == 4
    assert len(batches["GDP"].macro) == 4
    assert len(waits) == 3
    assert waits[1] == 3.0  # what Retry-After asked
    assert 0.5 <= waits[0] <= 0.75
    assert 2.0 <= waits[2] <= 3.0


def test_a_refused_key_raises_a_clear_error_without_the_key() -> None:
    waits: list[float] = []
    with scripted_server() as server, _fetcher(waits) as fetcher:
        server.script(PATH, BAD_KEY)
        source = _source(server.base, ["GDP", "UNRATE"], fetcher)
        with pytest.raises(SourceError, match="FRED refused the API key") as caught:
            list(source.fetch())
    text = str(caught.value)
    assert "api_key is not registered" in text
    assert "NEXUS_FRED_API_KEY" in text
    assert KEY not in text
    assert server.hits(PATH) == 1  # a bad key does not heal by retrying
    assert waits == []


def test_a_failing_series_is_a_reject_and_the_others_go_on() -> None:
    unknown = _error(400, "Bad Request.  The series does not exist.")
    batches, _, _ = _fetch(["NOSUCH", "GDP"], unknown, _ok(GDP_ROWS))
    failed = batches["NOSUCH"].rejects
    assert failed["reason"].tolist() == ["fetch_failed"]
    assert "The series does not exist" in failed["detail"][0]
    assert batches["NOSUCH"].macro.empty
    assert len(batches["GDP"].macro) == 4
    assert KEY not in failed.to_csv()


def test_a_series_that_keeps_failing_is_a_fetch_failed_reject() -> None:
    down = Reply("Service Unavailable", status=503)
    batches, requests, waits = _fetch(["GDP", "UNRATE"], down, down, down, down, _ok(UNRATE_ROWS))
    assert batches["GDP"].rejects["reason"].tolist() == ["fetch_failed"]
    assert "failed 4 times (last: HTTP 503)" in batches["GDP"].rejects["detail"][0]
    assert batches["UNRATE"].macro["value"].tolist() == [7.5]
    assert len(requests) == 5
    assert len(waits) == 3


def test_malformed_json_is_a_reject_that_keeps_the_body() -> None:
    broken = Reply('{"observations": [{"date": "2013-01-01", "val', content_type="application/json")
    html = Reply("<html><body>Maintenance</body></html>", content_type="text/html")
    batches, _, _ = _fetch(["GDP", "UNRATE", "CPIAUCSL"], broken, html, _ok(UNRATE_ROWS))
    for series in ("GDP", "UNRATE"):
        rejects = batches[series].rejects
        assert rejects["reason"].tolist() == ["malformed_json"]
        assert "not JSON" in rejects["detail"][0]
    assert "Maintenance" in batches["UNRATE"].rejects["payload"][0]
    assert len(batches["CPIAUCSL"].macro) == 1


def test_a_response_without_observations_is_malformed() -> None:
    batches, _, _ = _fetch(["GDP"], Reply(json.dumps({"count": 1, "rows": []})))
    assert batches["GDP"].rejects["reason"].tolist() == ["malformed_json"]
    assert "no 'observations' list" in batches["GDP"].rejects["detail"][0]


def test_an_oversized_response_is_rejected_as_too_large() -> None:
    waits: list[float] = []
    big = GDP_ROWS * 200
    with scripted_server() as server, _fetcher(waits, max_bytes=5_000) as fetcher:
        server.script(PATH, _ok(big), _ok(UNRATE_ROWS))
        batches = {b.label: b for b in _source(server.base, ["GDP", "UNRATE"], fetcher).fetch()}
    assert batches["GDP"].rejects["reason"].tolist() == ["too_large"]
    assert "5,000 bytes" in batches["GDP"].rejects["detail"][0]
    assert batches["GDP"].macro.empty
    assert len(batches["UNRATE"].macro) == 1


def test_a_later_page_failing_keeps_the_first_pages() -> None:
    first = _ok(GDP_ROWS[:2], count=4, offset=0, limit=2)
    batches, _, _ = _fetch(["GDP"], first, Reply("{not json"), page_size=2)
    assert len(batches["GDP"].macro) == 2
    assert batches["GDP"].rejects["reason"].tolist() == ["malformed_json"]


def test_unusable_rows_are_quarantined_with_their_reason() -> None:
    base = {"realtime_start": "2013-04-26", "realtime_end": "9999-12-31"}
    rows = [
        {**base, "date": "2013-01-01", "value": "15965.6"},
        {**base, "date": "2013-01-01", "value": "15965.6"},  # an exact repeat: kept once
        {**base, "date": "2013-01-01", "value": "15999.9"},  # the same vintage, another value
        {**base, "date": "2013-02-01", "value": "n/a"},
        {**base, "date": "2013-03-01", "value": "NaN"},
        {**base, "date": "2013-13-01", "value": "1.0"},
        {**base, "date": "04/01/2013", "value": "1.0"},
        {"realtime_start": "2013-04-26", "value": "1.0"},
        {**base, "date": "0001-01-01", "value": "1.0"},
        {**base, "date": "2013-05-01", "realtime_start": "2099-01-01", "value": "1.0"},
        ["2013-06-01", "1.0"],
    ]
    batches, _, _ = _fetch(["GDP"], _ok(rows))
    assert batches["GDP"].macro["value"].tolist() == [15965.6]
    reasons = batches["GDP"].rejects["reason"].tolist()
    assert sorted(reasons) == sorted(
        [*["bad_value"] * 3, *["bad_date"] * 3, "absurd_date", "absurd_date", "malformed_json"]
    )
    assert batches["GDP"].rejects["detail"].str.len().min() > 10


# --------------------------------------------------------------------------- release times


def test_end_of_day_and_release_times_in_utc_across_dst() -> None:
    days = [date(2024, 3, 8), date(2024, 3, 11), date(2024, 11, 1), date(2024, 11, 4)]
    end_of_day = public_at(days).strftime("%Y-%m-%d %H:%M").tolist()
    assert end_of_day == [
        "2024-03-09 05:00",  # EST: midnight New York is 05:00 UTC
        "2024-03-12 04:00",  # EDT: 04:00 UTC
        "2024-11-02 04:00",
        "2024-11-05 05:00",
    ]
    at_830 = public_at(days, time(8, 30)).strftime("%H:%M").tolist()
    assert at_830 == ["13:30", "12:30", "12:30", "13:30"]
    # 02:30 does not exist on 2024-03-10 (-> 03:00 EDT); 01:30 happens twice on 2024-11-03
    odd = public_at([date(2024, 3, 10), date(2024, 11, 3)], time(2, 30)).strftime("%H:%M")
    assert odd.tolist() == ["07:00", "07:30"]
    assert public_at([date(2024, 11, 3)], time(1, 30)).strftime("%H:%M").tolist() == ["06:30"]


def test_release_time_moves_the_vintages_to_the_real_moment() -> None:
    batches, _, _ = _fetch(["GDP"], _ok(GDP_ROWS), release_time="08:30")
    stamps = batches["GDP"].macro["realtime_start"].astype(str).tolist()
    assert stamps[:2] == ["2013-04-26 12:30:00+00:00", "2013-05-30 12:30:00+00:00"]


# --------------------------------------------------------------------------- point in time


def _stored(tmp_path, **fields) -> DuckDBStore:
    batches, _, _ = _fetch(["GDP"], _ok(GDP_ROWS), **fields)
    store = DuckDBStore(tmp_path / "x.duckdb")
    written = store.write(WriteBatch(macro=batches["GDP"].macro))
    assert written.macro == 4
    return store


def test_a_point_in_time_read_sees_the_first_value_before_the_revision(tmp_path) -> None:
    times = pd.to_datetime(
        [
            "2013-04-26 20:00",  # the advance estimate's day: not yet public (end of day)
            "2013-05-15 12:00",  # the advance estimate
            "2013-05-30 14:00",  # the revision's day, still the advance estimate
            "2013-06-15 12:00",  # the revision
            "2013-08-01 12:00",  # the next quarter
        ],
        utc=True,
    )
    with _stored(tmp_path) as store:
        seen = store.asof_macro(pd.Series(times), ["GDP"])
        assert store.read_macro(["GDP"])["value"].tolist() == [15965.6, 15984.1, 16633.4, 16661.0]
    assert seen["ts"].tolist() == list(times[1:])
    assert seen["value"].tolist() == [15965.6, 15965.6, 15984.1, 16633.4]
    assert seen["period"].tolist() == [date(2013, 1, 1)] * 3 + [date(2013, 4, 1)]


def test_with_a_release_time_the_revision_is_seen_that_morning(tmp_path) -> None:
    times = pd.to_datetime(["2013-05-30 12:00", "2013-05-30 12:30"], utc=True)
    with _stored(tmp_path, release_time="08:30") as store:
        seen = store.asof_macro(pd.Series(times), ["GDP"])
    assert seen["value"].tolist() == [15965.6, 15984.1]


def test_since_leaves_out_stored_vintages() -> None:
    waits: list[float] = []
    with scripted_server() as server, _fetcher(waits) as fetcher:
        server.script(PATH, _ok(GDP_ROWS))
        source = _source(server.base, ["GDP"], fetcher)
        since = {"GDP": pd.Timestamp("2013-05-31 04:00")}  # naive: UTC
        (batch,) = source.fetch(since=since)
    assert batch.macro["value"].tolist() == [16633.4, 16661.0]


# --------------------------------------------------------------------------- stream


def _stream(source: FredSource, n: int) -> list:
    async def take() -> list:
        out = []
        async for batch in source.stream():
            out.append(batch)
            if len(out) == n:
                break
        return out

    return asyncio.run(take())


def test_the_stream_yields_only_new_vintages_and_survives_failed_polls() -> None:
    naps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        naps.append(seconds)

    newer = {"realtime_start": "2013-09-26", "realtime_end": "9999-12-31", "date": "2013-04-01",
             "value": "16649.4"}  # fmt: skip
    with scripted_server() as server, _fetcher([], max_retries=0, max_wait_s=60) as fetcher:
        server.script(
            PATH,
            _ok(GDP_ROWS),  # poll 1: everything
            Reply("down", status=500),  # poll 2: fails
            Reply("later", status=429, headers={"Retry-After": "900"}),  # poll 3: rate limited
            _ok([*GDP_ROWS, newer]),  # poll 4: one new vintage
        )
        config = FredConfig(series=["GDP"], api_key=KEY, base_url=server.base, poll_seconds=60)
        source = FredSource(config, fetcher=fetcher, sleep=fake_sleep, now=lambda: NOW)
        first, failed, limited, fourth = _stream(source, 4)
    assert len(first.macro) == 4
    assert failed.macro.empty
    assert failed.rejects["reason"].tolist() == ["fetch_failed"]
    assert limited.rejects["reason"].tolist() == ["fetch_failed"]
    assert "wait 900 s" in limited.rejects["detail"][0]
    assert fourth.macro["value"].tolist() == [16649.4]
    assert fourth.rejects.empty
    assert naps == [60, 60, 900, 60]  # a poll pause, another, FRED's wait, then the pause
    assert all(KEY not in b.rejects.to_csv() for b in (failed, limited))


def test_the_stream_repeats_neither_vintages_nor_row_rejects() -> None:
    naps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        naps.append(seconds)

    newer = {"realtime_start": "2013-09-26", "realtime_end": "9999-12-31", "date": "2013-04-01",
             "value": "16649.4"}  # fmt: skip
    with scripted_server() as server, _fetcher([], max_retries=0) as fetcher:
        server.script(
            PATH,
            *[_ok(UNRATE_ROWS), _ok(GDP_ROWS)] * 2,  # polls 1 and 2: the same answers
            _ok(UNRATE_ROWS),
            _ok([*GDP_ROWS, newer]),  # poll 3: one new GDP vintage
        )
        config = FredConfig(series=["UNRATE", "GDP"], api_key=KEY, base_url=server.base)
        source = FredSource(config, fetcher=fetcher, sleep=fake_sleep, now=lambda: NOW)
        batches = _stream(source, 6)
    assert [b.label for b in batches] == ["UNRATE", "GDP"] * 3  # one per series and poll
    assert batches[0].rejects["reason"].tolist() == ["no_value"]
    assert len(batches[1].macro) == 4
    assert all(b.macro.empty and b.rejects.empty for b in batches[2:5])  # nothing new
    assert batches[5].macro["value"].tolist() == [16649.4]
    assert batches[5].rejects.empty
    assert naps == [3600.0, 3600.0]


def test_the_stream_stops_on_a_refused_key() -> None:
    async def fake_sleep(seconds: float) -> None:
        pass

    with scripted_server() as server, _fetcher([], max_retries=0) as fetcher:
        server.script(PATH, BAD_KEY)
        config = FredConfig(series=["GDP"], api_key=KEY, base_url=server.base)
        source = FredSource(config, fetcher=fetcher, sleep=fake_sleep)
        with pytest.raises(SourceError, match="refused the API key") as caught:
            _stream(source, 1)
    assert KEY not in str(caught.value)
