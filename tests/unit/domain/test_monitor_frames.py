"""The alert and drift-check frames: coerced to their dtypes, bad rows refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from nexus.domain import ALERT_COLUMNS, ALERT_LEVELS, DRIFT_COLUMNS, alerts_frame, drift_frame
from nexus.errors import DataError

TS = "datetime64[us, UTC]"


def alert(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "a1",
        "at": datetime(2024, 3, 1, 14, 30, tzinfo=UTC),
        "level": "warning",
        "source": "drift",
        "kind": "data_drift",
        "slot": "lstm",
        "message": "PSI 0.31 over 0.25",
        "details": '{"psi": 0.31}',
    }
    return row | changes


def check(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "at": datetime(2024, 3, 1, 14, 30, tzinfo=UTC),
        "slot": "lstm",
        "version": "v3",
        "bar_ts": datetime(2024, 3, 1, 14, 29, tzinfo=UTC),
        "status": "ok",
        "data_score": 0.12,
        "drifted": 0.0,
        "confidence": 0.61,
        "confidence_ref": 0.63,
        "accuracy": 0.52,
        "accuracy_ref": 0.55,
        "macro_f1": 0.49,
        "macro_f1_ref": 0.5,
        "n_window": 500,
        "n_resolved": 120,
        "details": "{}",
    }
    return row | changes


# -- alerts -------------------------------------------------------------------------------


def test_alerts_frame_gives_the_columns_in_order_and_their_dtypes() -> None:
    frame = pd.DataFrame([alert(extra=1)]).iloc[:, ::-1]  # other order, an extra column

    out = alerts_frame(frame)

    assert list(out.columns) == list(ALERT_COLUMNS)
    assert {c: str(t) for c, t in out.dtypes.items()} == {
        c: TS if c == "at" else "str" for c in ALERT_COLUMNS
    }
    assert out.iloc[0].to_dict() == alert(at=pd.Timestamp("2024-03-01 14:30", tz="UTC"))


def test_alerts_frame_converts_zones_encodes_dicts_and_fills_optional_text() -> None:
    paris = timezone(timedelta(hours=1))
    frame = pd.DataFrame(
        [
            alert(at=datetime(2024, 3, 1, 15, 30, tzinfo=paris), details={"b": 1, "a": [2]}),
            alert(id="a2", at="2024-03-01T14:31:00Z", slot=None, message=None, details=None),
        ]
    )

    out = alerts_frame(frame)

    assert out["at"].tolist() == [
        pd.Timestamp("2024-03-01 14:30", tz="UTC"),
        pd.Timestamp("2024-03-01 14:31", tz="UTC"),
    ]
    assert out["details"].tolist() == ['{"a": [2], "b": 1}', "{}"]
    assert out["slot"].tolist() == ["lstm", ""]
    assert out["message"].tolist() == ["PSI 0.31 over 0.25", ""]


def test_an_empty_alerts_frame_has_the_dtypes() -> None:
    out = alerts_frame(pd.DataFrame({c: [] for c in ALERT_COLUMNS}))

    assert out.empty
    assert str(out["at"].dtype) == TS
    assert str(out["details"].dtype) == "str"


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"level": "loud"}, r"'level' has \['loud'\] in rows \[1\].*info, warning, critical"),
        ({"level": "Warning"}, r"'level' has \['Warning'\]"),
        ({"at": datetime(2024, 3, 1, 14, 30)}, r"'at' has naive times .* rows \[1\].*tz_localize"),
        ({"at": "2024-03-01 14:30"}, r"'at' has naive times"),
        ({"at": None}, r"'at' is missing in rows \[1\]"),
        ({"at": "yesterday-ish"}, r"'at' holds 'yesterday-ish', which is not a time"),
        ({"id": ""}, r"'id' is missing or empty in rows \[1\]"),
        ({"id": None}, r"'id' is missing or empty"),
        ({"source": None}, r"'source' is missing or empty"),
        ({"details": "[1, 2]"}, r"'details' is not the JSON text of an object in rows \[1\]"),
        ({"details": "{not json"}, r"'details' is not the JSON text"),
        ({"details": 3}, r"'details' is not the JSON text"),
    ],
)
def test_a_bad_alert_row_is_refused_naming_the_column(changes: dict, match: str) -> None:
    frame = pd.DataFrame([alert(), alert(**{"id": "a2"} | changes)])

    with pytest.raises(DataError, match=match):
        alerts_frame(frame)


def test_naive_datetime64_alert_times_are_refused() -> None:
    frame = pd.DataFrame([alert()]).assign(at=pd.Timestamp("2024-03-01 14:30"))

    with pytest.raises(DataError, match=r"'at' has naive times"):
        alerts_frame(frame)


def test_an_alert_frame_missing_a_column_names_it() -> None:
    frame = pd.DataFrame([alert()]).drop(columns=["level", "details"])

    with pytest.raises(DataError, match=r"alert frame lacks columns \['level', 'details'\]"):
        alerts_frame(frame)
    with pytest.raises(ValueError, match="lacks columns"):  # DataError is a ValueError
        alerts_frame(frame)


def test_alert_levels_are_ordered_by_severity() -> None:
    assert ALERT_LEVELS == ("info", "warning", "critical")


# -- drift checks -------------------------------------------------------------------------


def test_drift_frame_gives_the_dtypes_with_nan_for_unknown_scores() -> None:
    frame = pd.DataFrame(
        [check(), check(slot="gbdt", bar_ts=None, accuracy=None, macro_f1=np.nan, version=None)]
    )

    out = drift_frame(frame)

    assert list(out.columns) == list(DRIFT_COLUMNS)
    kinds = {c: str(t) for c, t in out.dtypes.items()}
    assert kinds["at"] == kinds["bar_ts"] == TS
    assert {kinds[c] for c in ("slot", "version", "status", "details")} == {"str"}
    assert {kinds[c] for c in DRIFT_COLUMNS[5:13]} == {"float64"}
    assert kinds["n_window"] == kinds["n_resolved"] == "int64"
    assert out["bar_ts"].isna().tolist() == [False, True]
    assert np.isnan(out.loc[1, "accuracy"])
    assert np.isnan(out.loc[1, "macro_f1"])
    assert out["version"].tolist() == ["v3", ""]
    assert out.loc[0, "n_window"] == 500


def test_an_empty_drift_frame_has_the_dtypes() -> None:
    out = drift_frame(pd.DataFrame({c: [] for c in DRIFT_COLUMNS}))

    assert out.empty
    assert str(out["bar_ts"].dtype) == TS
    assert str(out["n_window"].dtype) == "int64"


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"at": datetime(2024, 3, 1, 14, 30)}, r"drift frame column 'at' has naive times"),
        ({"bar_ts": "2024-03-01 14:29"}, r"'bar_ts' has naive times .* rows \[1\]"),
        ({"slot": ""}, r"'slot' is missing or empty in rows \[1\]"),
        ({"status": None}, r"'status' is missing or empty"),
        ({"accuracy": "high"}, r"'accuracy' holds values that are not numbers"),
        ({"n_window": None}, r"'n_window' is missing, negative or not whole in rows \[1\]"),
        ({"n_resolved": -1}, r"'n_resolved' is missing, negative or not whole"),
        ({"n_resolved": 2.5}, r"'n_resolved' is missing, negative or not whole"),
        ({"details": '"text"'}, r"'details' is not the JSON text of an object"),
    ],
)
def test_a_bad_drift_row_is_refused_naming_the_column(changes: dict, match: str) -> None:
    frame = pd.DataFrame([check(), check(**{"slot": "gbdt"} | changes)])

    with pytest.raises(DataError, match=match):
        drift_frame(frame)


def test_a_drift_frame_missing_a_column_names_it() -> None:
    frame = pd.DataFrame([check()]).drop(columns=["n_resolved"])

    with pytest.raises(DataError, match=r"drift frame lacks columns \['n_resolved'\]"):
        drift_frame(frame)
