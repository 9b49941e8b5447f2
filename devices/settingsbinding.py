"""Protection and control settings read from a device's registers, and write checks that keep them valid.

The register map holds settings as numbers; the state machines take frozen
settings objects. The builders here turn one into the other through a getter
(``store.get``), so a device rebuilds its logic's settings after a settings
write. ``settings_check`` makes the register store refuse, with exception
03, a write whose resulting combination the builder rejects (an IEC curve
with electromechanical reset, no trips before lockout), instead of accepting
registers the device could not apply.
"""

from __future__ import annotations

from typing import Callable, Mapping

from devices.pointstore import Refusal, WriteRefused
from devices.capacitorcontrol import CapacitorControlSettings, ControlMode
from devices.protection.directional import DirectionalSettings
from devices.protection.multifunction import ElementSettings, Quantity
from devices.protection.overcurrent import InstantaneousSettings, TimeOvercurrentSettings
from devices.protection.recloser import RecloserSettings
from devices.protection.sectionalizer import SectionalizerSettings
from devices.registermap import Value
from devices.registermaps.codes import CURVE_CODES, DIRECTION_CODES, RESET_MODE_CODES
from devices.registerstore import RegisterStore, WriteCheck

Getter = Callable[[str], Value]


def relay_settings(get: Getter) -> tuple[TimeOvercurrentSettings, InstantaneousSettings | None]:
    """51 and 50 settings from the relay map (``devices.registermaps.relay``); 50 is None when disabled."""
    time_overcurrent = TimeOvercurrentSettings(
        pickup_a=float(get("pickup_51_a")),
        curve=CURVE_CODES[int(get("curve_51"))].curve,
        time_dial=float(get("time_dial_51")),
        reset_mode=RESET_MODE_CODES[int(get("reset_mode_51"))],
    )
    pickup_50 = float(get("pickup_50_a"))
    instantaneous = InstantaneousSettings(pickup_50, float(get("delay_50_s"))) if pickup_50 > 0 else None
    return time_overcurrent, instantaneous


# Element groups of the relay map: register key, ANSI suffix, quantity, direction group.
_GROUPS = (("n", "N", Quantity.RESIDUAL, "ground"), ("g", "G", Quantity.GROUND, "ground"),
           ("q", "Q", Quantity.NEGATIVE, "negative"))


def _direction(get: Getter, group: str) -> DirectionalSettings:
    return DirectionalSettings(DIRECTION_CODES[int(get(f"direction_{group}"))], float(get(f"mta_{group}_deg")),
                               float(get("min_polarising_v")))


def relay_elements(get: Getter) -> tuple[ElementSettings, ...]:
    """Every enabled element of the relay map: 51 and 50 (phase), then 51N/50N, 51G/50G, 51Q/50Q.

    A directional group's elements carry its direction (67 for phase, 67N
    for ground, 67Q for negative sequence). Raises ValueError for settings
    no relay could apply (an IEC curve with electromechanical reset).
    """
    time_overcurrent, instantaneous = relay_settings(get)
    phase = _direction(get, "phase")
    elements = [ElementSettings("51", Quantity.PHASE, time_overcurrent, phase)]
    if instantaneous is not None:
        elements.append(ElementSettings("50", Quantity.PHASE, instantaneous, phase))
    for key, suffix, quantity, group in _GROUPS:
        direction = _direction(get, group)
        pickup_51 = float(get(f"pickup_51{key}_a"))
        if pickup_51 > 0:
            elements.append(ElementSettings(
                f"51{suffix}", quantity,
                TimeOvercurrentSettings(pickup_51, CURVE_CODES[int(get(f"curve_51{key}"))].curve,
                                        float(get(f"time_dial_51{key}"))), direction))
        pickup_50 = float(get(f"pickup_50{key}_a"))
        if pickup_50 > 0:
            elements.append(ElementSettings(f"50{suffix}", quantity,
                                            InstantaneousSettings(pickup_50, float(get(f"delay_50{key}_s"))), direction))
    return tuple(elements)


def recloser_settings(get: Getter) -> RecloserSettings:
    """The reclosing sequence from the recloser map; ``reclosing_enabled`` off means one trip to lockout."""
    pickup_a = float(get("pickup_a"))
    fast = TimeOvercurrentSettings(pickup_a, CURVE_CODES[int(get("fast_curve"))].curve, float(get("fast_time_dial")))
    delayed = TimeOvercurrentSettings(
        pickup_a, CURVE_CODES[int(get("delayed_curve"))].curve, float(get("delayed_time_dial"))
    )
    fast_operations, delayed_operations = int(get("fast_operations")), int(get("delayed_operations"))
    if not get("reclosing_enabled"):
        fast_operations, delayed_operations = (1, 0) if fast_operations else (0, 1)
    intervals = tuple(float(get(f"reclose_interval_{k}_s")) for k in (1, 2, 3))
    total = fast_operations + delayed_operations
    if total > len(intervals) + 1:
        raise ValueError(f"{total} trips to lockout need more than the {len(intervals)} reclose intervals")
    return RecloserSettings(
        fast, delayed, fast_operations, delayed_operations, intervals[: max(total - 1, 0)], float(get("reset_time_s"))
    )


def sectionalizer_settings(get: Getter) -> SectionalizerSettings:
    return SectionalizerSettings(
        counts_to_open=int(get("counts_to_open")),
        actuating_current_a=float(get("actuating_current_a")),
        reset_time_s=float(get("reset_time_s")),
    )


def capacitor_settings(get: Getter) -> CapacitorControlSettings | None:
    """Automatic control settings, or None in manual mode (control_mode 0)."""
    mode_code = int(get("control_mode"))
    if mode_code == 0:
        return None
    if mode_code == 1:
        setpoint, bandwidth = float(get("voltage_setpoint_pu")), float(get("voltage_bandwidth_pu"))
    else:
        setpoint, bandwidth = float(get("var_setpoint_kvar")), float(get("var_bandwidth_kvar"))
    return CapacitorControlSettings(
        ControlMode.VOLTAGE if mode_code == 1 else ControlMode.VAR,
        setpoint,
        bandwidth,
        float(get("time_delay_s")),
        float(get("min_switching_interval_s")),
    )


def settings_check(store: RegisterStore, builder: Callable[[Getter], object]) -> WriteCheck:
    """A write check refusing (03) any write after which ``builder`` cannot build valid settings."""

    def check(proposed: Mapping[str, Value]) -> None:
        def get(name: str) -> Value:
            return proposed[name] if name in proposed else store.get(name)

        try:
            builder(get)
        except (ValueError, KeyError) as error:
            raise WriteRefused(Refusal.REFUSED, ", ".join(proposed), f"settings would be invalid: {error}") from None

    return check
