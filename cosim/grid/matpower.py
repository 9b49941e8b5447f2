"""Read MATPOWER version-2 cases (``.m`` files and their JSON form) into a Network.

The JSON form is ``{"baseMVA": float, "bus": [[...]], "gen": [[...]],
"branch": [[...]]}`` with rows in MATPOWER column order (as in
shared/reference/powerflow and ``cosim/grid/cases``). Names become string ids:
bus ``"<BUS_I>"``, generator ``"gen<k>"``, branch ``"branch<k>"``, load
``"load<BUS_I>"``, shunt ``"shunt<BUS_I>"`` (k counts rows from 1).

Raises :class:`CaseFormatError` (a ``ValueError``) for a malformed case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cosim.grid.network import (
    Network,
    ZeroImpedanceBranch,
    check_branch_impedance,
    make_branches,
    make_buses,
    make_generators,
    make_loads,
    make_shunts,
)

# MATPOWER v2 column positions (caseformat.m)
BUS_I, BUS_TYPE, PD, QD, GS, BS, AREA, VM, VA, BASE_KV, ZONE, VMAX, VMIN = range(13)
GEN_BUS, PG, QG, QMAX, QMIN, VG, MBASE, GEN_STATUS, PMAX, PMIN = range(10)
F_BUS, T_BUS, BR_R, BR_X, BR_B, RATE_A, RATE_B, RATE_C, TAP, SHIFT, BR_STATUS = range(11)
PQ_TYPE, PV_TYPE, REF_TYPE, ISOLATED_TYPE = 1, 2, 3, 4


class CaseFormatError(ValueError):
    """A MATPOWER case file that cannot be read; the message says where."""


JsonCaseReader = Callable[[Path, Any], "dict[str, Any] | None"]
JSON_CASE_READERS: list[JsonCaseReader] = []
"""Readers of other tools' JSON network files (``reader(path, parsed) -> MATPOWER dict``, or None if not theirs),
registered from outside the electrical layer (:mod:`cosim.imports.pandapower`)."""


def load_case(path: Path | str, *, frequency_hz: float = 60.0) -> Network:
    """Read a case file: MATPOWER ``.m``, ``.mat`` or JSON, or a JSON file a registered reader knows.

    The scenario's ``frequency_hz`` applies to every case. Raises
    :class:`CaseFormatError` naming the file for anything it cannot read.
    """
    from cosim.grid.matfile import MatFileError, read_mat
    from cosim.grid.pandapower_import import PandapowerImportError

    path = Path(path)
    try:
        if path.suffix == ".mat":
            data = read_mat(path)
        elif path.suffix == ".m":
            data = parse_m(path.read_text(), source=str(path))
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            for reader in JSON_CASE_READERS:
                converted = reader(path, data)
                if converted is not None:
                    data = converted
                    break
            data.pop("frequency_hz", None)
        else:
            raise CaseFormatError(f"{path}: expected a MATPOWER case (.m, .mat, .json) or a pandapower network (.json)")
    except (MatFileError, PandapowerImportError) as error:
        raise CaseFormatError(str(error)) from None
    return case_to_network(data, frequency_hz=frequency_hz, source=str(path))


def _strip_comment(line: str) -> str:
    """``line`` without its MATLAB ``%`` comment (a ``%`` inside a quoted string stays)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == "'":
            quoted = not quoted  # '' inside a string toggles twice: still quoted
        elif ch == "%" and not quoted:
            return line[:i]
    return line


def _statements(text: str) -> list[tuple[int, str]]:
    """``(line number, statement)`` for each top-level ``;``-terminated statement.

    Comments and ``...`` continuations are removed first; ``;`` and newlines
    inside ``[...]`` or ``{...}`` separate rows, not statements.
    """
    out: list[tuple[int, str]] = []
    depth, start = 0, 0
    buf: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if line.rstrip().endswith("..."):
            line = line.rstrip()[:-3]
        if not buf:
            start = number
        quoted = False
        for ch in line:
            if ch == "'":
                quoted = not quoted
            elif not quoted and ch in "[{":
                depth += 1
            elif not quoted and ch in "]}":
                depth -= 1
            if not quoted and depth == 0 and ch in ";,":
                if "".join(buf).strip():
                    out.append((start, "".join(buf).strip()))
                buf = []
                start = number
                continue
            buf.append(ch)
        if depth == 0:
            if "".join(buf).strip():
                out.append((start, "".join(buf).strip()))
            buf = []
        else:
            buf.append(";")  # a newline inside brackets ends a row
    if depth != 0:
        raise CaseFormatError(f"line {start}: unbalanced brackets")
    return out


_NUMBER = {"inf": np.inf, "+inf": np.inf, "-inf": -np.inf, "nan": np.nan}
_ASSIGN = re.compile(r"^mpc\.(\w+)\s*=\s*(.*)$", re.DOTALL)


def _number(token: str) -> float:
    low = token.lower()
    return _NUMBER[low] if low in _NUMBER else float(token)


def _value(text: str) -> Any:
    """A MATLAB literal: ``[numeric matrix]`` (list of rows), ``{cell of strings}``, number, string."""
    text = text.strip()
    if text.startswith("["):
        rows = [r for r in re.split(r";", text[1:-1]) if r.strip()]
        return [[_number(x) for x in re.split(r"[\s,]+", r.strip()) if x] for r in rows]
    if text.startswith("{"):
        return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", text[1:-1])]
    if text.startswith("'"):
        return text.strip("'")
    return _number(text)


def parse_m(text: str, *, source: str = "<case>") -> dict[str, Any]:
    """The ``mpc.<field> = <literal>;`` assignments of a MATPOWER case file.

    Reads every field a case file holds (``baseMVA``, ``bus``, ``gen``,
    ``branch``, ``gencost``, ``bus_name`` and any other numeric matrix, cell
    array of strings or scalar); the network uses the power-flow fields.
    Statements that compute or modify data (``mpc.gen(:, 2) = ...``) are
    rejected rather than skipped: ignoring them would change the case silently.
    """
    found: dict[str, Any] = {}
    for line, statement in _statements(text):
        if statement.startswith("function") or not statement.startswith("mpc"):
            continue
        match = _ASSIGN.match(statement)
        if match is None:
            raise CaseFormatError(f"{source}:{line}: unsupported statement "
                                  f"{statement.splitlines()[0][:60]!r} (only mpc.<field> = <literal>)")
        key, value = match.groups()
        try:
            found[key] = _value(value)
        except (ValueError, KeyError, IndexError):
            raise CaseFormatError(f"{source}:{line}: mpc.{key}: not a numeric matrix, cell "
                                  "array of strings, number or string") from None
    if str(found.get("version", "2")) not in ("2", "2.0"):
        raise CaseFormatError(f"{source}: only MATPOWER case format version 2 is supported")
    names = found.get("bus_name")
    if names is not None and len(names) != len(found.get("bus", [])):
        raise CaseFormatError(f"{source}: mpc.bus_name has {len(names)} names for "
                              f"{len(found.get('bus', []))} buses")
    return found


def _matrix(data: dict[str, Any], key: str, min_cols: int, source: str) -> np.ndarray:
    if key not in data:
        raise CaseFormatError(f"{source}: missing '{key}' matrix")
    rows = data[key]
    if len(rows) == 0:
        return np.zeros((0, min_cols))
    width = max(len(r) for r in rows)
    if width < min_cols or any(len(r) != width for r in rows):
        raise CaseFormatError(f"{source}: '{key}' rows need {min_cols}+ columns, all the same length")
    return np.asarray(rows, dtype=np.float64)


def case_to_network(data: dict[str, Any], *, frequency_hz: float = 60.0,
                    source: str = "<case>") -> Network:
    """Build a Network from MATPOWER v2 matrices (``baseMVA``, ``bus``, ``gen``, ``branch``)."""
    if "baseMVA" not in data:
        raise CaseFormatError(f"{source}: missing 'baseMVA'")
    base_mva = float(data["baseMVA"])
    bus = _matrix(data, "bus", 13, source)
    gen = _matrix(data, "gen", 10, source)
    branch = _matrix(data, "branch", 11, source)

    ids = bus[:, BUS_I].astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise CaseFormatError(f"{source}: duplicate bus numbers")
    position = {int(b): i for i, b in enumerate(ids)}

    def to_pos(col: np.ndarray, what: str) -> np.ndarray:
        try:
            return np.array([position[int(b)] for b in col], dtype=np.int64)
        except KeyError as e:
            raise CaseFormatError(f"{source}: {what} refers to unknown bus {e.args[0]}") from None

    names = [str(int(b)) for b in ids]
    buses = make_buses(names, bus[:, BASE_KV], vm_init_pu=bus[:, VM], va_init_deg=bus[:, VA],
                       is_slack=bus[:, BUS_TYPE] == REF_TYPE, vmax_pu=bus[:, VMAX],
                       vmin_pu=bus[:, VMIN])

    f, t = to_pos(branch[:, F_BUS], "branch"), to_pos(branch[:, T_BUS], "branch")
    tap = branch[:, TAP].copy()
    shift = branch[:, SHIFT]
    is_tr = (tap != 0.0) | (shift != 0.0)
    tap[tap == 0.0] = 1.0
    rate = branch[:, RATE_A].copy()
    rate[rate == 0.0] = np.inf  # MATPOWER: 0 means unlimited
    isolated = bus[:, BUS_TYPE] == ISOLATED_TYPE
    br_on = (branch[:, BR_STATUS] > 0) & ~isolated[f] & ~isolated[t]
    branches = make_branches([f"branch{k + 1}" for k in range(len(branch))], f, t,
                             branch[:, BR_R], branch[:, BR_X], b_pu=branch[:, BR_B],
                             rate_a_mva=rate, tap_ratio=tap, shift_deg=shift,
                             in_service=br_on, is_transformer=is_tr)
    try:
        check_branch_impedance(branches, where=source)
    except ZeroImpedanceBranch as e:
        raise CaseFormatError(str(e)) from None

    g_bus = to_pos(gen[:, GEN_BUS], "gen")
    generators = make_generators(
        [f"gen{k + 1}" for k in range(len(gen))], g_bus, gen[:, PG], q_mvar=gen[:, QG],
        vm_setpoint_pu=gen[:, VG], q_min_mvar=gen[:, QMIN], q_max_mvar=gen[:, QMAX],
        p_min_mw=gen[:, PMIN], p_max_mw=gen[:, PMAX], mbase_mva=gen[:, MBASE],
        in_service=(gen[:, GEN_STATUS] > 0) & ~isolated[g_bus],
        # MATPOWER bustypes(): a generator holds its bus voltage only at a PV or
        # REF bus; at a bus typed PQ it injects its PG + j QG as given.
        voltage_control=bus[g_bus, BUS_TYPE] != PQ_TYPE)

    has_load = (bus[:, PD] != 0.0) | (bus[:, QD] != 0.0)
    li = np.flatnonzero(has_load)
    loads = make_loads([f"load{ids[i]}" for i in li], li, bus[li, PD], bus[li, QD])
    has_shunt = (bus[:, GS] != 0.0) | (bus[:, BS] != 0.0)
    si = np.flatnonzero(has_shunt)
    shunts = make_shunts([f"shunt{ids[i]}" for i in si], si, bus[si, GS], bus[si, BS])
    return Network(base_mva=base_mva, frequency_hz=frequency_hz, buses=buses,
                   branches=branches, generators=generators, loads=loads, shunts=shunts)
