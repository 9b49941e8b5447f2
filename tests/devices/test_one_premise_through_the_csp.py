"""One premise enrolled with a CSP, emulated twice: an ESI gateway with its meter, and a one-site DR population.

Each emulation runs in its own world (same seed, same scenario apart from the
devices) with the real Curtailment Service Provider application between the
premise and the test, which plays the RTO: it calls one Load Management event
(``pjm/lm/dispatch/csp_a``) and settles what the CSP forwards for M&V
(``pjm/mv/csp_a``) with the market's own settlement function. The CSP must
not be able to tell the two apart: the same enrolment, status, interval data,
DR plan and M&V records, and the same settlement.

The premise: 50 kW peak, "building" shape, no randomness in its demand; its
EMS sheds its 20 % curtailable share when called. The reference reduction is
PJM's weekday CBL (Manual 11 section 10, as docs/markets.md describes it: the
5 most recent eligible weekdays, the 4 with the highest mean load over the
event hours, averaged hour by hour, shifted by the symmetric additive
adjustment over the 3 hours ending 1 hour before the event) computed here
from the premise's history days and from its metered event day: the
definition of its demand (natural demand, 20 % less in the event) and, for
the gateway, the readings of the independent smart meter on the same load.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import premise_reference as reference
import pytest
from devworlds import COMM, GRID

from cosim.comm import QoS
from cosim.domains.markets import meter_data
from cosim.markets.messages import (AmiData, CspSettlementMessage, DrPlanMessage, Enrolment, EsiStatus, LmDispatch,
                                   LmRelease, MvData, SiteCredit)
from cosim.markets.performance import CpParameters
from cosim.markets.settlement import LmCall, settle_load_management
from cosim.runner import build_world
from cosim.scenario import load_scenario
from devices.esi_signals import DrSignal
from devices.meter_messages import MeterInterval

SITE_KW, CURTAIL = 50.0, 0.2
EVENT_START_S, EVENT_END_S = 12 * 3600.0, 13 * 3600.0   # the afternoon peak: close to the committed kW
READ_AT_S = 14 * 3600.0
RESOURCE = "csp_a.Z1.08001.30P"     # CSP x zone x ZIP x lead time x DR type
LMP_USD_PER_MWH = 120.0
SITE_DATA = f"noise_pct: 0, day_sigma_pct: 0, meter_read_at: {READ_AT_S:.0f}"

GATEWAY = f"""
- id: site1
  kind: esi_gateway
  node: home
  load: load2
  params:
    mqtt: {{broker: scada}}
    enrolment: {{csp: csp_a, zone: Z1, bus: b1, zip: "08001", peak_kw: {SITE_KW}, curtail: {CURTAIL}, {SITE_DATA}}}
- {{id: m2, kind: smart_meter, node: home, unit_id: 2, load: load2, params: {{interval_s: 3600, mqtt: {{broker: scada}}}}}}
"""
PREMISE_ACTOR = f"""
  - id: home1
    domain: Customer
    role: the premise's appliances (its demand, through its ESI gateway)
    applications:
      - {{kind: load_profile, params: {{load: load2, peak_kw: {SITE_KW}, shape: building, noise_pct: 0, step: 300}}}}
"""
POPULATION = f"""
- id: site1
  kind: dr_site_population
  node: field
  params:
    broker: scada
    zones: [{{zone: Z1, load: load1, bus: b1, base_mw: 0, sites: 1, zips: ["08001"]}}]
    csps: [{{csp: csp_a, share: 1}}]
    site_kw_median: {SITE_KW}
    site_kw_sigma: 0
    curtail_min: {CURTAIL}
    curtail_max: {CURTAIL}
    lead_time_mix: {{30: 1.0}}
    emergency_share: 0
    hot_day_factor: 1.0
    {SITE_DATA.replace(", ", chr(10) + "    ")}
"""
CSP_ACTOR = """
  - id: csp_a
    domain: Service Provider
    role: Curtailment Service Provider
    applications:
      - {kind: csp, params: {broker: scada, node: market}}
"""

DECODERS: dict[str, Callable[[bytes], Any]] = {
    "pjm/enrol/csp_a": Enrolment.decode, "esi/status/csp_a": EsiStatus.decode, "ami/+/csp_a": AmiData.decode,
    "pjm/rpm/plan/csp_a": DrPlanMessage.decode, "pjm/mv/csp_a": MvData.decode, "esi/csp_a/+": DrSignal.decode,
    "smart_meter/m2/interval": MeterInterval.decode, "sp/credit/csp_a": SiteCredit.decode,
}


def run_premise(tmp_path: Path, devices: str, actors: str, resources: tuple[str, ...] = (RESOURCE,),
                tap: Callable[[Any], None] | None = None,
                release_s: float | None = None) -> dict[str, list[tuple[float, Any]]]:
    """Run the scenario past the meter read, playing the RTO; every record seen on the CSP's topics, decoded, by filter.

    The RTO calls ``resources`` in one Load Management event and, once the
    CSP's M&V data is in, settles it with the market's settlement and sends
    the CSP its settlement (``pjm/settlement/csp_a``), which the CSP passes
    on to its sites as credits. ``tap(world)`` is called once the world is built.
    With ``release_s`` the RTO releases the event then (``pjm/lm/release/csp_a``)
    and settles it up to the release.
    """
    text = textwrap.dedent("""
        name: one_premise_csp
        run: {duration: 15h, step: 5min, seed: 11}
        actors:
          - {id: utility, domain: Distribution, role: Feeder}
        """) + actors + textwrap.dedent(GRID) + textwrap.dedent(COMM) + "devices:\n" + textwrap.indent(
        textwrap.dedent(devices), "  ")
    tmp_path.mkdir()
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    world, _ctx = build_world(load_scenario(path), None)
    if tap is not None:
        tap(world)
    client = world.service("comm").mqtt_client("ops", "test-rto", "scada")
    seen: dict[str, list[tuple[float, Any]]] = defaultdict(list)
    dispatch = LmDispatch("LM1", "Z1", (), "pre_emergency", 30, 0.01, resources, EVENT_START_S, EVENT_END_S)

    def rto() -> Any:
        yield from client.connect()
        for topic_filter, decoder in DECODERS.items():
            yield from client.subscribe(topic_filter, QoS.AT_LEAST_ONCE,
                                        lambda m, f=topic_filter, d=decoder: seen[f].append((world.now, d(m.payload))))
        yield world.timeout(EVENT_START_S - 1800.0 - world.now)        # the 30-minute lead time
        yield from client.publish("pjm/lm/dispatch/csp_a", dispatch.encode(), QoS.AT_LEAST_ONCE)
        if release_s is not None:
            yield world.timeout(release_s - world.now)
            yield from client.publish("pjm/lm/release/csp_a", LmRelease("LM1", world.now).encode(), QoS.AT_LEAST_ONCE)
        yield world.timeout(READ_AT_S + 60.0 - world.now)
        mv = only(seen, "pjm/mv/csp_a")
        enrolled = [e for _, e in seen["pjm/enrol/csp_a"]]
        committed = {r.resource_id: float(e.committed_kw[e.site_resource == k].sum()) / 1000.0
                     for e in enrolled for k, r in enumerate(e.resources)}
        lm = settle(mv, committed, resources, EVENT_END_S if release_s is None else release_s)
        (event,) = lm.events
        ids, reduction_kw = lm.site_reduction_kw["csp_a"]
        net = event.energy_payment_usd - event.non_performance_charge_usd + event.bonus_payment_usd
        yield from client.publish("pjm/settlement/csp_a", CspSettlementMessage(
            "csp_a", "day0", event.energy_payment_usd, 0.0, event.non_performance_charge_usd, event.bonus_payment_usd,
            net, ids, reduction_kw).encode(), QoS.AT_LEAST_ONCE)

    world.process(rto())
    world.run(READ_AT_S + 300.0)
    return seen


def natural_kw(t: float) -> float:
    return reference.natural_kw(t, SITE_KW)


def expected_metered_kwh(end_s: float = EVENT_END_S) -> np.ndarray:
    """``end_s``: the end of the curtailment (a release ends it early)."""
    return reference.expected_metered_kwh(SITE_KW, READ_AT_S, (EVENT_START_S, end_s), CURTAIL)


def pjm_weekday_cbl_reduction_kw(history: np.ndarray, weekdays: Sequence[int], metered: np.ndarray) -> float:
    return reference.pjm_weekday_cbl_reduction_kw(history, weekdays, metered, (EVENT_START_S, EVENT_END_S))


def settle(mv: MvData, committed_mw: dict[str, float], resources: tuple[str, ...] = (RESOURCE,),
           end_s: float = EVENT_END_S) -> Any:
    """The market's Load Management settlement of the event (to ``end_s``) from what the CSP forwarded."""
    call = LmCall("LM1", "csp_a", frozenset(resources), EVENT_START_S, end_s)
    return settle_load_management([call], {"csp_a": meter_data(mv)}, {("csp_a", r): committed_mw[r] for r in resources},
                                  {"Z1": np.full(24, LMP_USD_PER_MWH)}, CpParameters(300.0))


def only(seen: dict[str, list[tuple[float, Any]]], topic_filter: str) -> Any:
    (item,) = seen[topic_filter]
    return item[1]


def assert_same_record(a: Any, b: Any, rel: float = 0.0) -> None:
    """Field by field: equal scalars and tuples, equal arrays (within ``rel`` for float arrays)."""
    assert type(a) is type(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, field.name
            if rel and x.dtype.kind == "f":
                assert x == pytest.approx(y, rel=rel), field.name
            else:
                assert np.array_equal(x, y), field.name
        else:
            assert x == y, field.name


def test_the_csp_cannot_tell_an_enrolled_gateway_from_a_one_site_population(tmp_path):
    gateway = run_premise(tmp_path / "gateway", GATEWAY, PREMISE_ACTOR + CSP_ACTOR)
    population = run_premise(tmp_path / "population", POPULATION, CSP_ACTOR)

    # Enrolment and the CSP's DR plan made of it: the same resource, site and committed kW.
    enrolment = only(gateway, "pjm/enrol/csp_a")
    assert_same_record(enrolment, only(population, "pjm/enrol/csp_a"))
    assert [r.resource_id for r in enrolment.resources] == [RESOURCE]
    assert_same_record(only(gateway, "pjm/rpm/plan/csp_a"), only(population, "pjm/rpm/plan/csp_a"))

    # The same call from the CSP, to the same resource topic.
    (signal,) = [s for _, s in gateway["esi/csp_a/+"]]
    assert [s for _, s in population["esi/csp_a/+"]] == [signal]
    assert signal.window(0.0) == (EVENT_START_S, EVENT_END_S) and signal.label == "LM1"

    # Availability: the curtailable share of the natural demand, nothing while curtailing.
    statuses = {name: {round(t / 300.0): s for t, s in run["esi/status/csp_a"]}
                for name, run in (("gateway", gateway), ("population", population))}
    common = sorted(set(statuses["gateway"]) & set(statuses["population"]))
    assert len(common) >= 160
    for k in common:
        g, p = statuses["gateway"][k], statuses["population"][k]
        assert_same_record(g, p, rel=1e-9)
    during = [statuses["gateway"][k] for k in common if EVENT_START_S < 300.0 * k < EVENT_END_S]
    assert during and all(s.available_kw[0] == 0.0 for s in during)

    # Interval data and the CSP's M&V record: identical history days, the same metered event day.
    ami_g, ami_p = only(gateway, "ami/+/csp_a"), only(population, "ami/+/csp_a")
    assert_same_record(ami_g, ami_p, rel=1e-6)
    mv_g, mv_p = only(gateway, "pjm/mv/csp_a"), only(population, "pjm/mv/csp_a")
    assert_same_record(mv_g, mv_p, rel=1e-6)

    # The metered event day against the premise's definition and against the independent smart meter.
    expected = expected_metered_kwh()
    hours = slice(0, 14)
    assert mv_g.event_day_kwh[0, hours] == pytest.approx(expected[hours], rel=1e-6)
    meter_kwh = np.zeros(24)
    for _, reading in gateway["smart_meter/m2/interval"]:
        meter_kwh[int(reading.start_s // 3600)] = reading.import_kwh
    assert meter_kwh[hours] == pytest.approx(expected[hours], abs=1e-4)     # 4 decimals in the message

    # Settled the same way, and as PJM's CBL says.
    committed_mw = {RESOURCE: float(enrolment.committed_kw[0]) / 1000.0}
    settled_g, settled_p = settle(mv_g, committed_mw), settle(mv_p, committed_mw)
    history = ami_g.history_kwh[0].astype(np.float64)
    reference = pjm_weekday_cbl_reduction_kw(history, ami_g.weekdays, expected)
    from_meter = pjm_weekday_cbl_reduction_kw(history, ami_g.weekdays, meter_kwh)
    assert reference > 0.5 * CURTAIL * natural_kw(EVENT_START_S)       # a real reduction, not noise
    assert from_meter == pytest.approx(reference, rel=1e-4)
    for settled in (settled_g, settled_p):
        sites, reduction_kw = settled.site_reduction_kw["csp_a"]
        assert sites.tolist() == [0] and reduction_kw[0] == pytest.approx(reference, rel=1e-5)
        (event,) = settled.events
        assert event.energy_payment_usd == pytest.approx(reference / 1000.0 * LMP_USD_PER_MWH, rel=1e-5)
    (event_g,), (event_p,) = settled_g.events, settled_p.events
    assert dataclasses.astuple(event_g) == pytest.approx(dataclasses.astuple(event_p), rel=1e-6)
    # The CSP passes the same credit to the premise.
    credit = only(gateway, "sp/credit/csp_a")
    assert credit.site_index.tolist() == [0] and credit.credit_usd[0] > 0
    assert_same_record(credit, only(population, "sp/credit/csp_a"), rel=1e-6)


def test_a_csp_settles_an_enrolled_gateway_beside_a_population(tmp_path):
    """Two premises of one CSP, one in a one-site population, one behind its gateway: one M&V record, both settled."""
    other = "csp_a.Z1.08002.30P"
    devices = POPULATION.replace("id: site1", "id: pop") + GATEWAY.replace('zip: "08001"', 'zip: "08002"')
    seen = run_premise(tmp_path / "both", devices, PREMISE_ACTOR + CSP_ACTOR, resources=(RESOURCE, other))
    assert sorted(e.population for _, e in seen["pjm/enrol/csp_a"]) == ["pop", "site1"]
    mv = only(seen, "pjm/mv/csp_a")
    assert mv.populations == ("pop", "site1") and mv.population_offset == (0, 1)
    assert mv.site_index.tolist() == [0, 1] and [mv.resources[r] for r in mv.site_resource] == [RESOURCE, other]
    ami = {a.population: a for _, a in seen["ami/+/csp_a"]}
    assert mv.history_kwh[1] == pytest.approx(ami["site1"].history_kwh[0])
    expected = expected_metered_kwh()
    references = [pjm_weekday_cbl_reduction_kw(mv.history_kwh[k].astype(np.float64), ami["pop"].weekdays, expected)
                  for k in range(2)]
    committed = {r.resource_id: float(e.committed_kw[0]) / 1000.0 for _, e in seen["pjm/enrol/csp_a"] for r in e.resources}
    settled = settle(mv, committed, (RESOURCE, other))
    sites, reduction_kw = settled.site_reduction_kw["csp_a"]
    assert sites.tolist() == [0, 1] and reduction_kw == pytest.approx(references, rel=1e-5)
    # Each premise's credit goes back to its own population and site, in proportion to its reduction.
    credits = {c.population: c for _, c in seen["sp/credit/csp_a"]}
    assert sorted(credits) == ["pop", "site1"]
    assert credits["pop"].site_index.tolist() == credits["site1"].site_index.tolist() == [0]
    share = credits["pop"].credit_usd[0] / (credits["pop"].credit_usd[0] + credits["site1"].credit_usd[0])
    assert share == pytest.approx(references[0] / sum(references), rel=1e-6)


# The same premise, enrolled over OpenADR 2.0b: its gateway is the VEN of the CSP's VTN (on the CSP's node, market).
GATEWAY_OPENADR = GATEWAY.replace(f"{SITE_DATA}}}", f"{SITE_DATA}, protocol: openadr, vtn: market}}")
CSP_OPENADR = CSP_ACTOR.replace("{broker: scada, node: market}", "{broker: scada, node: market, protocol: openadr}")
OADR_XSD = importlib.resources.files("openleadr") / "schema" / "oadr_20b.xsd"   # the Alliance's 2.0b schema


def openadr_tap(bodies: list[tuple[str, str, bytes]]) -> Callable[[Any], None]:
    """A tap that keeps (src node, dst node, body) of every OpenADR HTTP exchange the comm layer carries."""
    def tap(world: Any) -> None:
        network = world.service("comm")
        send = network.send

        def spy(src: str, dst: str, protocol: str, payload: Any, size_bytes: int, **kw: Any) -> Any:
            if protocol == "openadr":
                bodies.append((src, dst, payload.body))
            return send(src, dst, protocol, payload, size_bytes, **kw)
        network.send = spy
    return tap


def test_an_enrolled_gateway_called_over_openadr_curtails_and_settles_as_over_mqtt(tmp_path):
    from lxml import etree
    from openleadr.messaging import parse_message

    mqtt = run_premise(tmp_path / "mqtt", GATEWAY, PREMISE_ACTOR + CSP_ACTOR)
    bodies: list[tuple[str, str, bytes]] = []
    oadr = run_premise(tmp_path / "openadr", GATEWAY_OPENADR, PREMISE_ACTOR + CSP_OPENADR, tap=openadr_tap(bodies))

    # The call went over OpenADR only, and every document on the wire is OpenADR 2.0b: the Alliance's schema
    # (as openleadr ships it) validated by libxml2, and read by openleadr's parser.
    assert mqtt["esi/csp_a/+"] and not oadr["esi/csp_a/+"]
    schema = etree.XMLSchema(etree.parse(str(OADR_XSD)))
    kinds = []
    for src, dst, body in bodies:
        assert schema.validate(etree.fromstring(body)), schema.error_log
        kinds.append((src, dst, parse_message(body)[0]))
    assert ("home", "market", "oadrRegisterReport") in kinds and ("market", "home", "oadrRegisteredReport") in kinds
    events = [parse_message(b)[1]["events"] for s, d, b in bodies if parse_message(b)[0] == "oadrDistributeEvent"]
    statuses = [e["event_descriptor"]["event_status"] for batch in events for e in batch]
    assert statuses == ["far", "near", "active", "completed"]   # called 30 min ahead: near 10 min before (default)
    (event,) = events[0]
    assert event["targets_by_type"]["resource_id"] == [RESOURCE]
    assert event["active_period"]["duration"].total_seconds() == EVENT_END_S - EVENT_START_S
    created = [parse_message(b)[1] for s, d, b in bodies if parse_message(b)[0] == "oadrCreatedEvent"]
    assert [r["opt_type"] for c in created for r in c["event_responses"]] == ["optIn"]
    # telemetry while the event is active: the premise's metered kW, its curtailable share shed
    reports = [i["report_payload"] for s, d, b in bodies if parse_message(b)[0] == "oadrUpdateReport"
               for r in parse_message(b)[1]["reports"] for i in r["intervals"]]
    assert reports and {p["r_id"] for p in reports} == {RESOURCE}
    assert reports[0]["value"] == pytest.approx(natural_kw(EVENT_START_S) * (1 - CURTAIL), rel=1e-9)

    # The CSP sees the same premise: the same status, interval data and M&V record, hence the same settlement.
    assert_same_record(only(oadr, "pjm/enrol/csp_a"), only(mqtt, "pjm/enrol/csp_a"))
    status_m = {s.time_s: s for _, s in mqtt["esi/status/csp_a"]}
    status_o = {s.time_s: s for _, s in oadr["esi/status/csp_a"]}
    assert len(status_o) >= 160 and status_o.keys() == status_m.keys()
    for t in status_o:
        assert_same_record(status_o[t], status_m[t], rel=1e-12)
    mv_m, mv_o = only(mqtt, "pjm/mv/csp_a"), only(oadr, "pjm/mv/csp_a")
    assert_same_record(mv_o, mv_m, rel=1e-12)
    assert mv_o.event_day_kwh[0, :14] == pytest.approx(expected_metered_kwh()[:14], rel=1e-6)
    committed_mw = {RESOURCE: float(only(mqtt, "pjm/enrol/csp_a").committed_kw[0]) / 1000.0}
    (event_m,), (event_o,) = settle(mv_m, committed_mw).events, settle(mv_o, committed_mw).events
    assert event_o.energy_payment_usd > 0
    assert dataclasses.astuple(event_o) == pytest.approx(dataclasses.astuple(event_m), rel=1e-12)
    assert_same_record(only(oadr, "sp/credit/csp_a"), only(mqtt, "sp/credit/csp_a"), rel=1e-12)


def test_a_gateway_whose_ems_opts_out_tells_the_vtn_and_does_not_curtail(tmp_path):
    """The EMS opts out (the gateway's dr_opt_out coil) after the gateway opted in: a second oadrCreatedEvent, optOut."""
    from openleadr.messaging import parse_message

    bodies: list[tuple[str, str, bytes]] = []
    keep = openadr_tap(bodies)

    def tap(world: Any) -> None:
        keep(world)
        master = world.service("comm").modbus_client("scada", "home")

        def ems() -> Any:
            yield world.timeout(EVENT_START_S - 1200.0)          # the call came 30 min ahead; 10 min later the EMS
            yield from master.write_coil(1, 1, True)             # dr_opt_out
        world.process(ems())

    seen = run_premise(tmp_path / "optout", GATEWAY_OPENADR, PREMISE_ACTOR + CSP_OPENADR, tap=tap)
    created = [(d, parse_message(b)[1]) for s, d, b in bodies if parse_message(b)[0] == "oadrCreatedEvent"]
    answers = [(d, r["event_id"], r["opt_type"], r["response_description"]) for d, c in created
               for r in c["event_responses"]]
    assert [a[:3] for a in answers] == [("market", f"LM1:{RESOURCE}", "optIn"), ("market", f"LM1:{RESOURCE}", "optOut")]
    assert "opted out" in answers[1][3]
    # no curtailment: the event day is the premise's natural demand, hour by hour
    natural = np.array([sum(natural_kw(t) * 300.0 / 3600.0 for t in np.arange(3600.0 * h, 3600.0 * (h + 1), 300.0))
                        for h in range(14)])
    assert only(seen, "pjm/mv/csp_a").event_day_kwh[0, :14] == pytest.approx(natural, rel=1e-6)


RELEASE_S = EVENT_START_S + 1800.0   # the RTO releases the 12:00-13:00 event at 12:30


def test_a_released_event_restores_the_gateways_load_at_once_over_mqtt_and_openadr(tmp_path):
    """The RTO releases the event half way: the gateway stops curtailing on receipt, whichever protocol carried it.

    Over OpenADR the event is sent again cancelled with its modificationNumber
    incremented (2.0b profile clause 8.1), every document checked by the
    Alliance's schema. The metered hours are the premise's definition with the
    curtailment ending at the release: the release reaches the gateway some
    ms after 12:30, so the first step after it is curtailed for those ms
    (< 1 s of 20 % of 50 kW: < 3e-3 kWh of the hour's ~45 kWh, within 1e-4).
    """
    from lxml import etree
    from openleadr.messaging import parse_message

    mqtt = run_premise(tmp_path / "mqtt", GATEWAY, PREMISE_ACTOR + CSP_ACTOR, release_s=RELEASE_S)
    bodies: list[tuple[str, str, bytes]] = []
    oadr = run_premise(tmp_path / "openadr", GATEWAY_OPENADR, PREMISE_ACTOR + CSP_OPENADR, tap=openadr_tap(bodies),
                       release_s=RELEASE_S)
    schema = etree.XMLSchema(etree.parse(str(OADR_XSD)))
    for _, _, body in bodies:
        assert schema.validate(etree.fromstring(body)), schema.error_log
    events = [e for _, _, b in bodies if parse_message(b)[0] == "oadrDistributeEvent"
              for e in parse_message(b)[1]["events"]]
    assert [(e["event_descriptor"]["event_status"], e["event_descriptor"]["modification_number"]) for e in events] \
        == [("far", 0), ("near", 0), ("active", 0), ("cancelled", 1)]
    expected = expected_metered_kwh(RELEASE_S)[:14]
    assert expected[12] != pytest.approx(expected_metered_kwh()[12], rel=1e-2)   # the release matters in hour 12
    committed_mw = {RESOURCE: float(only(mqtt, "pjm/enrol/csp_a").committed_kw[0]) / 1000.0}
    settled = []
    for seen in (mqtt, oadr):
        mv = only(seen, "pjm/mv/csp_a")
        assert mv.event_day_kwh[0, :14] == pytest.approx(expected, rel=1e-4)
        (event,) = settle(mv, committed_mw, end_s=RELEASE_S).events
        settled.append(event)
    assert settled[0].energy_payment_usd > 0
    assert dataclasses.astuple(settled[1]) == pytest.approx(dataclasses.astuple(settled[0]), rel=1e-4)
