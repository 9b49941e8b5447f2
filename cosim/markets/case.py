"""The market operator's SCED case: network model, offers and loads as data.

A case is a frozen description (buses, branches with reactance and limit,
generators with offer blocks, fixed loads, economic DR offers, PRD) loaded
from YAML in ``cosim/markets/cases`` or built in code. Loading collects every
problem it finds and raises one ValueError listing them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Branch:
    name: str
    from_bus: str
    to_bus: str
    x_pu: float
    limit_mw: float | None  # None = unmonitored


@dataclass(frozen=True)
class OfferBlock:
    mw: float
    price_usd_per_mwh: float


@dataclass(frozen=True)
class GeneratorOffer:
    """A generator's energy offer as increasing-price blocks (a stepped curve)."""

    name: str
    bus: str
    blocks: tuple[OfferBlock, ...]


@dataclass(frozen=True)
class Load:
    name: str
    bus: str
    mw: float


@dataclass(frozen=True)
class EconomicDrOffer:
    """Economic DR: up to ``mw`` of load reduction at ``bus`` for its offer price.

    SCED dispatches it like a generator (SEED-003): a reduction is cleared when
    the LMP at its bus reaches the offer price.
    """

    name: str
    csp: str
    bus: str
    mw: float
    price_usd_per_mwh: float


@dataclass(frozen=True)
class PrdBlock:
    """Price Responsive Demand at a bus: ``mw`` less load once LMP >= threshold."""

    name: str
    bus: str
    mw: float
    threshold_usd_per_mwh: float


@dataclass(frozen=True)
class DcMarketCase:
    name: str
    buses: tuple[str, ...]
    reference_bus: str
    branches: tuple[Branch, ...]
    generators: tuple[GeneratorOffer, ...]
    loads: tuple[Load, ...]
    dr_offers: tuple[EconomicDrOffer, ...] = field(default=())
    prd: tuple[PrdBlock, ...] = field(default=())

    def bus_index(self, bus: str) -> int:
        return self.buses.index(bus)


def load_case(name_or_path: str | Path) -> DcMarketCase:
    """Load a case shipped in the package (``"pjm5bus"``) or from a YAML path.

    Raises FileNotFoundError if absent, ValueError listing every problem.
    """
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text = path.read_text(encoding="utf-8")
        where = str(path)
    else:
        res = resources.files("cosim.markets") / "cases" / f"{name_or_path}.yaml"
        if not res.is_file():
            raise FileNotFoundError(f"no market case {name_or_path!r}")
        text = res.read_text(encoding="utf-8")
        where = f"cosim/markets/cases/{name_or_path}.yaml"
    return case_from_dict(yaml.safe_load(text), where)


def case_from_dict(raw: dict[str, Any], where: str = "<dict>") -> DcMarketCase:
    problems: list[str] = []
    buses = tuple(str(b) for b in raw.get("buses", []))
    known = set(buses)

    def bus(ref: Any, path: str) -> str:
        if str(ref) not in known:
            problems.append(f"{where}: {path}: unknown bus {ref!r}")
        return str(ref)

    ref = bus(raw.get("reference_bus"), "reference_bus")
    branches = tuple(
        Branch(str(b["name"]), bus(b["from"], f"branches[{i}].from"), bus(b["to"], f"branches[{i}].to"),
               float(b["x_pu"]), None if b.get("limit_mw") is None else float(b["limit_mw"]))
        for i, b in enumerate(raw.get("branches", []))
    )
    gens = tuple(
        GeneratorOffer(str(g["name"]), bus(g["bus"], f"generators[{i}].bus"),
                       tuple(OfferBlock(float(k["mw"]), float(k["price_usd_per_mwh"])) for k in g["blocks"]))
        for i, g in enumerate(raw.get("generators", []))
    )
    loads = tuple(Load(str(d["name"]), bus(d["bus"], f"loads[{i}].bus"), float(d["mw"]))
                  for i, d in enumerate(raw.get("loads", [])))
    dr = tuple(EconomicDrOffer(str(d["name"]), str(d["csp"]), bus(d["bus"], f"dr_offers[{i}].bus"),
                               float(d["mw"]), float(d["price_usd_per_mwh"]))
               for i, d in enumerate(raw.get("dr_offers", [])))
    prd = tuple(PrdBlock(str(d["name"]), bus(d["bus"], f"prd[{i}].bus"), float(d["mw"]),
                         float(d["threshold_usd_per_mwh"]))
                for i, d in enumerate(raw.get("prd", [])))
    for i, b in enumerate(branches):
        if b.x_pu <= 0:
            problems.append(f"{where}: branches[{i}].x_pu: must be > 0, found {b.x_pu}")
    if problems:
        raise ValueError("invalid market case:\n  " + "\n  ".join(problems))
    return DcMarketCase(str(raw.get("name", where)), buses, ref, branches, gens, loads, dr, prd)
