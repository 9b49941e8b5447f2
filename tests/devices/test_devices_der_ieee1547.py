"""IEEE 1547-2018 stories of the DER inverter, read over its SunSpec/Modbus interface.

Expected times come from the standard's default settings: Table 12 (Category
II shall-trip: UV2 0.45 pu, 0.16 s), Table 16 (Category III ride-through: V <
0.50 pu momentary cessation for 1 s, UV2 0.50 pu / 2 s in Table 13) and
4.10 / Table 4 (enter service after 300 s within 0.917..1.05 pu, then a 300 s
ramp).
"""

import pytest

from devices.ieee1547 import AbnormalCategory, Region, ride_through_band
from devworlds import scenario_file, start

FAULT_AT, CLEARED_AT = 100.0, 100.5


def inverter_scenario(tmp_path, category: str) -> object:
    return scenario_file(tmp_path, f"""
        - id: inv1
          kind: der_inverter
          node: field
          der: pv1
          params: {{rated_kw: 300, volt_var: {{enabled: true}}, ieee1547: {{category: "{category}"}}}}
        """, events=f"""
        - {{at: {FAULT_AT}, kind: fault, target: bus/b2}}
        - {{at: {CLEARED_AT}, kind: clear_fault}}
        """)


def poller(run, times):
    """Read W, VAr, St and Evt1 of model 103 over Modbus at each of ``times``."""
    point = run.devices["inv1"].store.register_map.point
    master = run.comm.modbus_client("scada", "field")
    out = {}
    voltages_pu = out.setdefault("v_pu", {})

    def read_at(t):
        def script():
            w = yield from master.read_holding_registers(1, point("inverter.W").address, 2)   # W, W_SF
            var = yield from master.read_holding_registers(1, point("inverter.VAr").address, 2)  # VAr, VAr_SF
            st = yield from master.read_holding_registers(1, point("inverter.St").address, 1)
            evt = yield from master.read_holding_registers(1, point("inverter.Evt1").address, 2)
            vab = yield from master.read_holding_registers(1, point("inverter.PPVphAB").address, 1)
            v_sf = yield from master.read_holding_registers(1, point("inverter.V_SF").address, 1)
            signed = lambda r: r - 65536 if r >= 32768 else r  # noqa: E731
            out[t] = (signed(w[0]) * 10 ** signed(w[1]), signed(var[0]) * 10 ** signed(var[1]), st[0],
                      (evt[0] << 16) | evt[1])
            voltages_pu[t] = vab[0] * 10.0 ** signed(v_sf[0]) / 11_000.0  # 11 kV nominal
        return script

    for t in times:
        run.at(t, read_at(t))
    return out


def test_category_iii_rides_through_a_half_second_fault_in_momentary_cessation(tmp_path):
    run = start(inverter_scenario(tmp_path, "III"))
    readings = poller(run, [90.0, 100.2, 101.0, 130.0])
    run.run(140.0)
    v_fault = readings["v_pu"][100.2]
    assert ride_through_band(AbnormalCategory.III, v_fault).region is Region.MOMENTARY_CESSATION and v_fault < 0.05
    w0, var0, st0, _ = readings[90.0]
    assert w0 == pytest.approx(250_000, abs=10) and var0 != 0 and st0 == 4
    w, var, st, evt = readings[100.2]
    assert (w, var, st, evt) == (0, 0, 8, 0)                 # no active nor reactive current, standby, no trip
    w, _, st, evt = readings[101.0]
    assert w == pytest.approx(250_000, abs=10) and st == 4 and evt == 0  # output restored, no enter-service delay
    assert readings[130.0][1] == pytest.approx(var0, abs=20)
    states = [(e["time_s"], e["state"]) for e in run.of_kind("der_ieee1547")]
    assert states == [(FAULT_AT, "ceased to energise"), (CLEARED_AT, "in service")]


def test_category_ii_trips_on_uv2_and_returns_after_its_enter_service_delay_with_a_ramp(tmp_path):
    run = start(inverter_scenario(tmp_path, "II"))
    readings = poller(run, [100.1, 100.3, 399.0, 402.0, 550.0, 720.0])
    run.run(730.0)
    states = [(e["time_s"], e["state"], e["tripped_by"]) for e in run.of_kind("der_ieee1547")]
    assert states[0] == (FAULT_AT, "ceased to energise", "")   # V < 0.30 pu: cease to energise (Table 15)
    assert states[1][1:] == ("tripped", "UV2") and states[1][0] == pytest.approx(FAULT_AT + 0.16, rel=1e-12)
    assert states[2][1] == "entering service" and states[2][0] == pytest.approx(CLEARED_AT + 300.0, rel=1e-12)
    assert states[3][1] == "in service" and states[3][0] == pytest.approx(CLEARED_AT + 600.0, rel=1e-12)
    assert readings[100.1][:3] == (0, 0, 8) and readings[100.1][3] == 0
    assert ride_through_band(AbnormalCategory.II, readings["v_pu"][100.1]).region is Region.CEASE_TO_ENERGISE
    assert readings[100.3][3] == (1 << 4) | (1 << 11)        # Evt1: grid disconnect, AC under-voltage
    w, _, st, evt = readings[399.0]
    assert w == 0 and st == 8 and evt == (1 << 4) | (1 << 11)  # still waiting: voltage normal for < 300 s
    w, _, st, evt = readings[402.0]
    assert 0 < w < 0.02 * 300_000 and st == 3 and evt == 0   # reconnected, ramp just started
    ramp_share = (550.0 - (CLEARED_AT + 300.0)) / 300.0
    assert readings[550.0][0] == pytest.approx(ramp_share * 300_000, rel=0.1)  # linear ramp of WMax
    assert readings[720.0][0] == pytest.approx(250_000, abs=10) and readings[720.0][2] == 4


@pytest.mark.parametrize("category, v_pu, f_hz, nominal_hz, element, trip_after_s", [
    ("I", 0.60, 60.0, 60.0, "UV1", 2.0),      # Table 11
    ("II", 0.60, 60.0, 60.0, "UV1", 10.0),    # Table 12
    ("III", 0.60, 60.0, 60.0, "UV1", 21.0),   # Table 13
    ("II", 0.40, 60.0, 60.0, "UV2", 0.16),
    ("III", 0.40, 60.0, 60.0, "UV2", 2.0),
    ("II", 1.15, 60.0, 60.0, "OV1", 2.0),
    ("III", 1.15, 60.0, 60.0, "OV1", 13.0),
    ("II", 1.25, 60.0, 60.0, "OV2", 0.16),
    ("II", 1.00, 58.0, 60.0, "UF1", 300.0),   # Table 18
    ("II", 1.00, 62.5, 60.0, "OF2", 0.16),
    ("II", 1.00, 48.5, 50.0, "UF1", 300.0),   # 58.5 Hz scaled to 50 Hz: 48.75 Hz
])
def test_shall_trip_clearing_times_follow_the_standards_tables(category, v_pu, f_hz, nominal_hz, element, trip_after_s):
    from devices.ieee1547 import AbnormalResponse, Settings, State

    logic = AbnormalResponse(Settings(AbnormalCategory(category), nominal_hz=nominal_hz))
    t0 = 1000.0
    logic.step(t0, 1.0, nominal_hz)
    logic.step(t0, v_pu, f_hz)
    assert logic.state is not State.TRIPPED
    due = logic.next_event_time_s()
    assert due == pytest.approx(t0 + trip_after_s, rel=1e-12)
    logic.step(due, v_pu, f_hz)
    assert logic.state is State.TRIPPED and logic.tripped_by == element


@pytest.mark.parametrize("category, v_pu, region", [
    ("II", 0.20, Region.CEASE_TO_ENERGISE), ("II", 0.35, Region.PERMISSIVE), ("II", 0.70, Region.MANDATORY),
    ("II", 0.88, Region.CONTINUOUS), ("II", 1.10, Region.CONTINUOUS), ("II", 1.18, Region.PERMISSIVE),
    ("III", 0.40, Region.MOMENTARY_CESSATION), ("III", 1.15, Region.MOMENTARY_CESSATION),
    ("I", 0.60, Region.PERMISSIVE), ("I", 0.45, Region.CEASE_TO_ENERGISE),
])
def test_ride_through_regions_follow_tables_14_to_16(category, v_pu, region):
    assert ride_through_band(AbnormalCategory(category), v_pu).region is region
