"""Step-voltage regulator control: bandwidth and line-drop compensation, one tap at a time.

A regulator's control (ANSI C57.15 type B regulators; W. H. Kersting,
*Distribution System Modeling and Analysis*, ch. 7) watches the voltage of
its regulated winding through a potential transformer (``ptratio``, so 120 V
nominal) and subtracts the drop over a compensator impedance fed by a
current transformer (``ctprim`` primary amperes give the settings' volts):

    V_relay = V_winding / ptratio - (R + jX) * I_line / ctprim

If ``|V_relay|`` leaves ``vreg +- band/2`` the tap moves one step (5/8 %)
toward the band, after the time delay; it keeps stepping while the voltage
stays outside. :func:`settle_taps` finds where that process comes to rest
(each round every out-of-band regulator of the shortest delay moves one
step, then the feeder is re-solved), which is the static state a time-domain simulation reaches once
the delays have run out. Here the delays only order the steps; timing them
in simulated seconds belongs to a regulator device, not to the power flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cosim.grid.actions import SetTap
from cosim.grid.threephase.elements import RegulatorControl
from cosim.grid.threephase.measurements import FeederMeasurements
from cosim.grid.threephase.service import FeederService


@dataclass(frozen=True)
class RegulatorState:
    """What a regulator's control sees: relay voltage (V on the PT secondary) and tap step."""

    name: str
    v_relay: float
    step: int
    in_band: bool


def tap_step(ratio: float, reg: RegulatorControl) -> int:
    """Tap position (steps from neutral) of a ratio, rounded to the nearest step."""
    return int(round((ratio - 1.0) / reg.tap_step))


def relay_voltage(meas: FeederMeasurements, reg: RegulatorControl) -> float:
    """The compensated voltage the control compares with its band, volts on the PT secondary."""
    feeder = meas.prepared.feeder
    xf = feeder.transformers[feeder.index("transformers", reg.transformer)]
    w = reg.winding - 1
    winding = xf.windings[w]
    term = meas.transformer(xf.name, reg.winding)
    phase, star = winding.terminal[0], winding.terminal[-1]
    v = meas_voltage(meas, phase.bus, phase.conductor) - meas_voltage(meas, star.bus,
                                                                      star.conductor)
    # Current leaving the regulator toward the load is minus the current into the winding.
    i_line = -term.i_a[0] * complex(math.cos(math.radians(term.i_deg[0])),
                                    math.sin(math.radians(term.i_deg[0])))
    return abs(v / reg.ptratio - complex(reg.r, reg.x) * i_line / reg.ctprim)


def meas_voltage(meas: FeederMeasurements, bus: str, conductor: int) -> complex:
    """Complex voltage of one conductor to ground (0 for ground or an unknown conductor)."""
    if conductor == 0:
        return 0j
    pv = meas.bus_voltage(bus)
    if conductor not in pv.conductors:
        return 0j
    k = pv.conductors.index(conductor)
    return pv.v_ln_v[k] * complex(math.cos(math.radians(pv.va_deg[k])),
                                  math.sin(math.radians(pv.va_deg[k])))


def regulator_states(meas: FeederMeasurements) -> list[RegulatorState]:
    feeder = meas.prepared.feeder
    out = []
    for reg in feeder.regulators:
        xf = feeder.transformers[feeder.index("transformers", reg.transformer)]
        v = relay_voltage(meas, reg)
        out.append(RegulatorState(reg.name, v, tap_step(xf.windings[reg.winding - 1].tap, reg),
                                  abs(v - reg.vreg) <= reg.band / 2))
    return out


def settle_taps(service: FeederService, max_rounds: int = 64) -> dict[str, int]:
    """Step out-of-band regulators one tap per round until all rest; tap steps by transformer.

    In a round only the out-of-band regulators with the shortest time delay
    move (time grading: a downstream regulator set slower waits for the
    upstream one to finish).

    Stops early at a tap limit (the regulator stays at its end stop). Raises
    ``RuntimeError`` if the taps still move after ``max_rounds`` (a hunting
    control: band narrower than one step).
    """
    feeder = service.feeder
    regs = {r.name: r for r in feeder.regulators}
    for _ in range(max_rounds):
        moved = False
        out = [st for st in regulator_states(service.measurements()) if not st.in_band]
        # Time grading: a regulator with a longer delay waits while a faster one is
        # still out of band (the reason downstream regulators get longer delays).
        fastest = min((regs[st.name].delay_s for st in out), default=0.0)
        for st in out:
            reg = regs[st.name]
            if reg.delay_s > fastest:
                continue
            direction = 1 if st.v_relay < reg.vreg else -1
            new = 1.0 + (st.step + direction) * reg.tap_step
            if reg.min_tap - 1e-9 <= new <= reg.max_tap + 1e-9:
                service.apply(SetTap(reg.transformer, tap_ratio=new))
                moved = True
        if not moved:
            return {regs[st.name].transformer: st.step
                    for st in regulator_states(service.measurements())}
    raise RuntimeError(f"regulator taps still moving after {max_rounds} rounds")
