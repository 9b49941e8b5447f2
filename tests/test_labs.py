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
