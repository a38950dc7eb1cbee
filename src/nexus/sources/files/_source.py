"""The files source: CSV and Parquet files, folders of them, and zip archives.

Every data file found is read, parsed and yielded as one batch per symbol.
After (or during) :meth:`FilesSource.fetch`, :meth:`FilesSource.catalog_entries`
describes each file read: its checksum, format, symbols, interval, row count
and time range (the *data catalog* of the ingest log).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nexus.config import Settings
from nexus.domain import empty_bars
from nexus.errors import ArchiveError, ConfigError, DataError, SourceNotFoundError
from nexus.sources._base import SourceBatch, rejects_frame
from nexus.sources.files._archive import expected_digest, sha256_file, stage_archive, verify_archive
from nexus.sources.files._config import FilesConfig
from nexus.sources.files._parse import SOURCE, ParsedFile, bad_line_rejects, parse_rows
from nexus.sources.files._read import DATA_SUFFIXES, data_format, file_stem, map_columns, read_table

__all__ = ["FilesSource"]

_READ = ", ".join((*DATA_SUFFIXES, ".zip"))


@dataclass(frozen=True)
class _DataFile:
    """One file to read: where it is, how to name it, which archive it came from."""

    path: Path
    display: str
    fmt: str
    archive: str | None = None
    archive_sha256: str | None = None


def _hidden(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _scan(folder: Path, *, archives: bool) -> list[Path]:
    """Data files (and zip archives when ``archives``) under ``folder``, sorted."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or _hidden(path, folder):
            continue
        is_zip = archives and path.suffix.lower() == ".zip"
        if is_zip or data_format(path):
            found.append(path)
    return found


def _inputs(path: Path) -> list[Path]:
    """The data files and archives named by one configured path."""
    if not path.exists():
        raise SourceNotFoundError(
            f"input path {path} does not exist",
            fix=f"check the path (relative paths start at {Path.cwd()})",
        )
    if path.is_dir():
        found = _scan(path, archives=True)
        if not found:
            raise DataError(
                f"folder {path} holds no data files",
                fix=f"put {_READ} files in it, or name the files directly",
            )
        return found
    if path.suffix.lower() == ".zip" or data_format(path):
        return [path]
    raise DataError(
        f"file {path} is not a format the files source reads",
        fix=f"give {_READ} files (or convert it to CSV)",
    )


def _iso(value: pd.Timestamp) -> str | None:
    return None if pd.isna(value) else value.isoformat()


class FilesSource:
    """Bars from local CSV/Parquet files, folders and zip archives.

    Parameters
    ----------
    config : FilesConfig
        What to read.
    settings : Settings
        Gives ``staging_dir``, where archives are extracted.

    Notes
    -----
    One :class:`~nexus.sources.SourceBatch` is yielded per (file, symbol). A
    symbol's ``symbols`` row travels in the first batch that holds it. A file
    whose rows are all rejected, or that has no rows, still yields a batch (with
    the rejects); the ingest stage decides what that means. A file without a
    volume column gets volume 0 (said in ``describe()["notes"]``); an empty
    volume cell in a volume column is rejected like an empty price. ``since`` is
    not used: files are read whole and the ingest stage skips stored bars.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "acme.csv").write_text(
    ...     "Date,Open,High,Low,Close,Volume\\n2024-01-02,10,11,9,10.5,1000\\n")
    >>> source = FilesSource(FilesConfig(paths=[folder]), Settings(home=folder / "home"))
    >>> [(b.label, len(b.bars)) for b in source.fetch()]
    [('ACME <- acme.csv', 1)]
    >>> source.catalog_entries()[0]["interval"]
    '1d'
    """

    name = SOURCE

    def __init__(self, config: FilesConfig, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._catalog: list[dict] = []
        self._notes: list[str] = []

    def describe(self) -> dict:
        """The configuration, plus the catalog and notes of the files read so far.

        ``sha256`` is the configured checksum or, once fetched, the checksum of
        the one archive (or the one file) read, so the ingest log records it.
        """
        inputs = {e["archive_sha256"] or e["sha256"] for e in self._catalog}
        found = inputs.pop() if len(inputs) == 1 else None
        return {
            **self.config.model_dump(mode="json"),
            "sha256": self.config.sha256 or found,
            "files": self.catalog_entries(),
            "notes": list(self._notes),
        }

    def total(self) -> None:
        """Unknown: a file may hold several symbols."""
        return None

    def catalog_entries(self) -> list[dict]:
        """One entry per file read by the latest :meth:`fetch`.

        Returns
        -------
        list of dict
            ``path`` (``archive.zip!member`` inside archives), ``file`` (where
            it was read), ``archive``, ``sha256`` (of the file), ``format``,
            ``symbols``, ``interval``, ``rows`` (data rows in the file),
            ``bars``, ``rejected``, ``first_ts`` and ``last_ts`` (ISO 8601, UTC).
        """
        return [dict(entry) for entry in self._catalog]

    def fetch(self, *, since: Mapping[str, pd.Timestamp] | None = None) -> Iterator[SourceBatch]:
        """Yield one batch per (file, symbol).

        Raises
        ------
        SourceNotFoundError
            If a configured path does not exist.
        ChecksumError
            If an archive does not match its expected SHA-256.
        ArchiveError
            If an archive is unreadable, unsafe or holds no data files.
        DataError
            If a folder holds no data files, a file cannot be read or lacks a
            required column.
        ConfigError
            If ``interval`` is not set and cannot be inferred.
        """
        files = self._resolve()
        self._catalog, self._notes = [], []
        seen: set[str] = set()
        for data_file in files:
            yield from self._read(data_file, seen)

    # -- finding files -------------------------------------------------------

    def _resolve(self) -> list[_DataFile]:
        paths = [p for given in self.config.paths for p in _inputs(Path(given).expanduser())]
        archives = [p for p in paths if p.suffix.lower() == ".zip"]
        if self.config.sha256 and len(archives) != 1:
            raise ConfigError(
                f"sha256 is set but the inputs hold {len(archives)} zip archives",
                fix="give sha256 for exactly one archive, or put an <archive>.sha256 file "
                "beside each archive",
            )
        out: list[_DataFile] = []
        for path in paths:
            if path in archives:
                out += self._unpack(path)
            else:
                out.append(_DataFile(path, str(path), data_format(path) or "csv"))
        return out

    def _unpack(self, archive: Path) -> list[_DataFile]:
        digest = verify_archive(archive, expected_digest(archive, self.config.sha256))
        folder = stage_archive(archive, digest, self.settings.staging_dir)
        members = _scan(folder, archives=False)
        if not members:
            raise ArchiveError(
                f"archive {archive} holds no data files",
                fix=f"put {', '.join(DATA_SUFFIXES)} files in the archive",
            )
        return [
            _DataFile(
                path=m,
                display=f"{archive}!{m.relative_to(folder).as_posix()}",
                fmt=data_format(m) or "csv",
                archive=str(archive),
                archive_sha256=digest,
            )
            for m in members
        ]

    # -- reading one file ----------------------------------------------------

    def _parse(self, data_file: _DataFile, default_symbol: str) -> tuple[ParsedFile, int]:
        raw, bad_lines = read_table(data_file.path, data_file.fmt, data_file.display)
        if raw.columns.empty:  # a 0-byte file: nothing to read, nothing wrong
            self._notes.append(f"{data_file.display}: the file is empty")
            return ParsedFile(empty_bars(), rejects_frame([]), None), 0
        cols = map_columns(raw, data_file.display)
        self._notes += cols.notes
        parsed = parse_rows(
            raw,
            cols,
            default_symbol=default_symbol,
            interval=self.config.interval,
            tz=self.config.tz,
            label=self.config.label,
            display=data_file.display,
        )
        if bad_lines:
            symbol = None if "symbol" in cols.columns else default_symbol
            extra = bad_line_rejects(bad_lines, [str(c) for c in raw.columns], symbol)
            both = [f for f in (parsed.rejects, extra) if len(f)]
            parsed = ParsedFile(parsed.bars, pd.concat(both, ignore_index=True), parsed.interval)
        return parsed, len(raw) + len(bad_lines)

    def _read(self, data_file: _DataFile, seen: set[str]) -> Iterator[SourceBatch]:
        default_symbol = self.config.symbol or file_stem(data_file.path).upper()
        parsed, rows = self._parse(data_file, default_symbol)
        self._catalog.append(self._entry(data_file, parsed, rows))
        yield from self._split(data_file, parsed, seen)

    def _entry(self, data_file: _DataFile, parsed: ParsedFile, rows: int) -> dict:
        ts = parsed.bars["ts"]
        return {
            "path": data_file.display,
            "file": str(data_file.path),
            "archive": data_file.archive,
            "archive_sha256": data_file.archive_sha256,
            "sha256": sha256_file(data_file.path),
            "format": data_file.fmt,
            "symbols": sorted(parsed.bars["symbol"].unique().tolist()),
            "interval": parsed.interval.value if parsed.interval else None,
            "rows": rows,
            "bars": len(parsed.bars),
            "rejected": len(parsed.rejects),
            "first_ts": _iso(ts.min()) if len(ts) else None,
            "last_ts": _iso(ts.max()) if len(ts) else None,
        }

    def _symbols_frame(self, symbols: list[str], data_file: _DataFile) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "symbol": symbols,
                "calendar": self.config.calendar,
                "kind": self.config.symbol_kind,
                "description": [f"{s} from {data_file.display}" for s in symbols],
                "source": SOURCE,
            },
            columns=["symbol", "calendar", "kind", "description", "source"],
        )

    def _split(
        self, data_file: _DataFile, parsed: ParsedFile, seen: set[str]
    ) -> Iterator[SourceBatch]:
        bars, rejects = parsed.bars, parsed.rejects
        by_symbol = dict(tuple(bars.groupby("symbol", sort=False)))
        rejected = dict(tuple(rejects.groupby("symbol", sort=False, dropna=True)))
        orphans = rejects.loc[rejects["symbol"].isna()]
        order = list(dict.fromkeys([*by_symbol, *rejected]))
        name = data_file.path.name
        if not order:
            yield SourceBatch(label=name, bars=bars, rejects=rejects)
            return
        for i, symbol in enumerate(order):
            new = [] if symbol in seen else [symbol]
            seen.add(symbol)
            parts = [rejected.get(symbol), orphans if i == 0 else None]
            mine = [p for p in parts if p is not None and len(p)] or [rejects.iloc[:0]]
            yield SourceBatch(
                label=f"{symbol} <- {name}",
                bars=by_symbol.get(symbol, bars.iloc[:0]).reset_index(drop=True),
                symbols=self._symbols_frame(new, data_file) if new else None,
                rejects=pd.concat(mine, ignore_index=True),
            )
