"""Every teaching lab scenario validates and runs to its end (its pages rely on the results)."""

from pathlib import Path

import pytest

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

LABS = sorted((Path(__file__).parents[1] / "configs" / "labs").glob("*.yaml"))
PAGES = sorted((Path(__file__).parents[1] / "docs" / "labs").glob("*.md"))


def test_every_lab_has_a_page():
    assert LABS
    for lab in LABS:
        number = lab.stem.split("_")[0].removeprefix("lab")
        assert any(page.stem.startswith(f"{int(number):02d}-") for page in PAGES), lab.name


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_lab_runs_to_completion(lab, tmp_path):
    result = run_scenario(load_scenario(lab), tmp_path)
    assert result.status == "completed"
    assert result.simulated_time_s == load_scenario(lab).spec.run.duration


def _noon_feeder_flow_mw(tmp_path: Path, farm_kw: int) -> float:
    """Lab 1 Q8: the smallest flow on feeder_1 over the day with the community solar farm at ``farm_kw``."""
    import csv

    import yaml

    lab = Path(__file__).parents[1] / "configs" / "labs" / "lab1_domains.yaml"
    data = yaml.safe_load(lab.read_text())
    for actor in data["actors"]:
        for app in actor.get("applications", []):
            if app["params"].get("der") == "solar_farm":
                app["params"]["capacity_kw"] = farm_kw
    for der in data["grid"]["ders"]:
        if der["name"] == "solar_farm":
            der["p_max_mw"] = farm_kw / 1000.0
    copy = tmp_path / f"lab1_{farm_kw}.yaml"
    copy.write_text(yaml.safe_dump(data))
    out = tmp_path / f"run_{farm_kw}"
    assert run_scenario(load_scenario(copy), out).status == "completed"
    with (out / "timeseries.csv").open() as f:
        return min(float(r["value"]) for r in csv.DictReader(f) if r["entity"] == "branch/feeder_1" and r["quantity"] == "p_from")


def test_lab1_q8_reverse_flow_needs_a_solar_farm_not_a_home(tmp_path):
    """Q8's answer is a farm of a few MW: the shipped 500 kW does not reverse the feeder, 5 MW does."""
    assert _noon_feeder_flow_mw(tmp_path, 500) > 0
    assert _noon_feeder_flow_mw(tmp_path, 5000) < 0


LAB4 = Path(__file__).parents[1] / "configs" / "labs" / "lab4_dr.yaml"
CASE = Path(__file__).parents[1] / "configs" / "pjm5bus_sced.yaml"


def test_lab4_copied_elsewhere_names_the_market_case_line_then_runs_once_pointed_at_it(tmp_path, capsys):
    """docs/labs/04-demand-response.md, "Editing a copy": the copy's relative case path fails in one line, exit 2."""
    from cosim.cli import main

    copy = tmp_path / "lab4_noprd.yaml"
    text = LAB4.read_text()
    copy.write_text(text)
    assert main(["validate", str(copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    case_line = 1 + text.splitlines().index("            case: ../pjm5bus_sced.yaml")
    assert len(err) == 1 and f"lab4_noprd.yaml:{case_line}: " in err[0]
    assert "params.energy.case" in err[0] and str((tmp_path.parent / "pjm5bus_sced.yaml").resolve()) in err[0]
    # as the lab says: point the copy at the shipped case file
    copy.write_text(text.replace("case: ../pjm5bus_sced.yaml", f"case: {CASE}"))
    assert main(["validate", str(copy)]) == 0
    result = run_scenario(load_scenario(copy), tmp_path / "out")
    assert result.status == "completed" and (tmp_path / "out" / "market_results.csv").is_file()


def test_a_broken_market_case_is_one_line_naming_the_case_field(tmp_path, capsys):
    from cosim.cli import main

    broken = tmp_path / "case.yaml"
    broken.write_text(CASE.read_text().replace("bus: D", "bus: Q", 1))
    copy = tmp_path / "lab4.yaml"
    copy.write_text(LAB4.read_text().replace("case: ../pjm5bus_sced.yaml", "case: case.yaml"))
    assert main(["validate", str(copy)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "params.energy.case" in line and "unknown bus 'Q'" in line
