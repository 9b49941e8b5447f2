"""The closed-form step response of the single-area frequency model, the reference both frequency tests use.

Reference: the single-area model with a non-reheat governor-turbine lag
(Kundur, Power System Stability and Control, §11.1, Fig. 11.14 with one lag;
Bergen & Vittal, Power Systems Analysis, §11.5). For a load step ΔPL at t = 0,

    Δω(s) = −ΔPL (1 + s T_G) / (s · (2H T_G s² + (2H + D T_G) s + D + 1/R)),

inverted with the standard table pairs for 1/(s(s²+2σs+ωn²)) and
1/(s²+2σs+ωn²). The model under test integrates the state equations with a
matrix exponential, an independent route.
"""

from __future__ import annotations

import math


def closed_form_deviation_pu(t: float, dpl: float, h: float, r: float, d: float, tg: float) -> float:
    """Δω(t) of the single-area model for a step ΔPL (pu), underdamped case."""
    a2, a1, a0 = 2 * h * tg, 2 * h + d * tg, d + 1 / r
    wn2 = a0 / a2
    sigma = a1 / (2 * a2)
    wd = math.sqrt(wn2 - sigma * sigma)
    decay = math.exp(-sigma * t)
    step = (1 - decay * (math.cos(wd * t) + sigma / wd * math.sin(wd * t))) / wn2
    impulse = decay * math.sin(wd * t) / wd
    return -dpl / a2 * (step + tg * impulse)
