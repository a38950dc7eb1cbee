"""``nexus backtest`` as a user runs it: a model or a signals file, a report, bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .conftest import Nexus

EXPERIMENT = """
data: {interval: 5m}
labels: {kind: fixed_horizon, horizon: 1, threshold: 0.0}
dataset: {lookback: 12, stride: 1, weights: none}
splits: {n_folds: 1, test_size: 0.2, min_train: 300, min_test: 100}
models:
  - model: lightgbm
    params: {n_estimators: 30}
"""


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Nexus, str, Path]:
    root = tmp_path_factory.mktemp("backtest")
    nexus = Nexus(root / "home")
    nexus.env["NEXUS_MODEL_SLOTS"] = "lightgbm"
    assert (
        nexus("ingest", "sim", "--symbols", "3", "--sessions", "14", "--interval", "5m").code == 0
    )
    config = root / "nightly.yaml"
    config.write_text(EXPERIMENT)
    run = nexus("retrain", "--config", str(config), "--sessions", "3", "--json")
    assert run.code == 0, run.stderr
    return nexus, run.json()["slots"][0]["challenger"], root


def test_a_model_backtest_writes_its_report(retrained) -> None:
    nexus, version, root = retrained
    out = root / "reports" / "lightgbm.html"
    result = nexus("backtest", "--slot", "lightgbm", "--version", version, "--report", str(out),
                   "--sizing", "kelly", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["what"] == f"lightgbm/{version}"
    assert summary["report"] == str(out)
    assert {"sharpe", "max_drawdown", "turnover", "hit_rate"} <= set(summary["metrics"])
    page = out.read_text()
    assert "Feature importance (split gain)" in page
    human = nexus("backtest", "--slot", "lightgbm", "--version", version)
    assert "total return" in human.stdout


def test_a_signals_file_backtest(retrained) -> None:
    nexus, _, root = retrained
    export = root / "export"
    assert nexus("data", "export", "--interval", "5m", "--out", str(export)).code == 0
    bars = pd.concat(pd.read_parquet(p) for p in sorted(export.rglob("*.parquet")))
    bars = bars.sort_values(["symbol", "ts"])
    signals = bars[["symbol", "ts"]].assign(
        signal=bars.groupby("symbol")["close"]
        .diff()
        .fillna(0)
        .clip(-1, 1)
        .apply(lambda v: 1.0 if v > 0 else (-1.0 if v < 0 else 0.0))
    )
    path = root / "momentum.csv"
    signals.to_csv(path, index=False)
    result = nexus("backtest", "--signals", str(path), "--interval", "5m", "--json",
                   "--report", str(root / "momentum.html"))  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json()["metrics"]["n_trades"] > 10
    assert (root / "momentum.html").stat().st_size > 3_000_000


def test_bad_input_is_one_line(retrained) -> None:
    nexus, version, root = retrained
    stray = root / "stray.csv"
    pd.DataFrame({"symbol": ["NOPE"], "ts": ["2025-01-02 15:00"], "signal": [1.0]}).to_csv(
        stray, index=False
    )
    cases = [
        (("backtest", "--signals", str(stray), "--interval", "5m"), "NOPE"),
        (("backtest", "--slot", "lightgbm", "--version", "nope"), "does not exist"),
        (("backtest", "--slot", "lightgbm", "--version", version, "--report", "/proc/x.html"),
         "cannot write the report"),
        (("backtest",), "either --slot or --signals"),
        (("backtest", "--signals", str(root / "missing.csv")), "does not exist"),
    ]  # fmt: skip
    for args, fragment in cases:
        result = nexus(*args)
        assert result.code == 1, (args, result.stdout)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert fragment in lines[0], (args, lines[0])
