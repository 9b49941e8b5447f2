"""An RTU as IEC 104 controlled station in simulated time: its refusals, and a set point that moves the grid.

A controlling station built from our sans-IO session talks to the RTU through
the comm layer. Requests the station cannot serve are answered as
IEC 60870-5-101 clause 7.2.3 says (the ASDU mirrored with cause 44-47 and
P/N set); a set point outside the point's limits is refused by the store
as a Modbus write would be; one inside them is confirmed, terminated and
carried out on the grid.
"""

from __future__ import annotations

from typing import Any, Generator

import pytest

from cosim.comm.iec104 import Asdu, Cause, TypeId
from cosim.errors import ScenarioError
from cosim.operations.iec104_master import Iec104MasterSession

from devworlds import scenario_file, start

RTU = """
    - id: rtu
      kind: rtu
      node: field
      protocols: {iec104: {common_address: 7}}
      params:
        points:
          - {name: cap_step, kind: analog, source: "shunt/cap1:step", data_type: u16}
          - {name: cap_setpoint, kind: setpoint, source: "shunt/cap1:step", data_type: u16, minimum: 0, maximum: 1}
"""


def test_the_station_refuses_what_it_cannot_serve_and_obeys_a_set_point(tmp_path):
    run = start(scenario_file(tmp_path, RTU))
    session = Iec104MasterSession()
    heard: list[Asdu] = []

    def receive(message: Any) -> None:
        result = session.receive(bytes(message.payload))
        assert result.error is None
        heard.extend(result.asdus)
        for reply in result.replies:
            run.comm.send("scada", "field", "iec104", reply, len(reply))

    run.comm.attach("scada", "iec104", receive)

    def ask(apdus: list[bytes], answers: int) -> Generator[Any, Any, list[Asdu]]:
        heard.clear()
        for apdu in apdus:
            run.comm.send("scada", "field", "iec104", apdu, len(apdu))
        for _ in range(100):
            if len(heard) >= answers:
                break
            yield run.world.timeout(0.05)
        return list(heard)

    def script() -> Generator[Any, Any, dict[str, list[Asdu]]]:
        yield from ask([session.start()], 0)
        yield run.world.timeout(0.5)
        out = {"unknown_ca": (yield from ask(session.interrogation(8), 1)),
               "unknown_ioa": (yield from ask(session.command(7, 2001, True, select=False), 1)),
               "out_of_range": (yield from ask(session.command(7, 3001, 5.0, select=False), 1)),
               "in_range": (yield from ask(session.command(7, 3001, 1.0, select=False), 2))}
        yield run.world.timeout(1.0)
        out["interrogation"] = yield from ask(session.interrogation(0xFFFF), 3)
        return out

    result = run.at(1.0, script)
    run.run(30.0)
    answers = result[0]
    assert [(a.cause, a.negative) for a in answers["unknown_ca"]] == [(Cause.UNKNOWN_COMMON_ADDRESS, True)]
    assert [(a.cause, a.negative) for a in answers["unknown_ioa"]] == [(Cause.UNKNOWN_IOA, True)]
    assert [(a.cause, a.negative) for a in answers["out_of_range"]] == [(Cause.ACTIVATION_CON, True)]
    in_range = answers["in_range"]
    assert [(a.cause, a.negative) for a in in_range if a.type_id is TypeId.C_SE_NC_1] == [
        (Cause.ACTIVATION_CON, False), (Cause.ACTIVATION_TERMINATION, False)]
    # The bank switched in: the station's analog of the step went out spontaneously with its time tag.
    spontaneous = [a for a in in_range if a.cause is Cause.SPONTANEOUS]
    assert [(a.type_id, a.objects[0].ioa, a.objects[0].element.value) for a in spontaneous] == [  # type: ignore[union-attr]
        (TypeId.M_ME_TF_1, 1001, 1.0)]
    # The broadcast interrogation reaches the one station: ACT_CON, the analog (the bank switched in), ACT_TERM.
    gi = answers["interrogation"]
    assert [a.cause for a in gi] == [Cause.ACTIVATION_CON, Cause.INTERROGATED_BY_STATION, Cause.ACTIVATION_TERMINATION]
    assert gi[1].type_id is TypeId.M_ME_NC_1 and gi[1].objects[0].ioa == 1001
    assert gi[1].objects[0].element.value == 1.0  # type: ignore[union-attr]
    assert int(run.grid.network.shunts.step[0]) == 1
    refused = run.of_kind("iec104_command_refused")
    assert len(refused) == 1 and "cap_setpoint" in refused[0]["error"]


@pytest.mark.parametrize("devices, message", [
    ("""
    - {id: r1, kind: protective_relay, node: field, switch: cb, protocols: {iec104: {common_address: 1}}}
    """, "protocols.iec104: a protective_relay has no iec104 view"),
    (RTU + RTU.replace("id: rtu", "id: rtu2"), "iec104 common_address 7 on node 'field' already used by devices[0]"),
])
def test_a_protocol_a_kind_cannot_serve_or_a_shared_address_is_a_scenario_error(tmp_path, devices, message):
    with pytest.raises(ScenarioError) as error:
        start(scenario_file(tmp_path, devices))
    assert message in str(error.value)
