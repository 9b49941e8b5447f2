"""Every shipped case reproduces its published or third-party AC power-flow solution.

JSON cases with a ``*.solution.json`` (case9/14/30 and, when present beside
the repository, shared/reference/powerflow) are checked against that file;
MATPOWER's own ``.m`` files (case57/118/300) against PYPOWER solving the same
data at test time and MATPOWER's published losses. Tolerances: 1e-6 pu in
magnitude, 1e-4 degree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from grid_thirdparty import mpc, pypower_runpf

from cosim.grid.acflow import solve_ac
from cosim.grid.config import CASES_DIR, shipped_cases
from cosim.grid.matpower import CaseFormatError, case_to_network, load_case, parse_m

SHARED = Path(__file__).parents[2].parent / "shared" / "reference" / "powerflow"
FOLDERS = [CASES_DIR] + ([SHARED] if SHARED.is_dir() else [])
SOLUTIONS = sorted(p for folder in FOLDERS for p in folder.glob("*.solution.json"))


M_CASES = sorted(CASES_DIR.glob("*.m"))
# Losses of MATPOWER's runpf (Newton, Q limits off) as published for these cases.
PUBLISHED_LOSSES_MW = {"case57": 27.864, "case118": 132.863, "case300": 408.316}


def test_the_data_folders_hold_the_six_standard_cases() -> None:
    shipped = set(shipped_cases())
    assert shipped >= {"case9", "case14", "case30", "case57", "case118", "case300"}
    assert {p.stem for p in M_CASES} >= {"case57", "case118", "case300"}


@pytest.mark.parametrize("case_path", M_CASES, ids=[p.stem for p in M_CASES])
def test_matpower_case_matches_pypower_on_the_same_data(case_path: Path, balanced) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pypower")  # the test extra installs it
    ref = pypower_runpf(mpc(case_path))
    net = load_case(case_path)
    result = balanced(solve_ac(net, tolerance_pu=1e-10))
    assert result.converged
    at = np.array([net.buses.index(str(int(b))) for b in ref["bus"][:, 0]])
    np.testing.assert_allclose(result.vm_pu[at], ref["bus"][:, 7], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.va_deg[at], ref["bus"][:, 8], rtol=0, atol=1e-4)
    ref_losses = float((ref["branch"][:, 13] + ref["branch"][:, 15]).sum())
    assert result.losses_mw == pytest.approx(ref_losses, abs=1e-6)
    assert result.losses_mw == pytest.approx(PUBLISHED_LOSSES_MW[case_path.stem], abs=1e-3)
    on = ref["gen"][:, 7] > 0
    np.testing.assert_allclose(result.gen_q_mvar[on], ref["gen"][on, 2], rtol=0, atol=1e-4)
    np.testing.assert_allclose(result.gen_p_mw[on], ref["gen"][on, 1], rtol=0, atol=1e-4)


def test_pq_typed_generator_and_reactive_sharing_match_pypower(balanced) -> None:  # type: ignore[no-untyped-def]
    """A generator at a bus typed PQ injects its QG (its voltage floats); several
    generators at one bus share its reactive power in proportion to their ranges."""
    pytest.importorskip("pypower")
    data = json.loads((CASES_DIR / "case9.json").read_text())
    bus, gen = np.array(data["bus"], dtype=float), np.array(data["gen"], dtype=float)
    bus[bus[:, 0] == 3, 1] = 1  # bus 3: PQ, its generator a fixed P + jQ
    gen[gen[:, 0] == 3, 2] = 12.5
    second = gen[gen[:, 0] == 2][0].copy()  # a second, smaller machine at bus 2
    second[1], second[3], second[4] = 40.0, 100.0, -20.0
    gen[gen[:, 0] == 2, 3:5] = [300.0, -50.0]
    gen = np.vstack([gen, second])
    case = {"version": "2", "baseMVA": data["baseMVA"], "bus": bus, "gen": gen,
            "branch": np.array(data["branch"], dtype=float)}
    ref = pypower_runpf(case)
    net = case_to_network({k: (v.tolist() if isinstance(v, np.ndarray) else v)
                           for k, v in case.items()})
    result = balanced(solve_ac(net, tolerance_pu=1e-10))
    np.testing.assert_allclose(result.vm_pu, ref["bus"][:, 7], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.gen_q_mvar, ref["gen"][:, 2], rtol=0, atol=1e-4)
    assert result.vm_pu[net.buses.index("3")] != pytest.approx(gen[gen[:, 0] == 3, 5][0], abs=1e-3)
    at2 = net.generators.bus == net.buses.index("2")
    assert len(set(np.round(result.gen_q_mvar[at2], 6))) == 2  # not an equal split


def test_zero_impedance_branch_is_rejected_naming_it() -> None:
    data = json.loads((CASES_DIR / "case9.json").read_text())
    data["branch"][4][2] = data["branch"][4][3] = 0.0
    with pytest.raises(CaseFormatError, match=r"branch5 .*r = x = 0"):
        case_to_network(data, source="case9.json")


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
            f"mpc.branch = [\n{matrix(data['branch'])}\n];  % trailing comment\n"
            "%% generator cost data\nmpc.gencost = [\n\t2\t0\t0\t3\t0.11\t5\t150;\n"
            "\t1\t0\t0\t2\t0\t0\t100\t2500;\n\t2\t0\t0\t3\t0.085\t1.2\t600;\n];\n"
            "mpc.bus_name = {\n" + "".join(f"\t'Bus {i} % it''s named';\n" for i in range(len(data["bus"])))
            + "};\n")


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
    parsed = parse_m(_to_m(data))
    assert parsed["baseMVA"] == 100.0
    assert parsed["bus_name"][0] == "Bus 0 % it's named"
    assert [len(r) for r in parsed["gencost"]] == [7, 8, 7]


def test_unsupported_statement_is_an_error_naming_the_line() -> None:
    text = "mpc.version = '2';\nmpc.baseMVA = 100;\nmpc.gen(:, 2) = 0;\n"
    with pytest.raises(CaseFormatError, match=r"x.m:3: unsupported statement"):
        parse_m(text, source="x.m")
