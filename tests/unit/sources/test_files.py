"""The files source: CSV, Parquet, folders and zip archives, parsed to bars and rejects."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from nexus.config import Settings
from nexus.domain import BAR_COLUMNS
from nexus.errors import (
    ArchiveError,
    ChecksumError,
    ConfigError,
    DataError,
    SourceNotFoundError,
)
from nexus.sources import _base
from nexus.sources.files import FilesConfig, FilesSource

DAILY = (
    "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1000\n2024-01-03,10.5,12,10,11,12\n"
)


def _source(tmp_path: Path, *paths: Path, **kw: object) -> FilesSource:
    return FilesSource(FilesConfig(paths=list(paths), **kw), Settings(home=tmp_path / "home"))


def _fetch(tmp_path: Path, *paths: Path, **kw: object) -> list[_base.SourceBatch]:
    return list(_source(tmp_path, *paths, **kw).fetch())


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _zip(path: Path, members: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- daily files ----------------------------------------------------------------


def test_daily_csv_is_labelled_by_date_at_midnight_utc(tmp_path: Path) -> None:
    f = _write(tmp_path / "acme.csv", DAILY)
    (batch,) = _fetch(tmp_path, f)
    assert list(batch.bars.columns) == list(BAR_COLUMNS)
    assert batch.bars["ts"].tolist() == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]
    assert set(batch.bars["symbol"]) == {"ACME"}
    assert set(batch.bars["interval"]) == {"1d"}
    assert set(batch.bars["source"]) == {"files"}
    assert batch.bars["close"].tolist() == [10.5, 11.0]
    assert batch.symbols.to_dict("records") == [
        {
            "symbol": "ACME",
            "calendar": "XNYS",
            "kind": "equity",
            "description": f"ACME from {f}",
            "source": "files",
        }
    ]
    assert batch.rejects.empty
    assert list(batch.rejects.columns) == list(_base.REJECT_COLUMNS)


def test_pandas_export_with_unnamed_index_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"Open": [1.0, 2.0], "High": [2.0, 3.0], "Low": [0.5, 1.5], "Close": [1.5, 2.5]},
        index=pd.to_datetime(["2013-02-28", "2013-03-01"]),
    )
    f = tmp_path / "goog.csv"
    frame.to_csv(f)  # header ",Open,High,Low,Close", as in backtesting's GOOG.csv
    source = _source(tmp_path, f)
    (batch,) = list(source.fetch())
    assert batch.bars["ts"].dt.strftime("%Y-%m-%d").tolist() == ["2013-02-28", "2013-03-01"]
    assert batch.bars["volume"].tolist() == [0.0, 0.0]  # no volume column
    assert "no volume column" in " ".join(source.describe()["notes"])


def test_nasdaq_export_with_dollar_signs_and_close_last(tmp_path: Path) -> None:
    text = (
        "Date,Close/Last,Volume,Open,High,Low,Adj Close\n"
        '01/03/2024,$184.25,"58,414,460",$184.22,$185.88,$183.43,1\n'
        "01/02/2024,$185.64,82488670,$187.15,$188.44,$183.885,1\n"
    )
    source = _source(tmp_path, _write(tmp_path / "aapl.csv", text))
    (batch,) = list(source.fetch())
    bars = batch.bars.sort_values("ts")
    assert bars["close"].tolist() == [185.64, 184.25]
    assert bars["volume"].tolist() == [82488670.0, 58414460.0]
    assert bars["ts"].iloc[0] == pd.Timestamp("2024-01-02", tz="UTC")
    notes = " ".join(source.describe()["notes"])
    assert "Adj Close" in notes
    assert "adjusted" in notes


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["02/01/2024", "13/01/2024"], ["2024-01-02", "2024-01-13"]),  # a day over 12: DD/MM
        (["01/02/2024", "01/13/2024"], ["2024-01-02", "2024-01-13"]),  # MM/DD, as in the US
        (["2024-01-02", "2024-01-13 00:00"], ["2024-01-02", "2024-01-13"]),  # mixed ISO
    ],
)
def test_date_formats_are_read_consistently(
    tmp_path: Path, dates: list[str], expected: list[str]
) -> None:
    rows = "".join(f"{d},1,1,1,1\n" for d in dates)
    (batch,) = _fetch(tmp_path, _write(tmp_path / "x.csv", "date,open,high,low,close\n" + rows))
    assert batch.bars["ts"].dt.strftime("%Y-%m-%d").tolist() == expected


def test_columns_are_matched_case_insensitively_with_aliases(tmp_path: Path) -> None:
    text = "<TICKER>,<DATE>,<TIME>,O,H,L,C,VOL\nabc,2024-01-02,09:30,1,2,0.5,1.5,10\n"
    (batch,) = _fetch(tmp_path, _write(tmp_path / "x.csv", text), interval="5m")
    assert batch.bars["symbol"].tolist() == ["ABC"]
    assert batch.bars["ts"].tolist() == [pd.Timestamp("2024-01-02 14:30", tz="UTC")]
    assert batch.bars["volume"].tolist() == [10.0]


def test_missing_required_column_names_file_missing_and_found(tmp_path: Path) -> None:
    f = _write(tmp_path / "bad.csv", "Date,Open,High,Close\n2024-01-02,1,2,1\n")
    with pytest.raises(DataError) as err:
        _fetch(tmp_path, f)
    message = str(err.value)
    assert str(f) in message
    assert "['low']" in message
    assert "'Close'" in message


# -- intraday timestamps -----------------------------------------------------------


def test_naive_intraday_times_are_taken_in_tz_and_interval_inferred(tmp_path: Path) -> None:
    rows = [f"2024-07-01 09:{m},1,1,1,1,5" for m in (30, 35, 40)]
    f = _write(tmp_path / "spy.csv", "datetime,open,high,low,close,volume\n" + "\n".join(rows))
    (batch,) = _fetch(tmp_path, f)
    assert set(batch.bars["interval"]) == {"5m"}
    assert batch.bars["ts"].iloc[0] == pd.Timestamp("2024-07-01 13:30", tz="UTC")  # EDT


def test_close_labels_are_moved_back_one_interval(tmp_path: Path) -> None:
    rows = ["2024-01-02 10:30,1,1,1,1", "2024-01-02 11:30,1,1,1,1"]
    f = _write(tmp_path / "spy.csv", "time,open,high,low,close\n" + "\n".join(rows))
    (batch,) = _fetch(tmp_path, f, label="close", tz="America/New_York")
    assert batch.bars["interval"].iloc[0] == "1h"
    assert batch.bars["ts"].tolist() == [
        pd.Timestamp("2024-01-02 14:30", tz="UTC"),
        pd.Timestamp("2024-01-02 15:30", tz="UTC"),
    ]


def test_aware_timestamps_are_converted_across_a_dst_change(tmp_path: Path) -> None:
    rows = ["2024-11-01T15:00:00-04:00,1,1,1,1", "2024-11-04T15:00:00-05:00,1,1,1,1"]
    f = _write(tmp_path / "x.csv", "timestamp,open,high,low,close\n" + "\n".join(rows))
    (batch,) = _fetch(tmp_path, f, interval="1h", tz="Asia/Tokyo")
    assert batch.bars["ts"].tolist() == [
        pd.Timestamp("2024-11-01 19:00", tz="UTC"),
        pd.Timestamp("2024-11-04 20:00", tz="UTC"),
    ]


def test_epoch_seconds_are_utc(tmp_path: Path) -> None:
    start = int(pd.Timestamp("2024-01-02 14:30", tz="UTC").timestamp())
    rows = [f"{start + 60 * i},1,1,1,1" for i in range(3)]
    f = _write(tmp_path / "x.csv", "ts,open,high,low,close\n" + "\n".join(rows))
    (batch,) = _fetch(tmp_path, f)
    assert batch.bars["interval"].iloc[0] == "1m"
    assert batch.bars["ts"].iloc[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")


def test_nonexistent_local_time_is_rejected_not_dropped(tmp_path: Path) -> None:
    rows = [f"2024-03-10 0{h}:00,1,1,1,1" for h in range(1, 5)]  # 02:00 does not exist in NY
    f = _write(tmp_path / "eurusd.csv", "timestamp,open,high,low,close\n" + "\n".join(rows))
    (batch,) = _fetch(tmp_path, f)
    assert len(batch.bars) == 3
    (reject,) = batch.rejects.to_dict("records")
    assert reject["reason"] == "bad_timestamp"
    assert "America/New_York" in reject["detail"]
    assert json.loads(reject["payload"])["timestamp"] == "2024-03-10 02:00"


def test_uninferable_interval_is_a_config_error_with_a_fix(tmp_path: Path) -> None:
    rows = ["2024-01-05 16:00,1,1,1,1", "2024-01-12 16:00,1,1,1,1", "2024-01-19 16:00,1,1,1,1"]
    f = _write(tmp_path / "weekly.csv", "date,open,high,low,close\n" + "\n".join(rows))
    with pytest.raises(ConfigError, match=r"7 days.*set interval"):
        _fetch(tmp_path, f)


def test_unknown_interval_in_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="7m"):
        FilesConfig(paths=[tmp_path], interval="7m")


# -- rejects ------------------------------------------------------------------------


def test_every_unparseable_row_is_a_reject_with_reason_and_payload(tmp_path: Path) -> None:
    text = (
        "Date,Open,High,Low,Close,Volume\n"
        "2024-01-02,10,11,9,10.5,1000\n"
        "not a date,10,11,9,10.5,1000\n"
        "2024-01-04,,11,9,10.5,1000\n"
        "2024-01-05,10,abc,9,10.5,1000\n"
        "2024-01-08,10,11,9,1e999,1000\n"
        "2024-01-09,10,11,9,10.5,lots\n"
        ",10,11,9,10.5,1000\n"
        "2024-01-10,10,11,9,10.5,\n"
    )
    (batch,) = _fetch(tmp_path, _write(tmp_path / "acme.csv", text))
    assert len(batch.bars) + len(batch.rejects) == 8
    assert batch.bars["ts"].dt.day.tolist() == [2]
    rejects = batch.rejects.set_index(batch.rejects["payload"].map(lambda p: json.loads(p)["Date"]))
    assert rejects["reason"].to_dict() == {
        "not a date": "bad_timestamp",
        "2024-01-04": "missing_column_value",
        "2024-01-05": "bad_number",
        "2024-01-08": "bad_number",
        "2024-01-09": "bad_number",
        "": "missing_column_value",
        "2024-01-10": "missing_column_value",
    }
    assert rejects.loc["2024-01-10", "detail"] == "column 'Volume' is empty"
    assert "'High' value 'abc'" in rejects.loc["2024-01-05", "detail"]
    assert rejects.loc["2024-01-05", "ts"] == pd.Timestamp("2024-01-05", tz="UTC")
    assert set(rejects["symbol"]) == {"ACME"}
    assert set(rejects["interval"]) == {"1d"}
    assert json.loads(rejects.loc["2024-01-09", "payload"])["Volume"] == "lots"


def test_ragged_csv_line_is_a_bad_row_reject(tmp_path: Path) -> None:
    text = DAILY + "2024-01-04,1,2,3,4,5,6,7\n"
    (batch,) = _fetch(tmp_path, _write(tmp_path / "acme.csv", text))
    assert len(batch.bars) == 2
    (reject,) = batch.rejects.to_dict("records")
    assert reject["reason"] == "bad_row"
    assert json.loads(reject["payload"])[0] == "2024-01-04"


def test_file_with_no_usable_rows_yields_its_rejects(tmp_path: Path) -> None:
    text = "Date,Open,High,Low,Close\nnope,1,1,1,1\nnever,1,1,1,1\n"
    (batch,) = _fetch(tmp_path, _write(tmp_path / "acme.csv", text))
    assert batch.bars.empty
    assert batch.rejects["reason"].tolist() == ["bad_timestamp", "bad_timestamp"]


def test_header_only_and_empty_files_yield_empty_batches(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", "Date,Open,High,Low,Close\n")
    b = _write(tmp_path / "b.csv", "")
    batches = _fetch(tmp_path, a, b)
    assert [len(x.bars) for x in batches] == [0, 0]
    assert all(x.rejects.empty for x in batches)


# -- symbols --------------------------------------------------------------------------


def test_symbol_column_splits_batches_and_empty_symbol_is_rejected(tmp_path: Path) -> None:
    text = (
        "Ticker,Date,Open,High,Low,Close\n"
        "msft,2024-01-02,1,1,1,1\naapl,2024-01-02,2,2,2,2\n,2024-01-02,3,3,3,3\n"
        "msft,2024-01-03,1,1,1,1\n"
    )
    batches = _fetch(tmp_path, _write(tmp_path / "many.csv", text))
    assert [b.label for b in batches] == ["MSFT <- many.csv", "AAPL <- many.csv"]
    assert [len(b.bars) for b in batches] == [2, 1]
    assert batches[0].rejects["reason"].tolist() == ["missing_column_value"]
    assert batches[1].rejects.empty
    assert batches[1].symbols["symbol"].tolist() == ["AAPL"]


def test_configured_symbol_overrides_the_file_name(tmp_path: Path) -> None:
    (batch,) = _fetch(tmp_path, _write(tmp_path / "data.csv", DAILY), symbol="brk.b")
    assert set(batch.bars["symbol"]) == {"BRK.B"}


def test_symbol_row_is_sent_once(tmp_path: Path) -> None:
    a = _write(tmp_path / "2023" / "acme.csv", DAILY)
    b = _write(tmp_path / "2024" / "acme.csv", DAILY.replace("2024-", "2025-"))
    batches = _fetch(tmp_path, tmp_path / "2023", tmp_path / "2024", calendar="24/5")
    assert [b.symbols is None for b in batches] == [False, True]
    assert batches[0].symbols["kind"].tolist() == ["fx"]
    assert a.exists()
    assert b.exists()


# -- formats ----------------------------------------------------------------------------


def test_parquet_with_an_aware_datetime_index(tmp_path: Path) -> None:
    index = pd.DatetimeIndex(
        ["2024-01-02 09:30", "2024-01-02 09:31"], tz="America/New_York", name="Datetime"
    )
    frame = pd.DataFrame({"Open": [1.0, 2.0], "High": 2.0, "Low": 0.5, "Close": 1.5}, index=index)
    frame.to_parquet(tmp_path / "qqq.pq")
    (batch,) = _fetch(tmp_path, tmp_path / "qqq.pq", tz="Asia/Tokyo")
    assert batch.bars["interval"].iloc[0] == "1m"
    assert batch.bars["ts"].iloc[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")


def test_parquet_with_typed_columns_and_a_bad_value(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "open": [1.0, float("nan"), 3.0],
            "high": 4.0,
            "low": 0.5,
            "close": 2.0,
            "volume": [1, 2, 3],
        }
    )
    frame.to_parquet(tmp_path / "iwm.parquet", index=False)
    (batch,) = _fetch(tmp_path, tmp_path / "iwm.parquet")
    assert batch.bars["ts"].dt.day.tolist() == [2, 4]
    (reject,) = batch.rejects.to_dict("records")
    assert reject["reason"] == "missing_column_value"
    assert json.loads(reject["payload"])["open"] is None


def test_gzipped_csv(tmp_path: Path) -> None:
    f = tmp_path / "acme.csv.gz"
    f.write_bytes(gzip.compress(DAILY.encode()))
    (batch,) = _fetch(tmp_path, f)
    assert batch.label == "ACME <- acme.csv.gz"
    assert len(batch.bars) == 2


def test_unreadable_gzip_is_a_data_error(tmp_path: Path) -> None:
    f = tmp_path / "acme.csv.gz"
    f.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"acme\.csv\.gz cannot be read"):
        _fetch(tmp_path, f)


# -- paths and folders ----------------------------------------------------------------------


def test_missing_path_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match=r"nope\.csv does not exist; check the path"):
        _fetch(tmp_path, tmp_path / "nope.csv")


def test_folder_without_data_files_says_what_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "readme.txt", "hello")
    with pytest.raises(DataError, match=r"no data files.*\.csv.*\.parquet.*\.zip"):
        _fetch(tmp_path, tmp_path / "data")


def test_unsupported_file_type_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a format"):
        _fetch(tmp_path, _write(tmp_path / "x.xlsx", "x"))


def test_folder_is_read_recursively_skipping_hidden_files(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a" / "aaa.csv", DAILY)
    _write(tmp_path / "data" / "b" / "bbb.csv", DAILY)
    _write(tmp_path / "data" / ".cache" / "ccc.csv", "junk")
    batches = _fetch(tmp_path, tmp_path / "data")
    assert [b.label for b in batches] == ["AAA <- aaa.csv", "BBB <- bbb.csv"]


# -- zip archives ------------------------------------------------------------------------------


def test_zip_is_staged_by_checksum_and_reused(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "bundle.zip",
        {"daily/acme.csv": DAILY, "__MACOSX/daily/._acme.csv": "\x00junk", "notes.txt": "hi"},
    )
    source = _source(tmp_path, archive, sha256=_sha(archive))
    (batch,) = list(source.fetch())
    assert len(batch.bars) == 2
    staged = tmp_path / "home" / "staging" / _sha(archive)[:16]
    member = staged / "daily" / "acme.csv"
    assert member.read_text() == DAILY
    (entry,) = source.catalog_entries()
    assert entry["path"] == f"{archive}!daily/acme.csv"
    assert entry["archive_sha256"] == _sha(archive)
    assert entry["sha256"] == _sha(member)
    assert entry["format"] == "csv"
    assert entry["symbols"] == ["ACME"]
    assert (entry["interval"], entry["rows"], entry["bars"]) == ("1d", 2, 2)
    assert entry["first_ts"] == "2024-01-02T00:00:00+00:00"
    assert entry["last_ts"] == "2024-01-03T00:00:00+00:00"
    assert source.describe()["sha256"] == _sha(archive)  # the ingest log's checksum
    stamp = member.stat().st_mtime_ns
    list(source.fetch())
    assert member.stat().st_mtime_ns == stamp  # reused, not extracted again
    assert [p.name for p in staged.parent.iterdir()] == [staged.name]  # no temp folders left


def test_zip_checksum_mismatch_names_expected_and_actual(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"acme.csv": DAILY})
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        _fetch(tmp_path, archive, sha256=wrong)
    assert wrong in str(err.value)
    assert _sha(archive) in str(err.value)
    assert not (tmp_path / "home" / "staging").exists()


@pytest.mark.parametrize("form", ["{hex}  bundle.zip\n", "{hex}\n"])
def test_sidecar_checksum_file_is_checked(tmp_path: Path, form: str) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"acme.csv": DAILY})
    sidecar = _write(tmp_path / "bundle.zip.sha256", form.format(hex=_sha(archive)))
    assert len(_fetch(tmp_path, archive)) == 1
    sidecar.write_text(form.format(hex="f" * 64))
    with pytest.raises(ChecksumError, match=r"bundle\.zip\.sha256"):
        _fetch(tmp_path, archive)


def test_corrupt_zip_is_an_archive_error(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"acme.csv": DAILY * 50})
    data = bytearray(archive.read_bytes())
    data[60:70] = b"XXXXXXXXXX"  # inside the compressed member
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"bundle\.zip"):
        _fetch(tmp_path, archive)
    not_zip = _write(tmp_path / "fake.zip", "hello")
    with pytest.raises(ArchiveError, match=r"fake\.zip cannot be read as a zip"):
        _fetch(tmp_path, not_zip)


@pytest.mark.parametrize("name", ["../evil.csv", "/abs/evil.csv", "a/../../evil.csv"])
def test_zip_slip_entries_are_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"ok.csv": DAILY, name: DAILY})
    with pytest.raises(ArchiveError, match="outside"):
        _fetch(tmp_path, archive)
    assert not (tmp_path / "evil.csv").exists()
    assert not (tmp_path / "home" / "evil.csv").exists()


def test_zip_without_data_files_is_an_archive_error(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"readme.txt": "nothing here"})
    with pytest.raises(ArchiveError, match=r"no data files.*\.csv"):
        _fetch(tmp_path, archive)


def test_zips_in_a_folder_are_unpacked(tmp_path: Path) -> None:
    _zip(tmp_path / "data" / "one.zip", {"aaa.csv": DAILY})
    _write(tmp_path / "data" / "bbb.csv", DAILY)
    batches = _fetch(tmp_path, tmp_path / "data")
    assert sorted(b.label for b in batches) == ["AAA <- aaa.csv", "BBB <- bbb.csv"]


def test_sha256_with_several_archives_is_a_config_error(tmp_path: Path) -> None:
    a = _zip(tmp_path / "a.zip", {"aaa.csv": DAILY})
    b = _zip(tmp_path / "b.zip", {"bbb.csv": DAILY})
    with pytest.raises(ConfigError, match="2 zip archives"):
        _fetch(tmp_path, a, b, sha256=_sha(a))


def test_describe_lists_params_and_files(tmp_path: Path) -> None:
    f = _write(tmp_path / "acme.csv", DAILY)
    source = _source(tmp_path, f)
    assert source.describe()["files"] == []
    assert source.describe()["sha256"] is None
    list(source.fetch())
    described = source.describe()
    assert described["tz"] == "America/New_York"
    assert described["label"] == "open"
    assert described["sha256"] == _sha(f)  # the one input read
    assert [f["symbols"] for f in described["files"]] == [["ACME"]]
    json.dumps(described)  # recorded in the ingest log as JSON
    assert source.total() is None
    assert isinstance(source, _base.Source)


def test_describe_has_no_single_checksum_for_several_inputs(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"aaa.csv": DAILY, "bbb.csv": DAILY})
    source = _source(tmp_path, archive)
    list(source.fetch())
    assert source.describe()["sha256"] == _sha(archive)  # both files came from one archive
    other = _source(tmp_path, _write(tmp_path / "a.csv", DAILY), _write(tmp_path / "b.csv", "x"))
    with pytest.raises(DataError):
        list(other.fetch())
    assert other.describe()["sha256"] == _sha(tmp_path / "a.csv")  # only a.csv was read
    two = _source(tmp_path, tmp_path / "a.csv", _write(tmp_path / "c.csv", DAILY + "\n"))
    list(two.fetch())
    assert two.describe()["sha256"] is None
