"""A HELICS federation on loopback: a broker, gridcosim and a households federate, each its own process.

The households federate plays the profile file; the reference is that file:
each smart meter in gridcosim must measure exactly what was published for
its interval, and the voltages sent back must be the same run after run.
"""

from __future__ import annotations

import bisect
import csv
import json
from pathlib import Path

import pytest

from tests.coupling.helics_federation import ROOT, run_federation

EXAMPLE = ROOT / "configs" / "cosimulation"


def federation(tmp_path: Path) -> tuple[dict[str, float], Path]:
    received = tmp_path / "received.json"
    out_dir = run_federation(tmp_path, EXAMPLE / "helics_gridcosim.json", EXAMPLE / "mosaik_feeder.yaml", [],
                             "households", [str(EXAMPLE / "household_profiles.csv"), str(received)], timeout_s=240)
    return json.loads(received.read_text()), out_dir


def profile() -> dict[int, dict[str, float]]:
    with (EXAMPLE / "household_profiles.csv").open() as f:
        rows = list(csv.reader(f))[1:]
    return {900 * k: {n: float(v) for n, v in zip(rows[0][1:], row[1:])} for k, row in enumerate(rows[1:])}


def test_federation_runs_deterministically_and_meters_see_the_published_demand(tmp_path):
    first, out_dir = federation(tmp_path / "a")
    second, _ = federation(tmp_path / "b")
    assert first == second
    assert len(first) == 96
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    with (out_dir / "timeseries.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["quantity"] == "p"]
    # A meter samples when the grid changes: its series is a step function; 5 minutes into each
    # interval the reading in effect is the demand published for that interval.
    series = {k: sorted((float(r["time_s"]), float(r["value"])) for r in rows if r["entity"] == f"device/meter_{k}")
              for k in (1, 2, 3)}
    for start, values in profile().items():
        for k in (1, 2, 3):
            times = [t for t, _v in series[k]]
            in_effect = series[k][bisect.bisect_right(times, start + 300.0) - 1][1]
            assert in_effect == pytest.approx(values[f"house_{k}"] * 1000.0, rel=1e-6)
    # The voltage at the feeder end dips in the evening peak below its night value.
    assert first["68400"] < first["10800"] < 1.0
