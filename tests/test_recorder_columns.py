"""A table written column-wise reads back exactly as the same rows written one by one (csv module, float round trip)."""

import csv

import numpy as np
import pytest

from cosim.kernel.recorder import Recorder


def test_columns_and_rows_give_the_same_file_and_floats_round_trip(tmp_path):
    values = np.array([0.1, 1 / 3, 1e16, -0.0, 2.5e-300, np.nan])
    ids = [f"site.{i:06d}" for i in range(values.size)]
    counts = np.arange(values.size, dtype=np.int64)
    by_rows, by_columns = Recorder(tmp_path / "rows"), Recorder(tmp_path / "columns")
    table = by_rows.table("t", ("id", "count", "kw"))
    for i, c, v in zip(ids, counts.tolist(), values.tolist()):
        table.write((i, c, repr(v)))
    by_columns.table("t", ("id", "count", "kw")).write_columns([ids, counts, values], chunk_rows=4)
    by_rows.close()
    by_columns.close()
    text = (tmp_path / "columns" / "t.csv").read_text()
    assert text == (tmp_path / "rows" / "t.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert [float(r["kw"]) for r in rows[:-1]] == values[:-1].tolist() and rows[-1]["kw"] == "nan"
    assert by_columns.table("t", ("id", "count", "kw")).rows == values.size


def test_columns_of_different_lengths_are_refused(tmp_path):
    table = Recorder(tmp_path).table("t", ("a", "b"))
    with pytest.raises(ValueError, match="different lengths"):
        table.write_columns([[1, 2], [3]])
    with pytest.raises(ValueError, match="3 columns"):
        table.write_columns([[1], [2], [3]])
