"""Streams what a run produces to ``results/<run-id>/`` while it happens.

Files (all plain text, so a run cut short leaves them readable up to the cut):

* ``timeseries.csv`` -- tidy rows ``time_s, entity, quantity, value, unit``
* ``events.jsonl``   -- one JSON object a line: ``{"time_s", "kind", ...}``
* ``<table>.csv``    -- extra tables opened by layers (message trace, outages, ...)
* ``manifest.json``  -- scenario hash, seed, versions, status, wall and simulated
  time, and the SHA-256 of every data file. It is written when the run starts
  (status ``running``) and rewritten when it ends (``completed`` or ``failed``).

Buffers are flushed at the first write after a wall-clock second has passed
since the last flush, at each progress checkpoint of the run, and when the run
ends, however it ends. Floats are written with :func:`repr`, which is exact and
stable, so one seed gives byte-identical data files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..outpaths import is_component

FLUSH_INTERVAL_S = 1.0


class TableWriter:
    """One streamed CSV table with a fixed header."""

    def __init__(self, path: Path | None, columns: Sequence[str], on_write: Callable[[], None]):
        self.columns = tuple(columns)
        self.rows = 0
        self.path = path
        self._on_write = on_write
        self._file = None if path is None else open(path, "w", newline="", encoding="utf-8")
        self._csv = None if self._file is None else csv.writer(self._file, lineterminator="\n")
        if self._csv is not None:
            self._csv.writerow(self.columns)

    def write(self, row: Sequence[Any]) -> None:
        """Append one row; values in the order of ``columns``."""
        self.rows += 1
        if self._csv is not None:
            self._csv.writerow(row)
        self._on_write()

    def write_columns(self, columns: Sequence[Any], chunk_rows: int = 65_536) -> None:
        """Append ``len(columns[0])`` rows given column by column (lists or numpy arrays).

        For tables of a row per site (a million rows): rows are formatted by
        C-level ``map`` over ``zip`` in chunks of ``chunk_rows``, never a
        Python loop body per row. Floats are written with :func:`repr` (exact,
        as :meth:`write` does through the csv module); text must not need CSV
        quoting (ids, names and codes).
        """
        if len(columns) != len(self.columns):
            raise ValueError(f"{len(columns)} columns given for a table of {len(self.columns)}")
        rows = len(columns[0]) if columns else 0
        if any(len(c) != rows for c in columns):
            raise ValueError("columns of different lengths")
        self.rows += rows
        if self._file is not None:
            line = ",".join("%r" if _is_float_column(c) else "%s" for c in columns).__mod__
            for start in range(0, rows, chunk_rows):
                part = [_as_list(c[start:start + chunk_rows]) for c in columns]
                self._file.write("".join(map(lambda row: line(row) + "\n", zip(*part))))
        self._on_write()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            handle, self._file, self._csv = self._file, None, None
            handle.close()  # closes the descriptor even when its last flush fails


def _is_float_column(column: Any) -> bool:
    dtype = getattr(column, "dtype", None)
    if dtype is not None:
        return bool(dtype.kind == "f")
    return bool(len(column)) and isinstance(column[0], float)


def _as_list(column: Any) -> list[Any]:
    """Python values of a column slice (numpy floats become floats, whose repr is exact and short)."""
    tolist = getattr(column, "tolist", None)
    return tolist() if tolist is not None else list(column)


class QuantityStats:
    """Running count, min, max, mean and last value of one recorded quantity."""

    __slots__ = ("unit", "count", "total", "minimum", "maximum", "last")

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.count = 0
        self.total = 0.0
        self.minimum = float("inf")
        self.maximum = float("-inf")
        self.last = float("nan")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        self.last = value

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")


class Recorder:
    """Streams time series, events and tables of one run; ``out_dir=None`` keeps only statistics."""

    def __init__(self, out_dir: Path | None, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.out_dir = None if out_dir is None else Path(out_dir)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._tables: dict[str, TableWriter] = {}
        self._last_flush = time.monotonic()
        self.stats: dict[tuple[str, str], QuantityStats] = {}
        self.event_counts: dict[str, int] = {}
        self._events = None if self.out_dir is None else open(self.out_dir / "events.jsonl", "w", encoding="utf-8")
        self._series = self.table("timeseries", ("time_s", "entity", "quantity", "value", "unit"))
        self.manifest: dict[str, Any] = {}

    # -- writing -------------------------------------------------------------
    def table(self, name: str, columns: Sequence[str]) -> TableWriter:
        """Open (once) a streamed CSV table named ``name``."""
        if name in self._tables:
            writer = self._tables[name]
            if writer.columns != tuple(columns):
                raise ValueError(f"table {name!r} already open with columns {writer.columns}")
            return writer
        if not is_component(name):
            raise ValueError(f"table name {name!r} is not a single file name")
        path = None if self.out_dir is None else self.out_dir / f"{name}.csv"
        writer = TableWriter(path, columns, self._count_write)
        self._tables[name] = writer
        return writer

    def record(self, entity: str, quantity: str, value: float, unit: str) -> None:
        """One time-series sample at the current simulated time."""
        value = float(value)
        if self._events is not None:  # writing files (out_dir given)
            self._series.write((repr(float(self._clock())), entity, quantity, repr(value), unit))
        key = (entity, quantity)
        stats = self.stats.get(key)
        if stats is None:
            stats = self.stats[key] = QuantityStats(unit)
        if value == value:  # NaN (e.g. a reading of an unsolved island) is written but not summarised
            stats.add(value)

    def log(self, kind: str, **fields: Any) -> None:
        """One event at the current simulated time (JSON-serialisable fields)."""
        self.event_counts[kind] = self.event_counts.get(kind, 0) + 1
        if self._events is not None:
            line = json.dumps({"time_s": float(self._clock()), "kind": kind, **fields}, sort_keys=True, default=str)
            self._events.write(line + "\n")
        self._count_write()

    # -- durability ----------------------------------------------------------
    def _count_write(self) -> None:
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Push every buffered row to the operating system."""
        for writer in self._tables.values():
            writer.flush()
        if self._events is not None:
            self._events.flush()
        self._last_flush = time.monotonic()

    def write_manifest(self, **fields: Any) -> None:
        """Merge ``fields`` into manifest.json and rewrite it atomically."""
        self.manifest.update(fields)
        if self.out_dir is None:
            return
        tmp = self.out_dir / "manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.out_dir / "manifest.json")

    def close(self, **manifest_fields: Any) -> None:
        """Flush and close every file, then record file hashes in the manifest.

        When a write fails (a full disk), every file is still closed, a line
        cut short is trimmed from its end (a CSV or JSONL file stays readable
        line by line), and the manifest says ``failed`` with the error if it
        can still be written; then the first error is raised.
        """
        failure: OSError | None = None
        closers: list[tuple[Path | None, Callable[[], None]]] = [(w.path, w.close) for w in self._tables.values()]
        if self._events is not None:
            events, self._events = self._events, None
            closers.append((self.out_dir / "events.jsonl" if self.out_dir else None, events.close))
        for _, close in closers:
            try:
                close()
            except OSError as error:
                failure = failure or error
        if failure is not None or manifest_fields.get("status") == "failed":
            # Any file may have taken half a row when a write failed (here or during the run).
            for path, _ in closers:
                if path is not None:
                    trim_partial_line(path)
        if failure is not None:
            manifest_fields = {**manifest_fields, "status": "failed", "error": f"{type(failure).__name__}: {failure}"}
        try:
            self.write_manifest(files=self.file_digests(), **manifest_fields)
        except OSError as error:
            failure = failure or error
        if failure is not None:
            raise failure

    def file_digests(self) -> dict[str, dict[str, Any]]:
        """SHA-256 and size of every data file (everything but the manifest)."""
        if self.out_dir is None:
            return {}
        return {path.name: {"sha256": sha256_of(path), "bytes": path.stat().st_size} for path in data_files(self.out_dir)}


def trim_partial_line(path: Path) -> None:
    """Cut ``path`` back to its last complete line (after a write failed half way); best effort."""
    try:
        with open(path, "rb+") as handle:
            end = handle.seek(0, 2)
            position = end
            while position > 0:
                step = min(65536, position)
                handle.seek(position - step)
                block = handle.read(step)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    handle.truncate(position - step + newline + 1)
                    return
                position -= step
            handle.truncate(0)
    except OSError:
        pass


def data_files(out_dir: Path) -> Iterable[Path]:
    """The result files of a run, in a stable order, without the manifest."""
    return sorted(p for p in Path(out_dir).iterdir() if p.is_file() and not p.name.startswith("manifest.json"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
