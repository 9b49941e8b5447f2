"""Every device kind's map builds, serves, and matches its committed documentation page."""

import pytest

from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable
from devices import docs
from devices.registermap import DataType, RegisterMapError
from devices.registermaps import DeviceKind, RtuPoint, RtuPointKind, documented_map, rtu_map, standard_map
from devices.registermaps.der_inverter import der_inverter_map
from devices.registerstore import RegisterStore

HR = ModbusTable.HOLDING_REGISTERS


@pytest.mark.parametrize("kind", list(DeviceKind), ids=lambda kind: kind.value)
def test_every_map_serves_every_point_it_declares(kind):
    register_map = documented_map(kind)
    store = RegisterStore(register_map)
    for point in register_map.points:
        words = store.read(point.table, point.address, point.register_count)
        assert len(words) == point.register_count
        assert store.get(point.name) == (point.default if point.data_type is not DataType.STRING else point.default or "")


def test_committed_docs_match_the_generator():
    for name, text in docs.render_all().items():
        path = docs.DOCS_DIR / name
        assert path.exists(), f"docs/devices/{name} missing: run python -m devices.docs"
        assert path.read_text(encoding="utf-8") == text, f"docs/devices/{name} stale: run python -m devices.docs"


def test_rtu_requires_a_point_list():
    with pytest.raises(ValueError):
        standard_map(DeviceKind.RTU)


def published_length(model_id: int) -> int:
    """Model length from the SunSpec model definition shipped with pysunspec2 (repeating groups once)."""
    import json
    from pathlib import Path

    import sunspec2

    path = Path(sunspec2.__file__).parent / "models" / "json" / f"model_{model_id}.json"
    group = json.loads(path.read_text())["group"]

    def size(g: dict) -> int:
        own = sum(int(p.get("size", 1)) for p in g["points"])
        return own + sum(size(sub) for sub in g.get("groups", []))

    return size(group) - 2  # L counts the registers after the ID and L header


def test_sunspec_chain_is_walkable_from_40000():
    """A SunSpec client finds 'SunS', then walks model headers by their lengths to the end marker."""
    store = RegisterStore(der_inverter_map(serial_number="INV-0042"))
    assert store.read(HR, 40000, 2) == [0x5375, 0x6E53]
    address, models = 40002, []
    while True:
        model_id, length = store.read(HR, address, 2)
        if model_id == 0xFFFF:
            break
        models.append((model_id, length, address))
        store.read(HR, address + 2, length)  # the whole block is mapped
        address += 2 + length
    assert [model_id for model_id, _, _ in models] == [1, 103, 120, 121, 123, 126]
    assert [length for _, length, _ in models] == [published_length(model_id) for model_id, _, _ in models]
    assert store.get("common.SN") == "INV-0042"


def test_sunspec_scale_factor_registers_match_the_point_scales():
    register_map = der_inverter_map()
    store = RegisterStore(register_map)
    store.set("inverter.W", 12300.0)  # 100 W steps for the documented 300 kVA rating
    (raw_w,) = store.read(HR, register_map.point("inverter.W").address, 1)
    (raw_sf,) = store.read(HR, register_map.point("inverter.W_SF").address, 1)
    assert raw_w * 10 ** (raw_sf if raw_sf < 0x8000 else raw_sf - 0x10000) == 12300
    store.set("inverter.PhVphA", 6351.0)  # 1 V steps on the 11 kV example rating
    assert store.get("inverter.PhVphA") == 6351


def test_sunspec_power_limit_is_writable_and_checked():
    register_map = der_inverter_map()
    store = RegisterStore(register_map)
    address = register_map.point("controls.WMaxLimPct").address
    store.write(HR, address, [505])
    assert store.get("controls.WMaxLimPct") == 50.5
    with pytest.raises(ModbusError) as caught:
        store.write(HR, address, [1001])
    assert caught.value.code is ExceptionCode.ILLEGAL_DATA_VALUE


def test_rtu_map_lays_out_points_by_kind():
    register_map = rtu_map(
        [
            RtuPoint("v", RtuPointKind.ANALOG, data_type=DataType.U16, scale=0.0001, unit="pu"),
            RtuPoint("p", RtuPointKind.ANALOG, data_type=DataType.I32, scale=0.1, unit="kW"),
            RtuPoint("q", RtuPointKind.ANALOG),
            RtuPoint("cb", RtuPointKind.STATUS),
            RtuPoint("open", RtuPointKind.CONTROL),
            RtuPoint("tap", RtuPointKind.SETPOINT, minimum=-16, maximum=16),
            RtuPoint("spare", RtuPointKind.ANALOG, address=100),
        ]
    )
    addresses = {p.name: (p.table, p.address) for p in register_map.points}
    assert addresses["p"] == (ModbusTable.INPUT_REGISTERS, 1)
    assert addresses["q"] == (ModbusTable.INPUT_REGISTERS, 3)
    assert addresses["cb"] == (ModbusTable.DISCRETE_INPUTS, 0)
    assert addresses["open"] == (ModbusTable.COILS, 0)
    assert addresses["tap"] == (ModbusTable.HOLDING_REGISTERS, 0)
    assert register_map.point("tap").writable and not register_map.point("v").writable


def test_rtu_point_list_clashes_are_reported():
    with pytest.raises(RegisterMapError, match="already used"):
        rtu_map([RtuPoint("a", RtuPointKind.ANALOG), RtuPoint("b", RtuPointKind.ANALOG, address=0)])
