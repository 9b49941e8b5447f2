"""Short-circuit currents by IEC 60909-0:2016 (equivalent voltage source at the fault).

What is computed, per fault bus and fault kind (3ph, SLG, LL, LLG), for the
maximum or minimum case:

* the equivalent voltage source ``c Un / sqrt(3)`` at the fault (clause 5),
  with the voltage factor c of Table 1 (:func:`voltage_factor`);
* network feeders (clause 6.2): ``Z_Q = c Un^2 / S''kQ`` with their R/X, and
  ``X0 = (X0/X) X_Q``, ``R0 = (R0/X0) X0``;
* network transformers (clause 6.3.3): impedances, including the
  zero-sequence one, times ``K_T = 0.95 cmax / (1 + 0.6 x_T)``, cmax of the
  LV side, ``x_T`` the reactance on the transformer's own rating; applied in
  the maximum case only (as pandapower reads 6.3.3);
* lines in the minimum case at their conductor temperature at the end of the
  short circuit: ``R_L = [1 + 0.004 (theta_e - 20 degC)] R_L20``, in the
  positive and the zero sequence (clause 6.5);
* line capacitances, magnetising branches and non-rotating loads left out of
  the positive and negative sequences (clause 6.1); the zero sequence keeps
  the line's ``C0`` (as pandapower does);
* initial short-circuit current ``Ik''`` (clause 7 for each fault kind): the
  largest phase current at the fault; for LLG also the earth current
  ``IkE2E'' = 3 |I0|``;
* peak current ``ip = kappa sqrt(2) Ik''`` (clause 8.1, the same kappa for
  every fault kind, clauses 8.2-8.4) with kappa by method C (equivalent
  frequency 20 Hz at 50 Hz, 24 Hz at 60 Hz, 8.1.2.2 c) by default, method B
  (1.15 kappa_b capped at 2.0, 1.8 in LV, 8.1.2.2 b), or "radial" (kappa from
  R/X of Zk, 8.1.1);
* thermal equivalent ``Ith = Ik'' sqrt(m + n)`` (clause 14) for a fault
  duration ``tk_s`` (default 1 s), n = 1 (far from generator).

Clause numbers are those of the 2016 edition as we read them; docs/faults.md
lists them with the formulas.

Far-from-generator only: synchronous generators (K_G, K_S) are not modelled;
an in-service generator that is not at a network feeder's bus is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cosim.grid.network import FloatArray, Network
from cosim.grid.results import ka_per_pu
from cosim.grid.sequence import (
    FAULT_KINDS,
    SequenceFault,
    ZeroSequence,
    build_sequence_networks,
    no_load_voltages,
    solve_fault,
    thevenin_column,
)
from cosim.grid.topology import analyse

Case = Literal["max", "min"]
PeakMethod = Literal["B", "C", "radial"]
_ALPHA_R = 0.004  # 1/K, temperature coefficient of resistance in IEC 60909-0 (eq. for R_L at theta_e)


@dataclass(frozen=True)
class NetworkFeeder:
    """An external network at ``bus`` (IEC 60909 feeder Q): short-circuit powers and ratios."""

    bus: int
    s_sc_max_mva: float
    s_sc_min_mva: float
    rx_max: float
    rx_min: float
    x0x_max: float = math.nan
    r0x0_max: float = math.nan
    x0x_min: float = math.nan
    r0x0_min: float = math.nan


@dataclass(frozen=True, eq=False)
class ShortCircuitData:
    """What IEC 60909 needs beyond the load-flow network, aligned with its branches.

    ``xt_rel`` is each transformer's reactance on its own rating (``x_T``,
    NaN for lines); ``endtemp_c`` each line's conductor temperature at the end
    of the short circuit (needed for the minimum case, NaN: not given);
    ``zero`` the zero-sequence data (None: balanced faults only).
    """

    feeders: tuple[NetworkFeeder, ...]
    xt_rel: FloatArray
    endtemp_c: FloatArray
    zero: ZeroSequence | None = None
    lv_tolerance_percent: int = 10
    notes: tuple[str, ...] = field(default=())


def voltage_factor(un_kv: FloatArray, case: Case, lv_tolerance_percent: int = 10) -> FloatArray:
    """IEC 60909-0:2016 Table 1: cmax / cmin by nominal voltage.

    LV (up to 1 kV): cmax 1.05 and cmin 0.95 for a +6 % voltage tolerance,
    1.10 and 0.90 for +10 %; above 1 kV: cmax 1.10, cmin 1.00.
    """
    if lv_tolerance_percent not in (6, 10):
        raise ValueError("lv_tolerance_percent must be 6 or 10 (IEC 60909-0 Table 1)")
    lv = np.asarray(un_kv) < 1.0
    if case == "max":
        return np.where(lv, 1.05 if lv_tolerance_percent == 6 else 1.10, 1.10)
    return np.where(lv, 0.95 if lv_tolerance_percent == 6 else 0.90, 1.00)


def transformer_correction(xt_rel: FloatArray, cmax_lv: FloatArray) -> FloatArray:
    """K_T = 0.95 cmax / (1 + 0.6 x_T), IEC 60909-0:2016 clause 6.3.3."""
    return 0.95 * cmax_lv / (1.0 + 0.6 * xt_rel)


def kappa_from_rx(rx: FloatArray | float) -> FloatArray:
    """kappa = 1.02 + 0.98 exp(-3 R/X), IEC 60909-0:2016 clause 8.1.1."""
    return 1.02 + 0.98 * np.exp(-3.0 * np.asarray(rx))


def thermal_m(kappa: float, frequency_hz: float, tk_s: float) -> float:
    """Factor m of the DC component's heat effect, IEC 60909-0:2016 clause 14 (limit 2 at kappa = 2).

    ``m = (exp(4 f Tk ln(kappa - 1)) - 1) / (2 f Tk ln(kappa - 1))``.
    """
    ln = math.log(kappa - 1.0) if kappa < 2.0 else 0.0
    x = 2.0 * frequency_hz * tk_s * ln
    if abs(x) < 1e-12:
        return 2.0
    return (math.exp(2.0 * x) - 1.0) / x


@dataclass(frozen=True)
class ShortCircuitResult:
    """IEC 60909 currents at one bus for one fault kind (kA), plus the solved sequence fault (pu)."""

    bus: str
    kind: str
    case: str
    c: float
    ikss_ka: float
    ie_ka: float  # earth current 3|I0| (SLG, LLG)
    ip_ka: float
    ith_ka: float
    kappa: float
    z_ohm: tuple[complex, complex, complex]  # Thevenin Z0, Z1, Z2 at the fault, ohm
    fault: SequenceFault
    i_base_ka: float


@dataclass(frozen=True)
class _Prepared:
    z1: np.ndarray
    y1_src: np.ndarray
    y0_src: np.ndarray | None
    kt: np.ndarray
    r_line_scale: np.ndarray
    c_bus: np.ndarray


def _prepare(network: Network, data: ShortCircuitData, case: Case, need_zero: bool,
             x_scale: float = 1.0) -> _Prepared:
    br, bus = network.branches, network.buses
    kv = bus.base_kv
    c_bus = voltage_factor(kv, case, data.lv_tolerance_percent)
    cmax = voltage_factor(kv, "max", data.lv_tolerance_percent)
    gen = network.generators
    feeder_buses = {f.bus for f in data.feeders}
    for g in np.flatnonzero(gen.in_service):
        if int(gen.bus[g]) not in feeder_buses:
            raise ValueError(f"generator {gen.name[g]!r}: synchronous generators (K_G) are not modelled "
                             "by the IEC 60909 study; give the source as a network feeder")
    r = br.r_pu.copy()
    x = br.x_pu.copy()
    kt = np.ones(len(br))
    r_scale = np.ones(len(br))
    tr = br.is_transformer
    if case == "max" and tr.any():
        lv_side = np.where(kv[br.to_bus] <= kv[br.from_bus], br.to_bus, br.from_bus)
        missing = tr & ~np.isfinite(data.xt_rel)
        if missing.any():
            raise ValueError(f"transformer {br.name[int(np.argmax(missing))]!r}: x_T (own-rating reactance) "
                             "missing, needed for K_T")
        kt = np.where(tr, transformer_correction(np.nan_to_num(data.xt_rel), cmax[lv_side]), 1.0)
    if case == "min":
        lines = ~tr & br.in_service
        missing = lines & ~np.isfinite(data.endtemp_c)
        if missing.any():
            raise ValueError(f"line {br.name[int(np.argmax(missing))]!r}: end temperature missing, needed "
                             "for the minimum short-circuit current (IEC 60909-0 R_L at theta_e)")
        r_scale = np.where(lines, 1.0 + _ALPHA_R * (np.nan_to_num(data.endtemp_c) - 20.0), 1.0)
        r = r * r_scale
    z1 = kt * (r + 1j * x * x_scale)
    n = network.n_bus
    y1 = np.zeros(n, dtype=np.complex128)
    y0 = np.zeros(n, dtype=np.complex128) if need_zero else None
    for fd in data.feeders:
        s_sc = fd.s_sc_max_mva if case == "max" else fd.s_sc_min_mva
        rx = fd.rx_max if case == "max" else fd.rx_min
        if not (math.isfinite(s_sc) and s_sc > 0 and math.isfinite(rx)):
            raise ValueError(f"network feeder at bus {bus.name[fd.bus]!r}: S''kQ and R/X ({case}) missing")
        zq = c_bus[fd.bus] * network.base_mva / s_sc
        xq = zq / math.sqrt(1.0 + rx * rx)
        y1[fd.bus] += 1.0 / (rx * xq + 1j * xq * x_scale)
        if y0 is not None:
            x0x = fd.x0x_max if case == "max" else fd.x0x_min
            r0x0 = fd.r0x0_max if case == "max" else fd.r0x0_min
            if not (math.isfinite(x0x) and math.isfinite(r0x0)):
                raise ValueError(f"network feeder at bus {bus.name[fd.bus]!r}: X0/X and R0/X0 ({case}) "
                                 "missing, needed for an earth fault study")
            x0 = x0x * xq
            y0[fd.bus] += 1.0 / (r0x0 * x0 + 1j * x0)
    return _Prepared(z1=z1, y1_src=y1, y0_src=y0, kt=kt, r_line_scale=r_scale, c_bus=c_bus)


def short_circuit(network: Network, data: ShortCircuitData, bus: str, kind: str = "3ph",
                  case: Case = "max", *, r_fault_ohm: float = 0.0, x_fault_ohm: float = 0.0,
                  peak_method: PeakMethod = "C", tk_s: float = 1.0) -> ShortCircuitResult:
    """IEC 60909-0:2016 short-circuit currents for ``kind`` at ``bus`` (see module doc).

    Raises KeyError for an unknown bus, ValueError for an unknown fault kind or
    for data the study needs and lacks (named).
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind {kind!r}: expected one of {', '.join(FAULT_KINDS)}")
    if case not in ("max", "min"):
        raise ValueError(f"case {case!r}: expected 'max' or 'min'")
    if peak_method not in ("B", "C", "radial"):
        raise ValueError(f"peak_method {peak_method!r}: expected 'B', 'C' or 'radial'")
    k = network.buses.index(bus)
    need_zero = kind in ("SLG", "LLG")
    if need_zero and data.zero is None:
        raise ValueError(f"{kind} fault at bus {bus!r}: the network has no zero-sequence data")
    topo = analyse(network)
    closed, on = topo.branch_closed, topo.energised
    prep = _prepare(network, data, case, need_zero)
    nets = build_sequence_networks(network, closed, on, prep.z1, prep.y1_src, prep.y0_src,
                                   data.zero if need_zero else None, prep.kt, prep.r_line_scale)
    kv = float(network.buses.base_kv[k])
    z_base = kv * kv / network.base_mva
    zf = complex(r_fault_ohm, x_fault_ohm) / z_base
    c = float(prep.c_bus[k])
    fault = solve_fault(nets, k, kind, c, zf, no_load_voltages(network, closed, k, c))
    i_base = float(ka_per_pu(network, np.array([k]))[0])
    if kind == "3ph":
        ikss = abs(fault.i_phase[0])
    elif kind == "SLG":
        ikss = abs(fault.i_phase[0])
    else:
        ikss = max(abs(fault.i_phase[1]), abs(fault.i_phase[2]))
    ie = 3.0 * abs(fault.i_seq[0])
    if on[k]:
        kappa = _kappa(network, data, case, closed, on, k, fault.z_thevenin[1], zf, peak_method)
        m = thermal_m(kappa, network.frequency_hz, tk_s)
    else:  # a de-energised bus: no current, no peak
        kappa, m = math.nan, 0.0
        ikss = ie = 0.0
    return ShortCircuitResult(
        bus=bus, kind=kind, case=case, c=c, ikss_ka=ikss * i_base, ie_ka=ie * i_base,
        ip_ka=kappa * math.sqrt(2.0) * ikss * i_base if on[k] else 0.0, ith_ka=ikss * i_base * math.sqrt(m + 1.0),
        kappa=kappa, z_ohm=tuple(complex(z * z_base) if np.isfinite(z) else complex(np.inf)  # type: ignore[arg-type]
                                 for z in fault.z_thevenin),
        fault=fault, i_base_ka=i_base)


def _kappa(network: Network, data: ShortCircuitData, case: Case, closed: np.ndarray,
           on: np.ndarray, k: int, z1k: complex, zf: complex, method: PeakMethod) -> float:
    if method in ("B", "radial"):
        kap = float(kappa_from_rx(z1k.real / z1k.imag))
        if method == "radial":
            return kap
        cap = 1.8 if network.buses.base_kv[k] < 1.0 else 2.0
        return min(max(1.15 * kap, 1.0), cap)
    fc = 20.0 if abs(network.frequency_hz - 50.0) < 1e-9 * 50.0 else 24.0
    scale = fc / network.frequency_hz
    prep = _prepare(network, data, case, False, x_scale=scale)
    nets = build_sequence_networks(network, closed, on, prep.z1, prep.y1_src, None, None, prep.kt)
    zc = thevenin_column(nets.y[1], on, k)[k] + complex(zf.real, zf.imag * scale)
    return float(kappa_from_rx(zc.real / zc.imag * scale))
