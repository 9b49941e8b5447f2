"""Register maps refuse layouts a server could not serve, and say every problem at once."""

import pytest

from cosim.comm.modbus.datamodel import ModbusTable
from devices.registermap import Access, DataType, Point, RegisterMap, RegisterMapError

HR = ModbusTable.HOLDING_REGISTERS
IR = ModbusTable.INPUT_REGISTERS


def test_a_32_bit_point_takes_two_registers_and_overlaps_are_refused():
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap("bad", (Point("energy", IR, 10, DataType.U32), Point("voltage", IR, 11, DataType.U16)))
    assert "address 11 already used by energy" in str(caught.value)


def test_every_problem_is_listed():
    points = (
        Point("a", HR, 0, DataType.U16),
        Point("a", HR, 1, DataType.U16),                                   # duplicate name
        Point("flag", HR, 2, DataType.BOOL),                               # bool in a register table
        Point("setting", IR, 3, DataType.U16, access=Access.READ_WRITE),   # writable in read-only table
        Point("tail", HR, 65535, DataType.F32),                            # runs past 65535
        Point("limits", HR, 4, DataType.U16, access=Access.READ_WRITE, minimum=5, maximum=1),
        Point("prot", HR, 5, DataType.U16, protection_setting=True),       # protection but read-only
        Point("big", HR, 6, DataType.U16, default=70000),                  # default not encodable
    )
    with pytest.raises(RegisterMapError) as caught:
        RegisterMap("bad", points)
    flagged = {problem.split(" ")[0] for problem in caught.value.problems}
    assert flagged == {"a", "flag", "setting", "tail", "limits", "prot", "big"}


def test_lookup_by_name_and_table_order():
    register_map = RegisterMap(
        "ok", (Point("b", HR, 5, DataType.I32), Point("a", HR, 0, DataType.U16), Point("c", IR, 0, DataType.F32))
    )
    assert register_map.point("b").end_address == 7
    assert [p.name for p in register_map.in_table(HR)] == ["a", "b"]
    assert register_map.tables() == (HR, IR)
    with pytest.raises(KeyError, match="no point 'zz'"):
        register_map.point("zz")
