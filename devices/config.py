"""The scenario's ``devices:`` entries as pydantic models, one per device kind.

An entry names the device (``id``), its ``kind``, where it sits on the
communication network (``node``, ``unit_id``), the NIST actor that owns it,
the grid elements it measures and acts on (by name: ``switch: feeder_cb``),
its ``params`` (settings, sample period, noise, reporting) and two switches:
``allow_protection_writes`` (may masters change protection settings over
Modbus?) and ``expose`` (a hint for hardware-in-the-loop: serve this device
on a real Modbus TCP port).

Protection and control settings are validated against the device's register
map (its point limits) and the same settings builders the device uses, so a
setting the device could not apply is a scenario error, not a run failure.
Cross-references (grid elements, comm nodes, brokers, actors) are checked by
:mod:`cosim.scenario.checks` through :meth:`DeviceConfig.grid_references` and
:meth:`DeviceConfig.comm_references`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Iterator, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from cosim.scenario.durations import Duration
from devices.dr_sites_params import DrSitesParams, EsiEnrolment
from devices.registermap import DataType, RegisterMap, Value
from devices.registermaps import DeviceKind, RtuPoint, RtuPointKind, rtu_map, standard_map
from devices.ieee1547 import (
    ENTER_SERVICE_DELAY_S,
    ENTER_SERVICE_RAMP_S,
    VOLT_VAR_CURVE,
    VOLT_VAR_RESPONSE_TIME_S,
    NormalCategory,
)
from devices.protection.fuse import DEFAULT_COOLING_TIME_CONSTANT_S as DEFAULT_FUSE_COOLING_S
from devices.protection.fuse import RATINGS_A as FUSE_RATINGS_A, FuseLinkType, FuseSettings
from devices.registermaps.codes import CURVE_CODES
from devices.registermaps.fuse import LINK_TYPE_CODES
from devices.registermap import RegisterMapError
from devices.protocols.settings import DEFAULT as DEFAULT_PROTOCOLS, ProtocolSettings, ProtocolsConfig
from devices.settingsbinding import capacitor_settings, recloser_settings, relay_elements, sectionalizer_settings

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$", min_length=1, max_length=100)
]
PathKey = tuple[str | int, ...]
Reference = tuple[PathKey, str, tuple[str, ...]]
"""(field path inside the entry, grid reference ``kind/name``, allowed kinds)."""

CURVE_NAMES: dict[str, int] = {curve.name.lower(): code for code, curve in CURVE_CODES.items()}
"""``ieee_very_inverse`` -> register code 2 (see devices.registermaps.codes)."""


def _curve_code(name: str) -> int:
    try:
        return CURVE_NAMES[name]
    except KeyError:
        raise ValueError(f"unknown curve {name!r}; known: {', '.join(CURVE_NAMES)}") from None


def _known_curve(name: str) -> str:
    _curve_code(name)
    return name


CurveName = Annotated[str, AfterValidator(_known_curve)]
DIRECTION_NAMES = ("non_directional", "forward", "reverse")  # index = register code (devices.registermaps.codes)
DirectionName = Literal["non_directional", "forward", "reverse"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_against_map(register_map: RegisterMap, values: dict[str, Value]) -> None:
    """Raise ValueError naming the first setting outside its point's limits."""
    for name, value in values.items():
        point = register_map.point(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if (point.minimum is not None and value < point.minimum) or (point.maximum is not None and value > point.maximum):
            raise ValueError(f"{name} {value:g} outside the device's range [{point.minimum:g}, {point.maximum:g}] {point.unit}")


class ReportingParams(_Model):
    """How the device tells masters about changes: polled only, report by exception, or both (docs/comm.md).

    ``poll``: nothing is sent unasked (masters scan the Modbus map). ``rbe``:
    every status point change (breaker or switch position, trip, lockout,
    counters, fault indicators) is reported at once and an analog when it moved
    beyond its deadband; a master needs only slow integrity polls. ``mixed``:
    status changes are reported at once, analogs are left to the master's scan.
    """

    mode: Literal["poll", "rbe", "mixed"] = Field("poll", description="poll, rbe (report by exception) or mixed (status by exception, analogs polled)")
    broker: str | None = Field(None, description="comm node of the MQTT broker the reports go to (needed unless mode is poll)")
    topic: str | None = Field(None, description="MQTT topic; default 'rbe/<device id>'")
    qos: Literal[0, 1, 2] = Field(1, description="MQTT QoS of the reports (2: exactly once)")
    deadband_pct: float = Field(2.0, ge=0, le=100, description="an analog is reported when it moved more than this percent of its last reported value ...")
    deadband_floor: float = Field(0.0, ge=0, description="... and more than this, in the point's own unit (keeps noise around zero quiet)")

    @model_validator(mode="after")
    def _broker_when_reporting(self) -> "ReportingParams":
        if self.mode != "poll" and self.broker is None:
            raise ValueError(f"reporting mode {self.mode} needs a broker (the comm node of the MQTT broker)")
        return self


class CommonParams(_Model):
    """Parameters every device kind has."""

    sample_period_s: Duration = Field(1.0, gt=0, description="time between periodic samples of a device with noise_pct > 0 (a noiseless one samples when the grid changed); grid changes, commands and logic timers also wake the device")
    noise_pct: float = Field(0.0, ge=0, le=50, description="1-sigma measurement error, percent of reading")
    reporting: ReportingParams = Field(default_factory=lambda: ReportingParams.model_validate({}),
                                       description="report by exception to masters (mode, broker, deadband)")

    def register_values(self) -> dict[str, Value]:
        """Initial register values (engineering units) the params give; empty for kinds without settings."""
        return {}


class RelayParams(CommonParams):
    pickup_51_a: float = Field(600, gt=0, description="51 pickup, primary amperes")
    curve: CurveName = Field("ieee_very_inverse", description="51 curve: " + ", ".join(CURVE_NAMES))
    time_dial: float = Field(1.0, gt=0, description="51 time dial (IEEE TD) or multiplier (IEC TMS)")
    reset_mode: Literal["instantaneous", "electromechanical"] = Field("instantaneous", description="51 reset below pickup")
    pickup_50_a: float = Field(0.0, ge=0, description="50 pickup; 0 disables the element")
    delay_50_s: float = Field(0.0, ge=0, description="50 definite-time delay")
    # Ground (residual 3I0: N; neutral CT: G) and negative-sequence (3I2: Q) elements; pickup 0 disables.
    pickup_51n_a: float = Field(0.0, ge=0, description="51N pickup on the residual 3I0, primary amperes; 0 disables")
    curve_51n: CurveName = Field("ieee_very_inverse", description="51N curve")
    time_dial_51n: float = Field(1.0, gt=0, description="51N time dial / multiplier")
    pickup_50n_a: float = Field(0.0, ge=0, description="50N pickup on 3I0; 0 disables")
    delay_50n_s: float = Field(0.0, ge=0, description="50N definite-time delay")
    pickup_51g_a: float = Field(0.0, ge=0, description="51G pickup on the neutral CT's 3I0; 0 disables")
    curve_51g: CurveName = Field("ieee_very_inverse", description="51G curve")
    time_dial_51g: float = Field(1.0, gt=0, description="51G time dial / multiplier")
    pickup_50g_a: float = Field(0.0, ge=0, description="50G pickup; 0 disables")
    delay_50g_s: float = Field(0.0, ge=0, description="50G definite-time delay")
    pickup_51q_a: float = Field(0.0, ge=0, description="51Q (ANSI 46) pickup on 3I2; 0 disables")
    curve_51q: CurveName = Field("ieee_very_inverse", description="51Q curve")
    time_dial_51q: float = Field(1.0, gt=0, description="51Q time dial / multiplier")
    pickup_50q_a: float = Field(0.0, ge=0, description="50Q pickup on 3I2; 0 disables")
    delay_50q_s: float = Field(0.0, ge=0, description="50Q definite-time delay")
    direction_phase: DirectionName = Field("non_directional", description="phase elements (67: I1 vs V1)")
    mta_phase_deg: float = Field(60.0, ge=0, le=90, description="phase maximum torque angle, current lagging")
    direction_ground: DirectionName = Field("non_directional", description="N and G elements (67N: 3I0 vs -3V0)")
    mta_ground_deg: float = Field(75.0, ge=0, le=90, description="ground maximum torque angle, current lagging")
    direction_negative: DirectionName = Field("non_directional", description="Q elements (67Q: 3I2 vs -3V2)")
    mta_negative_deg: float = Field(75.0, ge=0, le=90, description="negative-sequence maximum torque angle")
    min_polarising_v: float = Field(100.0, ge=0, description="least polarising voltage a directional element needs")
    breaker_time_s: float = Field(0.0, ge=0, le=1.0, description="breaker operating time after the trip decision "
                                                                  "(3 cycles: 0.05 s at 60 Hz)")

    @model_validator(mode="after")
    def _valid(self) -> "RelayParams":
        values = self.register_values()
        _check_against_map(standard_map(DeviceKind.PROTECTIVE_RELAY), values)
        relay_elements(values.__getitem__)
        return self

    def register_values(self) -> dict[str, Value]:
        values: dict[str, Value] = {
            "pickup_51_a": self.pickup_51_a, "curve_51": _curve_code(self.curve), "time_dial_51": self.time_dial,
            "reset_mode_51": 0 if self.reset_mode == "instantaneous" else 1,
            "pickup_50_a": self.pickup_50_a, "delay_50_s": self.delay_50_s,
            "min_polarising_v": self.min_polarising_v, "breaker_time_s": self.breaker_time_s,
        }
        for key in ("n", "g", "q"):
            values |= {f"pickup_51{key}_a": getattr(self, f"pickup_51{key}_a"),
                       f"curve_51{key}": _curve_code(getattr(self, f"curve_51{key}")),
                       f"time_dial_51{key}": getattr(self, f"time_dial_51{key}"),
                       f"pickup_50{key}_a": getattr(self, f"pickup_50{key}_a"),
                       f"delay_50{key}_s": getattr(self, f"delay_50{key}_s")}
        for group in ("phase", "ground", "negative"):
            values[f"direction_{group}"] = DIRECTION_NAMES.index(getattr(self, f"direction_{group}"))
            values[f"mta_{group}_deg"] = getattr(self, f"mta_{group}_deg")
        return values


class RecloserParams(CommonParams):
    pickup_a: float = Field(400, gt=0, description="minimum trip current, primary amperes (both curves)")
    fast_curve: CurveName = Field("ieee_extremely_inverse", description="curve of the fast shots")
    fast_time_dial: float = Field(0.1, gt=0, description="time dial of the fast curve")
    delayed_curve: CurveName = Field("ieee_very_inverse", description="curve of the delayed shots")
    delayed_time_dial: float = Field(1.0, gt=0, description="time dial of the delayed curve")
    fast_operations: int = Field(2, ge=0, le=4, description="trips on the fast curve")
    delayed_operations: int = Field(2, ge=0, le=4, description="trips on the delayed curve; the last one locks out")
    reclose_intervals_s: list[float] = Field(default_factory=lambda: [2.0, 5.0, 10.0], max_length=3,
                                             description="open time after trip 1, 2, 3")
    reset_time_s: Duration = Field(30, gt=0, description="recloser: closed this long without pickup resets the sequence; sectionalizer: counts forgotten")
    reclosing_enabled: bool = Field(True, description="false: one trip to lockout")

    @model_validator(mode="after")
    def _valid(self) -> "RecloserParams":
        values = self.register_values()
        _check_against_map(standard_map(DeviceKind.RECLOSER), values)
        needed = self.fast_operations + self.delayed_operations - 1
        if len(self.reclose_intervals_s) < needed:
            raise ValueError(f"{needed + 1} trips to lockout need {needed} reclose_intervals_s, got {len(self.reclose_intervals_s)}")
        recloser_settings(values.__getitem__)
        return self

    def register_values(self) -> dict[str, Value]:
        intervals = list(self.reclose_intervals_s) + [10.0] * (3 - len(self.reclose_intervals_s))
        return {
            "pickup_a": self.pickup_a, "fast_curve": _curve_code(self.fast_curve), "fast_time_dial": self.fast_time_dial,
            "delayed_curve": _curve_code(self.delayed_curve), "delayed_time_dial": self.delayed_time_dial,
            "fast_operations": self.fast_operations, "delayed_operations": self.delayed_operations,
            "reclose_interval_1_s": intervals[0], "reclose_interval_2_s": intervals[1],
            "reclose_interval_3_s": intervals[2], "reset_time_s": self.reset_time_s,
            "reclosing_enabled": self.reclosing_enabled,
        }


class SectionalizerParams(CommonParams):
    counts_to_open: int = Field(2, ge=1, le=4, description="upstream interruptions after which it opens in the dead time")
    actuating_current_a: float = Field(300, gt=0, description="current that arms a count; set below the upstream recloser pickup")
    reset_time_s: Duration = Field(30, gt=0, description="recloser: closed this long without pickup resets the sequence; sectionalizer: counts forgotten")

    @model_validator(mode="after")
    def _valid(self) -> "SectionalizerParams":
        values = self.register_values()
        _check_against_map(standard_map(DeviceKind.SECTIONALIZER), values)
        sectionalizer_settings(values.__getitem__)
        return self

    def register_values(self) -> dict[str, Value]:
        return {"counts_to_open": self.counts_to_open, "actuating_current_a": self.actuating_current_a,
                "reset_time_s": self.reset_time_s}


class FuseParams(CommonParams):
    rating_a: int = Field(25, description="link ampere rating (EEI-NEMA: " + ", ".join(map(str, FUSE_RATINGS_A)) + ")")
    link_type: Literal["K", "T"] = Field("T", description="K (fast) or T (slow) expulsion link (devices/protection/fuse.py)")
    clearing_delay_s: float = Field(0.0, ge=0, le=1.0, description="arcing time added to melting for total clearing")
    cooling_time_constant_s: Duration = Field(DEFAULT_FUSE_COOLING_S, gt=0, description="heating memory decays with this time constant below the minimum melting current (default ~0.95 s, calibrated to Cooper's 1.35 factor)")

    @model_validator(mode="after")
    def _valid(self) -> "FuseParams":
        if self.rating_a not in FUSE_RATINGS_A:
            raise ValueError(f"rating_a {self.rating_a} is not an EEI-NEMA K/T link rating ({', '.join(map(str, FUSE_RATINGS_A))})")
        return self

    def fuse_settings(self) -> FuseSettings:
        return FuseSettings(float(self.rating_a), FuseLinkType[self.link_type], self.clearing_delay_s,
                            self.cooling_time_constant_s)

    def register_values(self) -> dict[str, Value]:
        code = {name: c for c, name in LINK_TYPE_CODES.items()}[self.link_type]
        return {"rating_a": self.rating_a, "link_type": code, "clearing_delay_s": self.clearing_delay_s}


class VoltageRegulatorParams(CommonParams):
    sample_period_s: Duration = Field(10.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    control_mode: Literal["manual", "auto"] = Field("auto", description="manual: tap_position_command moves the taps")
    band_centre_v: float = Field(120.0, description="band centre (voltage level), volts on the 120 V base")
    bandwidth_v: float = Field(2.0, description="full width of the band, volts")
    time_delay_s: float = Field(30.0, description="time outside the band before the first tap change")
    tap_delay_s: float = Field(2.0, description="time between further tap changes while outside the band")
    ldc_r_v: float = Field(0.0, description="line-drop compensator R, volts at CT rated current")
    ldc_x_v: float = Field(0.0, description="line-drop compensator X, volts at CT rated current")
    pt_ratio: float = Field(20.0, description="potential transformer ratio")
    ct_primary_a: float = Field(700.0, description="current transformer rated primary amperes")
    phases: int = Field(1, ge=1, le=3, description="phases in the sensed branch reading: 1 for a single-phase regulator "
                        "(or a feeder's branch.k), 3 for a balanced grid's branch (its P and Q split per phase)")

    @model_validator(mode="after")
    def _valid(self) -> "VoltageRegulatorParams":
        _check_against_map(standard_map(DeviceKind.VOLTAGE_REGULATOR), self.register_values())
        return self

    def register_values(self) -> dict[str, Value]:
        return {"control_mode": {"manual": 0, "auto": 1}[self.control_mode], "band_centre_v": self.band_centre_v,
                "bandwidth_v": self.bandwidth_v, "time_delay_s": self.time_delay_s, "tap_delay_s": self.tap_delay_s,
                "ldc_r_v": self.ldc_r_v, "ldc_x_v": self.ldc_x_v, "pt_ratio": self.pt_ratio,
                "ct_primary_a": self.ct_primary_a}


class CapacitorParams(CommonParams):
    sample_period_s: Duration = Field(10.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    control_mode: Literal["manual", "voltage", "var"] = Field("voltage", description="manual: the bank_close_command coil switches it")
    voltage_setpoint_pu: float = Field(1.0, description="voltage mode: band centre")
    voltage_bandwidth_pu: float = Field(0.03, description="voltage mode: full band width")
    var_setpoint_kvar: float = Field(0.0, description="var mode: band centre, kvar into the branch")
    var_bandwidth_kvar: float = Field(900.0, description="var mode: full band width (more than the bank)")
    time_delay_s: float = Field(30.0, description="time outside the band before switching")
    min_switching_interval_s: float = Field(300.0, description="minimum time between switchings")

    @model_validator(mode="after")
    def _valid(self) -> "CapacitorParams":
        values = self.register_values()
        _check_against_map(standard_map(DeviceKind.CAPACITOR_BANK_CONTROLLER), values)
        capacitor_settings(values.__getitem__)
        return self

    def register_values(self) -> dict[str, Value]:
        return {
            "control_mode": {"manual": 0, "voltage": 1, "var": 2}[self.control_mode],
            "voltage_setpoint_pu": self.voltage_setpoint_pu, "voltage_bandwidth_pu": self.voltage_bandwidth_pu,
            "var_setpoint_kvar": self.var_setpoint_kvar, "var_bandwidth_kvar": self.var_bandwidth_kvar,
            "time_delay_s": self.time_delay_s, "min_switching_interval_s": self.min_switching_interval_s,
        }


class MqttParams(_Model):
    """Where and how a device publishes (its node's MQTT client talks to ``broker``)."""

    broker: str = Field(description="comm node of the MQTT broker")
    topic: str | None = Field(None, description="topic prefix; default '<kind>/<device id>'")
    qos: Literal[0, 1, 2] = 1


class MeterParams(CommonParams):
    sample_period_s: Duration = Field(60.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    interval_s: Duration = Field(900.0, gt=0, description="interval-data length (15 min)")
    mqtt: MqttParams | None = Field(None, description="AMI reporting: interval data, outage and restoration events")


class PmuParams(CommonParams):
    reporting_rate_fps: int = Field(10, ge=1, le=120, description="synchrophasor frames per second (IEEE C37.118.1)")
    mqtt: MqttParams | None = Field(None, description="frame publishing: broker, topic, qos (0 suits synchrophasors)")

    def register_values(self) -> dict[str, Value]:
        return {"reporting_rate_fps": self.reporting_rate_fps}


class VoltVarPoint(_Model):
    v_pu: float = Field(gt=0)
    q_pct: float = Field(ge=-100, le=100,
                         description="reactive power, percent of nameplate apparent power (rated_kva), + injecting")


def _default_volt_var(category: NormalCategory) -> list[VoltVarPoint]:
    # IEEE 1547-2018, Table 8 default volt-var curve of the category (Category A: V2 = V3 = VRef, one point)
    points = dict(VOLT_VAR_CURVE[category])
    return [VoltVarPoint(v_pu=v, q_pct=q) for v, q in sorted(points.items())]


class VoltVarParams(_Model):
    enabled: bool = False
    category: Literal["A", "B"] = Field("B", description="normal performance category: default curve and response time")
    curve: list[VoltVarPoint] | None = Field(None, min_length=2, description="default: the category's Table 8 curve")
    response_time_s: float | None = Field(None, gt=0, description="open-loop response time (90 %); default: Table 8, A 10 s, B 5 s")
    deadband_pct: float = Field(1.0, ge=0, description="do not re-command Q for changes smaller than this (% of rated_kva)")

    @model_validator(mode="after")
    def _increasing(self) -> "VoltVarParams":
        volts = [p.v_pu for p in self.points]
        if any(b <= a for a, b in zip(volts, volts[1:])):
            raise ValueError("volt-var curve voltages must increase strictly")
        return self

    @property
    def points(self) -> list[VoltVarPoint]:
        return self.curve if self.curve is not None else _default_volt_var(NormalCategory(self.category))

    @property
    def response_s(self) -> float:
        return self.response_time_s if self.response_time_s is not None else \
            VOLT_VAR_RESPONSE_TIME_S[NormalCategory(self.category)]


class Ieee1547Params(_Model):
    """Response to abnormal voltage and frequency (IEEE 1547-2018, 6.4, 6.5) and enter service (4.10)."""

    enabled: bool = Field(True, description="trip, ride-through and enter-service logic on")
    category: Literal["I", "II", "III"] = Field("II", description="abnormal operating performance category (Tables 11-16)")
    enter_service_delay_s: float = Field(ENTER_SERVICE_DELAY_S, ge=0, le=600,
                                         description="time within the enter-service criteria before reconnecting")
    enter_service_ramp_s: float = Field(ENTER_SERVICE_RAMP_S, ge=1, le=1000,
                                        description="enter-service period: active power ramps up over it")


class DerInverterParams(CommonParams):
    sample_period_s: Duration = Field(5.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    rated_kw: float | None = Field(None, gt=0, description="WMax; default the DER's p_max_mw")
    rated_kva: float | None = Field(None, gt=0, description="nameplate apparent power; default rated_kw (volt-var percentages are of it)")
    volt_var: VoltVarParams = Field(default_factory=lambda: VoltVarParams.model_validate({}), description="enabled, category, curve [{v_pu, q_pct}], response_time_s, deadband_pct (IEEE 1547-2018 Table 8)")
    ieee1547: Ieee1547Params = Field(default_factory=lambda: Ieee1547Params.model_validate({}), description="enabled, category (I, II, III), enter_service_delay_s, enter_service_ramp_s")


class PlantControllerParams(CommonParams):
    sample_period_s: Duration = Field(60.0, gt=0, description="time between recorded samples of output and set-point; orders and ramp steps also wake the device")
    control_period_s: Duration = Field(4.0, gt=0, description="set-point update period while the unit ramps (a unit load controller's cycle)")
    ramp_rate_mw_per_min: float = Field(gt=0, description="largest set-point change per minute, up or down")
    p_min_mw: float = Field(0.0, description="lowest set-point (economic minimum); negative only with storage")
    p_max_mw: float = Field(gt=0, description="highest set-point (maximum capability)")
    storage: bool = Field(False, description="the unit may absorb power (p_min_mw < 0)")
    basepoint_mw: float | None = Field(None, description="basepoint before the first dispatch; default: the generator's p_mw in the grid")

    @model_validator(mode="after")
    def _limits(self) -> "PlantControllerParams":
        if self.p_min_mw > self.p_max_mw:
            raise ValueError(f"p_min_mw {self.p_min_mw:g} above p_max_mw {self.p_max_mw:g}")
        if self.p_min_mw < 0 and not self.storage:
            raise ValueError(f"p_min_mw {self.p_min_mw:g} < 0: a generating unit does not absorb power (set storage: true for storage)")
        _check_against_map(standard_map(DeviceKind.PLANT_CONTROLLER), self.register_values())
        return self

    def register_values(self) -> dict[str, Value]:
        values: dict[str, Value] = {"ramp_rate_mw_per_min": self.ramp_rate_mw_per_min, "p_min_mw": self.p_min_mw,
                                    "p_max_mw": self.p_max_mw}
        if self.basepoint_mw is not None:
            values["basepoint_mw"] = self.basepoint_mw
        return values


_ANALOG: dict[str, tuple[str, ...]] = {
    "bus": ("vm_pu", "v_kv", "va_deg", "frequency_hz"),
    "branch": ("p_mw", "q_mvar", "i_a", "p_to_mw", "q_to_mvar", "i_to_a"),
    "switch": ("p_mw", "q_mvar", "i_a"),
    "load": ("p_mw", "q_mvar"),
    "gen": ("p_mw", "q_mvar"),
    "der": ("p_mw", "q_mvar"),
    "shunt": ("step",),
}
_STATUS: dict[str, tuple[str, ...]] = {
    "switch": ("closed", "fault_indicator"), "branch": ("closed",), "bus": ("energised",), "load": ("served",), "der": ("in_service",),
}
_CONTROL: dict[str, tuple[str, ...]] = {
    "switch": ("open", "close", "reset_indicator"), "load": ("connect", "disconnect"), "shunt": ("in", "out"),
}
_SETPOINT: dict[str, tuple[str, ...]] = {
    "der": ("p_limit_mw", "q_mvar"), "shunt": ("step",), "gen": ("p_mw", "vm_pu"), "branch": ("tap_ratio",),
}
RTU_SOURCES: dict[RtuPointKind, dict[str, tuple[str, ...]]] = {
    RtuPointKind.ANALOG: _ANALOG, RtuPointKind.STATUS: _STATUS,
    RtuPointKind.CONTROL: _CONTROL, RtuPointKind.SETPOINT: _SETPOINT,
}
"""What an RTU point of each kind may mirror or drive: element kind -> quantities (``switch/cb:closed``)."""


class RtuPointConfig(_Model):
    name: Identifier
    kind: Literal["analog", "status", "control", "setpoint"]
    source: str = Field(description="kind/name:quantity, e.g. bus/dx_mv:vm_pu, switch/feeder_cb:open")
    data_type: Literal["u16", "i16", "u32", "i32", "f32"] = "i16"
    scale: float = Field(1.0, gt=0, description="engineering value = raw register x scale")
    gain: float = Field(1.0, gt=0, description="engineering value = grid quantity x gain (1000: MW -> kW)")
    unit: str = ""
    address: int | None = Field(None, ge=0, le=65535)
    minimum: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _source(self) -> "RtuPointConfig":
        element, quantity = self.split_source()
        allowed = RTU_SOURCES[RtuPointKind(self.kind)]
        if element not in allowed:
            raise ValueError(f"a {self.kind} point mirrors {', '.join(allowed)} elements, not {element!r} (source {self.source!r})")
        if quantity not in allowed[element]:
            raise ValueError(f"{self.kind} quantity of a {element} is one of {', '.join(allowed[element])}, not {quantity!r}")
        return self

    def split_source(self) -> tuple[str, str]:
        reference, separator, quantity = self.source.partition(":")
        element, slash, name = reference.partition("/")
        if not (separator and slash and name and quantity):
            raise ValueError(f"source {self.source!r} is not kind/name:quantity (e.g. switch/feeder_cb:closed)")
        return element, quantity

    def reference(self) -> str:
        return self.source.partition(":")[0]

    def rtu_point(self) -> RtuPoint:
        return RtuPoint(self.name, RtuPointKind(self.kind), self.source, DataType(self.data_type), self.scale,
                        self.unit, self.minimum, self.maximum, address=self.address)


class RtuParams(CommonParams):
    sample_period_s: Duration = Field(2.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    points: list[RtuPointConfig] = Field(min_length=1, description="the point list: name, kind, source kind/name:quantity, data_type, scale, gain, unit, address, minimum, maximum")
    select_before_operate: bool = Field(False, description="a control coil operates only after its .select coil")
    select_timeout_s: Duration = Field(10.0, gt=0, description="a select arms its control for this long")
    fault_indicator_a: float = Field(400.0, gt=0, description="switch/X:fault_indicator latches when the current through X exceeds this (fault passage indicator); switch/X:reset_indicator clears it")

    @model_validator(mode="after")
    def _layout(self) -> "RtuParams":
        names = [p.name for p in self.points]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate point names: {', '.join(duplicates)}")
        try:
            self.register_map("check")
        except RegisterMapError as error:
            raise ValueError("; ".join(error.problems)) from None
        return self

    def register_map(self, name: str) -> RegisterMap:
        points = [p.rtu_point() for p in self.points]
        if self.select_before_operate:
            points += [RtuPoint(f"{p.name}.select", RtuPointKind.CONTROL, p.source,
                                description=f"select-before-operate: arms {p.name}")
                       for p in self.points if p.kind == "control"]
        return rtu_map(points, name=f"RTU {name}")


class EsiParams(CommonParams):
    sample_period_s: Duration = Field(60.0, gt=0, description="time between periodic samples; grid changes, commands and logic timers also wake the device")
    mqtt: MqttParams = Field(description="where price and DR arrive and responses go")
    enrolment: EsiEnrolment | None = Field(None, description=(
        "the premise's enrolment with a CSP: a one-site Load Management resource, as a one-site dr_site_population"))


class MeterPopulationParams(_Model):
    node_group: str = Field(description="id_format of the comm node_group whose members are the meters")
    loads: list[str] = Field(min_length=1, description="grid loads the meters share (consecutive blocks)")
    interval_s: Duration = Field(900.0, gt=0, description="interval-data length")
    noise_pct: float = Field(0.5, ge=0, le=50, description="1-sigma error of each interval reading, percent")
    share_sigma: float = Field(0.4, ge=0, description="lognormal sigma of each meter's share of its load")
    report_bytes: int = Field(120, ge=1, description="size of one meter's interval report on the mesh")
    collect_s: Duration = Field(60.0, gt=0, description="collectors publish their batch this long after the interval")
    mqtt: MqttParams = Field(description="collectors publish their batches to this broker")


class ExposeConfig(_Model):
    """Hint for hardware in the loop: serve this device's registers on a real Modbus TCP socket.

    The scenario names devices and may ask for a port; the address the port
    is bound to is decided by the bench file alone (``hil.modbus.host``), so a
    scenario cannot move a server off loopback.
    """

    port: int | None = Field(None, ge=1, le=65535, description="TCP port; None: the HIL server picks")


class DeviceConfig(_Model):
    """Fields of every device entry; subclasses add grid references and ``params``."""

    id: Identifier
    kind: str
    node: str | None = Field(None, description="comm node whose Modbus server / MQTT client the device uses")
    unit_id: int = Field(1, ge=1, le=247)
    actor: str | None = Field(None, description="owning NIST actor id")
    allow_protection_writes: bool = False
    expose: ExposeConfig | None = None
    protocols: ProtocolsConfig | None = Field(None, description="the protocols that serve the device on its node "
                                              "(absent: Modbus; see docs/protocols.md)")
    params: CommonParams = Field(default_factory=lambda: CommonParams.model_validate({}))

    refs: ClassVar[dict[str, str]] = {}
    """Grid-reference fields -> element kind (``{"switch": "switch"}``)."""
    modbus_unit: ClassVar[bool] = True
    """Whether the device answers as a Modbus unit on its node (so its ``unit_id`` must be free there)."""
    required_refs: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _required(self) -> "DeviceConfig":
        missing = [name for name in self.required_refs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} needs {' and '.join(missing)} (the grid element it works on)")
        return self

    @model_validator(mode="after")
    def _protocols_have_views(self) -> "DeviceConfig":
        if self.protocols is None:
            return self
        if not self.modbus_unit:
            raise ValueError(f"a {self.kind} has no point model for protocols to serve; remove protocols")
        for name, section in self.protocols.chosen().items():
            if section.kinds is not None and self.kind not in section.kinds:
                raise ValueError(f"protocols.{name}: a {self.kind} has no {name} view "
                                 f"(kinds with one: {', '.join(sorted(section.kinds))})")
        if self.expose is not None and self.protocols.modbus is None:
            raise ValueError("expose serves the device's Modbus unit on real TCP: list modbus under protocols")
        return self

    def served_protocols(self) -> dict[str, ProtocolSettings]:
        """Protocol name -> settings of every protocol that serves the device (no ``protocols:``: Modbus alone)."""
        if self.protocols is not None:
            return self.protocols.chosen()
        return DEFAULT_PROTOCOLS.chosen() if self.modbus_unit else {}

    @property
    def device_kind(self) -> DeviceKind | None:
        try:
            return DeviceKind(self.kind)
        except ValueError:
            return None

    def grid_references(self) -> Iterator[Reference]:
        for field, element in self.refs.items():
            name = getattr(self, field)
            if name is not None:
                yield (field,), f"{element}/{name}", (element,)

    def comm_references(self) -> Iterator[tuple[PathKey, str, str]]:
        """(path, node id, "node" | "broker") for every comm node the entry names."""
        if self.node is not None:
            yield ("node",), self.node, "node"
        mqtt = getattr(self.params, "mqtt", None)
        if mqtt is not None:
            yield ("params", "mqtt", "broker"), mqtt.broker, "broker"
        reporting = getattr(self.params, "reporting", None)
        if reporting is not None and reporting.broker is not None:
            yield ("params", "reporting", "broker"), reporting.broker, "broker"

    def needs_node(self) -> bool:
        reporting = getattr(self.params, "reporting", None)
        return (getattr(self.params, "mqtt", None) is not None or (reporting is not None and reporting.mode != "poll")
                or any(name != "modbus" for name in self.served_protocols()))


class RtuConfig(DeviceConfig):
    """Remote terminal unit: a point list mapping grid quantities and controls to Modbus tables."""

    kind: Literal["rtu"]
    params: RtuParams

    def grid_references(self) -> Iterator[Reference]:
        for index, point in enumerate(self.params.points):
            element, _ = point.split_source()
            yield ("params", "points", index, "source"), point.reference(), (element,)

    def needs_node(self) -> bool:
        return True


class SmartMeterConfig(DeviceConfig):
    """AMI meter: V/I/P/Q, energy, 15-minute interval data and outage events over MQTT, remote disconnect."""

    kind: Literal["smart_meter"]
    load: str | None = None
    der: str | None = Field(None, description="behind-the-meter DER: the meter measures load minus DER")
    params: MeterParams = Field(default_factory=lambda: MeterParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"load": "load", "der": "der"}
    required_refs: ClassVar[tuple[str, ...]] = ("load",)


class RelayConfig(DeviceConfig):
    """50/51 feeder relay tripping a breaker."""

    kind: Literal["protective_relay"]
    switch: str | None = Field(None, description="the breaker it trips")
    params: RelayParams = Field(default_factory=lambda: RelayParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"switch": "switch"}
    required_refs: ClassVar[tuple[str, ...]] = ("switch",)


class RecloserConfig(DeviceConfig):
    """Recloser control: fast and delayed shots, reclose intervals, lockout (resettable over Modbus)."""

    kind: Literal["recloser"]
    switch: str | None = Field(None, description="the interrupter it trips and recloses")
    params: RecloserParams = Field(default_factory=lambda: RecloserParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"switch": "switch"}
    required_refs: ClassVar[tuple[str, ...]] = ("switch",)


class SectionalizerConfig(DeviceConfig):
    """Sectionalizer: counts upstream interruptions, opens in the dead time."""

    kind: Literal["sectionalizer"]
    switch: str | None = None
    params: SectionalizerParams = Field(default_factory=lambda: SectionalizerParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"switch": "switch"}
    required_refs: ClassVar[tuple[str, ...]] = ("switch",)


class FuseConfig(DeviceConfig):
    """Expulsion fuse (K or T link) in a cutout: melts on its curve and opens its switch."""

    kind: Literal["fuse"]
    switch: str | None = Field(None, description="the cutout (grid switch) the link sits in")
    params: FuseParams = Field(default_factory=lambda: FuseParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"switch": "switch"}
    required_refs: ClassVar[tuple[str, ...]] = ("switch",)


class CapacitorConfig(DeviceConfig):
    """Capacitor bank controller: voltage or var control of a grid shunt."""

    kind: Literal["capacitor_bank_controller"]
    shunt: str | None = None
    bus: str | None = Field(None, description="voltage sensing bus; default the shunt's bus")
    branch: str | None = Field(None, description="var sensing: flow into this branch at its from end (var mode)")
    params: CapacitorParams = Field(default_factory=lambda: CapacitorParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"shunt": "shunt", "bus": "bus", "branch": "branch"}
    required_refs: ClassVar[tuple[str, ...]] = ("shunt",)

    @model_validator(mode="after")
    def _var_needs_branch(self) -> "CapacitorConfig":
        if self.params.control_mode == "var" and self.branch is None:
            raise ValueError("var control needs branch (where the reactive flow is measured)")
        return self


class VoltageRegulatorConfig(DeviceConfig):
    """Step-voltage regulator control: band, delays and line-drop compensation on a transformer's taps."""

    kind: Literal["voltage_regulator"]
    branch: str | None = Field(None, description="the regulator (a transformer branch) whose taps it drives")
    bus: str | None = Field(None, description="regulated bus it senses (on a feeder, one phase: rg60.1)")
    end: Literal["from", "to"] = Field("to", description="end of branch whose current feeds the line-drop compensator")
    params: VoltageRegulatorParams = Field(default_factory=lambda: VoltageRegulatorParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"branch": "branch", "bus": "bus"}
    required_refs: ClassVar[tuple[str, ...]] = ("branch", "bus")


class PmuConfig(DeviceConfig):
    """Phasor measurement unit: synchrophasor frames at a reporting rate over MQTT and IEEE C37.118.2."""

    kind: Literal["pmu"]
    bus: str | None = None
    branch: str | None = Field(None, description="current phasor: flow into this branch at its from end")
    params: PmuParams = Field(default_factory=lambda: PmuParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"bus": "bus", "branch": "branch"}
    required_refs: ClassVar[tuple[str, ...]] = ("bus",)


class DerInverterConfig(DeviceConfig):
    """DER inverter with a SunSpec map: curtailment, Q, power factor, volt-var, on a grid DER."""

    kind: Literal["der_inverter"]
    der: str | None = None
    params: DerInverterParams = Field(default_factory=lambda: DerInverterParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"der": "der"}
    required_refs: ClassVar[tuple[str, ...]] = ("der",)


class EsiGatewayConfig(DeviceConfig):
    """ESI gateway of a premises: price and DR in over MQTT, to the EMS; opt-in and measured response out."""

    kind: Literal["esi_gateway"]
    load: str | None = Field(None, description="the premises' load (measured demand and DR response)")
    params: EsiParams
    refs: ClassVar[dict[str, str]] = {"load": "load"}

    def needs_node(self) -> bool:
        return True

    def comm_references(self) -> Iterator[tuple[PathKey, str, str]]:
        yield from super().comm_references()
        enrolment = self.params.enrolment
        if enrolment is not None and enrolment.protocol == "openadr" and enrolment.vtn is not None:
            yield ("params", "enrolment", "vtn"), enrolment.vtn, "node"


class PlantControllerConfig(DeviceConfig):
    """Plant controller: basepoint and regulation in, ramp-limited set-point to a generator (or cap of a renewable DER)."""

    kind: Literal["plant_controller"]
    generator: str | None = Field(None, description="the grid generator it dispatches")
    der: str | None = Field(None, description="or: the grid DER of a renewable plant it caps (wind or solar park)")
    params: PlantControllerParams
    refs: ClassVar[dict[str, str]] = {"generator": "gen", "der": "der"}

    @model_validator(mode="after")
    def _one_unit(self) -> "PlantControllerConfig":
        if (self.generator is None) == (self.der is None):
            raise ValueError("a plant_controller needs exactly one of generator and der (the unit it controls)")
        return self


class MeterPopulationConfig(DeviceConfig):
    """Thousands of meters as numpy arrays behind one process; their nodes are a comm node_group."""

    kind: Literal["meter_population"]
    params: MeterPopulationParams  # type: ignore[assignment]  # no per-device sampling: not a CommonParams

    @model_validator(mode="after")
    def _no_modbus(self) -> "MeterPopulationConfig":
        if self.expose is not None or self.node is not None:
            raise ValueError("a meter_population has no Modbus unit: its nodes are params.node_group (no node, no expose)")
        return self

    def grid_references(self) -> Iterator[Reference]:
        for index, load in enumerate(self.params.loads):
            yield ("params", "loads", index), f"load/{load}", ("load",)

    def comm_references(self) -> Iterator[tuple[PathKey, str, str]]:
        yield ("params", "node_group"), self.params.node_group, "node_group"
        yield ("params", "mqtt", "broker"), self.params.mqtt.broker, "broker"


class DrSitePopulationConfig(DeviceConfig):
    """DR end-use sites (premises with ESI, EMS and interval meter) as numpy arrays; each zone's load on the grid."""

    kind: Literal["dr_site_population"]
    modbus_unit: ClassVar[bool] = False
    params: DrSitesParams  # type: ignore[assignment]  # its own parameters, not a CommonParams

    @model_validator(mode="after")
    def _no_modbus(self) -> "DrSitePopulationConfig":
        if self.node is None:
            raise ValueError("a dr_site_population needs the comm node its ESIs' MQTT client sits on")
        if self.expose is not None:
            raise ValueError("a dr_site_population has no Modbus unit to expose")
        return self

    def grid_references(self) -> Iterator[Reference]:
        for index, zone in enumerate(self.params.zones):
            yield ("params", "zones", index, "load"), f"load/{zone.load}", ("load",)

    def comm_references(self) -> Iterator[tuple[PathKey, str, str]]:
        yield ("node",), self.node or "", "node"
        yield ("params", "broker"), self.params.broker, "broker"

    def needs_node(self) -> bool:
        return True


class OpenAdrVenParams(_Model):
    """Where an OpenADR VEN's VTN is and which sites it serves (devices/protocols/openadr_ven.py)."""

    vtn: str = Field(description="comm node of the CSP's VTN")
    csp: str = Field(description="the CSP's name (its topics: pjm/enrol/<csp>, esi/<csp>/<resource>)")
    population: str = Field(description="device id of the dr_site_population whose site groups this VEN serves")
    broker: str = Field(description="MQTT broker of the node's ESIs")
    ven_id: str | None = Field(None, description="VEN id on the wire (default: the device id)")
    protocol: Literal["openadr", "mqtt"] = Field("openadr", description=(
        "how the CSP's programme notifies these sites (its csp application's protocol); mqtt: this VEN stays idle "
        "-- no subscription, no message -- and the ESIs take the CSP's MQTT signals (one YAML anchor can switch both)"))


class OpenAdrVenConfig(DeviceConfig):
    """An OpenADR 2.0b VEN on the node of a DR site population: its CSP's events become the sites' DR signals."""

    kind: Literal["openadr_ven"]
    modbus_unit: ClassVar[bool] = False
    params: OpenAdrVenParams  # type: ignore[assignment]  # its own parameters, not a CommonParams

    @model_validator(mode="after")
    def _needs_node(self) -> "OpenAdrVenConfig":
        if self.node is None:
            raise ValueError("an openadr_ven needs the comm node of the sites it serves")
        if self.expose is not None:
            raise ValueError("an openadr_ven has no Modbus unit to expose")
        return self

    def comm_references(self) -> Iterator[tuple[PathKey, str, str]]:
        yield ("node",), self.node or "", "node"
        yield ("params", "vtn"), self.params.vtn, "node"
        yield ("params", "broker"), self.params.broker, "broker"

    def needs_node(self) -> bool:
        return True


CONFIG_MODELS: dict[str, type[DeviceConfig]] = {
    "rtu": RtuConfig,
    "smart_meter": SmartMeterConfig,
    "protective_relay": RelayConfig,
    "recloser": RecloserConfig,
    "sectionalizer": SectionalizerConfig,
    "fuse": FuseConfig,
    "capacitor_bank_controller": CapacitorConfig,
    "voltage_regulator": VoltageRegulatorConfig,
    "pmu": PmuConfig,
    "der_inverter": DerInverterConfig,
    "esi_gateway": EsiGatewayConfig,
    "meter_population": MeterPopulationConfig,
    "dr_site_population": DrSitePopulationConfig,
    "plant_controller": PlantControllerConfig,
    "openadr_ven": OpenAdrVenConfig,
}
"""Device kind (the ``kind:`` of an entry) -> its model."""


class UnknownKind(ValueError):
    pass


def device_model(raw: Any) -> type[DeviceConfig]:
    """The model for a raw entry; raises UnknownKind (with the known kinds) when ``kind`` is missing or unknown."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    model = CONFIG_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise UnknownKind(f"unknown device kind {kind!r}; known: {', '.join(CONFIG_MODELS)}")
    return model


def parse_device(raw: Any) -> DeviceConfig:
    """Validate one raw entry; raises UnknownKind or pydantic ValidationError."""
    return device_model(raw).model_validate(raw)


__all__ = ["CONFIG_MODELS", "DeviceConfig", "ExposeConfig", "MqttParams", "RTU_SOURCES", "UnknownKind",
           "ValidationError", "device_model", "parse_device"]
