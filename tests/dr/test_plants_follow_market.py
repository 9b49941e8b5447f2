"""Plants follow the market, and the grid agrees with it: configs/pjm_dr.yaml, lab 4 and the quickstart.

Limits come from the scenarios themselves (the grid's generator limits, the
market case's branch limits); the margin is the one docs/markets.md states
("Plants follow the market"): the AC flow on a branch the market enforces may
exceed the DC limit by the losses and the regulation residual, at most 2 %.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from dr_runs import CONFIGS, PJM_DR, Run

from cosim.markets.case import load_case
from cosim.runner import run_scenario
from cosim.scenario import load_scenario

MARGIN_PCT = 2.0
QUICKSTART = CONFIGS / "quickstart.yaml"
LAB4 = CONFIGS / "labs" / "lab4_dr.yaml"


def series(out: Path) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    found: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with open(out / "timeseries.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            times, values = found[(row["entity"], row["quantity"])]
            times.append(float(row["time_s"]))
            values.append(float(row["value"]))
    return {key: (np.array(t), np.array(v)) for key, (t, v) in found.items()}


def iso_params(raw: dict[str, Any]) -> dict[str, Any]:
    return next(app["params"] for actor in raw["actors"] for app in actor.get("applications", [])
                if app["kind"] == "iso_market")


@pytest.fixture(scope="module")
def pjm(pjm_run: Run) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    return series(pjm_run.out)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    out = tmp_path_factory.mktemp("quickstart_plants")
    assert run_scenario(load_scenario(QUICKSTART), out).status == "completed"
    return series(out)


def check_generator_limits(config: Path, recorded: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> int:
    raw = yaml.safe_load(config.read_text())
    devices = {d["generator"]: d["id"] for d in raw.get("devices", []) if d["kind"] == "plant_controller" and "generator" in d}
    checked = 0
    for gen in raw["grid"]["generators"]:
        p_min, p_max = float(gen.get("p_min_mw", 0.0)), float(gen.get("p_max_mw", np.inf))
        tolerance = 1e-6 * max(1.0, p_max if np.isfinite(p_max) else 1.0)
        entities = [f"gen/{gen['name']}"] + ([f"device/{devices[gen['name']]}"] if gen["name"] in devices else [])
        for entity in entities:
            _, p = recorded[(entity, "p")]
            assert p.size > 0
            assert p.min() >= max(p_min, 0.0) - tolerance, f"{config.name}: {entity} at {p.min():.2f} MW, below its limit"
            assert p.max() <= p_max + tolerance, f"{config.name}: {entity} at {p.max():.2f} MW, above {p_max} MW"
            checked += 1
    return checked


def test_generators_stay_within_their_limits_and_never_absorb_power(pjm, quickstart):
    assert check_generator_limits(PJM_DR, pjm) == 8      # four units, each seen by the grid and by its controller
    assert check_generator_limits(QUICKSTART, quickstart) >= 1


def test_enforced_branches_stay_within_the_documented_margin(pjm):
    raw = yaml.safe_load(PJM_DR.read_text())
    case = load_case(PJM_DR.parent / iso_params(raw)["energy"]["case"])
    rating = {b["name"]: b.get("rate_a_mva") for b in raw["grid"]["lines"]}
    enforced = [b for b in case.branches if b.limit_mw is not None]
    assert {b.name for b in enforced} == {"A-B", "E-D"}
    for branch in enforced:
        _, market = pjm[(f"pjm_market/branch/{branch.name}", "sced_flow")]
        _, flow = pjm[(f"branch/{branch.name}", "p_from")]
        assert np.abs(market).max() <= branch.limit_mw * (1 + 1e-9)
        assert np.abs(flow).max() <= branch.limit_mw * (1 + MARGIN_PCT / 100), branch.name
        if rating.get(branch.name) == branch.limit_mw:
            _, loading = pjm[(f"branch/{branch.name}", "loading")]
            assert loading.max() <= 100 + MARGIN_PCT, branch.name
    # The check means something: the market holds E-D at its limit for hours of the day.
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
