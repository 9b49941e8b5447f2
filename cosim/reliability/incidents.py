"""Co-simulated incidents: one failure (and whatever fails while it lasts), from a normal network to the last customer back.

One job: run one *busy period* of the co-simulation and say what customers
saw. A world is built from the study's scenario (its grid, protection
devices, comm network, SCADA, DMS/FLISR, OMS and field crews) without its
scripted events; after a settling time a component drawn with probability
proportional to its failure rate fails (:mod:`cosim.reliability.damage`),
with a repair time drawn from its mean. Further components fail at their
rates while any customer is without supply or anything is broken (a Poisson
process, so overlapping failures happen as often as they would in service);
the busy period ends when nothing is broken and every load is served.

Everything a protection device, SCADA, the DMS or a crew does in between is
the co-simulation itself; this module only injects failures and watches the
grid's served loads (the same truth ``outage_truth`` records). The failures
and their repair times are also returned with what the analytic method would
predict for them, which the estimator uses as a control variate
(:mod:`cosim.reliability.cosimstudy`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generator

import numpy as np

from cosim.grid import ApplyFault, SetBranchInService, SetLoadInService
from cosim.operations.oms import OutageTracker

from .damage import Component, DamageRegister
from .data import load_system
from .fmea import FailureModes, Restoration, TransformerAction, failure_modes
from .indices import HOURS_PER_YEAR, IEEE_1366_MOMENTARY_THRESHOLD_S
from .montecarlo import DurationModel
from .topology import build_topology

SETTLE_S = 600.0
"""Simulated seconds before the first failure: every device polled at least once, the OMS settled."""


@dataclass(frozen=True)
class IncidentTask:
    """What a worker needs to run incident ``index`` (picklable; the plan is rebuilt and cached per process)."""

    scenario: str  # path of the co-simulation scenario
    system: str
    transformer_action: str
    repair_model: str
    momentary_threshold_s: float
    seed: int
    index: int
    horizon_h: float
    repair_from_failure: bool = True


@dataclass(frozen=True)
class IncidentPlan:
    """The study's components on the co-simulated grid, and the load points the indices are about."""

    components: tuple[Component, ...]
    modes: FailureModes
    load_points: tuple[str, ...]  # grid load names, aligned with the study's load-point table
    customers: np.ndarray
    load_kw: np.ndarray
    feeder: tuple[str, ...]

    @property
    def total_rate_per_year(self) -> float:
        return float(sum(c.rate_per_year for c in self.components))


@dataclass(frozen=True)
class IncidentOutcome:
    """What one busy period did to each load point (arrays aligned with ``IncidentPlan.load_points``)."""

    index: int
    failures: tuple[tuple[str, float, float], ...]  # (component, hours after the first failure, repair hours)
    busy_hours: float  # first failure to last customer back and nothing broken
    customer_hours: np.ndarray  # sustained interruptions, customers x hours
    customer_interruptions: np.ndarray  # sustained interruptions x customers
    momentary_customer_interruptions: np.ndarray  # momentary interruptions x customers (MAIFI)
    energy_kwh: np.ndarray  # every interruption, kW x hours
    predicted_customer_hours: np.ndarray  # the analytic method's prediction for the first failure's draw
    predicted_customer_interruptions: np.ndarray
    predicted_energy_kwh: np.ndarray
    predicted_switching: tuple[np.ndarray, np.ndarray, np.ndarray]  # the part of the three above restored by switching
    truncated: bool  # the horizon ran out before the busy period ended
    cpu_s: float  # CPU time of the worker process for this incident (build and run)
    wall_s: float


def rbts_components(system: str, transformer_action: str) -> IncidentPlan:
    """The failure modes of the analytic study mapped onto the grid of :func:`cosim.operations.rbts.grid_section`.

    A section ``k`` is line ``s<k>`` (fault mid-line; parked out of service);
    a load point's transformer is a fault at the load point's bus (its
    lateral protection clears it; parked by disconnecting the load).
    """
    data = load_system(system)
    topology = build_topology(data)
    modes = failure_modes(data, topology, TransformerAction(transformer_action))
    sections, lps = data.sections, data.load_points
    bus_of_lp = {int(lp): f"n{int(t)}" for lp, t in zip(sections.load_point_id, sections.to_node) if int(lp) >= 0}
    components = []
    for c in range(len(modes)):
        s = int(modes.component_section[c])
        if modes.is_transformer[c]:
            lp = int(sections.load_point_id[s])
            bus = bus_of_lp[lp]
            components.append(Component(modes.component_name[c], float(modes.failure_rate_per_year[c]), float(modes.repair_hours[c]),
                                        ApplyFault(bus=bus), frozenset({bus}), SetLoadInService(f"lp{lp}", False),
                                        SetLoadInService(f"lp{lp}", True)))
        else:
            line = f"s{int(sections.section_id[s])}"
            ends = frozenset({f"n{int(sections.from_node[s])}", f"n{int(sections.to_node[s])}"})
            components.append(Component(modes.component_name[c], float(modes.failure_rate_per_year[c]), float(modes.repair_hours[c]),
                                        ApplyFault(branch=line, fraction=0.5), ends, SetBranchInService(line, False),
                                        SetBranchInService(line, True)))
    feeders = tuple(topology.feeder_names[f] for f in topology.feeder_of_load_point)
    return IncidentPlan(tuple(components), modes, tuple(f"lp{int(i)}" for i in lps.load_point_id),
                        lps.customers.astype(float), lps.average_load_kw.astype(float), feeders)


def predicted(plan: IncidentPlan, component: int, repair_h: float, threshold_s: float,
              only: Restoration | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The analytic method's customer hours, customer interruptions and energy (per load point) for one failure.

    ``only``: count only the load points the analytic method restores that way (by repair, or by switching).
    """
    modes = plan.modes
    code = modes.effect[component]
    duration = np.where(code == Restoration.REPAIR, repair_h,
                        np.where(code == Restoration.SWITCHING, min(float(modes.switching_hours[component]), repair_h), 0.0))
    if only is not None:
        duration = np.where(code == only, duration, 0.0)
    sustained = duration > threshold_s / 3600.0
    return (plan.customers * duration * sustained, plan.customers * sustained, plan.load_kw * duration)


def expected_prediction(plan: IncidentPlan, repair_model: DurationModel, threshold_s: float,
                        only: Restoration | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E[:func:`predicted`] over the first failure (component by rate, repair time by ``repair_model``); exact."""
    modes = plan.modes
    weights = modes.failure_rate_per_year / modes.failure_rate_per_year.sum()
    threshold_h = threshold_s / 3600.0
    hours, interruptions, energy = (np.zeros(len(plan.load_points)) for _ in range(3))
    for c, p in enumerate(weights):
        if p == 0:
            continue
        mu, sw = float(modes.repair_hours[c]), float(modes.switching_hours[c])
        code = modes.effect[c]
        if repair_model is DurationModel.EXPONENTIAL:
            # E[r 1{r>t}] = (t + mu) e^{-t/mu};  E[min(s, r) 1{min(s,r)>t}] = 1{s>t} [(t + mu) e^{-t/mu} - (s + mu) e^{-s/mu}] + s P(r>s)
            tail = np.exp(-threshold_h / mu)
            repair_sustained_h = (threshold_h + mu) * tail
            switch_sustained_h = ((threshold_h + mu) * tail - (sw + mu) * np.exp(-sw / mu) + sw * np.exp(-sw / mu)) if sw > threshold_h else 0.0
            repair_p, switch_p = tail, (tail if sw > threshold_h else 0.0)
            repair_mean_h, switch_mean_h = mu, mu * (1.0 - np.exp(-sw / mu))
        else:
            d_sw = min(sw, mu)
            repair_sustained_h, switch_sustained_h = (mu if mu > threshold_h else 0.0), (d_sw if d_sw > threshold_h else 0.0)
            repair_p, switch_p = float(mu > threshold_h), float(d_sw > threshold_h)
            repair_mean_h, switch_mean_h = mu, d_sw
        is_repair, is_switch = code == Restoration.REPAIR, code == Restoration.SWITCHING
        if only is not None:
            is_repair, is_switch = is_repair & (only is Restoration.REPAIR), is_switch & (only is Restoration.SWITCHING)
        hours += p * plan.customers * (is_repair * repair_sustained_h + is_switch * switch_sustained_h)
        interruptions += p * plan.customers * (is_repair * repair_p + is_switch * switch_p)
        energy += p * plan.load_kw * (is_repair * repair_mean_h + is_switch * switch_mean_h)
    return hours, interruptions, energy


@lru_cache(maxsize=4)
def _plan(system: str, transformer_action: str) -> IncidentPlan:
    return rbts_components(system, transformer_action)


@lru_cache(maxsize=4)
def _scenario(path: str) -> Any:
    from cosim.scenario import load_scenario

    return load_scenario(Path(path))


def _draw_repair_h(rng: np.random.Generator, mean_h: float, model: DurationModel) -> float:
    return mean_h if model is DurationModel.FIXED else float(rng.exponential(mean_h))


def run_incident(task: IncidentTask) -> IncidentOutcome:
    """Co-simulate busy period ``task.index`` of the study (wall time: seconds to minutes).

    The world's seed and the incident's draws both come from
    ``SeedSequence([seed, index])``, so an incident is the same whatever
    process runs it and whichever incidents ran before.
    """
    from cosim.runner import build_world

    started, started_cpu = time.perf_counter(), time.process_time()
    plan = _plan(task.system, task.transformer_action)
    base = _scenario(task.scenario)
    horizon_s = SETTLE_S + task.horizon_h * 3600.0
    world_seed, draw_seed = np.random.SeedSequence([task.seed, task.index]).generate_state(2)
    rng = np.random.default_rng(int(draw_seed))
    run = base.spec.run.model_copy(update={"duration": horizon_s + 3600.0, "seed": int(world_seed)})
    scenario = dataclasses.replace(base, spec=base.spec.model_copy(update={"events": [], "run": run}))
    world, _ = build_world(scenario, None)
    grid = world.service("grid")
    damage = DamageRegister(grid.apply, lambda: world.now, from_failure=task.repair_from_failure)
    world.add_service("damage", damage)
    model = DurationModel(task.repair_model)
    tracker = OutageTracker(plan.load_points, dict(zip(plan.load_points, plan.customers.astype(int).tolist())),
                            dict(zip(plan.load_points, plan.load_kw.tolist())), {}, source="incident",
                            momentary_threshold_s=task.momentary_threshold_s)
    failures: list[tuple[str, float, float]] = []
    first: list[tuple[int, float]] = []
    state = {"end_s": float("nan"), "truncated": False}
    done = world.env.event()
    rates = np.array([c.rate_per_year for c in plan.components])
    total_per_s = float(rates.sum()) / (HOURS_PER_YEAR * 3600.0)

    def fail(now: float) -> None:
        available = np.array([c.name not in damage.broken for c in plan.components])
        weights = rates * available
        c = int(rng.choice(len(plan.components), p=weights / weights.sum()))
        repair_h = _draw_repair_h(rng, plan.components[c].repair_mean_h, model)
        if not first:
            first.append((c, repair_h))
            start[0] = now
        failures.append((plan.components[c].name, (now - start[0]) / 3600.0, repair_h))
        damage.fail(plan.components[c], repair_h * 3600.0)
        world.log("reliability_failure", component=plan.components[c].name, repair_h=repair_h)

    start = [0.0]
    changed = [world.env.event()]
    previous = grid.on_change

    def on_change(action: Any, change: Any) -> None:
        if previous is not None:
            previous(action, change)
        event, changed[0] = changed[0], world.env.event()
        if not event.triggered:
            event.succeed()

    grid.on_change = on_change

    def look() -> None:
        result = grid.solve_if_changed()
        served = dict(zip(grid.network.loads.name, (bool(s) for s in result.load_served)))
        tracker.update(world.now, {lp: served.get(lp, True) for lp in plan.load_points})

    def driver() -> Generator[Any, Any, None]:
        yield world.timeout(SETTLE_S)
        look()
        fail(world.now)
        next_failure = world.now + float(rng.exponential(1.0 / total_per_s))
        end_at = SETTLE_S + task.horizon_h * 3600.0
        while True:
            wake = min(next_failure, end_at)
            yield world.env.any_of([changed[0], world.timeout(max(wake - world.now, 0.0))])
            yield world.timeout(0)  # after everything acting at this instant
            look()
            if world.now >= next_failure:
                fail(world.now)
                next_failure = world.now + float(rng.exponential(1.0 / total_per_s))
                continue
            if not damage and not tracker.open:
                break
            if world.now >= end_at:
                state["truncated"] = True
                tracker.close_all(world.now)
                break
        state["end_s"] = world.now
        done.succeed()

    world.process(driver())
    world.env.run(until=done)
    records = tracker.log.records()
    index = np.array([plan.load_points.index(lp) for lp in records["load_point"]], dtype=np.int64)
    duration_h = (records["end_s"] - records["start_s"]) / 3600.0
    sustained = duration_h > task.momentary_threshold_s / 3600.0
    n = len(plan.load_points)

    def per_lp(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=n)

    cust = plan.customers[index] if index.size else np.zeros(0)
    kw = plan.load_kw[index] if index.size else np.zeros(0)
    c0, r0 = first[0]
    p_hours, p_int, p_energy = predicted(plan, c0, r0, task.momentary_threshold_s)
    p_switching = predicted(plan, c0, r0, task.momentary_threshold_s, only=Restoration.SWITCHING)
    return IncidentOutcome(
        index=task.index,
        failures=tuple(failures),
        busy_hours=(state["end_s"] - start[0]) / 3600.0,
        customer_hours=per_lp(cust * duration_h * sustained),
        customer_interruptions=per_lp(cust * sustained),
        momentary_customer_interruptions=per_lp(cust * ~sustained),
        energy_kwh=per_lp(kw * duration_h),
        predicted_customer_hours=p_hours,
        predicted_customer_interruptions=p_int,
        predicted_energy_kwh=p_energy,
        predicted_switching=p_switching,
        truncated=bool(state["truncated"]),
        cpu_s=time.process_time() - started_cpu,
        wall_s=time.perf_counter() - started,
    )


def default_threshold() -> float:
    return IEEE_1366_MOMENTARY_THRESHOLD_S
