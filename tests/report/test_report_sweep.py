"""The sweep report: runs' status and each quantity across the swept values, checked in headless Chromium too."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from cosim.batch import load_sweep, run_sweep
from cosim.batch.executors import InProcess
from cosim.cli import main
from cosim.report.sweep import combination_label, read_sweep_table

SCENARIO = Path(__file__).parents[1] / "batch" / "small_scenario.yaml"
NOISE = "actors[home_1].applications[load_profile].params.noise_pct"


def test_sweep_report_has_a_box_per_combination_and_the_run_table(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: s\nscenario: {SCENARIO}\nparameters:\n  run.duration: [2h]\n  {NOISE}: [1, 5]\nseeds: [1, 2]\n")
    sweep = load_sweep(path, tmp_path / "out")
    run_sweep(sweep, InProcess())
    assert main(["report", str(sweep.out_dir), "--statistic", "max"]) == 0
    page = (sweep.out_dir / "report.html").read_text()
    table = read_sweep_table(sweep.out_dir / "results.csv")
    assert table.parameters == ("run.duration", NOISE)
    with (sweep.out_dir / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    quantities = {(r["domain"], r["quantity"]) for r in rows if r["quantity"]}
    assert len(re.findall(r'<div class="plot" ', page)) == len(quantities)
    labels = {combination_label(table, r) for r in rows}
    assert labels == {"duration=2h, home_1.noise_pct=1", "duration=2h, home_1.noise_pct=5"}
    for run in sweep.runs:
        assert run.run_id in page
    assert ": max" in page


def test_a_folder_that_is_neither_run_nor_sweep_is_refused(tmp_path, capsys):
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    assert main(["report", str(tmp_path)]) == 2
    assert "not a sweep results table" in capsys.readouterr().err
