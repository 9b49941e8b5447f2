"""The register store as a Modbus master sees it (exception codes) and as the device sees it (units)."""

import math
import struct

import numpy as np
import pytest

from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable, RegisterBank
from devices.registermap import Access, DataType, Point, RegisterMap, WordOrder
from devices.registerstore import RegisterStore

HR = ModbusTable.HOLDING_REGISTERS
IR = ModbusTable.INPUT_REGISTERS
CO = ModbusTable.COILS
DI = ModbusTable.DISCRETE_INPUTS
RW = Access.READ_WRITE


def make_store(word_order=WordOrder.BIG, protection_writes_allowed=False):
    points = (
        Point("current_a", IR, 0, DataType.U16, 0.01, "A"),
        Point("power_w", IR, 1, DataType.I32, 1.0, "W"),
        Point("temperature_c", IR, 3, DataType.I16, 0.1, "C"),
        Point("frequency_hz", IR, 4, DataType.F32, unit="Hz"),
        Point("energy_wh", IR, 6, DataType.U32, 0.1, "Wh"),
        Point("setpoint_v", HR, 0, DataType.U16, 0.1, "V", RW, 100.0, 130.0, default=120.0),
        Point("limit_w", HR, 1, DataType.I32, 1.0, "W", RW, -50_000, 50_000),
        Point("pickup_a", HR, 3, DataType.U16, 1.0, "A", RW, 1, 6000, True, default=600),
        Point("gain", HR, 4, DataType.F32, access=RW, minimum=0.0, maximum=10.0, default=1.0),
        Point("model", HR, 6, DataType.U16, default=103),
        Point("name", HR, 7, DataType.STRING, string_registers=4, default="relay"),
        Point("open_command", CO, 0, DataType.BOOL, access=RW),
        Point("close_command", CO, 1, DataType.BOOL, access=RW),
        Point("closed", DI, 0, DataType.BOOL, default=True),
    )
    return RegisterStore(RegisterMap("test", points, word_order), protection_writes_allowed=protection_writes_allowed)


def code_of(call) -> ExceptionCode:
    with pytest.raises(ModbusError) as caught:
        call()
    return caught.value.code


def test_implements_the_register_bank_protocol():
    store: RegisterBank = make_store()
    assert store.read(HR, 0, 1) == [1200]


@pytest.mark.parametrize(
    ("name", "value", "raw"),
    [
        ("current_a", 12.34, [1234]),
        ("temperature_c", -12.3, [0x10000 - 123]),
        ("power_w", -70000, [0xFFFE, 0xEE90]),
        ("energy_wh", 123456789.1, [0x4996, 0x02D3]),
        ("frequency_hz", 59.97, list(struct.unpack(">HH", struct.pack(">f", 59.97)))),
    ],
)
def test_engineering_values_round_trip_exactly(name, value, raw):
    store = make_store()
    store.set(name, value)
    point = store.register_map.point(name)
    assert store.read(point.table, point.address, point.register_count) == raw
    expected = float(np.float32(value)) if point.data_type is DataType.F32 else value
    assert store.get(name) == expected


def test_word_order_is_per_map():
    big, little = make_store(WordOrder.BIG), make_store(WordOrder.LITTLE)
    for store in (big, little):
        store.set("power_w", 0x12345678)
    assert big.read(IR, 1, 2) == [0x1234, 0x5678]
    assert little.read(IR, 1, 2) == [0x5678, 0x1234]
    assert little.get("power_w") == 0x12345678


def test_device_side_values_saturate_like_a_transducer():
    store = make_store()
    store.set("current_a", 1e6)
    assert store.get("current_a") == 655.35
    store.set("temperature_c", -1e9)
    assert store.get("temperature_c") == -3276.8
    with pytest.raises(ValueError):
        store.set("current_a", math.nan)
    with pytest.raises(ValueError):
        store.set("current_a", "12")


def test_strings_and_constants():
    store = make_store()
    assert store.get("name") == "relay"
    assert store.read(HR, 7, 4) == [0x7265, 0x6C61, 0x7900, 0x0000]
    assert store.get("model") == 103


def test_reads_outside_the_map_are_02_even_partly_outside():
    store = make_store()
    assert code_of(lambda: store.read(IR, 8, 1)) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.read(IR, 7, 2)) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    # Bit tables are not padded to 16: coil 2 does not exist.
    assert code_of(lambda: store.read(CO, 0, 3)) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.read(CO, 2, 1)) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.read(CO, 65535, 2)) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.read(IR, 0, 0)) is ExceptionCode.ILLEGAL_DATA_VALUE
    assert store.read(CO, 0, 2) == [0, 0]
    assert store.read(DI, 0, 1) == [1]


def test_reading_half_of_a_32_bit_value_is_allowed():
    store = make_store()
    store.set("power_w", 0x12345678)
    assert store.read(IR, 2, 1) == [0x5678]


def test_write_to_read_only_point_or_table_is_02():
    store = make_store()
    assert code_of(lambda: store.write(HR, 6, [1])) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.write(IR, 0, [1])) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert code_of(lambda: store.write(HR, 20, [1])) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    # A multi-register write spanning a writable and a read-only point is refused whole.
    assert code_of(lambda: store.write(HR, 5, [0x3F80, 0, 1])) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert store.get("gain") == 1.0


def test_protection_settings_are_locked_unless_the_scenario_allows():
    locked = make_store()
    assert code_of(lambda: locked.write(HR, 3, [700])) is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert locked.get("pickup_a") == 600
    locked.protection_writes_allowed = True
    locked.write(HR, 3, [700])
    assert locked.get("pickup_a") == 700


def test_out_of_range_after_scaling_is_03_and_nothing_is_written():
    store = make_store()
    assert code_of(lambda: store.write(HR, 0, [1301])) is ExceptionCode.ILLEGAL_DATA_VALUE  # 130.1 V
    store.write(HR, 0, [1300])
    assert store.get("setpoint_v") == 130.0
    # -60000 W in a signed 32-bit point, limit -50000 W
    high, low = divmod(-60000 & 0xFFFFFFFF, 0x10000)
    assert code_of(lambda: store.write(HR, 0, [1250, high, low])) is ExceptionCode.ILLEGAL_DATA_VALUE
    assert store.get("setpoint_v") == 130.0  # atomic: the valid first register was not applied
    nan = list(struct.unpack(">HH", struct.pack(">f", math.nan)))
    assert code_of(lambda: store.write(HR, 4, nan)) is ExceptionCode.ILLEGAL_DATA_VALUE
    assert code_of(lambda: store.write(CO, 0, [2])) is ExceptionCode.ILLEGAL_DATA_VALUE
    assert code_of(lambda: store.write(HR, 0, [70000])) is ExceptionCode.ILLEGAL_DATA_VALUE


def test_writing_half_of_a_32_bit_value_is_03():
    store = make_store()
    assert code_of(lambda: store.write(HR, 1, [0])) is ExceptionCode.ILLEGAL_DATA_VALUE
    assert code_of(lambda: store.write(HR, 2, [0])) is ExceptionCode.ILLEGAL_DATA_VALUE
    store.write(HR, 1, [0xFFFF, 0xFC18])
    assert store.get("limit_w") == -1000


def test_write_callbacks_fire_after_commit_in_address_order():
    store = make_store()
    seen = []
    store.on_write("open_command", lambda point, value: seen.append((point.name, value, store.get(point.name))))
    store.on_write("close_command", lambda point, value: seen.append((point.name, value, store.get(point.name))))
    store.write(CO, 0, [1, 1])
    store.write(CO, 0, [1])  # same value again is another command
    assert seen == [("open_command", True, True), ("close_command", True, True), ("open_command", True, True)]
    with pytest.raises(ValueError):
        store.on_write("closed", lambda point, value: None)


def test_callbacks_do_not_fire_for_refused_writes():
    store = make_store()
    seen = []
    store.on_write("setpoint_v", lambda point, value: seen.append(value))
    with pytest.raises(ModbusError):
        store.write(HR, 0, [2000])
    assert seen == []


def test_numpy_scalars_are_accepted_from_the_device_side():
    store = make_store()
    store.set("power_w", np.int64(-5))
    store.set("current_a", np.float32(1.5))
    store.set("frequency_hz", np.float64(50.0))
    assert (store.get("power_w"), store.get("current_a"), store.get("frequency_hz")) == (-5, 1.5, 50.0)
    with pytest.raises(ValueError):
        store.set("current_a", np.float32("nan"))
