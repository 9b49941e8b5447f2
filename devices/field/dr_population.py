"""DR end-use sites as numpy arrays behind one process: each site's ESI, EMS and interval meter.

Thousands of commercial, industrial and residential premises enrolled with
Curtailment Service Providers are one device population (``kind:
dr_site_population``), as ``meter_population`` is for AMI: every per-site
quantity is a numpy array (peak kW, zone, ZIP code, CSP, lead time, DR type,
curtailable share, interval meter data). Each zone's sites, together with the
zone's non-DR load, are that zone's grid load, which this device -- the sites'
load controllers -- applies; nothing outside devices touches the grid.

The ESI side follows the one ESI model (:mod:`devices.esi_signals`): a site
sheds ``served_demand`` of its natural demand while a call it takes part in
runs, at most its curtailable share. The population's MQTT client is its comm
node's (one per node, shared with any other device there); each *site group*
(CSP x zone x ZIP x lead time x DR type, exactly one Load Management
resource) is called on ``esi/<csp>/<resource>`` (one ``esi/<csp>/+``
subscription per CSP). A call received there is held
by the premises' EMS until its start (the lead time) and then curtails every
site of the group; a newer call with the same label replaces the previous one
(an economic dispatch holds until its next instruction) -- the group's
:class:`~devices.esi_signals.CallBook`, so a late retransmission of an older
instruction changes nothing.

Messages (typed records of :mod:`cosim.markets.messages`, or wire headers):

* ``pjm/enrol/<csp>`` at start: the CSP's site groups and each site's committed kW;
* ``pjm/prd/register/<population>`` at start: the PRD curve steps per zone;
* ``pjm/telemetry/load/<zone>`` each step: the zone's metered MW (QoS 0);
* ``esi/status/<csp>`` every ``status_interval``: curtailable and metered kW per resource now;
* ``ami/<population>/<csp>`` at ``meter_read_at``: hourly kWh of the history days
  and of the event day for that CSP's sites (``prd`` for the PRD sites), in
  chunks of at most ``meter_chunk_sites`` sites (header ``chunk``/``chunks``)
  -- each site's interval meter is the one meter model
  (:class:`devices.metering.EnergyRegister`), integrating its demand exactly
  between changes;
* subscribes ``pjm/lmp/<bus>``: PRD sites shed their zone's PRD curve value at
  the LMP (the SCED's point where the LMP sits on a step), as soon as the price
  arrives -- in the interval it applies to.

Recorded per zone (entity ``<population>/<zone>``): ``load`` and ``load_baseline``
(the same sites without any DR), ``dr_response`` and ``prd_response`` (MW).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cosim.comm import MqttMessage, QoS
from cosim.domains.profiles import HOURLY_DEMAND_PU
from cosim.grid import SetLoad
from cosim.kernel.clock import clock_resolution, delay_until
from cosim.markets.messages import (EnrolledResource, Enrolment, EsiStatus, LmpMessage, PrdRegistration, PrdStep,
                                   ZoneTelemetry)
from cosim.markets.prd import prd_reduction_mw
from cosim.markets.rules import DrType, ResourceType
from cosim.markets.wire import PayloadError
from devices.config import DrSitePopulationConfig
from devices.dr_sites_params import SEGMENTS, DrSitesParams
from devices.esi_signals import CallBook, DrSignal, SignalError, served_demand
from devices.metering import EnergyRegister
from devices.site_data import (ami_records, committed_kw, history_kwh, history_weekdays, resource_id, segment_of,
                               step_shape_pu)

if TYPE_CHECKING:
    from devices.field.base import DeviceLayer


@dataclasses.dataclass(frozen=True)
class SitePopulation:
    """Per-site arrays of a DR population; ``group`` is -1 for PRD sites."""

    zone: np.ndarray          # (sites,) index into zones
    zip_code: np.ndarray      # (sites,) ZIP strings
    csp: np.ndarray           # (sites,) index into csps, -1 for PRD
    group: np.ndarray         # (sites,) index into resources, -1 for PRD
    segment: np.ndarray       # (sites,) index into SEGMENTS
    peak_kw: np.ndarray
    curtail: np.ndarray       # share of demand shed when curtailed
    committed_kw: np.ndarray  # 0 for PRD sites
    is_prd: np.ndarray
    resources: tuple[dict[str, Any], ...]   # resource_id, csp, zone, zip, lead_time, dr_type


def build_sites(params: DrSitesParams, rng: np.random.Generator, step_s: float) -> SitePopulation:
    """Draw the population's sites; deterministic for a given stream."""
    zone = np.concatenate([np.full(z.sites, k, dtype=np.int64) for k, z in enumerate(params.zones)])
    n = zone.size
    zip_code = np.empty(n, dtype=object)
    for k, z in enumerate(params.zones):
        idx = np.flatnonzero(zone == k)
        zip_code[idx] = np.array(z.zips, dtype=object)[np.arange(idx.size) % len(z.zips)]
    prd_share = np.array([z.prd_share for z in params.zones])
    is_prd = rng.random(n) < prd_share[zone]
    shares = np.array([c.share for c in params.csps])
    csp = rng.choice(len(shares), size=n, p=shares / shares.sum())
    leads = np.array(sorted(params.lead_time_mix))
    lead = leads[rng.choice(leads.size, size=n, p=np.array([params.lead_time_mix[k] for k in leads]))]
    emergency = rng.random(n) < params.emergency_share
    peak_kw = params.site_kw_median * np.exp(params.site_kw_sigma * rng.standard_normal(n))
    segment = segment_of(peak_kw)
    curtail = rng.uniform(params.curtail_min, params.curtail_max, n)
    curtail = np.where(is_prd, params.prd_reduction, curtail)
    committed = np.where(is_prd, 0.0, committed_kw(peak_kw, curtail, segment, params.commit_factor, step_s))

    keys: dict[tuple[int, int, str, int, bool], int] = {}
    group = np.full(n, -1, dtype=np.int64)
    resources: list[dict[str, Any]] = []
    for i in np.flatnonzero(~is_prd):
        key = (int(csp[i]), int(zone[i]), str(zip_code[i]), int(lead[i]), bool(emergency[i]))
        g = keys.get(key)
        if g is None:
            g = keys[key] = len(resources)
            c_i, z_i, zp, ld, em = key
            name = params.csps[c_i].csp
            resources.append({
                "resource_id": resource_id(name, params.zones[z_i].zone, zp, ld, em),
                "csp": name, "zone": params.zones[z_i].zone, "zip": zp, "lead_time": ld,
                "dr_type": (DrType.EMERGENCY if em else DrType.PRE_EMERGENCY).value,
                "resource_type": ResourceType.ANNUAL.value,
            })
        group[i] = g
    return SitePopulation(zone, zip_code, np.where(is_prd, -1, csp), group, segment, peak_kw, curtail,
                          committed, is_prd, tuple(resources))


@dataclasses.dataclass
class _PrdState:
    """PRD of the population: per zone the registered curve steps and the last price signal."""

    step_mw: list[list[float]]            # per zone, MW of each curve step
    step_price: list[list[float]]
    lmp: dict[str, float]                 # bus -> last LMP
    cleared: dict[str, float]             # bus -> PRD MW the SCED cleared there


def prd_curve_steps(pop: SitePopulation, params: DrSitesParams, step_s: float) -> tuple[list[list[float]], np.ndarray]:
    """(MW of each curve step per zone, each PRD site's step index).

    A zone's PRD MW is what its PRD sites can shed at the hot-afternoon peak
    (90 % of it, a margin for the day's variation); the curve's cumulative
    shares split it into steps, and each PRD site is given the step whose
    price makes it respond, so the sites behind a step can deliver it.
    """
    event_pu = step_shape_pu(step_s)[:, 12:18].max(axis=1)
    can_kw = np.where(pop.is_prd, pop.peak_kw * pop.curtail * event_pu[pop.segment] * params.hot_day_factor, 0.0)
    shares = np.diff(np.array([0.0] + [p.share for p in params.prd_curve]))
    zone_kw = np.bincount(pop.zone, weights=can_kw, minlength=len(params.zones))
    steps = [[float(zone_kw[k]) * 0.9 * sh / 1000.0 for sh in shares] for k in range(len(params.zones))]
    # PRD sites of a zone in site order, split by cumulative share of their kW: a site's step is where its kW falls.
    site_step = np.full(pop.peak_kw.size, -1, dtype=np.int64)
    edges = np.cumsum(shares)
    for k in range(len(params.zones)):
        idx = np.flatnonzero(pop.is_prd & (pop.zone == k))
        if idx.size:
            position = (np.cumsum(can_kw[idx]) - 0.5 * can_kw[idx]) / can_kw[idx].sum()
            site_step[idx] = np.minimum(np.searchsorted(edges, position, side="right"), len(shares) - 1)
    return steps, site_step



class PrdSites:
    """The PRD sites of a population grouped by (zone, curve step), for the PRD rule at array speed.

    Built once: the sites behind each step of each zone's curve, as index
    arrays, so a price that changes nothing costs nothing and one that
    reaches a step touches only that step's sites.
    """

    def __init__(self, pop: SitePopulation, site_step: np.ndarray, zones: int, steps: int) -> None:
        self.sites = [[np.flatnonzero(pop.is_prd & (pop.zone == k) & (site_step == j)) for j in range(steps)]
                      for k in range(zones)]
        self.curtail = pop.curtail

    def shed_kw(self, natural: np.ndarray, target_mw: list[float]) -> np.ndarray:
        """kW each PRD site sheds now: its zone's curve value ``target_mw[zone]``, spread over the steps reached.

        Sites of a fully reached step shed their curtailable share; the sites
        of a step the curve reaches only in part (the LMP sits on its price)
        shed in proportion, so the zone's PRD reduction equals the curve's MW.
        """
        shed = np.zeros(natural.size)
        for k, target in enumerate(target_mw):
            remaining_kw = target * 1000.0
            for idx in self.sites[k]:
                if remaining_kw <= 0:
                    break
                if idx.size == 0:
                    continue
                can = natural[idx] * self.curtail[idx]
                avail = float(can.sum())
                if avail <= 0:
                    continue
                take = min(1.0, remaining_kw / avail)
                shed[idx] = can * take
                remaining_kw -= avail * take
        return shed


class DrSitePopulation:
    """The device: sites, their ESI signals, PRD, demand and meters; applies each zone's load to the grid."""

    kind = "dr_site_population"

    def __init__(self, layer: "DeviceLayer", config: DrSitePopulationConfig) -> None:
        self.layer = layer
        self.world = layer.world
        self.config = config
        self.device_id = config.id
        self.entity = f"device/{config.id}"
        self.store = None
        self.params: DrSitesParams = config.params
        self.step_s = float(self.params.step)
        if 3600.0 % self.step_s:
            raise ValueError(f"{config.id}: dr_site_population step {self.step_s} s must divide an hour")

    def start(self) -> None:
        assert self.config.node is not None   # the config requires it
        self.mqtt = self.layer.mqtt(self.config.node, self.params.broker)
        self.world.process(self.run())

    def _guard(self, handler: Callable[[MqttMessage], None]) -> Callable[[MqttMessage], None]:
        def on_message(message: MqttMessage) -> None:
            try:
                handler(message)
            except PayloadError as error:
                self.world.log("dr_bad_payload", client=self.device_id, topic=message.topic, error=str(error))
        return on_message

    def run(self) -> Generator[Any, Any, None]:
        world, params, me, step_s = self.world, self.params, self.device_id, self.step_s
        # streams named for the customer premises they draw, as before the population became a device
        pop = build_sites(params, world.rng(f"customer/{me}/sites"), step_s)
        history = history_kwh(pop.peak_kw, pop.segment, params, world.rng(f"customer/{me}/history"), step_s)
        weekdays = history_weekdays(params)
        rng = world.rng(f"customer/{me}/demand")
        n, n_zone, n_res = pop.peak_kw.size, len(params.zones), len(pop.resources)
        site_day = params.hot_day_factor * np.exp(params.day_sigma_pct / 100.0 * rng.standard_normal(n))
        zone_bus = [z.bus for z in params.zones]
        # The one ESI model (devices.esi_signals): each site group holds its calls in a CallBook.
        books: dict[int, CallBook] = {}
        site_slot = np.where(pop.group >= 0, pop.group, n_res)     # last slot: PRD sites (never called)
        steps, site_step = prd_curve_steps(pop, params, step_s)
        prd = _PrdState(steps, [[p.price_usd_per_mwh for p in params.prd_curve]] * n_zone,
                        dict.fromkeys(zone_bus, 0.0), dict.fromkeys(zone_bus, 0.0))
        prd_sites = PrdSites(pop, site_step, n_zone, len(params.prd_curve))
        # The one meter model (devices.metering): every site's interval meter, hourly, kW -> kWh.
        meters = EnergyRegister(n, 3600.0, start_s=world.now)
        event_kwh = np.zeros((24, n), dtype=np.float32)   # hour-major: one contiguous row per hour
        grid = self.layer.grid
        csp_names = [c.csp for c in params.csps]
        res_index = {r["resource_id"]: k for k, r in enumerate(pop.resources)}
        group_sites = np.bincount(pop.group[pop.group >= 0], minlength=n_res)
        wake: list[Any] = [world.env.event()]

        def poke() -> None:
            if not wake[0].triggered:
                wake[0].succeed()

        def on_esi(message: MqttMessage) -> None:
            try:
                signal = DrSignal.decode(message.payload)
            except SignalError as error:
                world.log("esi_bad_message", device=me, topic=message.topic, reason=str(error))
                return
            g = res_index.get(message.topic.rsplit("/", 1)[1])
            if g is None:
                return
            call = books.setdefault(g, CallBook()).receive(signal, world.now)
            if call is None:
                return   # a retransmission of, or older than, the instruction the group holds
            world.log("esi_signal", population=me, resource=pop.resources[g]["resource_id"], event_id=signal.key,
                      start_s=max(call.start_s, world.now), end_s=call.end_s, reduction_pct=signal.reduction_pct,
                      sites=int(group_sites[g]))
            poke()

        def on_lmp(message: MqttMessage) -> None:
            m = LmpMessage.decode(message.payload)
            prd.lmp[m.bus], prd.cleared[m.bus] = m.lmp_usd_per_mwh, m.prd_cleared_mw
            poke()   # PRD acts in the interval the price applies to, not at the next step

        for csp in csp_names:   # one filter per CSP: the broker matches every publish against every filter
            self.mqtt.subscribe(f"esi/{csp}/+", 1, self._guard(on_esi))
        for bus in sorted(set(zone_bus)):
            self.mqtt.subscribe(f"pjm/lmp/{bus}", 1, self._guard(on_lmp))
        self._enrol(pop, csp_names, steps)

        shape_tables = [np.array(HOURLY_DEMAND_PU[s]) for s in SEGMENTS]
        base_shapes = [np.array(HOURLY_DEMAND_PU[z.base_shape]) for z in params.zones]
        next_status = world.now
        next_step = world.now
        read = False
        natural = np.zeros(n)
        nat_mw = np.zeros(n_zone)
        served = natural
        base = np.zeros(n_zone)
        applied = [float("nan")] * n_zone   # MW last applied to each zone's load
        by_slot = np.argsort(site_slot, kind="stable")          # sites of group g: by_slot[edges[g]:edges[g + 1]]
        edges = np.searchsorted(site_slot[by_slot], np.arange(n_res + 2))
        last_inputs: tuple[bytes, tuple[float, ...]] | None = None
        share = np.zeros(n_res + 1)
        while True:
            t = world.now
            hour = int(t // 3600) % 24
            stepped = t >= next_step
            if stepped:
                frac = (t / 3600.0) % 24.0 - hour
                seg_pu = np.array([sh[hour] * (1 - frac) + sh[(hour + 1) % 24] * frac for sh in shape_tables])
                natural = pop.peak_kw * seg_pu[pop.segment]
                natural *= site_day
                natural *= 1.0 + params.noise_pct / 100.0 * rng.standard_normal(n)
                np.maximum(natural, 0.0, out=natural)
                nat_mw = np.bincount(pop.zone, weights=natural, minlength=n_zone) / 1000.0
                base = np.array([z.base_mw * params.hot_day_factor * (base_shapes[k][hour] * (1 - frac)
                                                                        + base_shapes[k][(hour + 1) % 24] * frac)
                                 for k, z in enumerate(params.zones)])
                next_step = t + step_s
            share = np.zeros(n_res + 1)
            for g, book in books.items():
                share[g] = book.reduction_pct(t)
            targets = tuple(prd_reduction_mw(prd.step_mw[k], prd.step_price[k], prd.lmp[bus], prd.cleared[bus]
                                             if zone_bus.count(bus) == 1 else None) for k, bus in enumerate(zone_bus))
            inputs = (share.tobytes(), targets)
            if not stepped and inputs == last_inputs:
                # a price or call that changes no site's demand: no per-site work, no record, no grid change
                if wake[0].triggered:
                    wake[0] = world.env.event()
                yield world.env.any_of([wake[0], world.timeout(delay_until(world.now, next_step))])
                continue
            last_inputs = inputs
            called = np.flatnonzero(share[:n_res] > 0)
            if called.size:
                # the one ESI rule, for the sites of the called groups only: shed the call's share,
                # at most the site's curtailable share
                idx = np.concatenate([by_slot[edges[g]:edges[g + 1]] for g in called])
                served = natural.copy()
                served[idx] = served_demand(natural[idx], True, np.minimum(share[site_slot[idx]], 100.0 * pop.curtail[idx]))
                lm_mw = np.bincount(pop.zone[idx], weights=natural[idx] - served[idx], minlength=n_zone) / 1000.0
            else:
                served, lm_mw = natural, np.zeros(n_zone)
            if any(x > 0 for x in targets):
                prd_shed = prd_sites.shed_kw(natural, list(targets))
                actual = served - prd_shed
                prd_mw = np.bincount(pop.zone, weights=prd_shed, minlength=n_zone) / 1000.0
            else:
                actual, prd_mw = served, np.zeros(n_zone)
            self._meter(meters, event_kwh, t, actual)
            for k, z in enumerate(params.zones):
                baseline = base[k] + nat_mw[k]
                load = baseline - lm_mw[k] - prd_mw[k]
                if not stepped and load == applied[k]:
                    continue   # a price or call that changed nothing in this zone: no record, no grid change
                applied[k] = load
                entity = f"{me}/{z.zone}"
                world.record(entity, "load", load, "MW")
                world.record(entity, "load_baseline", baseline, "MW")
                world.record(entity, "dr_response", lm_mw[k], "MW")
                world.record(entity, "prd_response", prd_mw[k], "MW")
                if grid is not None:
                    grid.apply(SetLoad(z.load, load, load * 0.33))
                if stepped:
                    self.mqtt.publish(f"pjm/telemetry/load/{z.zone}",
                                      ZoneTelemetry(z.zone, load, prd_mw[k], t).encode(), QoS.AT_MOST_ONCE)
            if stepped and t >= next_status:
                available = np.bincount(site_slot, weights=natural * pop.curtail, minlength=n_res + 1)
                available[share > 0] = 0.0   # a curtailing group has nothing more to offer
                metered = np.bincount(site_slot, weights=meters.power, minlength=n_res + 1)   # the meters' kW now
                for name in csp_names:
                    groups = [g for g in range(n_res) if pop.resources[g]["csp"] == name]
                    self.mqtt.publish(f"esi/status/{name}", EsiStatus(
                        me, name, t, tuple(pop.resources[g]["resource_id"] for g in groups), available[groups],
                        metered[groups]).encode())
                next_status = t + params.status_interval
            if not read and next_step >= params.meter_read_at - clock_resolution(params.meter_read_at):
                yield world.timeout(max(0.0, params.meter_read_at - t))
                self._meter(meters, event_kwh, world.now)
                if meters.interval_index < 24:   # a read inside the day: the open hour so far
                    event_kwh[meters.interval_index] = meters.open_import()
                self._send_meter_data(pop, csp_names, zone_bus, history, weekdays, event_kwh)
                del history   # sent: the archive's days are not needed again (a GB at a million sites)
                read = True
                continue
            if wake[0].triggered:
                wake[0] = world.env.event()
            yield world.env.any_of([wake[0], world.timeout(delay_until(world.now, next_step))])

    @staticmethod
    def _meter(meters: EnergyRegister, event_kwh: np.ndarray, now: float, demand_kw: np.ndarray | None = None) -> None:
        """Integrate every site's meter up to ``now`` and hold ``demand_kw`` from now (None: unchanged).

        The hours of the first day that closed go to ``event_kwh``.
        """
        meters.hold(now, demand_kw)
        for interval in meters.take_closed():
            hour = int(interval.start_s // 3600)
            if 0 <= hour < 24:
                event_kwh[hour] = interval.import_energy

    def _enrol(self, pop: SitePopulation, csp_names: list[str], steps: list[list[float]]) -> None:
        """Enrol the sites with their CSPs and register PRD (queued behind the subscriptions)."""
        me, params = self.device_id, self.params
        for c, name in enumerate(csp_names):
            mine = np.flatnonzero(pop.csp == c)
            groups = sorted({int(g) for g in pop.group[mine]})
            local = {g: k for k, g in enumerate(groups)}
            self.mqtt.publish(f"pjm/enrol/{name}", Enrolment(
                me, name, tuple(EnrolledResource(**pop.resources[g]) for g in groups), mine,
                np.array([local[int(g)] for g in pop.group[mine]], dtype=np.int32), pop.committed_kw[mine]).encode())
        curve = tuple(PrdStep(z.zone, z.bus, mw, p.price_usd_per_mwh)
                      for k, z in enumerate(params.zones) for mw, p in zip(steps[k], params.prd_curve) if mw > 0)
        if curve:
            self.mqtt.publish(f"pjm/prd/register/{me}", PrdRegistration(me, curve).encode())

    def _send_meter_data(self, pop: SitePopulation, csp_names: list[str], zone_bus: list[str],
                         history: np.ndarray, weekdays: np.ndarray, event_kwh: np.ndarray) -> None:
        """Interval data of the history days and the event day, per CSP (and for the PRD sites), in chunks.

        Each message holds at most ``meter_chunk_sites`` sites and says which
        chunk of how many it is, so a receiver knows when it has them all.
        """
        me = self.device_id
        buses = sorted(set(zone_bus))
        site_bus = np.array([buses.index(b) for b in zone_bus], dtype=np.int64)[pop.zone]
        for c, name in enumerate([*csp_names, "prd"]):
            mine = np.flatnonzero(pop.csp == c) if name != "prd" else np.flatnonzero(pop.is_prd)
            for record in ami_records(me, name, weekdays, tuple(buses), mine, history, event_kwh, pop.segment, site_bus,
                                      self.params.meter_chunk_sites):
                self.mqtt.publish(f"ami/{me}/{name}", record.encode())
