"""DER inverter following SunSpec: 'SunS' marker, common model 1, inverter model 103, controls model 123.

SunSpec Alliance Information Model Specification (SunSpec Modbus, models as
published in github.com/sunspec/models, json/model_1.json, model_103.json,
model_123.json):

* holding registers from base 40000: the marker 0x53756E53 ('SunS'), then
  model blocks, each a header (model id, length L in registers) and L
  registers, ended by id 0xFFFF with L = 0;
* integer values with a separate scale-factor register (type ``sunssf``):
  engineering value = raw * 10**SF. gridcosim fixes every SF, so each scaled
  point's ``scale`` is that power of ten and its ``*_SF`` register is a
  read-only constant a SunSpec client reads as usual;
* 32-bit values big-endian (high word first), strings two ASCII characters
  per register, NUL padded.

Model 103 is laid out point for point (50 registers); model 1 is 66
registers; model 123 is 24 registers. Points are declared in SunSpec order and
the addresses follow from their sizes, so the layout cannot drift.
"""

from __future__ import annotations

from devices.registermap import Access, DataType, Point, RegisterMap, Value, WordOrder
from devices.registermaps._tables import HR, I16, RW, STRING, U16, U32

SUNSPEC_BASE_ADDRESS = 40000  # SunSpec: one of 0, 40000, 50000; 40000 is the usual one
SUNS_MARKER = 0x53756E53  # 'SunS'
END_MODEL_ID = 0xFFFF

# Scale factors fixed by gridcosim (sunssf values, powers of ten)
SCALE_FACTORS: dict[str, int] = {
    "A_SF": -2, "V_SF": -1, "W_SF": 1, "Hz_SF": -2, "VA_SF": 1, "VAr_SF": 1, "PF_SF": -2, "WH_SF": 0,
    "DCA_SF": -2, "DCV_SF": -1, "DCW_SF": 1, "Tmp_SF": -1,
    "WMaxLimPct_SF": -1, "OutPFSet_SF": -3, "VArPct_SF": -1,
}

# (name, data type, registers for strings, scale factor name, unit, access, minimum, maximum, default, description)
_Row = tuple[str, DataType, int, str | None, str, Access, float | None, float | None, Value, str]
_R = Access.READ_ONLY

COMMON_MODEL_1: tuple[_Row, ...] = (
    ("Mn", STRING, 16, None, "", _R, None, None, "gridcosim", "Manufacturer"),
    ("Md", STRING, 16, None, "", _R, None, None, "DER inverter", "Model"),
    ("Opt", STRING, 8, None, "", _R, None, None, "", "Options"),
    ("Vr", STRING, 8, None, "", _R, None, None, "0.1.0", "Version"),
    ("SN", STRING, 16, None, "", _R, None, None, "0", "Serial number"),
    ("DA", U16, 0, None, "", RW, 1, 247, 1, "Modbus device address"),
    ("Pad", U16, 0, None, "", _R, None, None, 0x8000, "Force even alignment"),
)

INVERTER_MODEL_103: tuple[_Row, ...] = (
    ("A", U16, 0, "A_SF", "A", _R, None, None, 0, "AC current, total"),
    ("AphA", U16, 0, "A_SF", "A", _R, None, None, 0, "Phase A current"),
    ("AphB", U16, 0, "A_SF", "A", _R, None, None, 0, "Phase B current"),
    ("AphC", U16, 0, "A_SF", "A", _R, None, None, 0, "Phase C current"),
    ("A_SF", I16, 0, None, "", _R, None, None, 0, "Current scale factor"),
    ("PPVphAB", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage AB"),
    ("PPVphBC", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage BC"),
    ("PPVphCA", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage CA"),
    ("PhVphA", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage AN"),
    ("PhVphB", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage BN"),
    ("PhVphC", U16, 0, "V_SF", "V", _R, None, None, 0, "Phase voltage CN"),
    ("V_SF", I16, 0, None, "", _R, None, None, 0, "Voltage scale factor"),
    ("W", I16, 0, "W_SF", "W", _R, None, None, 0, "AC power"),
    ("W_SF", I16, 0, None, "", _R, None, None, 0, "Power scale factor"),
    ("Hz", U16, 0, "Hz_SF", "Hz", _R, None, None, 0, "Line frequency"),
    ("Hz_SF", I16, 0, None, "", _R, None, None, 0, "Frequency scale factor"),
    ("VA", I16, 0, "VA_SF", "VA", _R, None, None, 0, "AC apparent power"),
    ("VA_SF", I16, 0, None, "", _R, None, None, 0, "Apparent power scale factor"),
    ("VAr", I16, 0, "VAr_SF", "var", _R, None, None, 0, "AC reactive power"),
    ("VAr_SF", I16, 0, None, "", _R, None, None, 0, "Reactive power scale factor"),
    ("PF", I16, 0, "PF_SF", "%", _R, None, None, 0, "AC power factor"),
    ("PF_SF", I16, 0, None, "", _R, None, None, 0, "Power factor scale factor"),
    ("WH", U32, 0, "WH_SF", "Wh", _R, None, None, 0, "AC energy (acc32)"),
    ("WH_SF", I16, 0, None, "", _R, None, None, 0, "Energy scale factor"),
    ("DCA", U16, 0, "DCA_SF", "A", _R, None, None, 0, "DC current"),
    ("DCA_SF", I16, 0, None, "", _R, None, None, 0, "DC current scale factor"),
    ("DCV", U16, 0, "DCV_SF", "V", _R, None, None, 0, "DC voltage"),
    ("DCV_SF", I16, 0, None, "", _R, None, None, 0, "DC voltage scale factor"),
    ("DCW", I16, 0, "DCW_SF", "W", _R, None, None, 0, "DC power"),
    ("DCW_SF", I16, 0, None, "", _R, None, None, 0, "DC power scale factor"),
    ("TmpCab", I16, 0, "Tmp_SF", "C", _R, None, None, 0, "Cabinet temperature"),
    ("TmpSnk", I16, 0, "Tmp_SF", "C", _R, None, None, 0, "Heat sink temperature"),
    ("TmpTrns", I16, 0, "Tmp_SF", "C", _R, None, None, 0, "Transformer temperature"),
    ("TmpOt", I16, 0, "Tmp_SF", "C", _R, None, None, 0, "Other temperature"),
    ("Tmp_SF", I16, 0, None, "", _R, None, None, 0, "Temperature scale factor"),
    ("St", U16, 0, None, "", _R, None, None, 2,
     "Operating state: 1 off, 2 sleeping, 3 starting, 4 MPPT, 5 throttled, 6 shutting down, 7 fault, 8 standby"),
    ("StVnd", U16, 0, None, "", _R, None, None, 0, "Vendor operating state"),
    ("Evt1", U32, 0, None, "", _R, None, None, 0, "Event bitfield (bit 4 grid disconnect, 8 over-frequency, ...)"),
    ("Evt2", U32, 0, None, "", _R, None, None, 0, "Reserved"),
    ("EvtVnd1", U32, 0, None, "", _R, None, None, 0, "Vendor event bitfield 1"),
    ("EvtVnd2", U32, 0, None, "", _R, None, None, 0, "Vendor event bitfield 2"),
    ("EvtVnd3", U32, 0, None, "", _R, None, None, 0, "Vendor event bitfield 3"),
    ("EvtVnd4", U32, 0, None, "", _R, None, None, 0, "Vendor event bitfield 4"),
)

CONTROLS_MODEL_123: tuple[_Row, ...] = (
    ("Conn_WinTms", U16, 0, None, "s", RW, 0, 65535, 0, "Time window for connect/disconnect"),
    ("Conn_RvrtTms", U16, 0, None, "s", RW, 0, 65535, 0, "Timeout period for connect/disconnect"),
    ("Conn", U16, 0, None, "", RW, 0, 1, 1, "Connection control: 0 disconnect, 1 connect"),
    ("WMaxLimPct", U16, 0, "WMaxLimPct_SF", "% WMax", RW, 0.0, 100.0, 100.0, "Power output limit"),
    ("WMaxLimPct_WinTms", U16, 0, None, "s", RW, 0, 65535, 0, "Time window for power limit change"),
    ("WMaxLimPct_RvrtTms", U16, 0, None, "s", RW, 0, 65535, 0, "Timeout period for power limit"),
    ("WMaxLimPct_RmpTms", U16, 0, None, "s", RW, 0, 65535, 0, "Ramp time to the new power limit"),
    ("WMaxLim_Ena", U16, 0, None, "", RW, 0, 1, 0, "Throttle: 0 disabled, 1 enabled"),
    ("OutPFSet", I16, 0, "OutPFSet_SF", "cos()", RW, -1.0, 1.0, 1.0, "Fixed power factor setpoint"),
    ("OutPFSet_WinTms", U16, 0, None, "s", RW, 0, 65535, 0, "Time window for power factor change"),
    ("OutPFSet_RvrtTms", U16, 0, None, "s", RW, 0, 65535, 0, "Timeout period for power factor"),
    ("OutPFSet_RmpTms", U16, 0, None, "s", RW, 0, 65535, 0, "Ramp time to the new power factor"),
    ("OutPFSet_Ena", U16, 0, None, "", RW, 0, 1, 0, "Fixed power factor: 0 disabled, 1 enabled"),
    ("VArWMaxPct", I16, 0, "VArPct_SF", "% WMax", RW, -100.0, 100.0, 0.0, "Reactive power in percent of WMax"),
    ("VArMaxPct", I16, 0, "VArPct_SF", "% VArMax", RW, -100.0, 100.0, 0.0, "Reactive power in percent of VArMax"),
    ("VArAvalPct", I16, 0, "VArPct_SF", "% VArAval", RW, -100.0, 100.0, 0.0,
     "Reactive power in percent of VArAval"),
    ("VArPct_WinTms", U16, 0, None, "s", RW, 0, 65535, 0, "Time window for var limit change"),
    ("VArPct_RvrtTms", U16, 0, None, "s", RW, 0, 65535, 0, "Timeout period for var limit"),
    ("VArPct_RmpTms", U16, 0, None, "s", RW, 0, 65535, 0, "Ramp time to the new var limit"),
    ("VArPct_Mod", U16, 0, None, "", RW, 0, 3, 0, "Var percent mode: 0 none, 1 WMax, 2 VArMax, 3 VArAval"),
    ("VArPct_Ena", U16, 0, None, "", RW, 0, 1, 0, "Var percent limit: 0 disabled, 1 enabled"),
    ("WMaxLimPct_SF", I16, 0, None, "", _R, None, None, 0, "Power limit scale factor"),
    ("OutPFSet_SF", I16, 0, None, "", _R, None, None, 0, "Power factor setpoint scale factor"),
    ("VArPct_SF", I16, 0, None, "", _R, None, None, 0, "Var percent scale factor"),
)

MODELS: tuple[tuple[int, str, tuple[_Row, ...]], ...] = (
    (1, "common", COMMON_MODEL_1),
    (103, "inverter", INVERTER_MODEL_103),
    (123, "controls", CONTROLS_MODEL_123),
)


def der_inverter_map(serial_number: str = "0") -> RegisterMap:
    """The SunSpec inverter map from base 40000; ``serial_number`` goes into model 1's SN."""
    points: list[Point] = [
        Point("SunS", HR, SUNSPEC_BASE_ADDRESS, U32, default=SUNS_MARKER, description="SunSpec marker 'SunS'"),
    ]
    address = SUNSPEC_BASE_ADDRESS + 2
    for model_id, prefix, rows in MODELS:
        length = sum(_point_size(row) for row in rows)
        points.append(Point(f"{prefix}.ID", HR, address, U16, default=model_id, description="Model identifier"))
        points.append(Point(f"{prefix}.L", HR, address + 1, U16, default=length, description="Model length"))
        address += 2
        for row in rows:
            point = _point(prefix, address, row, serial_number)
            points.append(point)
            address = point.end_address
    points.append(Point("end.ID", HR, address, U16, default=END_MODEL_ID, description="End model marker"))
    points.append(Point("end.L", HR, address + 1, U16, default=0, description="End model length"))
    return RegisterMap("DER inverter (SunSpec)", tuple(points), WordOrder.BIG, description=__doc__ or "",
                       source="SunSpec models 1, 103, 123")


def _point_size(row: _Row) -> int:
    data_type, string_registers = row[1], row[2]
    if data_type is STRING:
        return string_registers
    return 2 if data_type in (DataType.U32, DataType.I32, DataType.F32) else 1


def _point(prefix: str, address: int, row: _Row, serial_number: str) -> Point:
    name, data_type, string_registers, sf_name, unit, access, minimum, maximum, default, description = row
    if name in SCALE_FACTORS:
        default = SCALE_FACTORS[name]
    if name == "SN":
        default = serial_number
    scale = 10.0 ** SCALE_FACTORS[sf_name] if sf_name else 1.0
    if sf_name:
        description = f"{description} (scale factor {sf_name})"
    return Point(
        f"{prefix}.{name}", HR, address, data_type, scale, unit, access, minimum, maximum,
        description=description, default=default, string_registers=string_registers,
    )

