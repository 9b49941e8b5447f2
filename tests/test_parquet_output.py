"""``cosim run --format parquet``: typed Parquet copies that hold exactly what the CSV journal holds.

The CSV files are read back by pandas' own CSV parser and the Parquet files
by pyarrow, so the comparison does not go through our exporter twice.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cosim import api
from cosim.cli import main

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "configs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pq") / "run"
    assert main(["run", str(QUICKSTART), "--until", "2h", "--out", str(out), "--no-progress", "--format", "parquet"]) == 0
    return out


def test_every_table_has_a_parquet_copy_with_the_same_rows(parquet_run: Path):
    tables = sorted(parquet_run.glob("*.csv"))
    assert {p.stem for p in tables} >= {"timeseries", "summary"}
    for csv_path in tables:
        from_csv = pd.read_csv(csv_path, keep_default_na=False, float_precision="round_trip")  # repr-written floats, exactly
        from_parquet = pq.read_table(csv_path.with_suffix(".parquet")).to_pandas()
        assert list(from_parquet.columns) == list(from_csv.columns), csv_path.name
        assert len(from_parquet) == len(from_csv), csv_path.name
        for column in from_csv.columns:
            left, right = from_csv[column], from_parquet[column]
            if pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right):
                assert ((left == right) | (left.isna() & right.isna())).all(), (csv_path.name, column)
            else:
                assert (left.astype(str) == right.astype(str)).all(), (csv_path.name, column)


def test_the_time_series_is_typed(parquet_run: Path):
    schema = pq.read_schema(parquet_run / "timeseries.parquet")
    assert schema.field("time_s").type == pa.float64()
    assert schema.field("value").type == pa.float64()
    assert schema.field("entity").type == pa.string()


def test_the_event_log_keeps_every_event_and_its_fields(parquet_run: Path):
    lines = [json.loads(line) for line in (parquet_run / "events.jsonl").read_text().splitlines() if line.strip()]
    events = pq.read_table(parquet_run / "events.parquet").to_pylist()
    assert len(events) == len(lines) > 0
    for row, original in zip(events, lines):
        rebuilt = {"time_s": row["time_s"], "kind": row["kind"], **json.loads(row["fields"])}
        assert rebuilt == original


def test_the_manifest_vouches_for_the_parquet_files(parquet_run: Path):
    manifest = json.loads((parquet_run / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["formats"] == ["csv", "parquet"]
    for path in parquet_run.glob("*.parquet"):
        assert manifest["files"][path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_seed_gives_byte_identical_parquet_files(parquet_run: Path, tmp_path: Path):
    again = tmp_path / "again"
    assert main(["run", str(QUICKSTART), "--until", "2h", "--out", str(again), "--no-progress", "--format", "parquet"]) == 0
    for path in parquet_run.glob("*.parquet"):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_api_reads_the_typed_copy(tmp_path: Path):
    results = api.run(QUICKSTART, out_dir=tmp_path / "api", until="1h", parquet=True)
    frame = results.table("timeseries")
    assert frame["value"].dtype == "float64"
    assert results.arrow("timeseries").num_rows == len(frame)
    assert results.arrow("summary").num_rows == len(results.summary())


def test_without_pyarrow_the_format_is_refused_before_anything_runs(tmp_path: Path):
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from cosim.cli import main\n"
        f"sys.exit(main(['run', {str(QUICKSTART)!r}, '--until', '1h', '--out', {str(tmp_path / 'x')!r}, '--format', 'parquet']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["cosim run: --format parquet needs pyarrow: pip install 'gridcosim[parquet]'"]
    assert not (tmp_path / "x").exists()
