"""The dashboard in a real headless Chromium against a real uvicorn server on loopback.

The page is served by :func:`nexus.api.create_app` over a small simulated DuckDB
store (3 symbols, 2 sessions of 1m bars). Live data is driven from the test the
way ``nexus up`` makes it: the simulator's next bar time is stored by the
:class:`~nexus.ingest.Ingestor`, which publishes ``BarsClosed`` on the bus, and
the signals of that bar time are stored and published as ``SignalsReady``.
Every wait is on a fact the page reports in ``window.nexusState``, never a sleep.
The store also holds a few headlines (SIM00 and SIM02; one with a hostile headline and
link) and two macro series with a revision, for the Headlines and Macro panels.

Chromium is Debian's (``/usr/bin/chromium``), installed with apt-get when
missing; ``playwright install`` is never run. ``NEXUS_SCREENSHOT_DIR`` names a
folder that also receives the screenshot.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from nexus.api import BackgroundServer, create_app
from nexus.bus import TOPIC_ALERTS, TOPIC_SIGNALS, AlertRaised, InProcessBus, SignalsReady
from nexus.config import Settings
from nexus.domain import (
    Action,
    Prediction,
    Recommendation,
    macro_frame,
    news_frame,
    predictions_frame,
    recommendations_frame,
)
from nexus.ingest import Ingestor
from nexus.registry import REQUIRED_FILES, Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore, WriteBatch

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SYMBOLS = ("SIM00", "SIM01", "SIM02")
SLOTS = ("lstm", "transformer")
MARKET = SimulatorConfig(symbols=len(SYMBOLS), sectors=1, sessions=2, interval="1m", seed=5)
WAIT_MS = 15_000
STATE = "window.nexusState"
SCORER = "finbert@1.0"
HOSTILE = '<img src=x onerror="window.__xss = 1"><b>SIM00</b> & "merger" talks'


# -- the browser ---------------------------------------------------------------------------


def _chromium() -> str:
    """Debian's chromium, installed with apt-get when it is missing."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    apt = shutil.which("apt-get")
    problem = "apt-get is not available"
    if apt is not None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for args in (["install", "-y", "chromium"], ["update"], ["install", "-y", "chromium"]):
            done = subprocess.run([apt, *args], capture_output=True, text=True, env=env)
            if CHROMIUM.exists():
                return str(CHROMIUM)
            problem = (done.stderr.strip().splitlines() or [f"apt-get {args[0]} failed"])[-1]
    pytest.fail(
        f"Debian chromium is missing at {CHROMIUM} and could not be installed ({problem}); "
        "install it with: sudo apt-get install -y chromium",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A dashboard tab that records console errors and waits on ``window.nexusState``."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(f"() => ({{...{STATE}}})")

    def wait(self, condition: str, arg: Any = None) -> None:
        """Wait until ``condition`` (JS over ``s``, the state, and ``arg``) holds."""
        try:
            self.page.wait_for_function(
                f"(arg) => {{ const s = {STATE}; return !!s && ({condition}); }}",
                arg=arg,
                timeout=WAIT_MS,
            )
        except PlaywrightTimeout:
            pytest.fail(
                f"the page never reached {condition} (arg={arg!r}); "
                f"state {self.state()}; console errors {self.errors}",
                pytrace=False,
            )

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector).strip()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    page = Page(browser)
    yield page
    page.close()


# -- the market, the models and the server -------------------------------------------------


def _fill(model: str, macro_f1: float):
    def fill(folder: Path) -> None:
        for name in REQUIRED_FILES:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("{}")
        (folder / "model" / "model.json").write_text(json.dumps({"model": model}))
        (folder / "metrics.json").write_text(json.dumps({"summary": {"macro_f1": macro_f1}}))

    return fill


def _seed_home(home: Path) -> None:
    """Two versions per slot (the newer is champion) and one backtest report."""
    registry = Registry(home, slots=SLOTS)
    for slot, model in zip(SLOTS, ("lstm", "transformer"), strict=True):
        for f1 in (0.40, 0.43):
            version = registry.add(slot, _fill(model, f1))
            registry.promote(slot, version, reason="validated", figures={"macro_f1": f1})
    reports = home / "reports"
    reports.mkdir(parents=True)
    (reports / "backtest-demo.html").write_text("<html><body>demo report</body></html>")


def _signals(ts: datetime, actions: dict[str, Action]) -> list[Recommendation]:
    """Recommendations (with both models' predictions) for ``ts``, one per symbol."""
    recs = []
    for i, (symbol, action) in enumerate(actions.items()):
        p_up = {Action.BUY: 0.71, Action.SELL: 0.12, Action.HOLD: 0.38}[action] - 0.01 * i
        p_down = {Action.BUY: 0.09, Action.SELL: 0.66, Action.HOLD: 0.30}[action]
        preds = tuple(
            Prediction(
                symbol=symbol,
                interval="1m",
                ts=ts,
                model=slot,
                version=f"{slot}-v2",
                p_down=p_down,
                p_neutral=round(1.0 - p_up - p_down, 6),
                p_up=p_up - 0.02 * k,
                threshold=0.55,
            )
            for k, slot in enumerate(SLOTS)
        )
        vetoed = action is Action.HOLD
        confidence = min(p.p_up if action is Action.BUY else p.p_down for p in preds)
        recs.append(
            Recommendation(
                symbol=symbol,
                interval="1m",
                ts=ts,
                action=action,
                confidence=round(confidence if action is not Action.HOLD else 0.38, 6),
                predictions=preds,
                reasons=(
                    f"{symbol}: lstm and transformer agree on {action}",
                    "vetoed: exposure limit reached" if vetoed else "risk within limits",
                ),
                risk={"exposure": 0.25 if vetoed else 0.1, "drawdown": 0.01},
                vetoed=vetoed,
            )
        )
    return recs


def _signal_batch(recs: list[Recommendation]) -> WriteBatch:
    rows = []
    for r in recs:
        row = r.to_dict()
        row["reasons"], row["risk"] = json.dumps(row["reasons"]), json.dumps(row["risk"])
        del row["predictions"]
        rows.append(row)
    preds = [p.to_dict() for r in recs for p in r.predictions]
    return WriteBatch(
        predictions=predictions_frame(pd.DataFrame(preds)),
        recommendations=recommendations_frame(pd.DataFrame(rows)),
    )


def _story(story_id: str, minute: int, headline: str, symbols: str, **fields: Any) -> dict:
    """A story available at 21:MM UTC on 2025-01-03 (after the simulated history)."""
    at = pd.Timestamp(f"2025-01-03T21:{minute:02d}:00Z")
    return {
        "id": story_id,
        "published_at": at - pd.Timedelta(minutes=1),
        "available_at": at,
        "headline": headline,
        "symbols": symbols,
        "body": "",
        "url": "",
        "sentiment": float("nan"),
        "sentiment_model": "",
        "source": "rss:wire",
        **fields,
    }


def _vintage(series: str, period: str, released: str, value: float) -> dict:
    return {
        "series_id": series,
        "period": pd.Timestamp(period).date(),
        "realtime_start": pd.Timestamp(released, tz="UTC"),
        "value": value,
        "source": "test",
    }


def _context_batches() -> list[WriteBatch]:
    """Headlines for SIM00 (e1 carried by two feeds) and SIM02; TEST_CPI and TEST_RATE."""
    scored = {"sentiment_model": SCORER}
    e1 = _story("e1", 5, "SIM00 beats estimates", "SIM00", url="https://news.example/e1")
    stories = [
        {**e1, "sentiment": 0.8, **scored, "source": "rss:reuters"},
        _story("e2", 10, "SIM00 faces a probe", "SIM00", sentiment=-0.7, **scored),
        _story("e3", 20, HOSTILE, "SIM00", url="javascript:window.__xss = 2"),
        _story("e4", 15, "SIM02 recalls a product", "SIM02", sentiment=-0.3, **scored),
    ]
    macro = [
        _vintage("TEST_CPI", "2024-11-01", "2024-12-12T13:30", 315.0),
        _vintage("TEST_CPI", "2024-11-01", "2025-01-13T13:30", 315.4),
        _vintage("TEST_CPI", "2024-12-01", "2025-01-02T13:30", 316.0),
        _vintage("TEST_CPI", "2024-12-01", "2025-02-03T13:30", 316.2),
        _vintage("TEST_RATE", "2024-12-01", "2025-01-02T14:00", 4.33),
    ]
    return [
        WriteBatch(news=news_frame(pd.DataFrame(stories)), macro=macro_frame(pd.DataFrame(macro))),
        WriteBatch(news=news_frame(pd.DataFrame([{**e1, "source": "newsapi"}]))),
    ]


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBStore, Path]]:
    """The store (simulated history plus signals for its last bar time) and NEXUS_HOME."""
    root = tmp_path_factory.mktemp("dashboard")
    home = root / "home"
    _seed_home(home)
    store = DuckDBStore(root / "nexus.duckdb")
    Ingestor(store).run(SimulatorSource(MARKET))
    last = pd.Timestamp(store.read_bars(list(SYMBOLS), "1m")["ts"].max()).to_pydatetime()
    store.write(_signal_batch(_signals(last, dict.fromkeys(SYMBOLS, Action.HOLD))))
    for batch in _context_batches():
        store.write(batch)
    yield store, home
    store.close()


class Live:
    """The API on a real uvicorn server, and the live feed the test drives."""

    def __init__(self, store: DuckDBStore, home: Path) -> None:
        self.store = store
        self.settings = Settings(home=home)
        self.bus = InProcessBus()
        self.server: BackgroundServer | None = None
        self.port = 0

    def start(self) -> Live:
        app = create_app(
            settings=self.settings,
            store=self.store,
            registry=Registry(self.settings.home, slots=SLOTS),
            bus=self.bus,
        )
        self.server = BackgroundServer(app, port=self.port).start()
        self.port = self.server.port  # a restart binds the same port
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Any:
        response = httpx.get(self.url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def next_bar(self) -> datetime:
        """Store the simulator's next bar time for every symbol and publish ``BarsClosed``."""
        assert self.server is not None
        source = SimulatorSource(MARKET, speed=math.inf)
        ingest = Ingestor(self.store, bus=self.bus).run_live(source, max_batches=1)
        report = self.server.run(ingest)
        assert report.total("stored") == len(SYMBOLS)
        return pd.Timestamp(report.batches[-1].label).to_pydatetime()

    def publish_signals(self, ts: datetime, actions: dict[str, Action]) -> list[Recommendation]:
        """Store the recommendations of ``ts``, then publish them as ``SignalsReady``."""
        assert self.server is not None
        recs = _signals(ts, actions)
        event = SignalsReady(
            interval="1m",
            ts=ts,
            predictions=tuple(p for r in recs for p in r.predictions),
            recommendations=tuple(recs),
        )

        def store_and_publish() -> int:
            self.store.write(_signal_batch(recs))
            return self.bus.publish(TOPIC_SIGNALS, event)

        assert self.server.call(store_and_publish) >= 1
        return recs


@pytest.fixture
def live(market: tuple[DuckDBStore, Path]) -> Iterator[Live]:
    running = Live(*market).start()
    yield running
    running.stop()


# -- helpers -------------------------------------------------------------------------------


def _ms(ts: datetime | str) -> int:
    """Epoch milliseconds, as the page reports times (the wire writes +00:00 or Z)."""
    return int(pd.Timestamp(ts).timestamp() * 1000)


def _open(tab: Page, live: Live, symbol: str = "SIM00") -> dict[str, Any]:
    tab.page.goto(f"{live.url}/?symbol={symbol}")
    tab.wait("s.ready && s.connected && s.symbol === arg", symbol)
    return tab.state()


def _history(live: Live, symbol: str, limit: int) -> list[dict[str, Any]]:
    return live.get(f"/api/bars/{symbol}?interval=1m&limit={limit}")["bars"]


def _screenshot(tab: Page, folder: Path, name: str = "dashboard.png") -> Path:
    path = folder / name
    tab.page.screenshot(path=str(path), full_page=True, animations="disabled")
    if os.environ.get("NEXUS_SCREENSHOT_DIR"):
        target = Path(os.environ["NEXUS_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


def _check_headlines(tab: Page, live: Live, symbol: str) -> list[str]:
    """The Headlines panel shows the API's newest stories of ``symbol``, each with a badge."""
    tab.wait("s.newsSymbol === arg", symbol)
    ids = [s["id"] for s in live.get(f"/api/news/{symbol}")]
    items = tab.page.locator("#news-list .news-item")
    assert items.evaluate_all("nodes => nodes.map((n) => n.dataset.id)") == ids
    assert tab.page.locator("#news-list .news-item .senti").count() == len(ids)
    return ids


def _rgb(locator: Any) -> tuple[int, ...]:
    color = locator.evaluate("node => getComputedStyle(node).backgroundColor")
    return tuple(int(x) for x in re.findall(r"\d+", color)[:3])


def _check_panel(tab: Page, rec: Recommendation) -> None:
    assert tab.text("#rec-action") == str(rec.action)
    assert tab.text("#rec-confidence") == f"{100 * rec.confidence:.1f}%"
    assert tab.page.locator("#rec-reasons li").all_inner_texts() == list(rec.reasons)
    assert _ms(tab.page.get_attribute("#rec-time", "datetime")) == _ms(rec.ts)
    assert tab.page.is_visible("#rec-veto") == rec.vetoed
    for p in rec.predictions:
        block = tab.page.locator(f'#prediction-panel [data-model="{p.model}"]')
        assert p.version in block.inner_text()
        assert f"{100 * p.p_up:.1f}%" in block.inner_text()


# -- the tests -----------------------------------------------------------------------------


def test_dashboard_shows_history_live_bars_signals_and_switches_symbol(
    tab: Page, live: Live, tmp_path: Path
) -> None:
    state = _open(tab, live)
    history = _history(live, "SIM00", state["historyLimit"])
    assert state["bars"] == state["historyBars"] == len(history) > 100
    assert state["lastBarMs"] == _ms(history[-1]["ts"])
    assert tab.errors == []
    assert tab.page.is_visible("#sim-badge")
    assert tab.text("#sim-badge") == "SIMULATED DATA"
    assert tab.text("#conn-status") == "live"
    options = tab.page.locator("#symbol-select option").all_inner_texts()
    assert options == list(SYMBOLS)
    assert tab.page.locator("#chart .cartesianlayer .trace").count() >= 2  # candles and volume
    # the model panel, the reports and the stored signal of the last bar time
    models = live.get("/api/models")["slots"]
    for slot in models:
        assert slot["champion"] in tab.text(f'#model-panel [data-slot="{slot["slot"]}"]')
    assert tab.page.get_attribute("#reports a", "href") == "/reports/backtest-demo.html"
    assert tab.text("#rec-action") == "HOLD"
    assert tab.page.is_visible("#rec-veto")
    assert _check_headlines(tab, live, "SIM00")[:3] == ["e3", "e2", "e1"]

    # a new bar arrives over the WebSocket and is appended
    ts = live.next_bar()
    tab.wait("s.lastBarMs === arg[0] && s.bars === arg[1]", [_ms(ts), len(history) + 1])

    # the engine's signals for that bar: the panel and the table update
    actions = {"SIM00": Action.BUY, "SIM01": Action.SELL, "SIM02": Action.HOLD}
    recs = live.publish_signals(ts, actions)
    tab.wait("s.lastRecMs === arg", _ms(ts))
    _check_panel(tab, recs[0])
    assert _ms(tab.page.get_attribute("#rec-table tbody tr:first-child", "data-ts")) == _ms(ts)
    assert "BUY" in tab.text("#rec-table tbody tr:first-child")
    _screenshot(tab, tmp_path, "dashboard-SIM00.png")

    # switching symbol reloads the chart and shows the other symbol's signal
    loads = tab.state()["loads"]
    tab.page.select_option("#symbol-select", "SIM02")
    tab.wait("s.symbol === 'SIM02' && s.loads > arg", loads)
    state = tab.state()
    other = _history(live, "SIM02", state["historyLimit"])
    assert state["bars"] == len(other)
    assert state["lastBarMs"] == _ms(other[-1]["ts"]) == _ms(ts)
    _check_panel(tab, recs[2])
    assert "SIM02" in tab.text("#prediction-panel")
    assert "e4" in _check_headlines(tab, live, "SIM02")  # the other symbol's headlines
    assert tab.page.locator('#news-list [data-id="e1"]').count() == 0
    # the stream now carries SIM02: its next bar and signal reach the page
    ts2 = live.next_bar()
    tab.wait("s.lastBarMs === arg[0] && s.bars === arg[1]", [_ms(ts2), len(other) + 1])
    close = _history(live, "SIM02", 1)[-1]["close"]
    assert tab.text("#quote-price") == f"{close:,.2f}"  # SIM02's bar, not another symbol's
    recs2 = live.publish_signals(ts2, dict.fromkeys(SYMBOLS, Action.SELL))
    tab.wait("s.lastRecMs === arg", _ms(ts2))
    _check_panel(tab, recs2[2])
    shot = _screenshot(tab, tmp_path)
    assert shot.stat().st_size > 20_000
    assert tab.errors == []


def test_dashboard_reconnects_after_the_server_restarts(tab: Page, live: Live) -> None:
    state = _open(tab, live, "SIM01")
    assert state["connects"] == 1
    live.stop()
    tab.wait("!s.connected")
    assert tab.page.get_attribute("#conn-status", "data-state") == "reconnecting"
    live.start()  # the same port
    tab.wait("s.connected && s.connects === 2 && s.loads >= arg", state["loads"] + 1)
    assert tab.text("#conn-status") == "live"
    bars = tab.state()["bars"]
    ts = live.next_bar()
    tab.wait("s.lastBarMs === arg[0] && s.bars === arg[1]", [_ms(ts), bars + 1])
    # the only console errors are the refused connections while the server was down
    assert all("ERR_CONNECTION_REFUSED" in e or "WebSocket" in e for e in tab.errors), tab.errors


def test_dashboard_shows_headlines_with_sentiment_and_the_macro_series(
    tab: Page, live: Live
) -> None:
    _open(tab, live, "SIM00")
    tab.wait("s.newsSymbol === 'SIM00' && s.macroLoads > 0")

    def story(story_id: str) -> Any:
        return tab.page.locator(f'#news-list [data-id="{story_id}"]')

    # a scored story with a link, carried by two feeds; times in the exchange's zone
    link = story("e1").locator("a.news-headline")
    assert link.inner_text() == "SIM00 beats estimates"
    assert link.get_attribute("href") == "https://news.example/e1"
    assert "noopener" in link.get_attribute("rel")
    assert story("e1").locator(".news-sources").inner_text() == "newsapi · rss:reuters"
    assert story("e1").locator("time").inner_text() == "01-03 16:04"  # 21:04 UTC
    badge = story("e1").locator(".senti")
    assert badge.inner_text() == "+0.80"
    assert "scored by finbert@1.0" in badge.get_attribute("title")
    red, green, _ = _rgb(badge)
    assert green > red  # positive: green
    badge = story("e2").locator(".senti")
    assert badge.inner_text() == "-0.70"
    red, green, _ = _rgb(badge)
    assert red > green  # negative: red
    # an unscored story whose headline and link are hostile: shown as text, not linked
    assert story("e3").locator(".senti").get_attribute("data-scored") == "false"
    assert story("e3").locator(".news-headline").inner_text() == HOSTILE
    assert story("e3").locator("a").count() == 0
    assert tab.page.locator("#news-list img, #news-list b").count() == 0
    assert tab.page.evaluate("window.__xss") is None

    # the macro panel: every series known now, with its newest value, change and release
    series = live.get("/api/macro")
    assert tab.page.locator("#macro-table tbody tr").count() == len(series) >= 2
    cells = tab.page.locator('#macro-table tr[data-series="TEST_CPI"] td').all_inner_texts()
    assert cells == ["TEST_CPI", "2024-12", "316.2", "+0.8", "2025-02-03"]

    # a symbol without headlines says so
    tab.page.route(re.compile(r"/api/news/SIM01\b"), lambda route: route.fulfill(json=[]))
    tab.page.select_option("#symbol-select", "SIM01")
    tab.wait("s.newsSymbol === 'SIM01'")
    assert tab.text("#news-list") == "No headlines for SIM01 yet"
    assert tab.errors == []


TOP_FEATURE = {"psi": 4.2, "ks": 0.5, "n": 120, "drifting": True}


def _monitor_batch(registry: Registry) -> WriteBatch:
    """One stored alert and the newest drift check of each slot's champion."""
    at = pd.Timestamp("2025-01-03 21:00", tz="UTC")
    alert = AlertRaised(
        level="warning",
        source="monitor",
        kind="data_drift",
        slot="lstm",
        message="lstm: data drift (62% of features drifting)",
        at=at.to_pydatetime(),
        id="stored-1",
    )
    checks = [
        {
            "at": at,
            "slot": slot,
            "version": registry.champion(slot),
            "bar_ts": at,
            "status": status,
            "data_score": 1.7,
            "drifted": drifted,
            "confidence": 0.52,
            "confidence_ref": 0.55,
            "accuracy": 0.41,
            "accuracy_ref": 0.50,
            "macro_f1": 0.33,
            "macro_f1_ref": 0.40,
            "n_window": 120,
            "n_resolved": 480,
            "details": json.dumps({"features": {"rvol_15": TOP_FEATURE}}),
        }
        for slot, status, drifted in (("lstm", "drift", 0.62), ("transformer", "ok", 0.05))
    ]
    from nexus.monitoring import alerts_rows

    return WriteBatch(alerts=alerts_rows([alert]), drift=pd.DataFrame(checks))


def test_dashboard_shows_alerts_and_each_champions_drift(tab: Page, live: Live) -> None:
    registry = Registry(live.settings.home, slots=SLOTS)
    live.store.write(_monitor_batch(registry))
    _open(tab, live, "SIM00")
    tab.wait("s.alertLoads > 0 && s.driftLoads > 0")
    assert tab.state()["alertIds"] == ["stored-1"]
    stored = tab.page.locator('#alert-list [data-id="stored-1"]')
    assert stored.get_attribute("data-level") == "warning"
    assert "62% of features drifting" in stored.inner_text()
    lstm = tab.page.locator('#model-body [data-slot="lstm"]')
    assert lstm.locator(".drift").get_attribute("data-drift") == "drift"
    row = lstm.locator("tr", has_text="Drift").locator("td")
    assert row.inner_text() == "62% features · acc 0.410 (ref 0.500)"
    assert "rvol_15 PSI 4.20" in row.get_attribute("title")
    transformer = tab.page.locator('#model-body [data-slot="transformer"] .drift')
    assert transformer.get_attribute("data-drift") == "ok"

    # a rollback raised live goes to the top of the list, and its text stays text
    alert = AlertRaised(
        level="critical",
        source="monitor",
        kind="rollback",
        slot="lstm",
        message=f"lstm: rolled back {HOSTILE}",
        at=datetime.now().astimezone(),
    )
    assert live.server.call(lambda: live.bus.publish(TOPIC_ALERTS, alert)) >= 1
    tab.wait("s.alertItems === 2")
    assert tab.state()["alertIds"] == [alert.id, "stored-1"]
    top = tab.page.locator("#alert-list .alert-item").first
    assert top.get_attribute("data-level") == "critical"
    assert top.locator(".alert-text").inner_text() == f"lstm: rolled back {HOSTILE}"
    assert tab.page.locator("#alert-list img, #alert-list b").count() == 0
    assert tab.text("#alert-bar").startswith("CRITICAL · monitor:")
    assert tab.errors == []
