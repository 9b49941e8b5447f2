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
  bus and published retained on ``pjm/lmp/<bus>``; what each auction and SCED
  interval cleared also goes to ``market_results.csv`` (:mod:`.market_results`);
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
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..comm import MqttError, MqttMessage, QoS
from ..kernel import World
from ..markets.case import DcMarketCase, EconomicDrOffer, PrdBlock, load_case
from ..markets.drplans import (
    DrPlan,
    EndUseSite,
    ExistingResource,
    PlannedResource,
    PlanReview,
    validate_dr_plans,
)
from ..markets.messages import (
    CspSettlementMessage,
    DrPlanMessage,
    EconomicDispatch,
    EconomicOffers,
    LmEvent,
    LmpMessage,
    MvData,
    PrdRegistration,
    RpmResultMessage,
    ZoneTelemetry,
)
from ..markets.performance import CpParameters
from ..markets.rpm import (
    CapacityOffer,
    DemandPoint,
    PrdCommitment,
    ProductCap,
    RpmResult,
    clear_rpm,
)
from ..markets.rules import ResourceType
from ..markets.sced import solve_sced
from ..markets.settlement import (
    CspMeterData,
    CspSettlement,
    EconomicSettlement,
    LmCall,
    LmSettlement,
    capacity_payments,
    csp_totals,
    settle_economic_dr,
    settle_load_management,
)
from ..markets.wire import PayloadError
from ..nist import Actor, Domain
from ..scenario.durations import Duration
from .context import RunContext
from .market_results import MarketResults
from .plant_dispatch import DispatchParams, PlantDispatcher
from .registry import Params, application

#: The market cases shipped in the package, found by name (``energy.case: pjm5bus``).
SHIPPED_CASES = files("cosim.markets") / "cases"


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
    case: str = Field("pjm5bus", description="shipped case name, or a YAML path (absolute, or relative to the scenario file)")
    interval: Duration = Field(300.0, gt=0, description="seconds between SCED runs")
    zones: dict[str, ZoneMap] = Field(default_factory=dict)


class SettlementParams(_Model):
    at: Duration | None = Field(None, gt=0, description="seconds when M&V and settlement run (default: 30 min before the end)")
    days: int = Field(1, ge=1, description="delivery days of capacity payment in the settlement period")
    day: int = Field(0, ge=0, description="simulated day whose events and meter data are settled (0 = the first)")
    nbt_threshold_usd_per_mwh: float = Field(
        30.0, ge=0, description="Net Benefits Test price threshold of the month (M11 10.4; PJM posts it monthly): "
        "economic DR is paid the LMP only at or above it")


class IsoMarketParams(Params):
    node: str | None = Field(None, description="comm node of the market's MQTT client (default: the actor id)")
    broker: str = Field(description="comm node of the MQTT broker")
    capacity: CapacityParams | None = None
    energy: EnergyParams | None = None
    settlement: SettlementParams = Field(default_factory=lambda: SettlementParams.model_validate({}))
    dispatch: DispatchParams | None = Field(None, description="plants that receive SCED basepoints (and AGC regulation) over Modbus")

    def file_problems(self, base_dir: Path) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """The energy market's case: it loads, and each zone names one of its loads and buses."""
        if self.energy is None:
            return
        try:
            case = resolve_case(self.energy.case, base_dir)
        except CaseNotFound as error:
            yield ("energy", "case"), str(error)
            return
        except (ValueError, TypeError, AttributeError, yaml.YAMLError) as error:
            # load_case lists every problem under a heading line; one line names the first and counts the rest
            lines = [line.strip().lstrip("- ") for line in str(error).splitlines() if line.strip()]
            if len(lines) > 1 and lines[0].endswith(":"):
                lines = lines[1:]
            first = " ".join(lines[0].split()) if lines else type(error).__name__
            more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
            yield ("energy", "case"), f"market case {self.energy.case!r} does not load: {first}{more}"
            return
        loads = {d.name for d in case.loads}
        for zone, z in self.energy.zones.items():
            if z.load not in loads:
                yield ("energy", "zones", zone, "load"), f"no load {z.load!r} in market case {case.name!r} " \
                    f"(its loads: {', '.join(sorted(loads))})"
            if z.bus not in case.buses:
                yield ("energy", "zones", zone, "bus"), f"no bus {z.bus!r} in market case {case.name!r} " \
                    f"(its buses: {', '.join(case.buses)})"


@dataclasses.dataclass
class _CspPlan:
    plan: DrPlan
    offer_price: dict[str, float]           # resource_id -> capacity offer price, $/MW-day
    site_ids: np.ndarray
    site_mw: np.ndarray


@dataclasses.dataclass
class _MarketState:
    plans: dict[str, _CspPlan] = dataclasses.field(default_factory=dict)
    cleared_mw: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    price_paid: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    telemetry: dict[str, ZoneTelemetry] = dataclasses.field(default_factory=dict)
    econ_offers: dict[str, tuple[EconomicDrOffer, ...]] = dataclasses.field(default_factory=dict)
    prd: dict[str, tuple[PrdBlock, ...]] = dataclasses.field(default_factory=dict)
    lm_events: list[LmEvent] = dataclasses.field(default_factory=list)
    mv: dict[str, MvData] = dataclasses.field(default_factory=dict)
    # (bus, absolute hour) -> (sum of SCED LMPs, count); (offer, absolute hour) -> cleared MWh
    lmp_hour: dict[tuple[str, int], tuple[float, int]] = dataclasses.field(default_factory=dict)
    econ_mwh: dict[tuple[str, int], float] = dataclasses.field(default_factory=dict)


class CaseNotFound(FileNotFoundError):
    """``energy.case`` names neither a shipped case nor an existing YAML file."""


def resolve_case(name: str, base_dir: Path) -> DcMarketCase:
    """A shipped case by name, or a YAML file: absolute, or relative to ``base_dir`` (the scenario file's folder).

    Raises :class:`CaseNotFound` (saying where it looked), or ValueError /
    ``yaml.YAMLError`` for a case file that does not load.
    """
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        full = path if path.is_absolute() else base_dir / path
        if not full.is_file():
            raise CaseNotFound(f"no market case file {name!r} (looked for {full.resolve()}; a relative path is "
                               f"relative to the scenario file)")
        return load_case(full)
    try:
        return load_case(name)
    except FileNotFoundError:
        shipped = sorted(p.name.removesuffix(".yaml") for p in SHIPPED_CASES.iterdir()
                         if p.name.endswith(".yaml") and p.name != "tariffs.yaml")
        raise CaseNotFound(f"no shipped market case {name!r} (shipped: {', '.join(shipped)}; "
                           f"a file needs its .yaml suffix)") from None


@application("iso_market", {Domain.MARKETS}, IsoMarketParams)
def iso_market(world: World, actor: Actor, params: IsoMarketParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """ISO market operator: RPM auction with DR plan review, SCED with LMPs, DR M&V and settlement."""
    me = actor.actor_id
    state = _MarketState()
    mqtt = MqttEndpoint(world, params.node or me, me, params.broker)

    def on_plan(message: MqttMessage) -> None:
        m = DrPlanMessage.decode(message.payload)
        state.plans[m.csp] = _plan_from_message(m)

    def on_telemetry(message: MqttMessage) -> None:
        t = ZoneTelemetry.decode(message.payload)
        state.telemetry[t.zone] = t

    def on_offer(message: MqttMessage) -> None:
        m = EconomicOffers.decode(message.payload)
        state.econ_offers[m.csp] = tuple(EconomicDrOffer(o.name, m.csp, o.bus, o.mw, o.price_usd_per_mwh)
                                         for o in m.offers)

    def on_prd(message: MqttMessage) -> None:
        m = PrdRegistration.decode(message.payload)
        state.prd[m.provider] = tuple(PrdBlock(f"{m.provider}/{b.zone}/{k}", b.bus, b.mw, b.threshold_usd_per_mwh)
                                      for k, b in enumerate(m.steps))

    def on_lm_event(message: MqttMessage) -> None:
        merge_lm_event(state.lm_events, LmEvent.decode(message.payload))

    def on_mv(message: MqttMessage) -> None:
        m = MvData.decode(message.payload)
        state.mv[m.csp] = m

    yield from mqtt.start([
        ("pjm/rpm/plan/+", on_plan), ("pjm/telemetry/load/+", on_telemetry), ("pjm/sced/offer/+", on_offer),
        ("pjm/prd/register/+", on_prd), ("pjm/lm/event", on_lm_event), ("pjm/mv/+", on_mv),
    ])
    running = []
    market_results = MarketResults(world)
    dispatcher = None
    if params.dispatch is not None:
        dispatcher = PlantDispatcher(world, me, params.dispatch.node or params.node or me, params.dispatch)
        if params.dispatch.agc is not None:
            running.append(world.process(dispatcher.run_agc()))
    if params.capacity is not None:
        running.append(world.process(_capacity_market(world, me, params.capacity, state, mqtt, market_results)))
    if params.energy is not None:
        case = resolve_case(params.energy.case, ctx.base_dir)
        running.append(world.process(_energy_market(world, me, params.energy, case, state, mqtt, market_results, dispatcher)))
        settle_at = params.settlement.at or max(ctx.duration_s - 1800.0, 0.0)
        running.append(world.process(_settlement(world, me, params, settle_at, state, mqtt)))
    if running:
        yield world.env.all_of(running)


# -- capacity market ---------------------------------------------------------------------

def merge_lm_event(events: list[LmEvent], event: LmEvent) -> None:
    """Add the event as dispatched to ``events``; sent again released, its earlier end replaces the end.

    The earliest end holds whatever order the versions arrive in (a QoS 1
    duplicate of the first version after the released one changes nothing).
    """
    known = next((k for k, e in enumerate(events) if e.event_id == event.event_id), None)
    if known is None:
        events.append(event)
    elif event.end_s < events[known].end_s:
        events[known] = event


def _plan_from_message(m: DrPlanMessage) -> _CspPlan:
    """The plan under review: each existing resource with its end-use sites, and the planned ones."""
    order = np.argsort(m.site_resource, kind="stable")
    bounds = np.searchsorted(m.site_resource[order], np.arange(len(m.existing) + 1))
    existing = []
    for k, res in enumerate(m.existing):
        idx = order[bounds[k]:bounds[k + 1]]
        sites = tuple(EndUseSite(str(s), float(mw)) for s, mw in zip(m.site_ids[idx], m.site_mw[idx]))
        existing.append(ExistingResource(res.resource_id, ResourceType(res.resource_type), res.zone, sites))
    planned = [PlannedResource(res.resource_id, ResourceType(res.resource_type), res.zone, float(res.mw))
               for res in m.planned]
    offer_price = {r.resource_id: float(r.offer_price_usd_per_mw_day) for r in m.existing}
    offer_price.update({r.resource_id: float(r.offer_price_usd_per_mw_day) for r in m.planned})
    plan = DrPlan(m.csp, tuple(existing), tuple(planned), float(m.credit_posted_usd))
    return _CspPlan(plan, offer_price, m.site_ids, m.site_mw)


def capacity_offers(plans: list[_CspPlan], review: PlanReview,
                    generator_offers: list[GeneratorCapacityOffer]) -> tuple[list[CapacityOffer], list[tuple[str, ...]]]:
    """RPM offers (generators, then every approved DR resource) and the plan review table's rows.

    Pure: an approved resource is offered at its plan's price as ``<csp>/<resource>``.
    """
    rejected_by: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for rejection in review.rejections:
        rejected_by[(rejection.csp, rejection.resource_id)].append(rejection)
    offers = [CapacityOffer(o.offer_id, o.seller, o.resource_type, o.ucap_mw, o.price_usd_per_mw_day)
              for o in generator_offers]
    rows: list[tuple[str, ...]] = []
    for p in plans:
        for kind, resources in (("existing", p.plan.existing), ("planned", p.plan.planned)):
            for res in resources:
                problems = rejected_by.get((p.plan.csp, res.resource_id), [])
                rows.append((p.plan.csp, res.resource_id, kind, res.resource_type.value, res.zone, repr(res.mw),
                             "rejected" if problems else "approved",
                             ";".join(r.rule for r in problems), " | ".join(r.reason for r in problems)))
                if not problems:
                    price = p.offer_price.get(res.resource_id, 0.0)
                    offers.append(CapacityOffer(f"{p.plan.csp}/{res.resource_id}", p.plan.csp, res.resource_type,
                                                res.mw, price))
    return offers, rows


def cleared_dr(offers: list[CapacityOffer], result: RpmResult,
               csps: set[str]) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """(cleared MW, price paid $/MW-day) of each DR resource, keyed (csp, resource_id). Pure."""
    cleared: dict[tuple[str, str], float] = {}
    price: dict[tuple[str, str], float] = {}
    for o in offers:
        seller, _, resource_id = o.offer_id.partition("/")
        if resource_id and seller in csps:
            cleared[(seller, resource_id)] = result.cleared_mw[o.offer_id]
            price[(seller, resource_id)] = result.offer_price_paid_usd_per_mw_day[o.offer_id]
    return cleared, price


def _capacity_market(world: World, me: str, params: CapacityParams, state: _MarketState,
                     mqtt: MqttEndpoint, outcome: MarketResults) -> Generator[Any, Any, None]:
    yield world.timeout(max(0.0, params.plan_deadline - world.now))
    plans = [state.plans[csp] for csp in sorted(state.plans)]
    review = validate_dr_plans([p.plan for p in plans])
    for rejection in review.rejections:
        world.log("dr_plan_rejected", csp=rejection.csp, resource=rejection.resource_id,
                  rule=rejection.rule, reason=rejection.reason)
    offers, rows = capacity_offers(plans, review, params.offers)
    table = world.recorder.table("dr_plan_review", ("csp", "resource_id", "kind", "resource_type", "zone", "mw",
                                                     "status", "rule", "reason"))
    for row in rows:
        table.write(row)
    world.log("dr_plans_reviewed", plans=len(plans), approved=len(review.approved_mw),
              rejected=len({(r.csp, r.resource_id) for r in review.rejections}))
    result = clear_rpm(
        [DemandPoint(v.ucap_mw, v.price_usd_per_mw_day) for v in params.vrr], offers,
        [PrdCommitment(c.provider, c.mw, c.reservation_price_usd_per_mw_day) for c in params.prd],
        [ProductCap(c.name, frozenset(c.resource_types), c.max_ucap_mw) for c in params.caps],
    )
    results = world.recorder.table("rpm_results", ("delivery_year", "offer_id", "seller", "resource_type",
                                                   "offered_ucap_mw", "cleared_ucap_mw", "price_usd_per_mw_day"))
    for o in offers:
        results.write((params.delivery_year, o.offer_id, o.seller, o.resource_type.value, repr(o.ucap_mw),
                       repr(result.cleared_mw[o.offer_id]), repr(result.offer_price_paid_usd_per_mw_day[o.offer_id])))
    cleared, price = cleared_dr(offers, result, set(state.plans))
    state.cleared_mw.update(cleared)
    state.price_paid.update(price)
    dr_cleared = sum(cleared.values())
    world.log("rpm_cleared", delivery_year=params.delivery_year, price_usd_per_mw_day=result.clearing_price_usd_per_mw_day,
              cleared_ucap_mw=result.cleared_ucap_mw, dr_cleared_ucap_mw=dr_cleared, marginal_offer=result.marginal_offer_id)
    outcome.auction(params.delivery_year, result.clearing_price_usd_per_mw_day, result.cleared_ucap_mw, dr_cleared)
    world.record(me, "rpm_clearing_price", result.clearing_price_usd_per_mw_day, "$/MW-day")
    world.record(me, "rpm_dr_cleared", dr_cleared, "MW")
    for p in plans:
        csp = p.plan.csp
        rids = tuple(p.offer_price)
        mqtt.publish(f"pjm/rpm/result/{csp}", RpmResultMessage(
            csp, params.delivery_year, result.clearing_price_usd_per_mw_day, rids,
            tuple(state.cleared_mw.get((csp, rid), 0.0) for rid in rids),
            tuple(r for r in review.rejections if r.csp == csp)).encode(), retain=True)


# -- energy market -------------------------------------------------------------------------

def _energy_market(world: World, me: str, params: EnergyParams, case: DcMarketCase, state: _MarketState,
                   mqtt: MqttEndpoint, outcome: MarketResults,
                   dispatcher: PlantDispatcher | None = None) -> Generator[Any, Any, None]:
    """SCED each interval; its LMPs and DR dispatch apply to [now, now + interval); basepoints go to the plants."""
    load_index = {d.name: i for i, d in enumerate(case.loads)}
    default_mw = np.array([d.mw for d in case.loads])
    interval = float(params.interval)
    while True:
        loads = default_mw.copy()
        for zone, t in state.telemetry.items():
            if zone in params.zones:
                # Metered load is after PRD; the SCED sees the full demand with PRD as a price-capped bid.
                loads[load_index[params.zones[zone].load]] = t.load_mw + t.prd_reduced_mw
        econ = tuple(o for offers in state.econ_offers.values() for o in offers)
        prd = tuple(b for blocks in state.prd.values() for b in blocks)
        result = solve_sced(dataclasses.replace(case, dr_offers=econ, prd=prd), loads)
        now = world.now
        hour = int(now // 3600)
        world.record(me, "sced_load", float(loads.sum()), "MW")
        if not result.solved:
            world.log("sced_failed", message=result.message)
        else:
            prd_at = dict.fromkeys(case.buses, 0.0)
            for block in prd:
                prd_at[block.bus] += result.prd_mw.get(block.name, 0.0)
            for bus in case.buses:
                lmp = result.lmp(bus)
                total, count = state.lmp_hour.get((bus, hour), (0.0, 0))
                state.lmp_hour[(bus, hour)] = (total + lmp, count + 1)
                world.record(f"{me}/{bus}", "lmp", lmp, "$/MWh")
                mqtt.publish(f"pjm/lmp/{bus}", LmpMessage(bus, lmp, now, interval, prd_at[bus]).encode(), QoS.AT_MOST_ONCE, retain=True)
            prd_buses = {block.bus for block in prd}
            outcome.sced({bus: result.lmp(bus) for bus in case.buses}, result.generator_mw,
                         {o.name: result.dr_mw.get(o.name, 0.0) for o in econ},
                         {bus: mw for bus, mw in prd_at.items() if bus in prd_buses},
                         {zone: t.prd_reduced_mw for zone, t in sorted(state.telemetry.items()) if zone in params.zones},
                         float(result.shortage_mw.sum()))
            world.record(me, "prd_cleared", sum(result.prd_mw.values()), "MW")
            world.record(me, "economic_dr_cleared", sum(result.dr_mw.values()), "MW")
            world.record(me, "shortage", float(result.shortage_mw.sum()), "MW")
            for branch, flow in zip(case.branches, result.flow_mw):
                if branch.limit_mw is not None:  # a monitored branch: the flow the market priced
                    world.record(f"{me}/branch/{branch.name}", "sced_flow", float(flow), "MW")
                    world.record(f"{me}/branch/{branch.name}", "sced_limit", branch.limit_mw, "MW")
            if dispatcher is not None and set(params.zones) <= set(state.telemetry):
                dispatcher.dispatch(result.generator_mw)  # basepoints only from a dispatch on metered load
            for csp, offers in state.econ_offers.items():
                cleared = tuple(result.dr_mw.get(o.name, 0.0) for o in offers)
                for o, mw in zip(offers, cleared):
                    key = (o.name, hour)
                    state.econ_mwh[key] = state.econ_mwh.get(key, 0.0) + mw * interval / 3600.0
                mqtt.publish(f"pjm/sced/dr/{csp}", EconomicDispatch(
                    csp, now, interval, tuple(o.name for o in offers), cleared,
                    tuple(result.lmp(o.bus) for o in offers)).encode())
        yield world.timeout(interval)


def hourly_lmp(state: _MarketState, bus: str, day: int = 0) -> np.ndarray:
    """Mean SCED LMP of each hour of simulated ``day`` at ``bus`` ($/MWh; 0 for hours without a solve)."""
    out = np.zeros(24)
    for h in range(24):
        total, count = state.lmp_hour.get((bus, 24 * day + h), (0.0, 0))
        out[h] = total / count if count else 0.0
    return out


# -- measurement, verification and settlement ----------------------------------------------

def meter_data(m: MvData) -> CspMeterData:
    """The settlement's view of a CSP's M&V message (``pjm/mv/<csp>``)."""
    return CspMeterData(m.csp, m.resources, m.resource_zone, m.site_index, m.site_resource, m.history_kwh,
                        m.event_day_kwh, m.eligible.astype(bool))


@dataclasses.dataclass(frozen=True)
class DaySettlement:
    lm: LmSettlement
    economic: tuple[EconomicSettlement, ...]
    totals: tuple[CspSettlement, ...]


def settle_day(events: list[LmEvent], mv: dict[str, MvData],
               cleared_mw: dict[tuple[str, str], float], price_paid: dict[tuple[str, str], float],
               zone_lmp: dict[str, np.ndarray], econ_cleared: dict[str, np.ndarray],
               params: SettlementParams, cp: CpParameters) -> DaySettlement:
    """Everything the market pays or charges the CSPs for one delivery day. Pure.

    Capacity once per delivery day (whatever the number of events, also with
    none); Load Management energy and CP per resource per 5-minute interval;
    economic DR at LMP above the Net Benefits Test threshold.
    """
    meters = {csp: meter_data(m) for csp, m in mv.items()}
    calls = [LmCall(e.event_id, i.csp, frozenset(i.resource_ids), e.start_s - 86400.0 * params.day,
                    e.end_s - 86400.0 * params.day)
             for e in events if int(e.start_s // 86400) == params.day and e.end_s > e.start_s   # cancelled: none
             for i in e.instructions]
    lm = settle_load_management(calls, meters, cleared_mw, zone_lmp, cp)
    capacity = capacity_payments(cleared_mw, price_paid, params.days)
    economic: list[EconomicSettlement] = []
    for csp in sorted(mv):
        m = mv[csp]
        economic += settle_economic_dr(meters[csp], m.economic_hours, m.economic_offer, econ_cleared, zone_lmp,
                                       params.nbt_threshold_usd_per_mwh)
    econ_usd: dict[str, float] = defaultdict(float)
    for e in economic:
        econ_usd[e.csp] += e.energy_payment_usd
    csps = {k[0] for k in cleared_mw} | {c.csp for c in calls} | set(econ_usd)
    return DaySettlement(lm, tuple(economic), csp_totals(sorted(csps), lm, capacity, econ_usd))


def _settlement(world: World, me: str, params: IsoMarketParams, settle_at: float,
                state: _MarketState, mqtt: MqttEndpoint) -> Generator[Any, Any, None]:
    yield world.timeout(max(0.0, settle_at - world.now))
    sp = params.settlement
    cp = CpParameters(params.capacity.net_cone_usd_per_mw_day if params.capacity else 300.0)
    zones = params.energy.zones if params.energy else {}
    zone_lmp = {zone: hourly_lmp(state, z.bus, sp.day) for zone, z in zones.items()}
    econ_cleared: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(24))
    for (offer, hour), mwh in state.econ_mwh.items():
        if 24 * sp.day <= hour < 24 * (sp.day + 1):
            econ_cleared[offer][hour - 24 * sp.day] += mwh
    for event in state.lm_events:
        for csp in sorted({i.csp for i in event.instructions} - set(state.mv)):
            world.log("dr_mv_missing", event_id=event.event_id, csp=csp)
    day = settle_day(state.lm_events, state.mv, state.cleared_mw, state.price_paid, zone_lmp, dict(econ_cleared), sp, cp)
    perf = world.recorder.table("dr_performance", (
        "event_id", "csp", "resource_id", "zone", "committed_mw", "delivered_mw", "performance_pct",
        "shortfall_mwh", "bonus_mwh", "non_performance_charge_usd", "bonus_payment_usd"))
    for r in day.lm.resources:
        perf.write((r.event_id, r.csp, r.resource_id, r.zone, repr(r.committed_mw), repr(r.delivered_mw),
                    repr(100.0 * r.delivered_mw / r.committed_mw) if r.committed_mw > 0 else "",
                    repr(r.shortfall_mwh), repr(r.bonus_mwh), repr(r.non_performance_charge_usd),
                    repr(r.bonus_payment_usd)))
    table = world.recorder.table("settlement", (
        "event_id", "csp", "committed_mw", "delivered_mw", "shortfall_mwh", "bonus_mwh", "energy_payment_usd",
        "capacity_payment_usd", "non_performance_charge_usd", "bonus_payment_usd", "net_usd"))
    for e in day.lm.events:
        net = e.energy_payment_usd - e.non_performance_charge_usd + e.bonus_payment_usd
        table.write((e.event_id, e.csp, repr(e.committed_mw), repr(e.delivered_mw), repr(e.shortfall_mwh),
                     repr(e.bonus_mwh), repr(e.energy_payment_usd), "0.0", repr(e.non_performance_charge_usd),
                     repr(e.bonus_payment_usd), repr(net)))
        world.record(me, f"{e.csp}_delivered", e.delivered_mw, "MW")
        world.record(me, f"{e.csp}_committed", e.committed_mw, "MW")
    for x in day.economic:
        table.write((f"economic:{x.offer}", x.csp, "", repr(x.reduction_mwh / max(x.hours, 1)), "", "",
                     repr(x.energy_payment_usd), "0.0", "0.0", "0.0", repr(x.energy_payment_usd)))
        world.log("dr_economic_settled", csp=x.csp, offer=x.offer, hours=x.hours, reduction_mwh=x.reduction_mwh,
                  paid_mwh=x.paid_mwh, energy_usd=x.energy_payment_usd)
    for t in day.totals:
        table.write((f"day{sp.day}", t.csp, "", "", "", "", repr(t.energy_payment_usd + t.economic_energy_usd),
                     repr(t.capacity_payment_usd), repr(t.non_performance_charge_usd), repr(t.bonus_payment_usd),
                     repr(t.net_usd)))
        world.log("dr_settled", period=f"day{sp.day}", csp=t.csp, capacity_usd=t.capacity_payment_usd,
                  energy_usd=t.energy_payment_usd, economic_usd=t.economic_energy_usd,
                  charge_usd=t.non_performance_charge_usd, bonus_usd=t.bonus_payment_usd, net_usd=t.net_usd)
        ids, reduction = day.lm.site_reduction_kw.get(t.csp, (np.array([], dtype=np.int64), np.array([])))
        mqtt.publish(f"pjm/settlement/{t.csp}", CspSettlementMessage(
            t.csp, f"day{sp.day}", t.energy_payment_usd + t.economic_energy_usd, t.capacity_payment_usd,
            t.non_performance_charge_usd, t.bonus_payment_usd, t.net_usd, ids, reduction).encode())
