"""OpenDSS (dss-python's AltDSS engine) solving a ``.dss`` file at test time: the third-party judge.

Nothing here is our solver: the file goes to OpenDSS as text, extra commands
(fixed taps, controls off, an added line) are OpenDSS commands, and the node
voltages come back from OpenDSS's own API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class OpenDssSolution:
    """Node voltages (V, complex) and per-unit magnitudes keyed by ``(bus, conductor)``."""

    v: dict[tuple[str, int], complex]
    vm_pu: dict[tuple[str, int], float]
    taps: dict[str, float]
    converged: bool
    losses_kw: float
    source_kw: float  # supplied by the sources (positive)


def opendss_solve(path: Path, commands: tuple[str, ...] = ()) -> OpenDssSolution:
    """Compile ``path``, run ``commands``, solve again; read every node and every transformer tap.

    OpenDSS changes the working directory to the compiled file's folder; it
    is restored here so that tests keep their own.
    """
    import dss

    cwd = os.getcwd()
    try:
        return _solve(dss.DSS, path, commands)
    finally:
        os.chdir(cwd)


def _solve(engine: Any, path: Path, commands: tuple[str, ...]) -> OpenDssSolution:
    engine.AllowForms = False
    engine.Text.Command = "clear"
    engine.Text.Command = f'compile "{path}"'
    for cmd in commands:
        engine.Text.Command = cmd
    engine.Text.Command = "solve"
    c = engine.ActiveCircuit
    names = [n.lower() for n in c.AllNodeNames]
    raw = np.array(c.AllBusVolts).reshape(-1, 2)
    volts = raw[:, 0] + 1j * raw[:, 1]
    keys = [(n.rsplit(".", 1)[0], int(n.rsplit(".", 1)[1])) for n in names]
    taps: dict[str, float] = {}
    i = c.Transformers.First
    while i:
        c.Transformers.Wdg = 2
        taps[c.Transformers.Name.lower()] = float(c.Transformers.Tap)
        i = c.Transformers.Next
    return OpenDssSolution(dict(zip(keys, (complex(x) for x in volts))),
                           dict(zip(keys, (float(x) for x in c.AllBusVmagPu))), taps,
                           bool(c.Solution.Converged), float(c.Losses[0]) / 1000.0,
                           -float(c.TotalPower[0]))
