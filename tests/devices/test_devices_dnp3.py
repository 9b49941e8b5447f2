"""DNP3 controls obey the device's own rules, as Modbus writes do: a capacitor controller in voltage mode refuses
the bank control (AUTOMATION_INHIBIT, Modbus's exception 01), takes a mode change by analog output, then obeys."""

from __future__ import annotations

from typing import Any, Generator

from cosim.comm.dnp3 import AnalogOutput, CommandStatus, Crob, FunctionCode, OpType
from cosim.operations.dnp3_master import Dnp3MasterSession, Heard
from devworlds import scenario_file, start


def test_the_capacitor_bank_control_is_inhibited_in_voltage_mode_and_obeyed_in_manual(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: cap_ctl, kind: capacitor_bank_controller, node: field, shunt: cap1,
           params: {control_mode: voltage, voltage_setpoint_pu: 0.97, voltage_bandwidth_pu: 0.1},
           protocols: {modbus: {}, dnp3: {address: 30}}}
        """)
    run = start(path)
    session = Dnp3MasterSession(1, 30)
    answers: list[Any] = []
    run.comm.attach("scada", "dnp3", lambda message: answers.extend(session.receive(bytes(message.payload))))

    def operate(command: Crob | AnalogOutput) -> Generator[Any, Any, CommandStatus]:
        answers.clear()
        _, octets = session.control(FunctionCode.DIRECT_OPERATE, 0, command)
        run.comm.send("scada", "field", "dnp3", octets, len(octets))
        while not any(isinstance(h, Heard) and not h.response.control.unsolicited for h in answers):
            yield run.world.timeout(0.05)
        heard = next(h for h in answers if not h.response.control.unsolicited)
        status = heard.response.headers[0].items[0][1].status
        assert isinstance(status, CommandStatus)
        return status

    def script() -> Generator[Any, Any, list[CommandStatus]]:
        refused = yield from operate(Crob(OpType.LATCH_ON))
        manual = yield from operate(AnalogOutput(0))  # control_mode 0: manual
        yield run.world.timeout(1.0)
        obeyed = yield from operate(Crob(OpType.LATCH_ON))
        yield run.world.timeout(1.0)
        return [refused, manual, obeyed]

    out = run.at(10.0, script)
    run.run(30.0)
    assert out[0] == [CommandStatus.AUTOMATION_INHIBIT, CommandStatus.SUCCESS, CommandStatus.SUCCESS]
    assert [e["closed"] for e in run.of_kind("capacitor_switch")] == [True]
