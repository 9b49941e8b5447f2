"""Loading the shipped RBTS data and reporting every problem in a user's system at once."""

import shutil

import pytest

from cosim.errors import ScenarioError
from cosim.reliability.data import DATA_DIR, load_system


def test_rbts_bus2_matches_the_paper_totals():
    system = load_system("rbts_bus2")
    lps = system.load_points
    assert len(lps) == 22 and lps.customers.sum() == 1908  # Allan et al. 1991, Table 1
    assert lps.average_load_kw.sum() == pytest.approx(12291.0)
    assert len(system.sections) == 36 and system.sections.is_main.sum() == 14
    assert sorted(system.alternative_supply_nodes.tolist()) == [28, 30, 34, 38]


def test_rbts_bus4_loads():
    system = load_system("rbts_bus4")
    assert len(system.load_points) == 38 and system.load_points.customers.sum() == 4779


def copy_bus2(folder):
    for kind in ("load_points", "sections", "ties"):
        shutil.copy(DATA_DIR / f"rbts_bus2_{kind}.csv", folder / f"{kind}.csv")


def test_a_folder_is_a_system(tmp_path):
    copy_bus2(tmp_path)
    assert len(load_system(tmp_path).load_points) == 22


def test_all_problems_are_reported_together(tmp_path):
    copy_bus2(tmp_path)
    sections = (tmp_path / "sections.csv").read_text().splitlines()
    sections[1] = sections[1].replace("0.75,0.065,0.04875", "0.75,0.065,lots")
    sections[4] = sections[4].replace("upstream end", "middle")
    (tmp_path / "sections.csv").write_text("\n".join(sections) + "\n")
    lps = (tmp_path / "load_points.csv").read_text().replace("1,F1,residential,210", "1,F1,residential,-5", 1)
    (tmp_path / "load_points.csv").write_text(lps)
    with pytest.raises(ScenarioError) as caught:
        load_system(tmp_path)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 3, messages
    assert any("sections.csv:2: line_lambda_per_yr: expected a number" in m for m in messages)
    assert any("sections.csv:5: disconnect" in m for m in messages)
    assert any("load_points.csv:2: customers: must not be negative" in m for m in messages)


def test_missing_folder(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_system(tmp_path / "nothing")
