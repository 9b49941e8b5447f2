"""Load a radial distribution system's reliability data (RBTS Bus 2/4 or a folder of CSVs).

One job: turn the three CSV tables of a system (load points, 11 kV sections,
normally-open ties) into typed numpy arrays, checking every row and reporting
every problem at once (:class:`cosim.errors.ScenarioError`).

The shipped RBTS files are the base case of Allan, Billinton, Sjarief, Goel and
So, "A reliability test system for educational purposes -- basic distribution
system data and results", IEEE Trans. Power Systems 6(2), 1991 (see
``cosim/reliability/data/README.md``).

A user system is a folder holding ``load_points.csv``, ``sections.csv`` and
``ties.csv`` with the same columns as the shipped ``rbts_bus2_*.csv`` files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosim.errors import Problem, ScenarioError

DATA_DIR = Path(__file__).with_name("data")
BUILTIN_SYSTEMS = ("rbts_bus2", "rbts_bus4")

NO_LOAD_POINT = -1
"""Marker in :attr:`SectionTable.load_point_id` for a main-feeder section."""


@dataclass(frozen=True)
class LoadPointTable:
    """One row per load point (an 11/0.415 kV transformer and the customers behind it)."""

    load_point_id: np.ndarray  # int
    feeder: np.ndarray  # str, e.g. "F1"
    customer_type: np.ndarray  # str
    customers: np.ndarray  # int
    average_load_kw: np.ndarray  # float; the paper's energy indices use the average load
    peak_load_kw: np.ndarray  # float

    def __len__(self) -> int:
        return int(self.load_point_id.size)


@dataclass(frozen=True)
class SectionTable:
    """One row per 11 kV line section, with the transformer of the load point it serves.

    ``disconnect_upstream``/``disconnect_downstream`` say whether a manual
    disconnect switch sits at the section's ``from_node``/``to_node`` end;
    ``has_breaker`` marks the feeder breaker at the substation end; ``has_fuse``
    marks a fused lateral.
    """

    section_id: np.ndarray  # int
    from_node: np.ndarray  # int, towards the substation
    to_node: np.ndarray  # int
    is_main: np.ndarray  # bool: main feeder (True) or lateral (False)
    load_point_id: np.ndarray  # int, NO_LOAD_POINT on main sections
    length_km: np.ndarray
    failure_rate_per_year: np.ndarray  # line failures a year (length x rate per km-year)
    repair_hours: np.ndarray
    switching_hours: np.ndarray
    transformer_failure_rate_per_year: np.ndarray  # 0 where the load point has no transformer of its own
    transformer_repair_hours: np.ndarray
    transformer_replacement_hours: np.ndarray  # NaN where not given
    has_breaker: np.ndarray  # bool
    has_fuse: np.ndarray  # bool
    disconnect_upstream: np.ndarray  # bool
    disconnect_downstream: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.section_id.size)


@dataclass(frozen=True)
class DistributionSystemData:
    """A radial distribution system as data: load points, sections, alternative-supply points."""

    name: str
    load_points: LoadPointTable
    sections: SectionTable
    alternative_supply_nodes: np.ndarray  # int: nodes with a normally-open point to another supply
    source: str  # where the data came from, for reports


_LOAD_POINT_COLUMNS = ("load_point", "feeder", "customer_type", "customers", "avg_load_MW", "peak_load_MW")
_SECTION_COLUMNS = (
    "section", "from_node", "to_node", "kind", "load_point", "length_km", "line_lambda_per_yr",
    "repair_h", "switching_h", "lp_transformer_lambda_per_yr", "lp_transformer_repair_h",
    "lp_transformer_replacement_h", "protection", "disconnect",
)  # fmt: skip
_TIE_COLUMNS = ("node",)
_DISCONNECT_VALUES = {"": (False, False), "upstream end": (True, False),
                      "downstream end": (False, True), "both ends": (True, True)}  # fmt: skip
_PROTECTION_VALUES = ("", "feeder breaker", "fuse")


def load_system(system: str | Path) -> DistributionSystemData:
    """Load a built-in system (``"rbts_bus2"``, ``"rbts_bus4"``) or a folder of CSVs.

    Raises :class:`cosim.errors.ScenarioError` listing every problem found
    (missing file or column, unparsable number, unknown switch position, a load
    point without a lateral, ...).
    """
    if isinstance(system, str) and system in BUILTIN_SYSTEMS:
        files = {kind: DATA_DIR / f"{system}_{kind}.csv" for kind in ("load_points", "sections", "ties")}
        name = system
        source = "Allan, Billinton, Sjarief, Goel, So, IEEE Trans. Power Systems 6(2), 1991"
    else:
        folder = Path(system)
        files = {kind: folder / f"{kind}.csv" for kind in ("load_points", "sections", "ties")}
        name = folder.name
        source = str(folder)
    problems: list[Problem] = []
    rows = {kind: _read_rows(path, problems) for kind, path in files.items()}
    load_points = _parse_load_points(rows["load_points"], str(files["load_points"]), problems)
    sections = _parse_sections(rows["sections"], str(files["sections"]), problems)
    ties = _parse_ties(rows["ties"], str(files["ties"]), problems)
    if not problems:
        _check_consistency(load_points, sections, ties, files, problems)
    if problems:
        raise ScenarioError(problems)
    assert load_points is not None and sections is not None and ties is not None
    return DistributionSystemData(name, load_points, sections, ties, source)


def _read_rows(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            # Line numbers count the header as line 1.
            return [(number, row) for number, row in enumerate(csv.DictReader(handle), start=2)]
    except OSError as error:
        problems.append(Problem(str(path), "", f"cannot read: {error.strerror or error}"))
        return []


def _field(row: dict[str, str], column: str) -> str:
    return (row.get(column) or "").strip()


def _number(text: str, file: str, line: int, column: str, problems: list[Problem], *, blank: float | None = None) -> float:
    if text == "" and blank is not None:
        return blank
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(file, column, f"expected a number, found {text!r}", line))
        return float("nan")
    if value < 0:
        problems.append(Problem(file, column, f"must not be negative, found {value}", line))
    return value


def _as_int(value: float) -> int:
    """An integer column's value; 0 stands in for a value already reported as a problem."""
    return int(value) if np.isfinite(value) else 0


def _missing_columns(rows: list[tuple[int, dict[str, str]]], columns: tuple[str, ...], file: str, problems: list[Problem]) -> bool:
    if not rows:
        problems.append(Problem(file, "", "no data rows"))
        return True
    missing = [column for column in columns if column not in rows[0][1]]
    for column in missing:
        problems.append(Problem(file, column, "required column is missing", 1))
    return bool(missing)


def _parse_load_points(rows: list[tuple[int, dict[str, str]]], file: str, problems: list[Problem]) -> LoadPointTable | None:
    if _missing_columns(rows, _LOAD_POINT_COLUMNS, file, problems):
        return None
    ids, feeders, kinds, customers, average_kw, peak_kw = [], [], [], [], [], []
    for line, row in rows:
        ids.append(_as_int(_number(_field(row, "load_point"), file, line, "load_point", problems)))
        feeders.append(_field(row, "feeder"))
        kinds.append(_field(row, "customer_type"))
        customers.append(_as_int(_number(_field(row, "customers"), file, line, "customers", problems)))
        average_kw.append(1000.0 * _number(_field(row, "avg_load_MW"), file, line, "avg_load_MW", problems))
        peak_kw.append(1000.0 * _number(_field(row, "peak_load_MW"), file, line, "peak_load_MW", problems))
    return LoadPointTable(
        np.array(ids, dtype=np.int64), np.array(feeders), np.array(kinds),
        np.array(customers, dtype=np.int64), np.array(average_kw), np.array(peak_kw),
    )  # fmt: skip


def _parse_sections(rows: list[tuple[int, dict[str, str]]], file: str, problems: list[Problem]) -> SectionTable | None:
    if _missing_columns(rows, _SECTION_COLUMNS, file, problems):
        return None
    columns: dict[str, list] = {name: [] for name in SectionTable.__dataclass_fields__}
    for line, row in rows:
        def num(column: str, blank: float | None = None) -> float:
            return _number(_field(row, column), file, line, column, problems, blank=blank)

        kind = _field(row, "kind")
        if kind not in ("main", "lateral"):
            problems.append(Problem(file, "kind", f"expected 'main' or 'lateral', found {kind!r}", line))
        protection = _field(row, "protection")
        if protection not in _PROTECTION_VALUES:
            problems.append(Problem(file, "protection", f"expected one of {_PROTECTION_VALUES}, found {protection!r}", line))
        disconnect = _field(row, "disconnect")
        if disconnect not in _DISCONNECT_VALUES:
            problems.append(Problem(file, "disconnect", f"expected one of {tuple(_DISCONNECT_VALUES)}, found {disconnect!r}", line))
        upstream, downstream = _DISCONNECT_VALUES.get(disconnect, (False, False))
        columns["section_id"].append(_as_int(num("section")))
        columns["from_node"].append(_as_int(num("from_node")))
        columns["to_node"].append(_as_int(num("to_node")))
        columns["is_main"].append(kind == "main")
        columns["load_point_id"].append(_as_int(num("load_point", blank=NO_LOAD_POINT)))
        columns["length_km"].append(num("length_km"))
        columns["failure_rate_per_year"].append(num("line_lambda_per_yr"))
        columns["repair_hours"].append(num("repair_h"))
        columns["switching_hours"].append(num("switching_h"))
        columns["transformer_failure_rate_per_year"].append(num("lp_transformer_lambda_per_yr", blank=0.0))
        columns["transformer_repair_hours"].append(num("lp_transformer_repair_h", blank=0.0))
        columns["transformer_replacement_hours"].append(num("lp_transformer_replacement_h", blank=float("nan")))
        columns["has_breaker"].append(protection == "feeder breaker")
        columns["has_fuse"].append(protection == "fuse")
        columns["disconnect_upstream"].append(upstream)
        columns["disconnect_downstream"].append(downstream)
    int_columns = {"section_id", "from_node", "to_node", "load_point_id"}
    bool_columns = {"is_main", "has_breaker", "has_fuse", "disconnect_upstream", "disconnect_downstream"}
    arrays = {
        name: np.array(values, dtype=np.int64 if name in int_columns else bool if name in bool_columns else float)
        for name, values in columns.items()
    }
    return SectionTable(**arrays)


def _parse_ties(rows: list[tuple[int, dict[str, str]]], file: str, problems: list[Problem]) -> np.ndarray | None:
    if not rows:
        return np.zeros(0, dtype=np.int64)  # a system may have no alternative supply at all
    if _missing_columns(rows, _TIE_COLUMNS, file, problems):
        return None
    return np.array([_as_int(_number(_field(row, "node"), file, line, "node", problems)) for line, row in rows], dtype=np.int64)


def _check_consistency(
    load_points: LoadPointTable | None,
    sections: SectionTable | None,
    ties: np.ndarray | None,
    files: dict[str, Path],
    problems: list[Problem],
) -> None:
    assert load_points is not None and sections is not None and ties is not None
    lp_file, section_file = str(files["load_points"]), str(files["sections"])
    known = set(load_points.load_point_id.tolist())
    if len(known) != len(load_points):
        problems.append(Problem(lp_file, "load_point", "load point numbers must be unique"))
    served = sections.load_point_id[~sections.is_main]
    for lp in sorted(known - set(served.tolist())):
        problems.append(Problem(section_file, "load_point", f"load point {lp} is served by no lateral"))
    for lp in sorted(set(served.tolist()) - known):
        problems.append(Problem(section_file, "load_point", f"lateral serves unknown load point {lp}"))
    if len(set(served.tolist())) != served.size:
        problems.append(Problem(section_file, "load_point", "each load point must be served by exactly one lateral"))
    children = set(sections.to_node.tolist())
    if len(children) != len(sections):
        problems.append(Problem(section_file, "to_node", "the network must be radial: every node is fed by one section"))
    nodes = children | set(sections.from_node.tolist())
    for node in sorted(set(ties.tolist()) - nodes):
        problems.append(Problem(str(files["ties"]), "node", f"tie at unknown node {node}"))
