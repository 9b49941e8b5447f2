"""Checks that the grid agrees with the market, read from a finished run's recorded outputs.

Every limit comes from the scenario itself: a generator's ``p_min_mw`` /
``p_max_mw`` from the grid section, its plant controller's ramp rate and
control period from the device's params, a branch's enforced limit from the
market case the ``iso_market`` prices with. Only the tolerances are ours, and
each is stated where it is used:

* ``MARGIN_PCT`` -- the margin of docs/markets.md ("The margin"): the AC flow on
  a branch the market enforces may exceed the DC limit by at most 2 %;
* ``REGISTER_MW`` -- the plant controller stores MW in 0.01 MW steps;
* ``NETWORK_S`` -- an ISO's Modbus write reaches a plant within 1 s (the
  links of the shipped scenarios are fibre WANs, tens of ms one way), and the
  controller acts on it at its next control step.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cosim.markets.case import DcMarketCase, load_case

MARGIN_PCT = 2.0
REGISTER_MW = 0.01
NETWORK_S = 1.0

Series = dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]


def read_series(out: Path) -> Series:
    """Every (entity, quantity) of ``timeseries.csv`` as (times, values) arrays."""
    found: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with open(out / "timeseries.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            times, values = found[(row["entity"], row["quantity"])]
            times.append(float(row["time_s"]))
            values.append(float(row["value"]))
    return {key: (np.array(t), np.array(v)) for key, (t, v) in found.items()}


def iso_params(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The ``iso_market`` application's params of a parsed scenario, or None when it has no market."""
    return next((app["params"] for actor in raw.get("actors", []) for app in actor.get("applications", [])
                 if app["kind"] == "iso_market"), None)


def market_case(config: Path) -> DcMarketCase | None:
    """The market case a scenario's energy market prices with (None without an energy market).

    A shipped case by name or a YAML file relative to the scenario, as the
    ``iso_market`` application resolves it.
    """
    params = iso_params(yaml.safe_load(config.read_text()))
    if params is None or params.get("energy") is None:
        return None
    name = params["energy"].get("case", "pjm5bus")
    if Path(name).suffix in (".yaml", ".yml"):
        return load_case(config.parent / name)
    return load_case(name)


@dataclass(frozen=True)
class Plant:
    """A plant controller as the scenario declares it."""

    device_id: str
    generator: str
    dispatched_as: str | None      # the plant id the ISO dispatches it as (None: the market sends it no basepoints)
    ramp_mw_per_min: float
    control_period_s: float
    p_min_mw: float
    p_max_mw: float


def plants(config: Path) -> list[Plant]:
    """The plant controllers of generators, each with the plant id the ISO dispatches it as (found by comm node)."""
    raw = yaml.safe_load(config.read_text())
    gens = {g["name"]: g for g in raw["grid"]["generators"]}
    dispatch = (iso_params(raw) or {}).get("dispatch") or {}
    plant_at = {link["node"]: link["plant"] for link in dispatch.get("plants", [])}
    found = []
    for d in raw.get("devices", []):
        if d["kind"] == "plant_controller" and "generator" in d:
            p, g = d.get("params", {}), gens[d["generator"]]
            found.append(Plant(d["id"], d["generator"], plant_at.get(d.get("node", d["id"])),
                               float(p["ramp_rate_mw_per_min"]),
                               float(p.get("control_period_s", 1.0)),
                               float(p.get("p_min_mw", g.get("p_min_mw", 0.0))),
                               float(p.get("p_max_mw", g.get("p_max_mw", np.inf)))))
    return found


def check_generator_limits(config: Path, recorded: Series) -> int:
    """Every generator's recorded output (grid, and its plant controller's) within [Pmin, Pmax], never negative.

    A unit may absorb power only if its plant controller declares it storage.
    Returns the number of series checked.
    """
    raw = yaml.safe_load(config.read_text())
    controllers = [d for d in raw.get("devices", []) if d["kind"] == "plant_controller"]
    controller = {d["generator"]: d for d in controllers if "generator" in d}
    checked = 0
    for d in controllers:          # a renewable park's controller caps a DER: its output within [0, p_max]
        if "der" in d:
            _, p = recorded[(f"device/{d['id']}", "p")]
            p_max = float(d.get("params", {}).get("p_max_mw", np.inf))
            assert p.size and p.min() >= -1e-9 and p.max() <= p_max * (1 + 1e-9), f"{config.name}: {d['id']}"
            checked += 1
    for gen in raw["grid"]["generators"]:
        device = controller.get(gen["name"])
        storage = bool(device and device.get("params", {}).get("storage", False))
        p_min = float(gen.get("p_min_mw", 0.0))
        p_max = float(gen.get("p_max_mw", np.inf))
        floor = p_min if storage else max(p_min, 0.0)
        tolerance = 1e-6 * max(1.0, p_max if np.isfinite(p_max) else 1.0)
        entities = [f"gen/{gen['name']}"] + ([f"device/{device['id']}"] if device else [])
        for entity in entities:
            _, p = recorded[(entity, "p")]
            assert p.size > 0, entity
            assert p.min() >= floor - tolerance, f"{config.name}: {entity} at {p.min():.2f} MW, below {floor} MW"
            assert p.max() <= p_max + tolerance, f"{config.name}: {entity} at {p.max():.2f} MW, above {p_max} MW"
            checked += 1
    return checked


def check_enforced_branches(config: Path, recorded: Series) -> list[str]:
    """Every branch the market enforces: market flow within its limit, the grid's AC flow within limit + margin.

    The grid is sampled at every recording step (``run.step``), so "every
    interval" means every sample. Returns the names of the branches checked.
    """
    case = market_case(config)
    if case is None:
        return []
    raw = yaml.safe_load(config.read_text())
    rating = {b["name"]: b.get("rate_a_mva") for b in raw["grid"].get("lines", [])}
    checked = []
    for branch in case.branches:
        if branch.limit_mw is None:
            continue
        _, market = recorded[(f"{iso_actor(raw)}/branch/{branch.name}", "sced_flow")]
        _, flow = recorded[(f"branch/{branch.name}", "p_from")]
        assert market.size and flow.size, branch.name
        assert np.abs(market).max() <= branch.limit_mw * (1 + 1e-9), f"{config.name}: market flow on {branch.name}"
        worst = np.abs(flow).max()
        assert worst <= branch.limit_mw * (1 + MARGIN_PCT / 100), \
            f"{config.name}: {branch.name} carries {worst:.1f} MW, {100 * worst / branch.limit_mw:.1f} % of its limit"
        if rating.get(branch.name) == branch.limit_mw:
            _, loading = recorded[(f"branch/{branch.name}", "loading")]
            assert loading.max() <= 100 + MARGIN_PCT, f"{config.name}: {branch.name} loading {loading.max():.1f} %"
        checked.append(branch.name)
    return checked


def iso_actor(raw: dict[str, Any]) -> str:
    return next(actor["id"] for actor in raw["actors"] for app in actor.get("applications", [])
                if app["kind"] == "iso_market")


def value_at(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The step series' value in force at each time in ``at`` (NaN before its first sample)."""
    index = np.searchsorted(times, at, side="right") - 1
    return np.where(index >= 0, values[np.maximum(index, 0)], np.nan)


def check_ramp(plant: Plant, recorded: Series) -> None:
    """The controller's set-point never moves faster than the unit's ramp rate.

    The controller moves in steps of one control period, so over any span
    ``dt`` the set-point moves by at most ``ramp x (dt + control period)``.
    """
    times, setpoint = recorded[(f"device/{plant.device_id}", "setpoint")]
    for window in (plant.control_period_s, 60.0, 300.0):
        later = np.searchsorted(times, times + window, side="left")
        ok = later < times.size
        i, j = np.flatnonzero(ok), later[ok]
        moved = np.abs(setpoint[j] - setpoint[i])
        allowed = plant.ramp_mw_per_min / 60.0 * (times[j] - times[i] + plant.control_period_s) + REGISTER_MW
        assert (moved <= allowed).all(), f"{plant.device_id} ramps faster than {plant.ramp_mw_per_min} MW/min"


def check_basepoints_received(plant: Plant, iso: str, recorded: Series) -> int:
    """Each basepoint the ISO sent is in the plant's basepoint register one control period + ``NETWORK_S`` later.

    Returns the number of basepoints checked.
    """
    sent_t, sent_mw = recorded[(f"{iso}/{plant.dispatched_as}", "basepoint")]
    reg_t, reg_mw = recorded[(f"device/{plant.device_id}", "basepoint")]
    latency = plant.control_period_s + NETWORK_S
    # A basepoint followed by the next one within the latency may never be seen alone.
    checked = np.flatnonzero(np.diff(sent_t, append=np.inf) > latency)
    held = value_at(reg_t, reg_mw, sent_t[checked] + latency)
    expected = np.clip(sent_mw[checked], plant.p_min_mw, plant.p_max_mw)
    off = np.abs(held - expected) > REGISTER_MW
    assert not off.any(), f"{plant.device_id}: basepoints {sent_mw[checked][off][:3]} not in its register " \
        f"{latency:g} s after they were sent"
    return int(checked.size)


def check_follows_basepoints(plant: Plant, iso: str, recorded: Series, quantity: str = "p") -> int:
    """A unit runs at its basepoint plus the regulation it was sent, or is ramping to it at its full rate.

    For each SCED interval [s, s') with basepoint b, the target at its end is
    b plus the regulation the ISO sent (if any) one latency before s'. By s'
    the unit stands at the target (within one register step) if the target was
    within ramp reach of where it stood at s, else it has moved toward it by at
    least its ramp over the time left after the latency and one control
    period. ``quantity`` is ``p`` (measured) or ``setpoint`` (for the
    balancing unit, whose measured output is the grid's slack). Returns the
    number of intervals checked.
    """
    sent_t, sent_mw = recorded[(f"{iso}/{plant.dispatched_as}", "basepoint")]
    p_t, p = recorded[(f"device/{plant.device_id}", quantity)]
    latency = plant.control_period_s + NETWORK_S
    starts, ends = sent_t[:-1], sent_t[1:]
    target = sent_mw[:-1].copy()
    if (f"{iso}/{plant.dispatched_as}", "regulation") in recorded:
        reg_t, reg_mw = recorded[(f"{iso}/{plant.dispatched_as}", "regulation")]
        target += np.nan_to_num(value_at(reg_t, reg_mw, ends - latency))
    target = np.clip(target, plant.p_min_mw, plant.p_max_mw)
    before = value_at(p_t, p, starts)
    after = value_at(p_t, p, ends - 1e-9 * np.maximum(1.0, ends))
    reach = plant.ramp_mw_per_min / 60.0 * (ends - starts - latency - plant.control_period_s)
    reachable = np.abs(target - before) <= reach
    arrived = np.abs(after - target) <= REGISTER_MW
    moved = np.sign(target - before) * (after - before) >= reach - REGISTER_MW
    bad = np.flatnonzero(np.where(reachable, ~arrived, ~moved))
    assert bad.size == 0, f"{plant.device_id}: at {starts[bad][:3]} s targets {target[bad][:3]} MW, " \
        f"started at {before[bad][:3]}, ended the interval at {after[bad][:3]} MW"
    return int(starts.size)
