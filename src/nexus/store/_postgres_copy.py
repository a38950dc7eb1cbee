"""Bulk transfer between pandas frames and PostgreSQL over ``COPY``, without row loops.

* Bars, the bulk of every write, go as PostgreSQL's binary COPY format, built
  as numpy structured arrays: rows whose text fields have the same byte
  lengths share one fixed-width record layout, so a batch is a handful of
  ``tobytes()`` calls.
* Other frames (small) go as CSV written by pyarrow.
* Reads come back as CSV (``COPY (query) TO STDOUT``) parsed by pyarrow into
  the dtypes :class:`~nexus.store.DuckDBStore` returns: ``str`` text,
  ``float64``, ``int64``, ``bool``, ``datetime64[us, UTC]`` instants and
  :class:`datetime.date` dates.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from nexus.store._postgres_schema import COLUMN_KINDS

__all__ = ["BAR_COPY_COLUMNS", "bars_binary", "copy_binary", "copy_csv", "read_csv_copy"]

BAR_COPY_COLUMNS = ("symbol", "interval", "ts", "open", "high", "low", "close", "volume", "source")
"""The bar columns in binary COPY order (``ingested_at`` follows when a stamp is given)."""

_TEXT = ("symbol", "interval", "source")
_FLOATS = ("open", "high", "low", "close", "volume")
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's timestamp origin
_PG_EPOCH_US = 946_684_800_000_000  # the same, in microseconds since 1970
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header-extension length
_TRAILER = b"\xff\xff"
_ARROW_TYPES = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


# -- writes -------------------------------------------------------------------------------


def bars_binary(bars: pd.DataFrame, stamp: datetime | None = None) -> bytes:
    """Encode ``bars`` as one binary COPY stream of :data:`BAR_COPY_COLUMNS`.

    Parameters
    ----------
    bars : DataFrame, shape (n, 9)
        Canonical bars (``bars_frame``) with no missing values.
    stamp : datetime, optional
        When given, every row gets a trailing ``ingested_at`` field of this value.

    Returns
    -------
    bytes
        Header, one record per row (grouped by text-field lengths), trailer.
    """
    texts = {c: _utf8(bars[c]) for c in _TEXT}
    ts = pd.DatetimeIndex(bars["ts"]).as_unit("us").asi8 - _PG_EPOCH_US
    floats = {c: bars[c].to_numpy(dtype="float64") for c in _FLOATS}
    stamp_us = None if stamp is None else _micros(stamp)
    lengths = pd.DataFrame({c: texts[c][1] for c in _TEXT})
    chunks = [_HEADER]
    for key, rows in lengths.groupby(list(_TEXT), sort=False).indices.items():
        widths = dict(zip(_TEXT, (int(k) for k in key), strict=True))
        rec = np.empty(len(rows), dtype=_record_dtype(widths, stamp_us is not None))
        rec["n"] = len(BAR_COPY_COLUMNS) + (stamp_us is not None)
        for col in BAR_COPY_COLUMNS:
            rec[f"{col}_len"] = widths.get(col, 8)
        for col in _TEXT:
            if widths[col]:
                rec[col] = texts[col][0][rows]
        rec["ts"] = ts[rows]
        for col in _FLOATS:
            rec[col] = floats[col][rows]
        if stamp_us is not None:
            rec["ingested_at_len"] = 8
            rec["ingested_at"] = stamp_us
        chunks.append(rec.tobytes())
    chunks.append(_TRAILER)
    return b"".join(chunks)


def _record_dtype(widths: dict[str, int], with_stamp: bool) -> np.dtype:
    """The big-endian layout of one binary COPY record whose text fields have ``widths``."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for col in BAR_COPY_COLUMNS:
        fields.append((f"{col}_len", ">i4"))
        if col in widths:
            if widths[col]:
                fields.append((col, f"S{widths[col]}"))
        else:
            fields.append((col, ">i8" if col == "ts" else ">f8"))
    if with_stamp:
        fields += [("ingested_at_len", ">i4"), ("ingested_at", ">i8")]
    return np.dtype(fields)


def _utf8(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per-row UTF-8 bytes (a fixed-width ``S`` array) and byte lengths, via the distinct values."""
    codes, uniques = pd.factorize(values)
    encoded = [str(u).encode("utf-8") for u in uniques]
    lengths = np.array([len(e) for e in encoded], dtype="int32")
    table = np.array(encoded, dtype=f"S{max(1, int(lengths.max(initial=0)))}")
    return table[codes], lengths[codes]


def _micros(stamp: datetime) -> int:
    """``stamp`` (naive taken as UTC) as whole microseconds since PostgreSQL's origin."""
    aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    return (aware - _PG_EPOCH) // timedelta(microseconds=1)


def copy_binary(cur: psycopg.Cursor, table: str, columns: Sequence[str], data: bytes) -> None:
    """COPY the binary stream ``data`` into ``columns`` of ``table``."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(data)


def copy_csv(cur: psycopg.Cursor, table: str, frame: pd.DataFrame) -> None:
    """COPY ``frame`` (columns named as in ``table``) into ``table`` as pyarrow-written CSV.

    Missing values (None, NaN, NaT) become NULL; strings are quoted, so an
    empty string stays an empty string.
    """
    # text columns go through Python objects: a pandas string column that is a slice of a
    # larger Arrow array can come out of ``from_pandas`` with truncated offsets and no data
    # buffer, and the CSV writer then emits NUL bytes (seen on a one-row live macro batch)
    texts = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
    plain = frame.astype(dict.fromkeys(texts, object)) if texts else frame
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.Table.from_pandas(plain, preserve_index=False),
        sink,
        pacsv.WriteOptions(include_header=False),
    )
    with cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(memoryview(sink.getvalue()))


# -- reads --------------------------------------------------------------------------------


def read_csv_copy(
    cur: psycopg.Cursor, query: str, params: dict, columns: Sequence[str]
) -> pd.DataFrame:
    """Run ``query`` through ``COPY ... TO STDOUT`` and decode it into typed columns.

    ``columns`` names the query's output columns in order; their types come
    from :data:`~nexus.store._postgres_schema.COLUMN_KINDS`. Parameters are
    bound client-side (``%(name)s``).
    """
    data = bytearray()
    with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)", params) as copy:
        for block in copy:
            data += block
    return _decode_csv(bytes(data), columns)


def _decode_csv(data: bytes, columns: Sequence[str]) -> pd.DataFrame:
    """Decode PostgreSQL CSV (NULL is an unquoted empty field, ``""`` the empty string)."""
    types = {c: _ARROW_TYPES[COLUMN_KINDS[c]] for c in columns}
    if not data:
        table = pa.table({c: pa.array([], type=t) for c, t in types.items()})
    else:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=list(columns)),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],  # PostgreSQL's text for booleans
                false_values=["f"],
            ),
        )
    return table.to_pandas(date_as_object=True)
