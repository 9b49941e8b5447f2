"""`cosim reliability` on a study file with a `cosimulation:` section: co-simulated RBTS Bus 2 incidents with
crews doing the manual switching (no automation on the main feeders; devices report by exception) agree with the analytic study of the
same system within their confidence interval, and the results do not depend on the executor."""

from pathlib import Path

import pytest

from cosim.cli import main
from cosim.reliability.cosimstudy import CosimulationConfig, run_cosim_study
from cosim.reliability.montecarlo import DurationModel

CONFIGS = Path(__file__).parents[2] / "configs"
STUDY = CONFIGS / "reliability" / "rbts_bus2_cosim_manual_replacement.yaml"


def study(out: Path, incidents: int, workers: int = 1):
    config = CosimulationConfig(scenario="rbts_bus2_manual.yaml", max_incidents=incidents, min_incidents=2, batch=incidents)
    return run_cosim_study(CONFIGS / "reliability" / "rbts_bus2_manual.yaml", "rbts_bus2", "replacement", DurationModel.EXPONENTIAL, 300.0, config,
                           11, out, workers=workers)


def test_manual_switching_agrees_with_the_analytic_study_within_the_interval(tmp_path):
    result = study(tmp_path / "run", 16)
    for name in ("saifi_per_year", "saidi_hours_per_year", "ens_mwh_per_year"):
        estimate, analytic = result.system[name], result.analytic[name]
        # The analytic method counts overlapping outages of a load point twice (first order); the co-simulation
        # merges them. That bias is at most the overlap share (a fraction of a percent here), on top of the CI.
        slack = analytic * result.overlap_share
        assert estimate.lower - slack <= analytic <= estimate.upper + slack, (name, estimate, analytic, slack)
        assert result.overlap_share < 0.01
    assert (tmp_path / "run" / "incidents.csv").read_text().count("\n") == 17
    assert len(result.load_point_hours) == 22


def test_same_results_in_this_process_and_on_two_processes(tmp_path):
    study(tmp_path / "one", 4, workers=1)
    study(tmp_path / "two", 4, workers=2)
    for table in ("indices.csv", "load_points.csv"):
        assert (tmp_path / "one" / table).read_text() == (tmp_path / "two" / table).read_text()
    one = [line.rsplit(",", 2)[0] for line in (tmp_path / "one" / "incidents.csv").read_text().splitlines()]  # all but CPU and wall time
    two = [line.rsplit(",", 2)[0] for line in (tmp_path / "two" / "incidents.csv").read_text().splitlines()]
    assert one == two


def test_cli_runs_the_cosimulated_mode_and_reports_progress(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["reliability", str(STUDY), "--incidents", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 incidents" in text and "SAIDI" in text and "saidi_hours_per_year" in text
    assert (out / "indices.csv").exists() and (out / "load_points.csv").exists()


def test_target_ci_is_a_percentage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["reliability", str(STUDY), "--target-ci", "150%"])
    assert stop.value.code == 2 and "not between 0 and 100 %" in capsys.readouterr().err
