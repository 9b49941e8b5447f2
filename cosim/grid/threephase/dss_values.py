"""Values of OpenDSS properties: numbers (with in-line RPN), matrices, units, bus specs.

Shared by the ``.dss`` reader's element builders (:mod:`.dss_reader`,
:mod:`.dss_lines`). Each parser takes the :class:`Prop` it reads, so an error
names the file and line.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from cosim.grid.threephase.dss_script import DssError, DssObject, Prop
from cosim.grid.threephase.elements import Connection, Node, Terminal


UNIT_M = {"mi": 1609.344, "kft": 304.8, "km": 1000.0, "m": 1.0, "ft": 0.3048,
          "in": 0.0254, "cm": 0.01, "mm": 0.001}


_RPN: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "^": lambda a, b: a ** b,
}


def number(p: Prop) -> float:
    """A number, or an in-line RPN expression such as ``(8 1000 /)``."""
    parts = p.value.replace(",", " ").split()
    try:
        if len(parts) == 1:
            return float(parts[0])
        stack: list[float] = []
        for t in parts:
            if t in _RPN:
                b, a = stack.pop(), stack.pop()
                stack.append(_RPN[t](a, b))
            elif t.lower() == "sqrt":
                stack.append(math.sqrt(stack.pop()))
            else:
                stack.append(float(t))
        if len(stack) != 1:
            raise ValueError
        return stack[0]
    except (ValueError, IndexError, ZeroDivisionError):
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a number") from None


def numbers(p: Prop) -> list[float]:
    try:
        return [float(t) for t in p.value.replace(",", " ").replace("|", " ").split()]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a list of numbers") from None


def words(p: Prop) -> list[str]:
    return p.value.replace(",", " ").split()


def flag(p: Prop) -> bool:
    v = p.value.strip().lower()
    if v in ("y", "yes", "t", "true"):
        return True
    if v in ("n", "no", "f", "false"):
        return False
    raise DssError(f"{p.where}: {p.key}={p.value!r} is not yes/no")


def matrix(p: Prop, n: int) -> np.ndarray:
    """An n x n symmetric matrix given as its lower triangle or in full, rows split by ``|``."""
    rows = [r.split() for r in p.value.replace(",", " ").split("|")]
    try:
        vals = [[float(x) for x in r] for r in rows if r]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a matrix") from None
    m = np.zeros((n, n))
    if len(vals) != n:
        raise DssError(f"{p.where}: {p.key} has {len(vals)} rows, expected {n}")
    for i, r in enumerate(vals):
        if len(r) == i + 1:  # lower triangle
            m[i, : i + 1] = r
            m[: i + 1, i] = r
        elif len(r) == n:
            m[i, :] = r
        else:
            raise DssError(f"{p.where}: {p.key} row {i + 1} has {len(r)} values")
    return m


def connection(p: Prop) -> Connection:
    v = p.value.strip().lower()
    if v in ("wye", "y", "ln"):
        return Connection.WYE
    if v in ("delta", "d", "ll"):
        return Connection.DELTA
    raise DssError(f"{p.where}: {p.key}={p.value!r} is not wye or delta")


def conductors(phases: int, conn: Connection) -> int:
    """Conductors of a shunt element's or winding's terminal, as OpenDSS counts them.

    Wye: the phases and the star point. Delta: the phases, but two for a
    single-phase delta element (it sits between two phases).
    """
    if conn is Connection.WYE:
        return phases + 1
    return 2 if phases == 1 else phases


def terminal(p: Prop, n_conductors: int, phases: int | None = None) -> Terminal:
    """Nodes of a bus spec ``bus.1.2.3``; unnamed phase conductors default to 1, 2, 3 and
    the rest (a star point) to ground 0."""
    bus, *conds = p.value.strip().lower().split(".")
    if not bus:
        raise DssError(f"{p.where}: {p.key}={p.value!r} has no bus name")
    try:
        nodes = [int(c) for c in conds]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r}: conductors must be integers") from None
    ph = n_conductors if phases is None else phases
    defaults = list(range(1, ph + 1)) + [0] * (n_conductors - ph)
    nodes = (nodes + defaults[len(nodes):])[:n_conductors]
    return tuple(Node(bus, c) for c in nodes)


class Props:
    """Last value of each property of one object, with a check that every one is known."""

    def __init__(self, obj: DssObject, known: set[str]):
        self.obj = obj
        self.last: dict[str, Prop] = {}
        for p in obj.props:
            if p.key not in known:
                raise DssError(f"{p.where}: {obj.cls}.{obj.name}: unsupported property {p.key!r}")
            self.last[p.key] = p

    def get(self, key: str) -> Prop | None:
        return self.last.get(key)

    def num(self, key: str, default: float) -> float:
        p = self.last.get(key)
        return default if p is None else number(p)

    def require(self, key: str) -> Prop:
        p = self.last.get(key)
        if p is None:
            raise DssError(f"{self.obj.where}: {self.obj.cls}.{self.obj.name} needs {key}=")
        return p

    def order(self, keys: tuple[str, ...]) -> str | None:
        """Which of ``keys`` was given last (OpenDSS: the last one specified wins)."""
        last = None
        for p in self.obj.props:
            if p.key in keys:
                last = p.key
        return last


def unit_factor(p: Prop | None, default: float = 1.0) -> float:
    if p is None or p.value.lower() == "none":
        return default
    try:
        return UNIT_M[p.value.lower()]
    except KeyError:
        raise DssError(f"{p.where}: unknown length unit {p.value!r}") from None
