"""Plants follow the market, and the grid agrees with it, in every shipped scenario with a market.

Limits come from the scenarios themselves (the grid's generator limits, the
plant controllers' ramp rates, the market case's branch limits); the margin is
the one docs/markets.md states ("The margin"): the AC flow on a branch the
market enforces may exceed the DC limit by the losses and the regulation
residual, at most 2 %. The checks read each run's recorded outputs
(``grid_checks``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from dr_runs import CONFIGS, PJM_DR, Run
from grid_checks import (
    Series,
    check_basepoints_received,
    check_enforced_branches,
    check_follows_basepoints,
    check_generator_limits,
    check_ramp,
    iso_actor,
    iso_params,
    plants,
    read_series,
)

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

QUICKSTART = CONFIGS / "quickstart.yaml"
LAB4 = CONFIGS / "labs" / "lab4_dr.yaml"


def shipped_market_scenarios() -> list[Path]:
    """Every scenario under configs/ (top level and labs) with an ``iso_market`` application."""
    found = []
    for path in sorted([*CONFIGS.glob("*.yaml"), *(CONFIGS / "labs").glob("*.yaml")]):
        raw = yaml.safe_load(path.read_text())
        if isinstance(raw, dict) and "actors" in raw and iso_params(raw) is not None:
            found.append(path)
    return found


MARKET_SCENARIOS = shipped_market_scenarios()


def test_the_shipped_market_scenarios_include_pjm_dr_lab4_and_the_quickstart():
    assert {PJM_DR, LAB4, QUICKSTART} <= set(MARKET_SCENARIOS)


@pytest.fixture(scope="module")
def pjm(pjm_run: Run) -> Series:
    return read_series(pjm_run.out)


@pytest.mark.parametrize("config", MARKET_SCENARIOS, ids=lambda p: p.stem)
def test_generators_within_limits_and_enforced_branches_within_the_margin(config: Path, pjm_run: Run,
                                                                          tmp_path: Path) -> None:
    if config == PJM_DR:
        out = pjm_run.out      # already run for the DR stories
    else:
        out = tmp_path / "out"
        assert run_scenario(load_scenario(config), out).status == "completed"
    recorded = read_series(out)
    raw = yaml.safe_load(config.read_text())
    assert check_generator_limits(config, recorded) >= len(raw["grid"]["generators"])
    enforced = check_enforced_branches(config, recorded)
    if config in (PJM_DR, LAB4):
        assert enforced == ["A-B", "E-D"]
    for unit in plants(config):
        check_ramp(unit, recorded)
        if unit.dispatched_as is None:
            continue
        check_basepoints_received(unit, iso_actor(raw), recorded)
        slack = any(g["name"] == unit.generator and g.get("slack") for g in raw["grid"]["generators"])
        check_follows_basepoints(unit, iso_actor(raw), recorded, "setpoint" if slack else "p")


def test_the_branch_check_means_something_on_pjm_dr(pjm):
    # The market holds E-D at its limit for hours of the day.
    _, market = pjm[("pjm_market/branch/E-D", "sced_flow")]
    assert (market >= 240 - 1e-6).sum() * 300 >= 6 * 3600


def test_lab4_is_pjm_dr_under_another_name():
    lab, pjm = yaml.safe_load(LAB4.read_text()), yaml.safe_load(PJM_DR.read_text())
    assert (LAB4.parent / iso_params(lab)["energy"]["case"]).resolve() == \
        (PJM_DR.parent / iso_params(pjm)["energy"]["case"]).resolve()
    for raw in (lab, pjm):
        raw.pop("name")
        iso_params(raw)["energy"].pop("case")
    assert lab == pjm


def test_each_plant_gets_its_basepoints_as_modbus_writes_over_the_network(pjm_run: Run):
    writes: dict[str, int] = defaultdict(int)
    for row in pjm_run.table("messages"):
        # Modbus TCP ADU: MBAP header (7 bytes), then the function code; 0x10 = write multiple registers.
        if row["protocol"] == "modbus" and row["src"] == "pjm_market" and row["status"] == "delivered" \
                and row["info"][14:16] == "10":
            writes[row["dst"]] += 1
    intervals = 25 * 12
    assert set(writes) == {"plant_a", "plant_c", "plant_d", "plant_e"}
    assert all(n >= intervals - 2 for n in writes.values()), writes


def basepoint_before(pjm, plant: str, times: np.ndarray) -> np.ndarray:
    """The ISO's basepoint of ``plant`` in force just before each time (NaN before the first)."""
    sent_t, sent_mw = pjm[(f"pjm_market/{plant}", "basepoint")]
    index = np.searchsorted(sent_t, times, side="left") - 1
    return np.where(index >= 0, sent_mw[np.maximum(index, 0)], np.nan)


def test_units_outside_regulation_run_at_their_basepoints(pjm):
    for plant in ("gen_a", "gen_e"):
        times, p = pjm[(f"gen/{plant}", "p")]
        base = basepoint_before(pjm, plant, times)
        deviation = np.abs(p - base)[~np.isnan(base)]
        assert np.mean(deviation <= 0.5) >= 0.9, plant     # ramping to a new basepoint the rest of the time


def test_the_balancing_unit_carries_only_losses_and_the_regulation_residual(pjm):
    times, p = pjm[("gen/gen_d", "p")]
    base = basepoint_before(pjm, "gen_d", times)
    deviation = (p - base)[~np.isnan(base)]
    # Without plant dispatch it swung by about 400 MW around its schedule; now the AGC keeps it within
    # a regulation band of 2 % of the day's peak load most of the time.
    assert np.percentile(np.abs(deviation), 95) <= 26.0
    _, ace = pjm[("pjm_market", "ace")]
    assert np.median(np.abs(ace)) <= 5.0
