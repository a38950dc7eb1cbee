"""Scalers: fitted on the training window only, applied unchanged, saved as exact JSON."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nexus.errors import ConfigError, DataError, SourceNotFoundError
from nexus.features import FeaturePipeline, FeatureScaler


@pytest.fixture(scope="module")
def features(market_bars: pd.DataFrame) -> pd.DataFrame:
    return FeaturePipeline().transform(market_bars)


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = frame["ts"].sort_values().unique()[800]
    return frame[frame.ts < cut], frame[frame.ts >= cut]


@pytest.mark.parametrize("method", ["standard", "minmax", "robust"])
def test_statistics_come_from_the_training_rows(features: pd.DataFrame, method: str) -> None:
    train, later = _split(features)
    scaler = FeatureScaler(method).fit(train)
    values = train.iloc[:, 2:].to_numpy()
    if method == "standard":
        center, spread = np.nanmean(values, 0), np.nanstd(values, 0)
    elif method == "minmax":
        center, spread = np.nanmin(values, 0), np.nanmax(values, 0) - np.nanmin(values, 0)
    else:
        q = np.nanpercentile(values, [25, 50, 75], axis=0)
        center, spread = q[1], q[2] - q[0]
    np.testing.assert_array_equal(scaler.center_, center)
    np.testing.assert_array_equal(scaler.scale_, np.where(spread > 0, spread, 1.0))
    assert scaler.feature_names_in_ == tuple(features.columns[2:])
    # later rows (validation, test, live) never move the fit...
    wild = later.assign(**{c: later[c] * 100 + 7 for c in later.columns[2:]})
    refit = FeatureScaler(method).fit(pd.concat([train, wild]).iloc[: len(train)])
    np.testing.assert_array_equal(refit.center_, scaler.center_)
    # ...and are scaled with the training statistics, unchanged
    out = scaler.transform(later)
    expected = (later.iloc[:, 2:].to_numpy() - center) / np.where(spread > 0, spread, 1.0)
    np.testing.assert_array_equal(out.iloc[:, 2:].to_numpy(), expected)
    assert out[["symbol", "ts"]].equals(later[["symbol", "ts"]])


def test_nan_is_ignored_and_kept(features: pd.DataFrame) -> None:
    scaler = FeatureScaler().fit(features)
    out = scaler.transform(features)
    assert (out.iloc[:, 2:].isna() == features.iloc[:, 2:].isna()).all().all()
    assert (scaler.n_samples_seen_ == features.iloc[:, 2:].notna().sum().to_numpy()).all()


def test_constant_feature_is_only_centred() -> None:
    scaler = FeatureScaler().fit(pd.DataFrame({"a": [3.0, 3.0, np.nan], "b": [1.0, 2.0, 3.0]}))
    assert scaler.scale_[0] == 1.0
    assert scaler.transform(np.array([[4.0, 2.0]])).tolist() == [[1.0, 0.0]]


def test_clip_and_arrays() -> None:
    train = np.array([[0.0], [1.0], [2.0]])
    scaler = FeatureScaler("minmax", clip=1.5).fit(train, feature_names=["x"])
    assert scaler.transform(np.array([[1.0], [10.0], [-10.0]])).ravel().tolist() == [0.5, 1.5, -1.5]
    assert FeatureScaler().fit_transform(train).shape == (3, 1)


def test_json_round_trip_is_exact(features: pd.DataFrame, tmp_path: Path) -> None:
    train, later = _split(features)
    for method in ("standard", "minmax", "robust"):
        scaler = FeatureScaler(method, clip=8.0).fit(train)
        loaded = FeatureScaler.load(scaler.save(tmp_path / f"{method}.json"))
        assert loaded.feature_names_in_ == scaler.feature_names_in_
        assert loaded.center_.tobytes() == scaler.center_.tobytes()
        assert loaded.scale_.tobytes() == scaler.scale_.tobytes()
        assert (loaded.method, loaded.clip) == (method, 8.0)
        pd.testing.assert_frame_equal(loaded.transform(later), scaler.transform(later))
        assert FeatureScaler.from_json(scaler.to_json()).to_json() == scaler.to_json()


def test_column_mismatch_is_a_clear_error(features: pd.DataFrame) -> None:
    scaler = FeatureScaler().fit(features)
    with pytest.raises(DataError, match=r"features \['rsi_14'\].*unfitted columns \[\]"):
        scaler.transform(features.drop(columns="rsi_14"))
    with pytest.raises(DataError, match=r"lacks fitted features \[\].*unfitted columns \['new'\]"):
        scaler.transform(features.assign(new=1.0))
    with pytest.raises(DataError, match="got 3 columns, fitted on 37"):
        scaler.transform(np.ones((2, 3)))
    reordered = features[["ts", "symbol", *reversed(features.columns[2:])]]
    pd.testing.assert_frame_equal(
        scaler.transform(reordered)[features.columns], scaler.transform(features)
    )


def test_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not fitted"):
        FeatureScaler().transform(np.ones((1, 1)))
    with pytest.raises(ConfigError, match="method 'zscore' is not known"):
        FeatureScaler("zscore").fit(np.ones((2, 1)))
    with pytest.raises(ConfigError, match="clip=-1"):
        FeatureScaler(clip=-1).fit(np.ones((2, 1)))
    with pytest.raises(DataError, match=r"features \['b'\] have no finite value"):
        FeatureScaler().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}))
    with pytest.raises(DataError, match="not a saved FeatureScaler"):
        FeatureScaler.from_json('{"format": "something else"}')
    with pytest.raises(SourceNotFoundError):
        FeatureScaler.load(tmp_path / "missing.json")
    assert FeatureScaler("robust", clip=3.0).clip == 3.0  # __init__ stores, never validates
    assert repr(FeatureScaler("robust", clip=3.0)) == "FeatureScaler(method='robust', clip=3.0)"
