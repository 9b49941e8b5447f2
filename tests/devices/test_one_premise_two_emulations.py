"""One premise, emulated twice: an ESI gateway with a smart meter, and a one-site DR population.

Both take the same DR signal payload (the same bytes) and must hold the same
call, shed the same share and meter the same reduction. The premise's
natural demand is the population's documented model with its randomness
switched off (50 kW x the "building" hourly shape, linearly interpolated
between hours); the test drives the gateway's demand from that definition
itself. The reference reduction is PJM's weekday CBL computed here from its
definition (Manual 11 section 10: the 5 most recent eligible weekdays, the 4
with the highest mean load over the event hours, averaged hour by hour,
shifted by the symmetric additive adjustment: the mean of actual - CBL over
the 3 hours ending 1 hour before the event starts), applied to the expected
metered load (natural demand, less 20 % during the event).
"""

import json
from typing import Sequence

import numpy as np
import premise_reference as reference
import pytest
from devworlds import scenario_file, start

from cosim.comm import QoS
from cosim.markets.wire import decode
from devices.esi_signals import DrSignal

SITE_KW = 50.0
EVENT_START_S, EVENT_END_S = 5 * 3600.0, 6 * 3600.0
READ_AT_S = 7 * 3600.0

DEVICES = f"""
- {{id: esi1, kind: esi_gateway, node: home, load: load2, params: {{mqtt: {{broker: scada}}}}}}
- {{id: m2, kind: smart_meter, node: home, unit_id: 2, load: load2, params: {{interval_s: 3600, mqtt: {{broker: scada}}}}}}
- id: pop
  kind: dr_site_population
  node: field
  params:
    broker: scada
    zones: [{{zone: Z1, load: load1, bus: b1, base_mw: 0, sites: 1, zips: ["08001"]}}]
    csps: [{{csp: csp_a, share: 1}}]
    site_kw_median: {SITE_KW}
    site_kw_sigma: 0
    curtail_min: 0.2
    curtail_max: 0.2
    lead_time_mix: {{30: 1.0}}
    emergency_share: 0
    noise_pct: 0
    day_sigma_pct: 0
    hot_day_factor: 1.0
    meter_read_at: {READ_AT_S}
"""


def natural_kw(t: float) -> float:
    return reference.natural_kw(t, SITE_KW)


def expected_metered_kwh() -> np.ndarray:
    return reference.expected_metered_kwh(SITE_KW, READ_AT_S, (EVENT_START_S, EVENT_END_S), 0.2)


def pjm_weekday_cbl_reduction_kw(history: np.ndarray, weekdays: Sequence[int], metered: np.ndarray) -> float:
    return reference.pjm_weekday_cbl_reduction_kw(history, weekdays, metered, (EVENT_START_S, EVENT_END_S))


def test_gateway_with_meter_and_one_site_population_meter_the_same_reduction(tmp_path):
    run = start(scenario_file(tmp_path, DEVICES, duration="8h"))
    gateway = run.devices["esi1"]

    def demand_model():
        t = 0.0
        while t < READ_AT_S + 600:
            yield run.world.timeout(max(0.0, t - run.world.now))
            kw = natural_kw(t)
            gateway.set_premise_demand(kw * 1000.0, 0.3 * kw * 1000.0)
            t += 300.0

    run.world.process(demand_model())
    signal = DrSignal(7, EVENT_END_S - EVENT_START_S, EVENT_START_S, 20.0, label="LM1").encode()
    publish = run.publisher("market")
    publish(3600.0, "esi_gateway/esi1/dr", signal)
    publish(3600.0, "esi/csp_a/csp_a.Z1.08001.30P", signal)
    intervals: list[dict] = []
    ami: list[tuple[dict, dict]] = []
    client = run.comm.mqtt_client("ops", "test-ops", "scada")

    def listen():
        yield from client.connect()
        yield from client.subscribe("smart_meter/m2/interval", QoS.AT_LEAST_ONCE,
                                    lambda m: intervals.append(json.loads(m.payload)))
        yield from client.subscribe("ami/pop/csp_a", QoS.AT_LEAST_ONCE, lambda m: ami.append(decode(m.payload)))

    run.world.process(listen())
    run.run(READ_AT_S + 300.0)

    # The same payload held as the same call by both emulations.
    (gateway_event,) = run.of_kind("esi_dr_event")
    (population_call,) = run.of_kind("esi_signal")
    assert (gateway_event["start_s"], gateway_event["start_s"] + gateway_event["duration_s"]) == \
        (population_call["start_s"], population_call["end_s"]) == (EVENT_START_S, EVENT_END_S)

    header, arrays = ami[-1]
    population_kwh = arrays["event_day_kwh"][0].astype(np.float64)
    gateway_kwh = np.zeros(24)
    for reading in intervals:
        gateway_kwh[int(reading["start_s"] // 3600)] = reading["import_kwh"]
    expected = expected_metered_kwh()
    hours = slice(1, 7)   # hour 0 holds the feeder's initial load on load2 until the first demand step
    assert population_kwh[hours] == pytest.approx(expected[hours], rel=1e-6)       # float32 on the wire
    assert gateway_kwh[hours] == pytest.approx(expected[hours], abs=1e-4)          # 4 decimals in the message

    history = arrays["history_kwh"][0].astype(np.float64)      # the premise's past days, the same premise
    reference = pjm_weekday_cbl_reduction_kw(history, header["weekdays"], expected)
    from_population = pjm_weekday_cbl_reduction_kw(history, header["weekdays"], population_kwh)
    from_gateway = pjm_weekday_cbl_reduction_kw(history, header["weekdays"], gateway_kwh)
    assert reference > 0.1 * natural_kw(EVENT_START_S)          # a real reduction, not noise
    assert from_population == pytest.approx(reference, rel=1e-5)
    assert from_gateway == pytest.approx(reference, rel=1e-4)
