"""Markets domain: the ISO/RTO market operator (PJM-style) as one application.

``iso_market`` runs three things over one MQTT client, learning and acting
only by messages (it never sees the grid):

* **capacity market** at the start of the run: it collects the CSPs' DR plans
  (``pjm/rpm/plan/<csp>``), reviews them (:func:`cosim.markets.drplans.validate_dr_plans`,
  table ``dr_plan_review.csv`` and a ``dr_plan_rejected`` event per problem),
  clears the Base Residual Auction for the delivery year three years ahead
  (:func:`cosim.markets.rpm.clear_rpm`, table ``rpm_results.csv``) and tells each
  CSP what cleared (``pjm/rpm/result/<csp>``);
* **energy market**: a SCED (DC-OPF, :func:`cosim.markets.sced.solve_sced`)
  every ``energy.interval`` on zone load telemetry (``pjm/telemetry/load/<zone>``),
  with the CSPs' economic DR offers and the registered PRD; LMPs recorded per
  bus and published retained on ``pjm/lmp/<bus>``;
* **M&V and settlement** after a Load Management event: interval meter data the
  CSPs forward (``pjm/mv/<csp>``) against the CBL (High 4 of 5 + symmetric
  additive adjustment), event performance per resource (``dr_performance.csv``),
  energy and capacity payments and Capacity Performance charges per CSP
  (``settlement.csv``), sent to each CSP on ``pjm/settlement/<csp>``.

Topics and payloads are listed in ``docs/markets.md``; payloads are
:mod:`cosim.markets.wire` encodings. :class:`MqttEndpoint` is the small MQTT
helper the other DR applications (CSP, dispatcher, premises) share.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..comm import MqttError, MqttMessage, QoS
from ..kernel import World
from ..markets.baseline import customer_baseline
from ..markets.case import DcMarketCase, EconomicDrOffer, PrdBlock, load_case
from ..markets.drplans import DrPlan, EndUseSite, ExistingResource, PlannedResource, validate_dr_plans
from ..markets.rpm import CapacityOffer, DemandPoint, PrdCommitment, ProductCap, clear_rpm
from ..markets.rules import ResourceType, non_performance_charge_rate_usd_per_mwh
from ..markets.sced import solve_sced
from ..markets.settlement import CspTerms, settle_csps
from ..markets.wire import PayloadError, decode, encode
from ..nist import Actor, Domain
from ..scenario.durations import Duration
from .context import RunContext
from .registry import Params, application


class MqttEndpoint:
    """One application's MQTT client: connect, subscribe, and publish without blocking a handler.

    Handlers run inside network callbacks, so a publish from a handler is its
    own SimPy process; a publish that fails (client disconnected) is logged,
    not raised, so a lost connection is simulation data.
    """

    def __init__(self, world: World, node: str, client_id: str, broker: str) -> None:
        self.world = world
        self.client_id = client_id
        self.client = world.service("comm").mqtt_client(node, client_id, broker, keep_alive_s=600.0)

    def start(self, subscriptions: list[tuple[str, Callable[[MqttMessage], None]]]) -> Generator[Any, Any, None]:
        yield from self.client.connect()
        for topic_filter, handler in subscriptions:
            yield from self.client.subscribe(topic_filter, QoS.AT_LEAST_ONCE, self._guard(handler))

    def _guard(self, handler: Callable[[MqttMessage], None]) -> Callable[[MqttMessage], None]:
        def on_message(message: MqttMessage) -> None:
            try:
                handler(message)
            except PayloadError as error:
                self.world.log("dr_bad_payload", client=self.client_id, topic=message.topic, error=str(error))
        return on_message

    def publish(self, topic: str, payload: bytes, qos: QoS = QoS.AT_LEAST_ONCE, retain: bool = False) -> None:
        self.world.process(self._publish(topic, payload, qos, retain))

    def _publish(self, topic: str, payload: bytes, qos: QoS, retain: bool) -> Generator[Any, Any, None]:
        try:
            yield from self.client.publish(topic, payload, qos, retain)
        except MqttError as error:
            self.world.log("dr_publish_failed", client=self.client_id, topic=topic, error=str(error))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VrrPoint(_Model):
    ucap_mw: float = Field(ge=0)
    price_usd_per_mw_day: float = Field(ge=0)


class GeneratorCapacityOffer(_Model):
    offer_id: str
    seller: str
    ucap_mw: float = Field(ge=0)
    price_usd_per_mw_day: float = Field(ge=0)
    resource_type: ResourceType = ResourceType.GENERATION


class PrdCapacity(_Model):
    provider: str
    mw: float = Field(ge=0)
    reservation_price_usd_per_mw_day: float = Field(ge=0)


class CapSpec(_Model):
    name: str
    resource_types: list[ResourceType]
    max_ucap_mw: float = Field(ge=0)


class CapacityParams(_Model):
    delivery_year: str = Field("2029/2030", description="label: the BRA buys capacity three years forward")
    plan_deadline: Duration = Field(120.0, gt=0, description="seconds after start when DR plans are reviewed and the auction clears")
    vrr: list[VrrPoint] = Field(min_length=2)
    offers: list[GeneratorCapacityOffer] = Field(default_factory=list)
    prd: list[PrdCapacity] = Field(default_factory=list)
    caps: list[CapSpec] = Field(default_factory=list)
    net_cone_usd_per_mw_day: float = Field(300.0, gt=0, description="sets the CP Non-Performance Charge Rate")


class ZoneMap(_Model):
    load: str = Field(description="name of the load in the market case this zone's telemetry replaces")
    bus: str = Field(description="pricing node of the zone in the market case")


class EnergyParams(_Model):
    case: str = Field("pjm5bus", description="shipped case name or a YAML path relative to the scenario")
    interval: Duration = Field(300.0, gt=0, description="seconds between SCED runs")
    zones: dict[str, ZoneMap] = Field(default_factory=dict)


class SettlementParams(_Model):
    at: Duration | None = Field(None, gt=0, description="seconds when M&V and settlement run (default: 30 min before the end)")
    days: int = Field(1, ge=1, description="days of capacity payment in the settlement period")
    intervals_per_hour: int = Field(1, ge=1, le=12)


class IsoMarketParams(Params):
    node: str | None = Field(None, description="comm node of the market's MQTT client (default: the actor id)")
    broker: str = Field(description="comm node of the MQTT broker")
    capacity: CapacityParams | None = None
    energy: EnergyParams | None = None
    settlement: SettlementParams = Field(default_factory=lambda: SettlementParams.model_validate({}))


@dataclasses.dataclass
class _CspPlan:
    plan: DrPlan
    attributes: dict[str, dict[str, Any]]   # resource_id -> zone, zip, lead, type, offer price
    site_ids: np.ndarray
    site_mw: np.ndarray


@dataclasses.dataclass
class _MarketState:
    plans: dict[str, _CspPlan] = dataclasses.field(default_factory=dict)
    cleared_mw: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    price_paid: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    telemetry: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    econ_offers: dict[str, tuple[EconomicDrOffer, ...]] = dataclasses.field(default_factory=dict)
    prd: dict[str, tuple[PrdBlock, ...]] = dataclasses.field(default_factory=dict)
    lm_events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    mv: dict[str, tuple[dict[str, Any], dict[str, np.ndarray]]] = dataclasses.field(default_factory=dict)
    lmp_sum: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    lmp_count: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def resolve_case(name: str, base_dir: Path) -> DcMarketCase:
    """A shipped case by name, or a YAML file relative to the scenario folder."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return load_case(path if path.is_absolute() else base_dir / path)
    return load_case(name)


@application("iso_market", {Domain.MARKETS}, IsoMarketParams)
def iso_market(world: World, actor: Actor, params: IsoMarketParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """ISO market operator: RPM auction with DR plan review, SCED with LMPs, DR M&V and settlement."""
    me = actor.actor_id
    state = _MarketState()
    mqtt = MqttEndpoint(world, params.node or me, me, params.broker)

    def on_plan(message: MqttMessage) -> None:
        header, arrays = decode(message.payload)
        state.plans[header["csp"]] = _plan_from_message(header, arrays)

    def on_telemetry(message: MqttMessage) -> None:
        header, _ = decode(message.payload)
        state.telemetry[header["zone"]] = (float(header["load_mw"]), float(header.get("prd_reduced_mw", 0.0)))

    def on_offer(message: MqttMessage) -> None:
        header, _ = decode(message.payload)
        state.econ_offers[header["csp"]] = tuple(
            EconomicDrOffer(o["name"], header["csp"], o["bus"], float(o["mw"]), float(o["price_usd_per_mwh"]))
            for o in header["offers"])

    def on_prd(message: MqttMessage) -> None:
        header, _ = decode(message.payload)
        state.prd[header["provider"]] = tuple(
            PrdBlock(f"{header['provider']}/{b['zone']}", b["bus"], float(b["mw"]), float(b["threshold_usd_per_mwh"]))
            for b in header["blocks"])

    def on_lm_event(message: MqttMessage) -> None:
        header, _ = decode(message.payload)
        if all(e["event_id"] != header["event_id"] for e in state.lm_events):
            state.lm_events.append(header)

    def on_mv(message: MqttMessage) -> None:
        header, arrays = decode(message.payload)
        state.mv[header["csp"]] = (header, arrays)

    yield from mqtt.start([
        ("pjm/rpm/plan/+", on_plan), ("pjm/telemetry/load/+", on_telemetry), ("pjm/sced/offer/+", on_offer),
        ("pjm/prd/register/+", on_prd), ("pjm/lm/event", on_lm_event), ("pjm/mv/+", on_mv),
    ])
    running = []
    if params.capacity is not None:
        running.append(world.process(_capacity_market(world, me, params.capacity, state, mqtt)))
    if params.energy is not None:
        case = resolve_case(params.energy.case, ctx.base_dir)
        running.append(world.process(_energy_market(world, me, params.energy, case, state, mqtt)))
        settle_at = params.settlement.at or max(ctx.duration_s - 1800.0, 0.0)
        running.append(world.process(_settlement(world, me, params, case, settle_at, state, mqtt)))
    if running:
        yield world.env.all_of(running)


# -- capacity market ---------------------------------------------------------------------

def _plan_from_message(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> _CspPlan:
    site_ids, site_mw, site_res = arrays["site_ids"], arrays["site_mw"], arrays["site_resource"]
    order = np.argsort(site_res, kind="stable")
    bounds = np.searchsorted(site_res[order], np.arange(len(header["existing"]) + 1))
    existing = []
    attributes: dict[str, dict[str, Any]] = {}
    for k, res in enumerate(header["existing"]):
        idx = order[bounds[k]:bounds[k + 1]]
        sites = tuple(EndUseSite(str(s), float(m)) for s, m in zip(site_ids[idx], site_mw[idx]))
        existing.append(ExistingResource(res["resource_id"], ResourceType(res["resource_type"]), res["zone"], sites))
        attributes[res["resource_id"]] = res
    planned = []
    for res in header["planned"]:
        planned.append(PlannedResource(res["resource_id"], ResourceType(res["resource_type"]), res["zone"], float(res["mw"])))
        attributes[res["resource_id"]] = res
    plan = DrPlan(header["csp"], tuple(existing), tuple(planned), float(header["credit_posted_usd"]))
    return _CspPlan(plan, attributes, site_ids, site_mw)


def _capacity_market(world: World, me: str, params: CapacityParams, state: _MarketState,
                     mqtt: MqttEndpoint) -> Generator[Any, Any, None]:
    yield world.timeout(max(0.0, params.plan_deadline - world.now))
    plans = [state.plans[csp] for csp in sorted(state.plans)]
    review = validate_dr_plans([p.plan for p in plans])
    rejected_by: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for rejection in review.rejections:
        rejected_by[(rejection.csp, rejection.resource_id)].append(rejection)
        world.log("dr_plan_rejected", csp=rejection.csp, resource=rejection.resource_id,
                  rule=rejection.rule, reason=rejection.reason)
    table = world.recorder.table("dr_plan_review", ("csp", "resource_id", "kind", "resource_type", "zone", "mw",
                                                     "status", "rule", "reason"))
    offers = [CapacityOffer(o.offer_id, o.seller, o.resource_type, o.ucap_mw, o.price_usd_per_mw_day) for o in params.offers]
    for p in plans:
        for kind, resources in (("existing", p.plan.existing), ("planned", p.plan.planned)):
            for res in resources:
                key = (p.plan.csp, res.resource_id)
                problems = rejected_by.get(key, [])
                table.write((p.plan.csp, res.resource_id, kind, res.resource_type.value, res.zone, repr(res.mw),
                             "rejected" if problems else "approved",
                             ";".join(r.rule for r in problems), " | ".join(r.reason for r in problems)))
                if not problems:
                    price = float(p.attributes[res.resource_id].get("offer_price_usd_per_mw_day", 0.0))
                    offers.append(CapacityOffer(f"{p.plan.csp}/{res.resource_id}", p.plan.csp, res.resource_type,
                                                res.mw, price))
    world.log("dr_plans_reviewed", plans=len(plans), approved=len(review.approved_mw), rejected=len(rejected_by))
    result = clear_rpm(
        [DemandPoint(v.ucap_mw, v.price_usd_per_mw_day) for v in params.vrr], offers,
        [PrdCommitment(c.provider, c.mw, c.reservation_price_usd_per_mw_day) for c in params.prd],
        [ProductCap(c.name, frozenset(c.resource_types), c.max_ucap_mw) for c in params.caps],
    )
    results = world.recorder.table("rpm_results", ("delivery_year", "offer_id", "seller", "resource_type",
                                                   "offered_ucap_mw", "cleared_ucap_mw", "price_usd_per_mw_day"))
    for o in offers:
        cleared = result.cleared_mw[o.offer_id]
        results.write((params.delivery_year, o.offer_id, o.seller, o.resource_type.value, repr(o.ucap_mw),
                       repr(cleared), repr(result.offer_price_paid_usd_per_mw_day[o.offer_id])))
        seller, _, resource_id = o.offer_id.partition("/")
        if resource_id and seller in state.plans:
            state.cleared_mw[(seller, resource_id)] = cleared
            state.price_paid[(seller, resource_id)] = result.offer_price_paid_usd_per_mw_day[o.offer_id]
    dr_cleared = sum(mw for mw in state.cleared_mw.values())
    world.log("rpm_cleared", delivery_year=params.delivery_year, price_usd_per_mw_day=result.clearing_price_usd_per_mw_day,
              cleared_ucap_mw=result.cleared_ucap_mw, dr_cleared_ucap_mw=dr_cleared, marginal_offer=result.marginal_offer_id)
    world.record(me, "rpm_clearing_price", result.clearing_price_usd_per_mw_day, "$/MW-day")
    world.record(me, "rpm_dr_cleared", dr_cleared, "MW")
    for p in plans:
        csp = p.plan.csp
        mqtt.publish(f"pjm/rpm/result/{csp}", encode({
            "csp": csp, "delivery_year": params.delivery_year,
            "clearing_price_usd_per_mw_day": result.clearing_price_usd_per_mw_day,
            "cleared": {rid: state.cleared_mw.get((csp, rid), 0.0) for rid in p.attributes},
            "rejections": [dataclasses.asdict(r) for r in review.rejections if r.csp == csp],
        }), retain=True)


# -- energy market -------------------------------------------------------------------------

def _energy_market(world: World, me: str, params: EnergyParams, case: DcMarketCase, state: _MarketState,
                   mqtt: MqttEndpoint) -> Generator[Any, Any, None]:
    load_index = {d.name: i for i, d in enumerate(case.loads)}
    default_mw = np.array([d.mw for d in case.loads])
    for bus in case.buses:
        state.lmp_sum[bus] = np.zeros(24)
        state.lmp_count[bus] = np.zeros(24)
    while True:
        loads = default_mw.copy()
        for zone, (load_mw, prd_mw) in state.telemetry.items():
            if zone in params.zones:
                # Metered load is after PRD; the SCED sees the full demand with PRD as a price-capped bid.
                loads[load_index[params.zones[zone].load]] = load_mw + prd_mw
        econ = tuple(o for offers in state.econ_offers.values() for o in offers)
        prd = tuple(b for blocks in state.prd.values() for b in blocks)
        result = solve_sced(dataclasses.replace(case, dr_offers=econ, prd=prd), loads)
        hour = int(world.now // 3600) % 24
        world.record(me, "sced_load", float(loads.sum()), "MW")
        if not result.solved:
            world.log("sced_failed", message=result.message)
        else:
            for bus in case.buses:
                lmp = result.lmp(bus)
                state.lmp_sum[bus][hour] += lmp
                state.lmp_count[bus][hour] += 1
                world.record(f"{me}/{bus}", "lmp", lmp, "$/MWh")
                mqtt.publish(f"pjm/lmp/{bus}", encode({"bus": bus, "lmp_usd_per_mwh": lmp, "time_s": world.now}),
                             QoS.AT_MOST_ONCE, retain=True)
            world.record(me, "prd_cleared", sum(result.prd_mw.values()), "MW")
            world.record(me, "economic_dr_cleared", sum(result.dr_mw.values()), "MW")
            world.record(me, "shortage", float(result.shortage_mw.sum()), "MW")
            for csp, offers in state.econ_offers.items():
                cleared = {o.name: result.dr_mw.get(o.name, 0.0) for o in offers}
                mqtt.publish(f"pjm/sced/dr/{csp}", encode({"csp": csp, "cleared_mw": cleared, "time_s": world.now}))
        yield world.timeout(params.interval)


def hourly_lmp(state: _MarketState, bus: str) -> np.ndarray:
    """Mean SCED LMP of each hour of the day at ``bus`` ($/MWh; 0 for hours without a solve)."""
    count = state.lmp_count[bus]
    mean: np.ndarray = np.divide(state.lmp_sum[bus], count, out=np.zeros(24), where=count > 0)
    return mean


# -- measurement, verification and settlement ----------------------------------------------

def _settlement(world: World, me: str, params: IsoMarketParams, case: DcMarketCase, settle_at: float,
                state: _MarketState, mqtt: MqttEndpoint) -> Generator[Any, Any, None]:
    yield world.timeout(max(0.0, settle_at - world.now))
    if not state.lm_events:
        world.log("dr_settlement_skipped", reason="no Load Management event was dispatched")
        return
    sp = params.settlement
    rate = non_performance_charge_rate_usd_per_mwh(
        params.capacity.net_cone_usd_per_mw_day if params.capacity else 300.0)
    zones = params.energy.zones if params.energy else {}
    perf = world.recorder.table("dr_performance", ("event_id", "csp", "resource_id", "zone", "committed_mw",
                                                   "delivered_mw", "performance_pct"))
    settle = world.recorder.table("settlement", ("event_id", "csp", "committed_mw", "delivered_mw", "shortfall_mwh",
                                                 "energy_payment_usd", "capacity_payment_usd",
                                                 "non_performance_charge_usd", "net_usd"))
    for event in state.lm_events:
        start_h = int(event["start_s"] // 3600)
        end_h = int(math.ceil(event["end_s"] / 3600.0))
        dispatched: dict[str, set[str]] = defaultdict(set)
        for instr in event["instructions"]:
            dispatched[instr["csp"]].update(instr["resource_ids"])
        terms, blocks = [], []
        for csp in sorted(dispatched):
            if csp not in state.mv:
                world.log("dr_mv_missing", event_id=event["event_id"], csp=csp)
                continue
            header, arrays = state.mv[csp]
            resources = header["resources"]
            chosen = np.array([r in dispatched[csp] for r in resources], dtype=bool)
            sites = np.flatnonzero(chosen[arrays["site_resource"]]) if len(resources) else np.array([], int)
            if sites.size == 0:
                continue
            history = arrays["history_kwh"][sites].astype(np.float64) * sp.intervals_per_hour
            actual = arrays["event_day_kwh"][sites].astype(np.float64) * sp.intervals_per_hour
            cbl = customer_baseline(history, arrays["eligible"].astype(bool), actual,
                                    start_h * sp.intervals_per_hour, end_h * sp.intervals_per_hour,
                                    sp.intervals_per_hour)
            zone_of = [resources[r] for r in arrays["site_resource"][sites]]
            committed = sum(state.cleared_mw.get((csp, r), 0.0) for r in sorted(dispatched[csp]))  # fixed order: same bits every run
            price = max((state.price_paid.get((csp, r), 0.0) for r in dispatched[csp]), default=0.0)
            cleared_total = sum(mw for (c, _), mw in state.cleared_mw.items() if c == csp)
            terms.append(CspTerms(csp, committed, cleared_total, price, sp.days))
            bus_lmp = np.stack([hourly_lmp(state, zones[z].bus) if z in zones and zones[z].bus in state.lmp_sum
                                else np.zeros(24) for z in sorted(set(header["resource_zone"].values()))])
            zone_names = sorted(set(header["resource_zone"].values()))
            site_zone = np.array([zone_names.index(header["resource_zone"][r]) for r in zone_of], dtype=np.int64)
            blocks.append((csp, header, arrays, sites, cbl.adjusted_cbl_kw, actual,
                           np.repeat(bus_lmp[site_zone], sp.intervals_per_hour, axis=1)))
        if not terms:
            continue
        cbl_all = np.concatenate([b[4] for b in blocks])
        actual_all = np.concatenate([b[5] for b in blocks])
        lmp_all = np.concatenate([b[6] for b in blocks])
        site_csp = np.concatenate([np.full(len(b[3]), k, dtype=np.int64) for k, b in enumerate(blocks)])
        mask = np.zeros(cbl_all.shape[1], dtype=bool)
        mask[start_h * sp.intervals_per_hour:end_h * sp.intervals_per_hour] = True
        results = settle_csps(terms, site_csp, cbl_all, actual_all, mask, lmp_all, sp.intervals_per_hour, rate)
        reduction = (cbl_all[:, mask] - actual_all[:, mask]).mean(axis=1)
        offset = 0
        for (csp, header, arrays, sites, cbl_kw, actual, _), t, s in zip(blocks, terms, results):
            red = reduction[offset:offset + len(sites)]
            offset += len(sites)
            res_idx = arrays["site_resource"][sites]
            delivered = np.bincount(res_idx, weights=red, minlength=len(header["resources"])) / 1000.0
            for k, rid in enumerate(header["resources"]):
                if rid in dispatched[csp]:
                    c = state.cleared_mw.get((csp, rid), 0.0)
                    perf.write((event["event_id"], csp, rid, header["resource_zone"][rid], repr(c), repr(float(delivered[k])),
                                repr(100.0 * float(delivered[k]) / c) if c > 0 else ""))
            settle.write((event["event_id"], csp, repr(s.committed_mw), repr(s.delivered_mw), repr(s.shortfall_mwh),
                          repr(s.energy_payment_usd), repr(s.capacity_payment_usd),
                          repr(s.non_performance_charge_usd), repr(s.net_usd)))
            world.log("dr_settled", event_id=event["event_id"], csp=csp, committed_mw=s.committed_mw,
                      delivered_mw=s.delivered_mw, net_usd=s.net_usd)
            world.record(me, f"{csp}_delivered", s.delivered_mw, "MW")
            world.record(me, f"{csp}_committed", s.committed_mw, "MW")
            mqtt.publish(f"pjm/settlement/{csp}", encode(
                {"csp": csp, "event_id": event["event_id"], **dataclasses.asdict(s), "net_usd": s.net_usd},
                {"site_index": arrays["site_index"][sites], "reduction_kw": red}))
