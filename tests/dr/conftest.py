"""The shipped configs/pjm_dr.yaml, run once for all DR stories."""

from __future__ import annotations

import pytest
from dr_runs import PJM_DR, Run

from cosim.runner import run_scenario
from cosim.scenario import load_scenario


@pytest.fixture(scope="session")
def pjm_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """configs/pjm_dr.yaml as shipped."""
    out = tmp_path_factory.mktemp("pjm_dr") / "out"
    run_scenario(load_scenario(PJM_DR), out)
    return Run(out)
