"""The simulator's planted regime change (``SimulatorConfig.shift``): nothing changes without
it or before it, and from its first bar on the edge flips or the volatility scales exactly, in
history and in the live stream."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from nexus.config import read_yaml
from nexus.sources.simulator import (
    MarketParams,
    RegimeShift,
    SimulatedMarket,
    SimulatorConfig,
    SimulatorSource,
    simulate,
)

CONFIGS = Path(__file__).parents[3] / "configs" / "simulator"
FRAMES = ("bars", "truth", "news", "corporate_actions", "symbols", "macro")
# 8 symbols x 10 sessions of 5m bars with a strong edge; the shift starts at session 5
BASE = SimulatorConfig(symbols=8, sectors=2, sessions=10, interval="5m", seed=5, alpha=0.5)
AT = 5
# Recorded before the regime shift existed, from the config of test_simulator's REFERENCE:
# sha256 prefixes of the bar and truth frames, floats rounded to float32 (so the last bits
# of a platform's exp or tanh do not matter).
REFERENCE = SimulatorConfig(
    symbols=4, sectors=2, sessions=3, interval="5m", seed=11, params=MarketParams(news_rate=1.0)
)
REFERENCE_DIGESTS = ("576bd235c97bdb82a1e9439d", "c430fb49f1e5ff98192fbf2e")


def _shifted(config: SimulatorConfig, **shift: object) -> SimulatorConfig:
    return config.model_copy(update={"shift": RegimeShift(**shift)})


def _digest(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype.kind == "f":
            h.update(values.astype(np.float32).tobytes())
        else:
            h.update("|".join(map(str, values.tolist())).encode())
    return h.hexdigest()[:24]


def _changed(market: SimulatedMarket, at: int = AT) -> np.ndarray:
    """Row mask of the bars of sessions ``at`` and later (by session date)."""
    day = market.bars["ts"].dt.date.to_numpy()
    return day >= np.unique(day)[at]


def _intrabar(market: SimulatedMarket) -> np.ndarray:
    return np.log(market.bars["close"] / market.bars["open"]).to_numpy()


def _diffusive(market: SimulatedMarket) -> np.ndarray:
    """``ret - gap - jump = drift + vol * eps`` of every bar."""
    t = market.truth
    return (t["ret"] - t["gap"] - t["jump"]).to_numpy()


def _hit_rate(market: SimulatedMarket, rows: np.ndarray) -> tuple[float, float]:
    """How often sign(signal) calls the intrabar move's sign, and its error clustered by ts."""
    t = market.truth[rows]
    hit = (np.sign(t["signal"].to_numpy()) == np.sign((t["ret"] - t["gap"]).to_numpy())) * 1.0
    clusters, _ = pd.factorize(t["ts"])
    per_time = np.bincount(clusters, weights=hit - hit.mean())
    return float(hit.mean()), float(np.sqrt(per_time @ per_time) / len(hit))


def _stream(config: SimulatorConfig, n: int, **kwargs: object) -> pd.DataFrame:
    async def nap(seconds: float) -> None:
        return None

    async def take() -> list[pd.DataFrame]:
        out = []
        async for batch in SimulatorSource(config, speed=1e9).stream(sleep=nap, **kwargs):
            out.append(batch.bars)
            if len(out) == n:
                break
        return out

    return pd.concat(asyncio.run(take()), ignore_index=True)


def _at(bars: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
    """``bars`` at ``times``, ordered like the live stream (ts then symbol)."""
    rows = bars[bars["ts"].isin(times)]
    return rows.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- config


def test_shift_config_defaults_and_yaml_form() -> None:
    assert SimulatorConfig().shift is None
    shift = RegimeShift(session=3)
    assert (shift.session, shift.alpha, shift.vol_scale) == (3, None, 1.0)
    config = SimulatorConfig(shift={"session": 20, "alpha": -0.3, "vol_scale": 3})
    assert config.shift == RegimeShift(session=20, alpha=-0.3, vol_scale=3.0)
    # a session beyond the history is allowed: the change then comes in the live stream
    assert SimulatorConfig(sessions=5, shift={"session": 500}).shift.session == 500
    # what the ingest log records (describe) rebuilds the same market, as `nexus up` does
    described = SimulatorSource(config).describe()
    rebuilt = SimulatorConfig(
        **{k: v for k, v in described.items() if k not in ("config_id", "speed")}
    )
    assert rebuilt == config
    assert config.config_id != config.model_copy(update={"shift": None}).config_id


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        ({"session": 0}, "shift.session=0 is below 1; use the index of the first changed"),
        ({"session": -2}, "shift.session=-2 is below 1"),
        ({"session": 3, "alpha": float("nan")}, "shift.alpha=nan is not a finite number"),
        ({"session": 3, "alpha": float("inf")}, "shift.alpha=inf is not a finite number"),
        ({"session": 3, "vol_scale": 0.0}, "shift.vol_scale=0.0 is not a finite number above 0"),
        ({"session": 3, "vol_scale": -3.0}, "shift.vol_scale=-3.0 is not a finite number above"),
        ({"session": 3, "vol_scale": float("inf")}, "shift.vol_scale=inf"),
        ({"alpha": -0.3}, "session\n  Field required"),
        ({"session": 3, "alpah": -0.3}, "Extra inputs are not permitted"),
        ({"session": "soon"}, "valid integer"),
    ],
)
def test_bad_shift_is_rejected_with_the_fix(shift: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SimulatorConfig(shift=shift)


# --------------------------------------------------------------------------- no change


def test_without_shift_the_market_is_the_one_recorded_before_it_existed() -> None:
    market = simulate(REFERENCE)
    assert (_digest(market.bars), _digest(market.truth)) == REFERENCE_DIGESTS
    explicit = simulate(REFERENCE.model_copy(update={"shift": None}))
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(explicit, frame), getattr(market, frame))


def test_a_shift_that_changes_nothing_or_comes_later_leaves_the_market_bit_for_bit() -> None:
    plain = simulate(BASE)
    for shift in ({"session": 1}, {"session": 10}, {"session": 10_000, "alpha": 0.0}):
        other = simulate(_shifted(BASE, **shift))
        for frame in FRAMES:
            pd.testing.assert_frame_equal(
                getattr(other, frame), getattr(plain, frame), check_exact=True
            )


@pytest.mark.parametrize("shift", [{"alpha": -0.5}, {"vol_scale": 3.0}, {"alpha": 0.0}])
def test_sessions_before_the_shift_are_bit_for_bit_and_news_ids_never_change(
    shift: dict,
) -> None:
    plain, shifted = simulate(BASE), simulate(_shifted(BASE, session=AT, **shift))
    before = ~_changed(plain)
    assert 0 < before.sum() < len(before)
    for frame, column in (("bars", "close"), ("truth", "drift")):
        a, b = getattr(plain, frame), getattr(shifted, frame)
        pd.testing.assert_frame_equal(b[before], a[before], check_exact=True)
        assert not np.allclose(b[column][~before], a[column][~before])
    # the shift draws nothing: the news (ids included) and the macro series are the same
    for frame in ("news", "symbols", "macro"):
        pd.testing.assert_frame_equal(getattr(shifted, frame), getattr(plain, frame))
    # the first changed bar opens where the unchanged history left it, and closes elsewhere
    first = np.flatnonzero(~before & (plain.bars["ts"] == plain.bars["ts"][~before].min()))
    assert len(first) == BASE.symbols
    np.testing.assert_array_equal(shifted.bars["open"][first], plain.bars["open"][first])
    assert (shifted.bars["close"][first] != plain.bars["close"][first]).all()
    assert (shifted.truth["drift"][first] != plain.truth["drift"][first]).all()


# --------------------------------------------------------------------------- the change


@pytest.mark.parametrize("news_drift", [0.0, 0.3])
def test_truth_stays_exact_with_the_sessions_alpha(news_drift: float) -> None:
    params = {"news_rate": 3.0, "news_drift": news_drift}
    base = BASE.model_copy(update={"params": MarketParams(**params)})
    plain = simulate(base)
    shifted = simulate(_shifted(base, session=AT, alpha=-0.2, vol_scale=2.5))
    changed = _changed(plain)
    p, s = plain.truth, shifted.truth
    alpha = np.where(changed, -0.2, base.alpha)
    # drift / vol = alpha_session * signal + news_drift * nu, with nu the unshifted market's
    news = p["drift"] / p["vol"] - base.alpha * p["signal"]
    np.testing.assert_allclose(s["drift"] / s["vol"], alpha * s["signal"] + news, atol=1e-12)
    if news_drift:
        assert news.abs().max() > 0.1
    # the same shocks: (ret - gap - jump - drift) / vol is eps in both markets
    eps_p = (_diffusive(plain) - p["drift"]) / p["vol"]
    eps_s = (_diffusive(shifted) - s["drift"]) / s["vol"]
    np.testing.assert_allclose(eps_s, eps_p, rtol=1e-9, atol=1e-9)
    for column in ("signal", "jump", "gap"):
        np.testing.assert_array_equal(s[column], p[column])
    np.testing.assert_array_equal(s["vol"], np.where(changed, 2.5, 1.0) * p["vol"])


def test_vol_scale_three_triples_the_volatility_from_the_first_changed_bar() -> None:
    plain = simulate(BASE)
    shifted = simulate(_shifted(BASE, session=AT, vol_scale=3.0))
    changed = _changed(plain)
    # exactly, bar by bar: sigma and drift + sigma * eps triple, the signal's edge is unchanged
    np.testing.assert_allclose(
        _diffusive(shifted)[changed], 3.0 * _diffusive(plain)[changed], rtol=1e-9, atol=1e-15
    )
    ratio = np.std(_diffusive(shifted)[changed]) / np.std(_diffusive(plain)[changed])
    assert ratio == pytest.approx(3.0, rel=1e-9)
    # intrabar log returns also hold the news jumps, which do not scale: their std grows
    # 2.85-3.00 times (2.94 on average over seeds 0-19 of this config; 2.90 for seed 5)
    intra = np.std(_intrabar(shifted)[changed]) / np.std(_intrabar(plain)[changed])
    assert 2.75 < intra < 3.05, intra
    assert np.std(_intrabar(shifted)[~changed]) == np.std(_intrabar(plain)[~changed])
    bars = shifted.bars
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["low"] > 0).all()


def test_flipped_alpha_makes_the_bayes_rule_lose_after_the_shift() -> None:
    """sign(signal) is right ~64 % of the time at alpha = 0.5 and ~38 % once alpha is -0.5."""
    z999 = stats.norm.ppf(0.9995)
    plain = simulate(BASE)
    shifted = simulate(_shifted(BASE, session=AT, alpha=-0.5))
    changed = _changed(plain)
    before, before_se = _hit_rate(shifted, ~changed)
    after, after_se = _hit_rate(shifted, changed)
    control, control_se = _hit_rate(plain, changed)  # same bars, no shift
    assert before - 0.5 > z999 * before_se, (before, before_se)
    assert control - 0.5 > z999 * control_se, (control, control_se)
    assert 0.5 - after > z999 * after_se, (after, after_se)
    # measured 0.383 after, 0.637 before, 0.644 without the shift
    assert after < 0.42
    assert before > 0.58
    assert control > 0.58


# --------------------------------------------------------------------------- live


def test_live_stream_applies_a_shift_that_starts_after_the_history() -> None:
    base = SimulatorConfig(symbols=3, sectors=1, sessions=2, interval="30m", seed=5, alpha=0.5)
    config = _shifted(base, session=2, alpha=-0.5, vol_scale=3.0)  # the first live session
    history = simulate(config)
    pd.testing.assert_frame_equal(history.bars, simulate(base).bars, check_exact=True)
    live = _stream(config, 30)  # 13 bars a session: the first live sessions
    assert live["ts"].min() > history.bars["ts"].max()
    longer = simulate(config.model_copy(update={"sessions": 5}))
    pd.testing.assert_frame_equal(live, _at(longer.bars, live["ts"]))
    unshifted = _at(simulate(base.model_copy(update={"sessions": 5})).bars, live["ts"])
    first = live["ts"] == live["ts"].min()
    np.testing.assert_array_equal(live["open"][first], unshifted["open"][first])
    assert not np.isclose(live["close"], unshifted["close"]).any()
    truth = _at(longer.truth, live["ts"])  # the truth rows of the live bars
    np.testing.assert_allclose(truth["drift"] / truth["vol"], -0.5 * truth["signal"], atol=1e-12)
    # resuming after a stored time inside the shifted sessions gives the same bars
    since = {"SIM00": live["ts"].iloc[20 * 3]}
    resumed = _stream(config, 5, since=since)
    assert resumed["ts"].min() > since["SIM00"]
    pd.testing.assert_frame_equal(resumed, _at(longer.bars, resumed["ts"]))


def test_shipped_example_flips_the_edge_in_the_first_live_session() -> None:
    config = SimulatorConfig.model_validate(read_yaml(CONFIGS / "regime-shift.yaml"))
    assert config.shift is not None
    assert config.shift.session == config.sessions  # the first live session
    assert config.shift.alpha == -config.alpha < 0
    market = simulate(config.model_copy(update={"sessions": config.sessions + 1}))
    changed = _changed(market, config.sessions)
    history, _ = _hit_rate(market, ~changed)
    live, live_se = _hit_rate(market, changed)
    assert history > 0.55  # measured 0.571
    assert 0.5 - live > 3.3 * live_se  # measured 0.426 on the first live session
