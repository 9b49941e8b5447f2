"""Every case in the data folders reproduces its published AC power-flow solution.

Data folders: the cases shipped with cosim (cosim/grid/cases: IEEE 9-300 bus,
see its README for sources) and, when present beside the repository,
shared/reference/powerflow. Tolerances: 1e-6 pu in magnitude, 1e-4 degree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cosim.grid.acflow import solve_ac
from cosim.grid.config import CASES_DIR
from cosim.grid.matpower import load_case, parse_m, case_to_network

SHARED = Path(__file__).parents[2].parent / "shared" / "reference" / "powerflow"
FOLDERS = [CASES_DIR] + ([SHARED] if SHARED.is_dir() else [])
SOLUTIONS = sorted(p for folder in FOLDERS for p in folder.glob("*.solution.json"))


def test_the_data_folders_hold_the_six_standard_cases() -> None:
    shipped = {p.name.split(".")[0] for p in CASES_DIR.glob("*.solution.json")}
    assert shipped >= {"case9", "case14", "case30", "case57", "case118", "case300"}


@pytest.mark.parametrize("solution_path", SOLUTIONS,
                         ids=[f"{p.parent.name}/{p.name.split('.')[0]}" for p in SOLUTIONS])
def test_case_matches_published_solution(solution_path: Path, balanced) -> None:  # type: ignore[no-untyped-def]
    case_path = solution_path.with_name(solution_path.name.replace(".solution", ""))
    net = load_case(case_path)
    solution = json.loads(solution_path.read_text())
    result = solve_ac(net, tolerance_pu=1e-10)

    assert result.converged
    balanced(result)
    at = np.array([net.buses.index(str(b)) for b in solution["bus"]["id"]])
    np.testing.assert_allclose(result.vm_pu[at], solution["bus"]["vm_pu"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.va_deg[at], solution["bus"]["va_deg"], rtol=0, atol=1e-4)
    assert result.losses_mw == pytest.approx(solution["losses_mw"], abs=1e-4)

    # Warm start from the solution: nothing left to do.
    again = solve_ac(net, tolerance_pu=1e-8, v_start=result.v_pu)
    assert again.converged and again.iterations <= 1
    balanced(again)


def _to_m(data: dict) -> str:
    def matrix(rows: list) -> str:
        return "\n".join("\t" + "\t".join(repr(float(x)) for x in row) + ";" for row in rows)
    return ("function mpc = case9\n%% a comment\nmpc.version = '2';\n"
            f"mpc.baseMVA = {data['baseMVA']};\n"
            f"mpc.bus = [\n{matrix(data['bus'])}\n];\n"
            f"mpc.gen = [\n{matrix(data['gen'])}\n];\n"
            f"mpc.branch = [\n{matrix(data['branch'])}\n];\n"
            "mpc.bus_name = {\n\t'A';\n};\n")


def test_m_file_reads_like_its_json_form(tmp_path: Path) -> None:
    data = json.loads((CASES_DIR / "case9.json").read_text())
    m_path = tmp_path / "case9.m"
    m_path.write_text(_to_m(data))
    from_m, from_json = load_case(m_path), case_to_network(data)
    for table in ("buses", "branches", "generators", "loads", "shunts"):
        a, b = getattr(from_m, table), getattr(from_json, table)
        assert a.name == b.name
        for column, value in vars(a).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, getattr(b, column), err_msg=f"{table}.{column}")
    assert parse_m(_to_m(data))["baseMVA"] == 100.0
