"""The point store is protocol-neutral: a master's write by name is checked by the point's own declaration.

Refusals are named (:class:`Refusal`), not protocol codes; the Modbus view
then holds what the register map's definition says (raw = engineering value /
scale, at the point's address); the store's module imports no protocol.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cosim.comm.modbus.datamodel import ModbusTable
from devices.encoding import EncodingError
from devices.pointstore import PointStore, Refusal, WriteRefused
from devices.registermap import Access, DataType, Point, RegisterMap
from devices.registerstore import RegisterStore

MAP = RegisterMap("test", (
    Point("current_a", ModbusTable.INPUT_REGISTERS, 0, DataType.U16, 0.1, "A"),
    Point("pickup_a", ModbusTable.HOLDING_REGISTERS, 10, DataType.U16, 0.5, "A", Access.READ_WRITE, 10, 2000,
          protection_setting=True, default=400),
    Point("setpoint_pu", ModbusTable.HOLDING_REGISTERS, 20, DataType.I32, 0.001, "pu", Access.READ_WRITE, 0.9, 1.1,
          default=1.0),
))


def test_refusals_are_named_by_what_the_point_declares():
    store = RegisterStore(MAP)
    cases = [("current_a", 5.0, Refusal.NOT_WRITABLE), ("pickup_a", 500, Refusal.LOCKED),
             ("setpoint_pu", 1.2, Refusal.OUT_OF_RANGE)]
    for name, value, refusal in cases:
        with pytest.raises(WriteRefused) as refused:
            store.write_point(name, value)
        assert (refused.value.refusal, refused.value.point) == (refusal, name)
    with pytest.raises(EncodingError):
        store.write_point("setpoint_pu", "high")
    store.protection_writes_allowed = True
    with pytest.raises(WriteRefused) as refused:
        store.write_point("pickup_a", 2000.5)
    assert refused.value.refusal is Refusal.OUT_OF_RANGE


def test_a_write_by_name_is_what_the_modbus_view_serves():
    store = RegisterStore(MAP, protection_writes_allowed=True)
    seen: list[tuple[str, object]] = []
    store.on_write("pickup_a", lambda point, value: seen.append((point.name, value)))
    store.write_point("pickup_a", 512.5)
    store.write_point("setpoint_pu", 0.95)
    assert seen == [("pickup_a", 512.5)]
    assert store.read(ModbusTable.HOLDING_REGISTERS, 10, 1) == [1025]  # raw = 512.5 A / 0.5 A
    assert store.read(ModbusTable.HOLDING_REGISTERS, 20, 2) == [0, 950]  # I32 high word first: 0.95 pu / 0.001
    assert PointStore(MAP).get("pickup_a") == 400  # every store starts at the declared defaults


def test_the_point_store_imports_no_protocol():
    tree = ast.parse((Path(__file__).parents[2] / "devices" / "pointstore.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.startswith(("cosim.comm", "devices.protocols", "devices.registerstore"))}
