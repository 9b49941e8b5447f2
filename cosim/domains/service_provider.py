"""Service Provider domain: the Curtailment Service Provider (CSP) and the retail biller.

Both act only by messages over ``world.service("comm")`` (they never see the grid).

``csp`` -- a PJM Curtailment Service Provider between the market operator and
its end-use sites:

* collects the enrolment of its sites (``pjm/enrol/<csp>``), turns each site
  group into an existing DR resource, adds its planned resources and any
  resources listed site by site in the scenario, and submits the DR plan
  (``pjm/rpm/plan/<csp>``) with its capacity offer price; offers economic DR
  into the energy market (``pjm/sced/offer/<csp>``);
* learns what cleared (``pjm/rpm/result/<csp>``) and from then on reports the
  MW each cleared resource can shed now, per zone, ZIP and lead time
  (``pjm/lm/available/<csp>`` every ``report_interval``), from its sites'
  ESI status (``esi/status/<csp>``);
* on a Load Management dispatch (``pjm/lm/dispatch/<csp>``) notifies the ESIs
  of every dispatched resource's sites (``esi/<csp>/<resource>``), or with
  ``protocol: openadr`` sends each call as an OpenADR 2.0b event from its VTN
  to the VEN serving the resource (:mod:`.openadr_vtn`);
* forwards its sites' interval meter data (``ami/+/<csp>``, in chunks) to the
  market for M&V (``pjm/mv/<csp>``, one message once every chunk of every
  enrolled population is in -- an individually emulated premise behind its
  ESI gateway is a population of one site -- with the sites numbered
  CSP-wide) and passes a share of its settlement to the sites as a bill
  credit (``sp/credit/<csp>``, one message per population).

``retail_billing`` -- a utility or retailer billing every account of the DR
populations from its interval meter data (``ami/#``) under tariffs by customer
sub-domain, real-time tariffs at the hourly LMP (``pjm/lmp/<bus>``), with the
CSP credit as its own line; writes ``bills.csv``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Any, Callable, Generator

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..comm import MqttMessage
from ..kernel import World
from ..markets.billing import TariffKind, bill_accounts, hourly_mean_lmp, load_tariffs
from ..markets.messages import (
    AmiData,
    AvailableResource,
    CspSettlementMessage,
    DrPlanMessage,
    EconomicDispatch,
    EconomicDrOfferRecord,
    EconomicOffers,
    EnrolledResource,
    Enrolment,
    EsiStatus,
    LmAvailability,
    LmDispatch,
    LmRelease,
    LmpMessage,
    MvData,
    PlannedPlanResource,
    PlanResource,
    RpmResultMessage,
    SiteCredit,
)
from ..markets.rules import DrType, LeadTime, ResourceType
from devices.esi_signals import DrSignal
from devices.meter_messages import MeterInterval, MeterMessageError
from ..nist import Actor, Domain
from ..scenario.durations import Duration
from .context import RunContext
from .dr_site_report import SITE_COLUMNS, ZIP_COLUMNS, EventWindow, merge_dispatches, site_results, zip_totals
from .markets import MqttEndpoint
from .openadr_vtn import OpenAdrVtn
from .registry import Params, application


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlannedSpec(_Model):
    resource_id: str
    zone: str
    mw: float = Field(ge=0)
    resource_type: ResourceType = ResourceType.ANNUAL
    offer_price_usd_per_mw_day: float | None = Field(None, ge=0)


class ListedResource(_Model):
    """An existing resource listed site by site (e.g. a customer a CSP believes it has signed)."""

    resource_id: str
    zone: str
    zip: str
    site_ids: list[str] = Field(min_length=1)
    mw_per_site: float = Field(gt=0)
    lead_time: LeadTime = LeadTime.MIN_30
    dr_type: DrType = DrType.PRE_EMERGENCY
    resource_type: ResourceType = ResourceType.ANNUAL


class EconomicOffer(_Model):
    name: str
    bus: str
    zone: str = Field(description="zone whose site groups of this CSP deliver the offer")
    mw: float = Field(gt=0)
    price_usd_per_mwh: float


class DrProtocol(str, enum.Enum):
    """How a CSP notifies its sites: MQTT DR signals, or OpenADR 2.0b events from its VTN (cosim/domains/openadr_vtn.py)."""

    MQTT = "mqtt"
    OPENADR = "openadr"


class OpenAdrSpec(_Model):
    """The CSP's VTN: its VENs (``openadr_ven`` devices) name this CSP's node as their ``vtn``."""

    vtn_id: str | None = Field(None, description="VTN id on the wire (default: the CSP name)")
    market_context: str = Field("http://pjm.com/lm", description="eiMarketContext of the CSP's events")
    near: Duration = Field(600.0, ge=0, description="seconds before an event's start when its status turns near")
    poll: Duration = Field(10.0, gt=0, description="poll period asked of pull-model VENs (real ones, in HIL)")


class CspParams(Params):
    node: str | None = Field(None, description="comm node of the CSP's MQTT client (default: the actor id)")
    broker: str
    csp: str | None = Field(None, description="CSP name in topics and tables (default: the actor id)")
    plan_at: Duration = Field(60.0, ge=0, description="seconds after start when the DR plan is submitted")
    offer_price_usd_per_mw_day: float = Field(100.0, ge=0, description="capacity offer price of existing DR")
    planned: list[PlannedSpec] = Field(default_factory=list)
    credit_posted_usd: float = Field(0.0, ge=0)
    listed: list[ListedResource] = Field(default_factory=list)
    economic_offers: list[EconomicOffer] = Field(default_factory=list)
    report_interval: Duration = Field(300.0, gt=0, description="seconds between availability reports")
    customer_share: float = Field(0.7, ge=0, le=1, description="share of a positive settlement passed to the sites")
    protocol: DrProtocol = Field(DrProtocol.MQTT, description="how the sites are notified: mqtt or openadr")
    openadr: OpenAdrSpec = Field(default_factory=OpenAdrSpec)


@dataclasses.dataclass(frozen=True)
class _SiteMeterData:
    """One population's interval data as its CSP received it: per site (population index) hourly kWh."""

    site_index: np.ndarray
    history_kwh: np.ndarray      # (sites, days, 24)
    event_day_kwh: np.ndarray    # (sites, 24)
    eligible: np.ndarray         # (days,) history days the weekday CBL may use


@application("csp", {Domain.SERVICE_PROVIDER}, CspParams)
def csp(world: World, actor: Actor, params: CspParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Curtailment Service Provider: DR plan, availability reports, ESI notification, M&V data, credits."""
    name = params.csp or actor.actor_id
    enrolments: dict[str, Enrolment] = {}
    cleared: dict[str, float] = {}
    available_kw: dict[str, float] = {}
    attributes: dict[str, EnrolledResource] = {}
    lm_until: dict[str, float] = {}              # resource -> end of its latest Load Management call
    econ_hours: dict[str, set[int]] = {}         # resource -> hours it ran economic DR
    econ_on: dict[str, set[str]] = {}            # offer -> groups now running it
    econ_kw: dict[str, float] = {}               # group -> kW it was expected to shed when first called
    sent = [0]
    windows: list[EventWindow] = []             # Load Management calls received, for the per-site results
    site_data: dict[str, _SiteMeterData] = {}   # population -> its sites' interval data, once complete

    def next_event_id() -> int:
        """Event ids of the ESI signals (the gateway's 16-bit register); the label names the call."""
        sent[0] += 1
        return sent[0] % 65536

    vtn: OpenAdrVtn | None = None
    if params.protocol is DrProtocol.OPENADR:
        spec = params.openadr
        vtn = OpenAdrVtn(world, world.service("comm"), params.node or actor.actor_id, spec.vtn_id or name,
                         epoch=datetime.datetime.fromtimestamp(0, datetime.timezone.utc) + datetime.timedelta(microseconds=ctx.start_utc_us),
                         market_context=spec.market_context, near_s=float(spec.near),
                         poll_s=float(spec.poll))

    def notify(resource_id: str, signal: DrSignal) -> None:
        """Send a call to a resource's sites: an MQTT DR signal, or the same call as an OpenADR event."""
        if vtn is None:
            mqtt.publish(f"esi/{name}/{resource_id}", signal.encode())
            return
        start = world.now if signal.start_s is None else signal.start_s
        vtn.call(resource_id, signal.key, start, start + signal.duration_s, signal.reduction_pct)

    def on_enrol(message: MqttMessage) -> None:
        e = Enrolment.decode(message.payload)
        enrolments[e.population] = e
        for r in e.resources:
            attributes[r.resource_id] = r

    def on_status(message: MqttMessage) -> None:
        status = EsiStatus.decode(message.payload)
        for rid, kw in zip(status.resources, status.available_kw.tolist()):
            available_kw[rid] = float(kw)

    def on_result(message: MqttMessage) -> None:
        result = RpmResultMessage.decode(message.payload)
        cleared.update({rid: float(mw) for rid, mw in zip(result.resource_ids, result.cleared_mw)})
        world.record(name, "cleared_ucap", sum(cleared.values()), "MW")
        world.log("csp_rpm_result", csp=name, cleared_mw=sum(cleared.values()),
                  price_usd_per_mw_day=result.clearing_price_usd_per_mw_day, rejections=len(result.rejections))

    def on_dispatch(message: MqttMessage) -> None:
        dispatch = LmDispatch.decode(message.payload)
        windows.append(EventWindow(dispatch.event_id, dispatch.zone, dispatch.start_s, dispatch.end_s,
                                   frozenset(dispatch.resource_ids)))
        for rid in dispatch.resource_ids:
            if rid not in attributes:
                continue
            lm_until[rid] = max(lm_until.get(rid, 0.0), dispatch.end_s)
            notify(rid, DrSignal(next_event_id(), dispatch.end_s - dispatch.start_s, dispatch.start_s, 100.0,
                                 label=dispatch.event_id))
        world.log("csp_notified_esi", csp=name, event_id=dispatch.event_id, resources=len(dispatch.resource_ids),
                  lead_time_min=dispatch.lead_time, start_s=dispatch.start_s)

    def on_release(message: MqttMessage) -> None:
        """The RTO released a Load Management event: cancel its calls, so the sites restore load now.

        Each group's call is replaced under the same label by a release
        (reduction 0 from now; over OpenADR the event goes out cancelled with
        its modification number incremented). A window still ahead is dropped;
        one under way ends at the release, for the per-site results and for
        economic DR, which may call the groups again from then.
        """
        release = LmRelease.decode(message.payload)
        now = world.now
        mine = [w for w in windows if w.event_id == release.event_id and w.end_s > now]
        if not mine:
            return
        windows[:] = [w for w in windows if w not in mine]
        windows.extend(dataclasses.replace(w, end_s=now) for w in mine if w.start_s < now)
        released = sorted({rid for w in mine for rid in w.resource_ids if rid in attributes})
        for rid in released:
            lm_until[rid] = max([now] + [w.end_s for w in windows if rid in w.resource_ids and w.end_s > now])
            end = max(w.end_s for w in mine if rid in w.resource_ids)
            notify(rid, DrSignal(next_event_id(), end - now, now, 0.0, label=release.event_id))
        world.log("csp_released_esi", csp=name, event_id=release.event_id, resources=len(released),
                  release_s=release.release_s, before_start=all(w.start_s >= now for w in mine))

    def on_sced(message: MqttMessage) -> None:
        """Economic DR cleared for the next SCED interval: call whole site groups of the offer's zone to cover it.

        Groups under a Load Management call are left out (their reduction is
        already the LM event's); the largest available groups go first.
        """
        d = EconomicDispatch.decode(message.payload)
        world.record(name, "economic_dr_cleared", sum(d.cleared_mw), "MW")
        offers = {o.name: o for o in params.economic_offers}
        # An instruction holds until the next one for the offer replaces it (one spare interval covers the
        # network's delay); a group no longer needed gets an instruction that ends now.
        hold_until = d.time_s + 2.0 * d.interval_s
        for offer_name, mw in zip(d.names, d.cleared_mw):
            offer = offers.get(offer_name)
            if offer is None:
                continue
            groups = sorted((rid for rid, r in attributes.items()
                             if r.zone == offer.zone and lm_until.get(rid, -1.0) <= d.time_s
                             and (available_kw.get(rid, 0.0) > 0 or rid in econ_on.get(offer_name, set()))),
                            key=lambda rid: (rid not in econ_on.get(offer_name, set()), -available_kw.get(rid, 0.0), rid))
            called: list[str] = []
            kw = 0.0
            for rid in groups:
                if kw >= 1000.0 * mw:
                    break
                called.append(rid)
                kw += econ_kw.get(rid, available_kw.get(rid, 0.0))
            hour = int(d.time_s // 3600)
            for rid in called:
                econ_hours.setdefault(rid, set()).add(hour)
                econ_kw.setdefault(rid, available_kw.get(rid, 0.0))
                notify(rid, DrSignal(next_event_id(), hold_until - d.time_s, d.time_s, 100.0, label=offer_name))
            for rid in sorted(econ_on.get(offer_name, set()) - set(called)):
                econ_kw.pop(rid, None)
                notify(rid, DrSignal(next_event_id(), d.interval_s, d.time_s, 0.0, label=offer_name))   # released
            econ_on[offer_name] = set(called)
            if called:
                world.log("csp_economic_dispatch", csp=name, offer=offer_name, cleared_mw=mw, groups=len(called),
                          expected_mw=kw / 1000.0, start_s=d.time_s)

    ami_parts: dict[str, dict[int, AmiData]] = {}
    offsets: dict[str, int] = {}   # population -> the CSP-wide number of its site 0 in the M&V data

    def on_ami(message: MqttMessage) -> None:
        """Collect each population's interval-data chunks; once every enrolled population's are in, forward M&V.

        An individually emulated premise is a population of one site, so a
        CSP may have many: their sites are numbered CSP-wide in one M&V
        record (``MvData.population_offset``), in population order.
        """
        ami = AmiData.decode(message.payload)
        e = enrolments.get(ami.population)
        if e is None or e.population in site_data:
            return
        parts = ami_parts.setdefault(e.population, {})
        parts[ami.chunk] = ami   # keyed: a QoS 1 duplicate replaces itself
        if len(parts) < ami.chunks:
            return
        del ami_parts[e.population]
        ordered = [parts[k] for k in sorted(parts)]
        site_data[e.population] = _SiteMeterData(
            np.concatenate([p.site_index for p in ordered]), np.concatenate([p.history_kwh for p in ordered]),
            np.concatenate([p.event_day_kwh for p in ordered]), np.array(ami.weekdays) < 5)   # weekday CBL: Mon-Fri
        if set(site_data) == set(enrolments):
            forward_mv()

    def forward_mv() -> None:
        populations = sorted(site_data)
        eligible = site_data[populations[0]].eligible
        if any(not np.array_equal(site_data[p].eligible, eligible) for p in populations):
            world.log("csp_mv_refused", csp=name, reason="populations sent different history days",
                      populations=populations)
            return
        offset = 0
        index, site_resource, history, event_day = [], [], [], []
        resources: list[EnrolledResource] = []
        for p in populations:
            e, a = enrolments[p], site_data[p]
            offsets[p] = offset
            pos = np.searchsorted(e.site_index, a.site_index)
            index.append(a.site_index + offset)
            site_resource.append(e.site_resource[pos].astype(np.int64) + len(resources))
            history.append(a.history_kwh)
            event_day.append(a.event_day_kwh)
            resources += e.resources
            offset += int(e.site_index.max()) + 1 if e.site_index.size else 0
        ids = tuple(r.resource_id for r in resources)
        econ = np.zeros((len(ids), 24), dtype=np.uint8)             # hours each group ran economic DR
        for k, rid in enumerate(ids):
            for hour in econ_hours.get(rid, ()):
                if 0 <= hour < 24:
                    econ[k, hour] = 1
        offer_of = {o.zone: o.name for o in params.economic_offers}
        mqtt.publish(f"pjm/mv/{name}", MvData(
            name, tuple(populations), tuple(offsets[p] for p in populations), ids, tuple(r.zone for r in resources),
            tuple(offer_of.get(r.zone, "") for r in resources), np.concatenate(index), np.concatenate(site_resource),
            np.concatenate(history), np.concatenate(event_day), eligible.astype(np.uint8), econ).encode())

    def on_settlement(message: MqttMessage) -> None:
        s = CspSettlementMessage.decode(message.payload)
        world.log("csp_settled", csp=name, period=s.period, net_usd=s.net_usd, energy_usd=s.energy_payment_usd,
                  capacity_usd=s.capacity_payment_usd, charge_usd=s.non_performance_charge_usd,
                  bonus_usd=s.bonus_payment_usd)
        world.record(name, "settlement_net", s.net_usd, "$")
        positive = np.clip(s.reduction_kw, 0.0, None)
        pot = params.customer_share * max(s.net_usd, 0.0)
        credit = pot * positive / positive.sum() if positive.sum() > 0 else np.zeros_like(positive)
        populations = sorted(offsets) or sorted(enrolments)[:1]
        for k, population in enumerate(populations):   # CSP-wide site numbers back to each population's own
            low = offsets.get(population, 0)
            high = offsets[populations[k + 1]] if k + 1 < len(populations) else None
            mine = (s.site_index >= low) & (s.site_index < high if high is not None else True)
            sites = s.site_index[mine] - low
            mqtt.publish(f"sp/credit/{name}", SiteCredit(name, population, s.period, sites, credit[mine]).encode())
            # pop: the arrays are freed, and a QoS 1 duplicate of the settlement writes no second set of rows
            _write_site_results(world, name, enrolments.get(population), site_data.pop(population, None),
                                merge_dispatches(windows), sites, credit[mine])

    mqtt = MqttEndpoint(world, params.node or actor.actor_id, actor.actor_id, params.broker)
    yield from mqtt.start([
        (f"pjm/enrol/{name}", on_enrol), (f"esi/status/{name}", on_status), (f"pjm/rpm/result/{name}", on_result),
        (f"pjm/lm/dispatch/{name}", on_dispatch), (f"pjm/lm/release/{name}", on_release), (f"pjm/sced/dr/{name}", on_sced), (f"ami/+/{name}", on_ami),
        (f"pjm/settlement/{name}", on_settlement),
    ])
    if params.economic_offers:
        mqtt.publish(f"pjm/sced/offer/{name}", EconomicOffers(name, tuple(
            EconomicDrOfferRecord(o.name, o.bus, o.zone, o.mw, o.price_usd_per_mwh) for o in params.economic_offers)).encode())
    yield world.timeout(max(0.0, params.plan_at - world.now))
    mqtt.publish(f"pjm/rpm/plan/{name}", _plan_payload(name, params, enrolments))
    world.log("csp_plan_submitted", csp=name, existing=sum(len(e.resources) for e in enrolments.values()) + len(params.listed),
              planned=len(params.planned))
    for r in params.listed:
        attributes[r.resource_id] = EnrolledResource(r.resource_id, name, r.zone, r.zip, int(r.lead_time),
                                                     r.dr_type.value, r.resource_type.value)
    while True:
        yield world.timeout(params.report_interval)
        report = tuple(
            AvailableResource(rid, a.zone, a.zip, a.lead_time, a.dr_type, a.resource_type,
                              min(available_kw.get(rid, 0.0) / 1000.0, 1.5 * mw))
            for rid, mw in sorted(cleared.items()) if mw > 0 and (a := attributes.get(rid)) is not None)
        if report:
            world.record(name, "available", sum(r.available_mw for r in report), "MW")
            mqtt.publish(f"pjm/lm/available/{name}", LmAvailability(name, world.now, report).encode())


def _write_site_results(world: World, csp: str, enrolment: Enrolment | None,
                        data: _SiteMeterData | None, windows: list[EventWindow],
                        credit_sites: np.ndarray, credit_usd: np.ndarray) -> None:
    """Append this CSP's sites to ``dr_sites.csv`` and its ZIP codes to ``dr_zips.csv`` (docs/markets.md)."""
    if enrolment is None or data is None:
        return
    sites = data.site_index
    resources = enrolment.resources
    local = enrolment.site_resource[np.searchsorted(enrolment.site_index, sites)]
    resource_id = np.array([r.resource_id for r in resources], dtype=str)[local]
    zone = np.array([r.zone for r in resources], dtype=str)[local]
    zip_code = np.array([r.zip for r in resources], dtype=str)[local]
    results = site_results(data.history_kwh, data.eligible, data.event_day_kwh, zone, resource_id, windows)
    credit = np.zeros(sites.size)
    if credit_sites.size:
        pos = np.searchsorted(sites, credit_sites)
        ok = (pos < sites.size) & (sites[np.minimum(pos, sites.size - 1)] == credit_sites)
        np.add.at(credit, pos[ok], credit_usd[ok])
    population = enrolment.population
    ids = [f"{population}.{i:06d}" for i in sites.tolist()]
    world.recorder.table("dr_sites", SITE_COLUMNS).write_columns([
        ids, [csp] * sites.size, resource_id, zone, zip_code, results.called.astype(np.int8), results.events,
        results.baseline_kw, results.metered_kw, results.reduction_kw, credit])
    world.recorder.table("dr_zips", ZIP_COLUMNS).write_columns(zip_totals(csp, zone, zip_code, results, credit))
    world.log("dr_site_results", csp=csp, sites=int(sites.size), called=int(results.called.sum()),
              events=len(windows))


def _plan_payload(name: str, params: CspParams, enrolments: dict[str, Enrolment]) -> bytes:
    """The DR plan: every enrolled site group and listed resource with its sites, and the planned resources."""
    price = params.offer_price_usd_per_mw_day
    existing: list[PlanResource] = []
    ids, mws, res = [], [], []
    for e in enrolments.values():
        base = len(existing)
        existing += [PlanResource(r.resource_id, r.resource_type, r.zone, r.zip, r.lead_time, r.dr_type, price)
                     for r in e.resources]
        ids.append(np.array([f"{e.population}.{i:06d}" for i in e.site_index], dtype=str))
        mws.append(e.committed_kw / 1000.0)
        res.append(e.site_resource.astype(np.int64) + base)
    for r in params.listed:
        existing.append(PlanResource(r.resource_id, r.resource_type.value, r.zone, r.zip, int(r.lead_time),
                                     r.dr_type.value, price))
        ids.append(np.array(r.site_ids, dtype=str))
        mws.append(np.full(len(r.site_ids), r.mw_per_site))
        res.append(np.full(len(r.site_ids), len(existing) - 1, dtype=np.int64))
    planned = tuple(PlannedPlanResource(p.resource_id, p.resource_type.value, p.zone, p.mw,
                                        p.offer_price_usd_per_mw_day if p.offer_price_usd_per_mw_day is not None
                                        else price) for p in params.planned)
    width = max([len(s) for chunk in ids for s in chunk] + [1])
    return DrPlanMessage(name, params.credit_posted_usd, tuple(existing), planned,
                         np.concatenate(ids).astype(f"<U{width}") if ids else np.array([], dtype="<U1"),
                         np.concatenate(mws) if mws else np.array([]),
                         np.concatenate(res) if res else np.array([], dtype=np.int64)).encode()


class MeterAccount(_Model):
    """A customer account billed from one smart meter's interval messages."""

    meter: str = Field(min_length=1, description="smart meter device id (its messages say 'meter': id)")
    tariff: str = Field(description="tariff name in cosim/markets/cases/tariffs.yaml (flat or time-of-use)")

    @field_validator("tariff")
    @classmethod
    def _known_flat_or_tou(cls, name: str) -> str:
        tariffs = load_tariffs()
        if name not in tariffs:
            raise ValueError(f"unknown tariff {name!r}; known: {', '.join(sorted(tariffs))}")
        if tariffs[name].kind is TariffKind.REAL_TIME:
            raise ValueError(f"{name!r} is a real-time tariff; individual meter accounts take flat or time-of-use tariffs")
        return name


class RetailBillingParams(Params):
    node: str | None = Field(None, description="comm node of the biller's MQTT client (default: the actor id)")
    broker: str
    tariffs: dict[str, str] = Field(
        default_factory=lambda: {"home": "residential-tou", "building": "commercial-rtp", "industrial": "commercial-rtp"},
        description="tariff (in cosim/markets/cases/tariffs.yaml) per customer sub-domain of the DR populations")
    bill_at: Duration = Field(gt=0, description="seconds when the day's bills are issued")
    bill_day: int = Field(0, ge=0, description="simulated day whose energy is billed (0 = the first)")
    meter_accounts: list[MeterAccount] = Field(
        default_factory=list, description="accounts billed from individual smart meters' interval messages")
    meter_topic: str = Field("smart_meter/+/interval", description="topic filter of the smart meters' interval messages")


@application("retail_billing", {Domain.SERVICE_PROVIDER}, RetailBillingParams)
def retail_billing(world: World, actor: Actor, params: RetailBillingParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Retail bills of the DR populations from interval meter data, with the CSP credit line (bills.csv)."""
    from devices.dr_sites_params import SEGMENTS

    tariffs_all = load_tariffs()
    unknown = sorted(set(params.tariffs.values()) - set(tariffs_all))
    if unknown:
        raise ValueError(f"{actor.actor_id}: unknown tariffs {unknown}; known: {sorted(tariffs_all)}")
    names = sorted(set(params.tariffs.values()))
    tariffs = [tariffs_all[n] for n in names]
    seg_tariff = np.array([names.index(params.tariffs.get(s, names[0])) for s in SEGMENTS], dtype=np.int64)
    # Keyed by what a message is about, so a QoS 1 duplicate (DUP) replaces rather than adds.
    meter: dict[tuple[str, str, int], AmiData] = {}
    credit_messages: dict[tuple[str, str, str], SiteCredit] = {}
    lmp_samples: dict[str, list[tuple[float, float]]] = {}

    def on_ami(message: MqttMessage) -> None:
        ami = AmiData.decode(message.payload)
        # Copies of what billing needs, so the payload (with its history days) is not held until the bills.
        meter[(ami.population, ami.csp, ami.chunk)] = dataclasses.replace(
            ami, history_kwh=np.empty((0, 0)), site_index=ami.site_index.copy(), event_day_kwh=ami.event_day_kwh.copy(),
            segment=ami.segment.copy(), site_bus=ami.site_bus.copy())

    def on_credit(message: MqttMessage) -> None:
        credit = SiteCredit.decode(message.payload)
        credit_messages[(credit.csp, credit.population, credit.period)] = credit

    # Individual smart meters: kWh per (meter, interval start), so a QoS 1 duplicate replaces itself.
    meter_intervals: dict[tuple[str, float], float] = {}
    billed_meters = {account.meter for account in params.meter_accounts}

    def on_meter_interval(message: MqttMessage) -> None:
        try:
            reading = MeterInterval.decode(message.payload)
        except MeterMessageError as error:
            world.log("billing_bad_meter_message", biller=actor.actor_id, topic=message.topic, error=str(error))
            return
        if reading.meter in billed_meters:
            meter_intervals[(reading.meter, reading.start_s)] = reading.import_kwh

    def on_lmp(message: MqttMessage) -> None:
        m = LmpMessage.decode(message.payload)
        lmp_samples.setdefault(m.bus, []).append((m.time_s, m.lmp_usd_per_mwh))

    mqtt = MqttEndpoint(world, params.node or actor.actor_id, actor.actor_id, params.broker)
    subscriptions: list[tuple[str, Callable[[MqttMessage], None]]] = [("ami/#", on_ami), ("sp/credit/#", on_credit), ("pjm/lmp/+", on_lmp)]
    if params.meter_accounts:
        subscriptions.append((params.meter_topic, on_meter_interval))
    yield from mqtt.start(subscriptions)
    yield world.timeout(max(0.0, params.bill_at - world.now))
    table = world.recorder.table("bills", ("account_id", "csp", "tariff", "energy_kwh", "energy_charge_usd",
                                           "fixed_charge_usd", "dr_credit_usd", "total_usd"))
    # Each population's credited sites (sorted) and their summed credit, looked up by array search.
    credit_parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for c in credit_messages.values():
        credit_parts.setdefault(c.population, []).append((c.site_index, c.credit_usd))
    credits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for population, parts in credit_parts.items():
        sites, inverse = np.unique(np.concatenate([s for s, _ in parts]), return_inverse=True)
        credits[population] = (sites, np.bincount(inverse, weights=np.concatenate([c for _, c in parts]),
                                                  minlength=sites.size))
    total = 0.0
    accounts = 0
    hours = np.arange(24)
    for _, ami in sorted(meter.items()):
        population = ami.population
        for b, bus in enumerate(ami.buses):
            rows = np.flatnonzero(ami.site_bus == b)
            if rows.size == 0:
                continue
            lmp = hourly_mean_lmp(lmp_samples.get(bus, []), params.bill_day)
            idx = ami.site_index[rows]
            ids = [f"{population}.{i:06d}" for i in idx.tolist()]
            credit = _credit_of(credits.get(population), idx)
            bills = bill_accounts(ids, ami.event_day_kwh[rows], seg_tariff[ami.segment[rows]], tariffs, hours, lmp, credit)
            totals = [b.total_usd for b in bills]
            table.write_columns([ids, [ami.csp] * len(bills), [b.tariff for b in bills],
                                 [b.energy_kwh for b in bills], [b.energy_charge_usd for b in bills],
                                 [float(b.fixed_charge_usd) for b in bills], [b.dr_credit_usd for b in bills], totals])
            total += sum(totals)
            accounts += len(bills)
    if params.meter_accounts:
        total += _bill_meter_accounts(params.meter_accounts, meter_intervals, tariffs_all, table)
        accounts += len(params.meter_accounts)
    world.log("bills_issued", biller=actor.actor_id, accounts=accounts, total_usd=total,
              dr_credit_usd=float(sum(float(c.sum()) for _, c in credits.values())))
    world.record(actor.actor_id, "billed", total, "$")


def _credit_of(credited: tuple[np.ndarray, np.ndarray] | None, sites: np.ndarray) -> np.ndarray:
    """Credit ($) of each of ``sites`` from (sorted credited sites, their credit); 0 where none."""
    out = np.zeros(sites.size)
    if credited is None or credited[0].size == 0:
        return out
    known, amount = credited
    pos = np.minimum(np.searchsorted(known, sites), known.size - 1)
    hit = known[pos] == sites
    out[hit] = amount[pos[hit]]
    return out


def _bill_meter_accounts(accounts: list[MeterAccount], intervals: dict[tuple[str, float], float],
                         tariffs_by_name: dict[str, Any], table: Any) -> float:
    """Bill each meter account from its received interval kWh, binned by hour of day; returns the total ($).

    Intervals lost on the way (and not recovered by QoS 1) are simply not
    billed, as a real head-end would estimate or chase them; the count is in
    the bill's energy.
    """
    names = sorted({a.tariff for a in accounts})
    tariffs = [tariffs_by_name[n] for n in names]
    hours_in_period = 1 + max((int(start // 3600) for _, start in intervals), default=0)
    energy = np.zeros((len(accounts), hours_in_period))
    row_of = {a.meter: i for i, a in enumerate(accounts)}
    for (meter, start_s), kwh in sorted(intervals.items()):
        energy[row_of[meter], int(start_s // 3600)] += kwh
    bills = bill_accounts([a.meter for a in accounts], energy, np.array([names.index(a.tariff) for a in accounts]),
                          tariffs, np.arange(hours_in_period) % 24)
    total = 0.0
    for bill in bills:
        table.write((bill.account_id, "", bill.tariff, repr(bill.energy_kwh), repr(bill.energy_charge_usd),
                     repr(bill.fixed_charge_usd), repr(bill.dr_credit_usd), repr(bill.total_usd)))
        total += bill.total_usd
    return total
