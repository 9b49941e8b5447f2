"""DER inverter following SunSpec: 'SunS' marker, models 1, 103, 120, 121, 123, 126.

SunSpec Alliance Information Model Specification (SunSpec Modbus, models as
published in github.com/sunspec/models, json/model_<id>.json):

* holding registers from base 40000: the marker 0x53756E53 ('SunS'), then
  model blocks, each a header (model id, length L in registers) and L
  registers, ended by id 0xFFFF with L = 0;
* integer values with a separate scale-factor register (type ``sunssf``):
  engineering value = raw * 10**SF. Each scale factor is computed from the
  device's rating (:class:`SunSpecRating`): the smallest power of ten at which
  the largest value the point can take (the rating times the headroom in
  ``HEADROOM``) fits the integer type without reaching the type's "not
  implemented" value. A 10.6 kV inverter's line voltage therefore reads
  10600 V, not 65535 (= not implemented), and a 2 MW inverter's power does
  not clip at 327.67 kW;
* points the device does not implement hold SunSpec's "not implemented"
  value (uint16/enum16/bitfield16 0xFFFF, int16/sunssf 0x8000,
  uint32/bitfield32 0xFFFFFFFF, acc32 0, string all NUL), never 0;
* 32-bit values big-endian (high word first), strings two ASCII characters
  per register, NUL padded.

Models: 1 common, 103 three-phase inverter (measurements), 123 immediate
controls (connect, curtail, fixed Q or power factor), and for the IEEE
1547-2018 functions an operator configures: 120 nameplate ratings, 121 basic
settings (WMax, VRef, VAMax, VArMax) and 126 volt-var (one curve of four
points, V in % of VRef, Q in % of VArMax = % of nameplate apparent power).
Why the 12x models and not the 700-series (701-713, the SunSpec DER models
written for IEEE 1547-2018): they extend the 1/103/123 family this map
already serves, so existing masters keep their addresses; the 700-series
replaces 103/123 by 701/704 and needs the whole family at once (not done:
the trip and ride-through settings of IEEE 1547 are scenario parameters, not
yet SunSpec points). Points are declared in SunSpec order and
addresses follow from their sizes, so the layout cannot drift.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final

from devices.encoding import from_raw, to_raw
from devices.registermap import Access, DataType, Point, RegisterMap, Value, WordOrder
from devices.registermaps._tables import HR, I16, RW, STRING, U16, U32

SUNSPEC_BASE_ADDRESS = 40000  # SunSpec: one of 0, 40000, 50000; 40000 is the usual one
SUNS_MARKER = 0x53756E53  # 'SunS'
END_MODEL_ID = 0xFFFF


class _NotImplemented:
    """Marker default: the point holds SunSpec's "not implemented" value of its type."""

    def __repr__(self) -> str:
        return "NI"


NI: Final = _NotImplemented()
ACC32 = "acc32"  # unit tag: an accumulator, whose not-implemented value is 0


@dataclasses.dataclass(frozen=True)
class SunSpecRating:
    """What the scale factors are computed from: the inverter's nameplate and the grid's nominal values."""

    w_max_w: float
    va_max_va: float
    v_nominal_ll_v: float
    nominal_hz: float = 60.0
    der_type: int | None = 4  # model 120 DERTyp: 4 PV, 82 PV with storage; None: not implemented

    @property
    def v_nominal_ln_v(self) -> float:
        return self.v_nominal_ll_v / math.sqrt(3.0)

    @property
    def a_rated(self) -> float:
        return self.va_max_va / (math.sqrt(3.0) * self.v_nominal_ll_v)


EXAMPLE_RATING = SunSpecRating(w_max_w=300_000.0, va_max_va=300_000.0, v_nominal_ll_v=11_000.0)
"""The rating the documentation's map is drawn for (a 300 kVA inverter on 11 kV)."""

HEADROOM: dict[str, tuple[str, float]] = {
    # scale factor -> (rated quantity, multiple of it the point must still carry)
    "A_SF": ("a_rated", 2.0), "V_SF": ("v_nominal_ll_v", 1.5), "W_SF": ("va_max_va", 1.5),
    "VA_SF": ("va_max_va", 1.5), "VAr_SF": ("va_max_va", 1.5), "WH_SF": ("wh_30_years", 1.0),
    "WRtg_SF": ("va_max_va", 1.5), "VARtg_SF": ("va_max_va", 1.5), "VArRtg_SF": ("va_max_va", 1.5),
    "ARtg_SF": ("a_rated", 2.0), "WMax_SF": ("va_max_va", 1.5), "VRef_SF": ("v_nominal_ln_v", 1.5),
    "VMinMax_SF": ("v_nominal_ln_v", 1.5), "VAMax_SF": ("va_max_va", 1.5), "VArMax_SF": ("va_max_va", 1.5),
}
FIXED_SCALE_FACTORS: dict[str, int] = {
    # percentages, frequency and power factor have fixed ranges
    "Hz_SF": -2, "PF_SF": -2, "WMaxLimPct_SF": -1, "OutPFSet_SF": -3, "VArPct_SF": -1,
    "ECPNomHz_SF": -2, "V_SF126": -2, "DeptRef_SF": -2,
}


def scale_factors(rating: SunSpecRating) -> dict[str, int]:
    """sunssf value per scale-factor name for ``rating``: every value up to its headroom is representable."""
    found = dict(FIXED_SCALE_FACTORS)
    for name, (quantity, multiple) in HEADROOM.items():
        if quantity == "wh_30_years":
            largest, limit = rating.va_max_va * 8766.0 * 30, 0xFFFF_FFFE
        else:
            largest = getattr(rating, quantity) * multiple
            limit = 0x7FFF if name in ("W_SF", "VA_SF", "VAr_SF", "VArRtg_SF", "VArMax_SF") else 0xFFFE
        found[name] = max(-3, math.ceil(math.log10(largest / limit))) if largest > 0 else 0
    return found


def not_implemented_value(data_type: DataType, unit: str = "") -> Value:
    """SunSpec's "not implemented" value of a type, as the engineering value of an unscaled point."""
    if unit == ACC32:
        return 0
    values: dict[DataType, Value] = {DataType.U16: 0xFFFF, DataType.I16: -0x8000, DataType.U32: 0xFFFF_FFFF,
                                     DataType.I32: -0x8000_0000, DataType.STRING: ""}
    return values[data_type]


def representable(point: Point, value: float) -> float:
    """``value`` clipped to what ``point`` carries without reaching the type's not-implemented value."""
    low, high = point.data_type.raw_range
    if point.data_type in (DataType.U16, DataType.U32):
        high -= 1  # 0xFFFF / 0xFFFFFFFF mean "not implemented"
    else:
        low += 1  # 0x8000 / 0x80000000 mean "not implemented"
    return min(max(value, low * point.scale), high * point.scale)


# (name, data type, registers for strings, scale factor name, unit, access, minimum, maximum, default, description)
_Row = tuple[str, DataType, int, str | None, str, Access, float | None, float | None, "Value | _NotImplemented", str]
_R = Access.READ_ONLY

COMMON_MODEL_1: tuple[_Row, ...] = (
    ("Mn", STRING, 16, None, "", _R, None, None, "gridcosim", "Manufacturer"),
    ("Md", STRING, 16, None, "", _R, None, None, "DER inverter", "Model"),
    ("Opt", STRING, 8, None, "", _R, None, None, NI, "Options"),
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
    ("DCA", U16, 0, "DCA_SF", "A", _R, None, None, NI, "DC current"),
    ("DCA_SF", I16, 0, None, "", _R, None, None, NI, "DC current scale factor"),
    ("DCV", U16, 0, "DCV_SF", "V", _R, None, None, NI, "DC voltage"),
    ("DCV_SF", I16, 0, None, "", _R, None, None, NI, "DC voltage scale factor"),
    ("DCW", I16, 0, "DCW_SF", "W", _R, None, None, NI, "DC power"),
    ("DCW_SF", I16, 0, None, "", _R, None, None, NI, "DC power scale factor"),
    ("TmpCab", I16, 0, "Tmp_SF", "C", _R, None, None, NI, "Cabinet temperature"),
    ("TmpSnk", I16, 0, "Tmp_SF", "C", _R, None, None, NI, "Heat sink temperature"),
    ("TmpTrns", I16, 0, "Tmp_SF", "C", _R, None, None, NI, "Transformer temperature"),
    ("TmpOt", I16, 0, "Tmp_SF", "C", _R, None, None, NI, "Other temperature"),
    ("Tmp_SF", I16, 0, None, "", _R, None, None, NI, "Temperature scale factor"),
    ("St", U16, 0, None, "", _R, None, None, 2,
     "Operating state: 1 off, 2 sleeping, 3 starting, 4 MPPT, 5 throttled, 6 shutting down, 7 fault, 8 standby"),
    ("StVnd", U16, 0, None, "", _R, None, None, NI, "Vendor operating state"),
    ("Evt1", U32, 0, None, "", _R, None, None, 0,
     "Event bitfield: bit 4 grid disconnect, 8 over-frequency, 9 under-frequency, 10 AC over-voltage, 11 AC under-voltage"),
    ("Evt2", U32, 0, None, "", _R, None, None, NI, "Reserved"),
    ("EvtVnd1", U32, 0, None, "", _R, None, None, NI, "Vendor event bitfield 1"),
    ("EvtVnd2", U32, 0, None, "", _R, None, None, NI, "Vendor event bitfield 2"),
    ("EvtVnd3", U32, 0, None, "", _R, None, None, NI, "Vendor event bitfield 3"),
    ("EvtVnd4", U32, 0, None, "", _R, None, None, NI, "Vendor event bitfield 4"),
)

NAMEPLATE_MODEL_120: tuple[_Row, ...] = (
    ("DERTyp", U16, 0, None, "", _R, None, None, 4, "DER type: 4 PV, 82 PV with storage"),
    ("WRtg", U16, 0, "WRtg_SF", "W", _R, None, None, 0, "Continuous power output capability"),
    ("WRtg_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VARtg", U16, 0, "VARtg_SF", "VA", _R, None, None, 0, "Continuous apparent power output capability (nameplate)"),
    ("VARtg_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VArRtgQ1", I16, 0, "VArRtg_SF", "var", _R, None, None, 0, "Reactive power capability, quadrant 1 (injecting)"),
    ("VArRtgQ2", I16, 0, "VArRtg_SF", "var", _R, None, None, NI, "Quadrant 2 (absorbing active power): none"),
    ("VArRtgQ3", I16, 0, "VArRtg_SF", "var", _R, None, None, NI, "Quadrant 3 (absorbing active power): none"),
    ("VArRtgQ4", I16, 0, "VArRtg_SF", "var", _R, None, None, 0, "Reactive power capability, quadrant 4 (absorbing)"),
    ("VArRtg_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("ARtg", U16, 0, "ARtg_SF", "A", _R, None, None, 0, "Maximum RMS AC current"),
    ("ARtg_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("PFRtgQ1", I16, 0, "PFRtg_SF", "cos()", _R, None, None, NI, "Minimum power factor, quadrant 1"),
    ("PFRtgQ2", I16, 0, "PFRtg_SF", "cos()", _R, None, None, NI, "Minimum power factor, quadrant 2"),
    ("PFRtgQ3", I16, 0, "PFRtg_SF", "cos()", _R, None, None, NI, "Minimum power factor, quadrant 3"),
    ("PFRtgQ4", I16, 0, "PFRtg_SF", "cos()", _R, None, None, NI, "Minimum power factor, quadrant 4"),
    ("PFRtg_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("WHRtg", U16, 0, "WHRtg_SF", "Wh", _R, None, None, NI, "Storage energy rating: none"),
    ("WHRtg_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("AhrRtg", U16, 0, "AhrRtg_SF", "AH", _R, None, None, NI, "Storage capacity: none"),
    ("AhrRtg_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("MaxChaRte", U16, 0, "MaxChaRte_SF", "W", _R, None, None, NI, "Maximum charge rate: none"),
    ("MaxChaRte_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("MaxDisChaRte", U16, 0, "MaxDisChaRte_SF", "W", _R, None, None, NI, "Maximum discharge rate: none"),
    ("MaxDisChaRte_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("Pad", U16, 0, None, "", _R, None, None, 0x8000, "Pad register"),
)

SETTINGS_MODEL_121: tuple[_Row, ...] = (
    ("WMax", U16, 0, "WMax_SF", "W", RW, 1, None, 0, "Maximum active power output (WMax of model 123)"),
    ("VRef", U16, 0, "VRef_SF", "V", RW, 1, None, 0, "Reference voltage at the PCC, line to neutral (100 % of model 126)"),
    ("VRefOfs", I16, 0, "VRefOfs_SF", "V", RW, None, None, NI, "Offset from the PCC to the inverter"),
    ("VMax", U16, 0, "VMinMax_SF", "V", RW, None, None, 0, "Upper limit of continuous operation (IEEE 1547: 1.10 VRef)"),
    ("VMin", U16, 0, "VMinMax_SF", "V", RW, None, None, 0, "Lower limit of continuous operation (IEEE 1547: 0.88 VRef)"),
    ("VAMax", U16, 0, "VAMax_SF", "VA", RW, 1, None, 0, "Maximum apparent power: the nameplate volt-var percentages refer to"),
    ("VArMaxQ1", I16, 0, "VArMax_SF", "var", RW, 0, None, 0, "Maximum reactive power injected (100 % of model 126)"),
    ("VArMaxQ2", I16, 0, "VArMax_SF", "var", RW, None, None, NI, "Quadrant 2: none"),
    ("VArMaxQ3", I16, 0, "VArMax_SF", "var", RW, None, None, NI, "Quadrant 3: none"),
    ("VArMaxQ4", I16, 0, "VArMax_SF", "var", RW, None, 0, 0, "Maximum reactive power absorbed"),
    ("WGra", U16, 0, "WGra_SF", "% WMax/s", RW, None, None, NI, "Default ramp rate"),
    ("PFMinQ1", I16, 0, "PFMin_SF", "cos()", RW, None, None, NI, "Minimum power factor, quadrant 1"),
    ("PFMinQ2", I16, 0, "PFMin_SF", "cos()", RW, None, None, NI, "Minimum power factor, quadrant 2"),
    ("PFMinQ3", I16, 0, "PFMin_SF", "cos()", RW, None, None, NI, "Minimum power factor, quadrant 3"),
    ("PFMinQ4", I16, 0, "PFMin_SF", "cos()", RW, None, None, NI, "Minimum power factor, quadrant 4"),
    ("VArAct", U16, 0, None, "", RW, None, None, NI, "VAr action on change between charging and discharging"),
    ("ClcTotVA", U16, 0, None, "", RW, None, None, NI, "Calculation method for total apparent power"),
    ("MaxRmpRte", U16, 0, "MaxRmpRte_SF", "% WGra", RW, None, None, NI, "Maximum ramp rate"),
    ("ECPNomHz", U16, 0, "ECPNomHz_SF", "Hz", _R, None, None, 0, "Nominal frequency at the PCC"),
    ("ConnPh", U16, 0, None, "", RW, None, None, NI, "Single-phase connection"),
    ("WMax_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VRef_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VRefOfs_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("VMinMax_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VAMax_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("VArMax_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
    ("WGra_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("PFMin_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("MaxRmpRte_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor"),
    ("ECPNomHz_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor"),
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

CURVE_POINTS = 20  # model 126: V1..V20 / VAr1..VAr20 in each curve
VOLT_VAR_MODEL_126: tuple[_Row, ...] = (
    ("ActCrv", U16, 0, None, "", RW, 1, 1, 1, "Active curve (this device has one)"),
    ("ModEna", U16, 0, None, "", RW, 0, 1, 0, "Bit 0: volt-var enabled"),
    ("WinTms", U16, 0, None, "s", RW, 0, 0, 0, "Randomised start window: none (0)"),
    ("RvrtTms", U16, 0, None, "s", RW, 0, 0, 0, "Revert timeout: none (0)"),
    ("RmpTms", U16, 0, None, "s", RW, None, None, NI, "Ramp time to a new curve: see the curve's RmpTms"),
    ("NCrv", U16, 0, None, "", _R, None, None, 1, "Number of curves"),
    ("NPt", U16, 0, None, "", _R, None, None, CURVE_POINTS, "Points per curve"),
    ("V_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor of the curve voltages"),
    ("DeptRef_SF", I16, 0, None, "", _R, None, None, 0, "Scale factor of the curve reactive powers"),
    ("RmpIncDec_SF", I16, 0, None, "", _R, None, None, NI, "Scale factor of the ramp rates"),
    ("curve1.ActPt", U16, 0, None, "", RW, 2, CURVE_POINTS, 4, "Points of the curve in use"),
    ("curve1.DeptRef", U16, 0, None, "", RW, 2, 2, 2, "Dependent reference: 2 = % VArMax (VArMaxQ1 of model 121)"),
    *[row for k in range(1, CURVE_POINTS + 1) for row in (
        # Limits are checked on the ActPt points in use, as a whole curve (unused points may hold NI).
        (f"curve1.V{k}", U16, 0, "V_SF126", "% VRef", RW, None, None, NI, f"Point {k} voltage"),
        (f"curve1.VAr{k}", I16, 0, "DeptRef_SF", "% VArMax", RW, None, None, NI, f"Point {k} reactive power, + injecting"),
    )],
    ("curve1.CrvNam", STRING, 8, None, "", RW, None, None, "IEEE 1547 B", "Curve name"),
    ("curve1.RmpTms", U16, 0, None, "s", RW, 1, 600, 7, "Time of the PT1 lag to 95 % (IEEE 1547 open-loop response: 90 %)"),
    ("curve1.RmpDecTmm", U16, 0, "RmpIncDec_SF", "% ref/min", RW, None, None, NI, "Ramp decrement: none"),
    ("curve1.RmpIncTmm", U16, 0, "RmpIncDec_SF", "% ref/min", RW, None, None, NI, "Ramp increment: none"),
    ("curve1.ReadOnly", U16, 0, None, "", _R, None, None, 0, "0: the curve is writable"),
)
MODELS: tuple[tuple[int, str, tuple[_Row, ...]], ...] = (
    (1, "common", COMMON_MODEL_1),
    (103, "inverter", INVERTER_MODEL_103),
    (120, "nameplate", NAMEPLATE_MODEL_120),
    (121, "settings", SETTINGS_MODEL_121),
    (123, "controls", CONTROLS_MODEL_123),
    (126, "volt_var", VOLT_VAR_MODEL_126),
)
_SF_NAME = {("volt_var", "V_SF"): "V_SF126"}  # model 126's V_SF is a percentage, not 103's volts

# IEEE 1547-2018 Table 8, Category B default volt-var curve: V in % of VRef, Q in % of VArMax (= nameplate VA).
DEFAULT_CURVE_126: tuple[tuple[float, float], ...] = ((92.0, 44.0), (98.0, 0.0), (102.0, 0.0), (108.0, -44.0))


def rated_values(rating: SunSpecRating) -> dict[str, Value]:
    """Values of the rating-dependent points (nameplate, basic settings, default curve), by point name."""
    values: dict[str, Value] = {
        "nameplate.WRtg": rating.w_max_w, "nameplate.VARtg": rating.va_max_va,
        "nameplate.VArRtgQ1": rating.va_max_va, "nameplate.VArRtgQ4": -rating.va_max_va,
        "nameplate.ARtg": rating.a_rated,
        "settings.WMax": rating.w_max_w, "settings.VRef": rating.v_nominal_ln_v,
        "settings.VMax": 1.10 * rating.v_nominal_ln_v, "settings.VMin": 0.88 * rating.v_nominal_ln_v,
        "settings.VAMax": rating.va_max_va, "settings.VArMaxQ1": rating.va_max_va,
        "settings.VArMaxQ4": -rating.va_max_va, "settings.ECPNomHz": rating.nominal_hz,
    }
    for k, (v_pct, q_pct) in enumerate(DEFAULT_CURVE_126, start=1):
        values[f"volt_var.curve1.V{k}"], values[f"volt_var.curve1.VAr{k}"] = v_pct, q_pct
    return values


def der_inverter_map(serial_number: str = "0", rating: SunSpecRating = EXAMPLE_RATING) -> RegisterMap:
    """The SunSpec inverter map from base 40000 for ``rating``; ``serial_number`` goes into model 1's SN."""
    factors = scale_factors(rating)
    defaults = rated_values(rating)
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
            point = _point(prefix, address, row, factors, defaults)
            if point.name == "common.SN":
                point = dataclasses.replace(point, default=serial_number)
            elif point.name == "nameplate.DERTyp":
                point = dataclasses.replace(point, default=0xFFFF if rating.der_type is None else rating.der_type)
            points.append(point)
            address = point.end_address
    points.append(Point("end.ID", HR, address, U16, default=END_MODEL_ID, description="End model marker"))
    points.append(Point("end.L", HR, address + 1, U16, default=0, description="End model length"))
    return RegisterMap("DER inverter (SunSpec)", tuple(points), WordOrder.BIG, description=__doc__ or "",
                       source="SunSpec models 1, 103, 120, 121, 123, 126")


def _point_size(row: _Row) -> int:
    data_type, string_registers = row[1], row[2]
    if data_type is STRING:
        return string_registers
    return 2 if data_type in (DataType.U32, DataType.I32, DataType.F32) else 1


def _point(prefix: str, address: int, row: _Row, factors: dict[str, int], defaults: dict[str, Value]) -> Point:
    name, data_type, string_registers, sf_name, unit, access, minimum, maximum, default, description = row
    full_name = f"{prefix}.{name}"
    factor_key = _SF_NAME.get((prefix, name), name)
    scale = 10.0 ** factors[sf_name] if sf_name and sf_name in factors else 1.0
    if factor_key in factors and default is not NI:
        default = factors[factor_key]
    elif full_name in defaults:
        default = defaults[full_name]
    not_implemented = isinstance(default, _NotImplemented)
    if isinstance(default, _NotImplemented):
        raw = not_implemented_value(data_type, ACC32 if name == "WH" else "")
        default = raw if isinstance(raw, str) or scale == 1.0 else raw * scale
        description = f"{description} (not implemented)"
    elif sf_name:
        description = f"{description} (scale factor {sf_name.replace('V_SF126', 'V_SF')})"
    if not not_implemented and isinstance(default, float) and data_type is not STRING:
        quantised = Point(full_name, HR, address, data_type, scale)
        default = from_raw(quantised, to_raw(quantised, representable(quantised, default)))  # at the point's resolution
    return Point(
        full_name, HR, address, data_type, scale, unit, access, minimum, maximum,
        description=description, default=default, string_registers=string_registers,
    )
