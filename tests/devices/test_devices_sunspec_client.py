"""The DER inverter's SunSpec map as a third-party client sees it: pysunspec2 over real Modbus TCP on 127.0.0.1.

pysunspec2 (the SunSpec Alliance's own client) scans the device, resolves
every scale factor and reports "not implemented" points as None. A 2 MVA
inverter on an 11 kV bus must read its real line voltage and power (with
fixed scale factors they saturated at 65535 = not implemented, and clipped at
327.67 kW), and an operator must be able to rewrite the IEEE 1547 volt-var
curve (model 126) and basic settings (model 121).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sunspec2.modbus.client as client  # pysunspec2, in the test extra
import sunspec2.modbus.modbus as modbus

from cosim.comm.modbus.server import ModbusServer
from cosim.hil.bridge import IoThread, SimInbox
from cosim.hil.modbus_tcp import ModbusTcpServer
from devworlds import GRID, scenario_file, start


BIG_PV = GRID.replace("p_mw: 0.25, p_max_mw: 0.3", "p_mw: 1.5, p_max_mw: 2.0").replace(
    "{name: load2, bus: b2, p_mw: 1.0, q_mvar: 0.3, customers: 200}",
    "{name: load2, bus: b2, p_mw: 2.5, q_mvar: 0.3, customers: 200}")


class SunSpecBench:
    """A device's register store served on a loopback port; requests are answered on the test's (SimPy) thread."""

    def __init__(self, store: Any) -> None:
        server = ModbusServer()
        server.add_unit(1, store)
        self.io = IoThread().start()
        self.inbox = SimInbox()
        self.edge = ModbusTcpServer(server, self.io, self.inbox)
        self.port = self.edge.start()

    def call(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (a blocking client session) in a worker thread, serving its requests here meanwhile."""
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(work)
            while not future.done():
                if self.inbox.wait(0.02):
                    for job in self.inbox.take_all():
                        job()
            return future.result()

    def close(self) -> None:
        self.edge.stop()
        self.io.stop()


def session(port: int, body: Callable[[Any], Any]) -> Callable[[], Any]:
    def work() -> Any:
        device = client.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=5)
        try:
            device.scan()
            return body(device)
        finally:
            device.close()
    return work


@pytest.fixture
def bench(tmp_path):
    path = scenario_file(tmp_path, """
        - id: inv1
          kind: der_inverter
          node: field
          der: pv1
          params: {rated_kva: 2200, volt_var: {enabled: false}}
        """, grid=BIG_PV)
    run = start(path)
    run.run(10.0)
    served = SunSpecBench(run.devices["inv1"].store)
    yield run, served
    served.close()


def test_pysunspec2_discovers_every_model_and_reads_megawatts_and_kilovolts(bench):
    run, served = bench

    def body(device):
        found = sorted(k for k in device.models if isinstance(k, int))
        inverter = device.models[103][0]
        nameplate = device.models[120][0]
        settings = device.models[121][0]
        return (found, inverter.PPVphAB.cvalue, inverter.PhVphA.cvalue, inverter.W.cvalue, inverter.Hz.cvalue,
                inverter.DCA.cvalue, inverter.TmpCab.cvalue, nameplate.WRtg.cvalue, nameplate.VARtg.cvalue,
                nameplate.VArRtgQ2.cvalue, settings.WMax.cvalue, settings.VAMax.cvalue)

    (found, v_ll, v_ln, w, hz, dca, tmp, w_rtg, va_rtg, q2, w_max, va_max) = served.call(session(served.port, body))
    truth = run.grid.measurements()
    assert found == [1, 103, 120, 121, 123, 126]
    assert v_ll == pytest.approx(truth.bus_voltage("b2").v_kv * 1000, abs=1.0) and v_ll > 10_000
    assert v_ln == pytest.approx(v_ll / np.sqrt(3), abs=1.0)
    assert w == pytest.approx(1.5e6, abs=100.0) and w > 327_670     # no clipping at 327.67 kW
    assert hz == 50.0
    assert dca is None and tmp is None and q2 is None                # not implemented, not 0
    assert (w_rtg, va_rtg, w_max, va_max) == (2.0e6, 2.2e6, 2.0e6, 2.2e6)


def test_pysunspec2_writes_the_volt_var_curve_and_the_inverter_follows_it(bench):
    run, served = bench
    new_curve = [(95.0, 30.0), (99.0, 0.0), (101.0, 0.0), (105.0, -30.0)]

    def write(device):
        volt_var = device.models[126][0]
        curve = volt_var.curve[0]
        for k, (v_pct, q_pct) in enumerate(new_curve, start=1):
            getattr(curve, f"V{k}").cvalue = v_pct
            getattr(curve, f"VAr{k}").cvalue = q_pct
        curve.RmpTms.cvalue = 1
        volt_var.ModEna.cvalue = 1
        volt_var.write()
        bad = device.models[126][0].curve[0]
        bad.V2.cvalue = 90.0                                         # below V1: not increasing
        try:
            bad.write()
            refused = ""
        except modbus.ModbusClientException as error:  # pysunspec2's error for an exception response
            refused = str(error)
        device.models[126][0].read()
        return refused, device.models[126][0].curve[0].V2.cvalue

    refused, v2_after = served.call(session(served.port, write))
    assert refused.endswith(" 3") and v2_after == 99.0  # exception 03, ILLEGAL DATA VALUE; nothing changed                              # the invalid write changed nothing
    run.run(60.0)

    def read(device):
        inverter = device.models[103][0]
        return inverter.PhVphA.cvalue, inverter.VAr.cvalue, device.models[126][0].ModEna.cvalue

    v_ln, var, enabled = served.call(session(served.port, read))
    v_pct = v_ln / (11_000 / np.sqrt(3)) * 100
    expected_var = np.interp(v_pct, [v for v, _ in new_curve], [q for _, q in new_curve]) / 100 * 2.2e6
    assert enabled == 1 and v_pct < 99.0 and expected_var > 0
    assert var == pytest.approx(expected_var, abs=0.02 * 2.2e6)     # within the 1 % deadband plus resolution
