"""`cosim reliability STUDY.yaml`: the RBTS Bus 2 study as a user runs it, and its input errors."""

import csv
import json
from pathlib import Path

from cosim.cli import main

STUDY = Path(__file__).parents[2] / "configs" / "reliability" / "rbts_bus2.yaml"


def test_study_writes_indices_with_confidence_intervals(tmp_path, capsys):
    out = tmp_path / "rel"
    assert main(["reliability", str(STUDY), "--years", "2000", "--seed", "3", "--out", str(out)]) == 0
    assert "saidi_hours_per_year" in capsys.readouterr().out
    rows = {r["index"]: r for r in csv.DictReader(open(out / "indices.csv"))}
    saifi = rows["saifi_per_year"]
    assert float(saifi["mc_lower"]) < float(saifi["mc_mean"]) < float(saifi["mc_upper"])
    assert abs(float(saifi["analytic"]) - 0.248) < 0.001
    assert sum(1 for _ in open(out / "per_year.csv")) == 2001
    assert json.loads((out / "manifest.json").read_text())["years"] == 2000
    # the published column is the paper's (Allan et al. 1991), not the earlier misquote
    assert float(rows["ens_mwh_per_year"]["published"]) == 37.745 and float(rows["caidi_hours"]["published"]) == 14.55
    # load-point table: 22 load points x (analytic, Monte Carlo); LP1 analytic U by hand (tests/reliability/test_fmea.py)
    lps = list(csv.DictReader(open(out / "load_points.csv")))
    assert len(lps) == 44 and {r["method"] for r in lps} == {"analytic", "monte_carlo"}
    lp1 = next(r for r in lps if r["load_point"] == "1" and r["method"] == "analytic")
    assert abs(float(lp1["outage_hours_per_year"]) - (0.04875 * 5 + (0.04875 * 2 + 0.039) + 0.039 * 5 + 0.015 * 200)) < 1e-9


def test_same_seed_same_files(tmp_path):
    for name in ("a", "b"):
        assert main(["reliability", str(STUDY), "--years", "500", "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "a" / "per_year.csv").read_bytes() == (tmp_path / "b" / "per_year.csv").read_bytes()


def test_bad_study_file_is_reported_by_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstudy:\n  system: rbts_bus9\n  yeras: 3\n")
    assert main(["reliability", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any(line.endswith("bad.yaml:3: study.system: expected one of ('rbts_bus2', 'rbts_bus4') or an existing folder, found 'rbts_bus9'") for line in err), err
    assert any("bad.yaml:4: study.yeras: unknown field (did you mean 'years'?)" in line for line in err), err
