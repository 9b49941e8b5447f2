"""A per-domain digest of what a run recorded: one row per domain and quantity.

A quantity recorded in different units by different entities of one domain
(a meter's ``p`` in kW, a PV system's ``p`` in MW) is converted to one unit
when the units are multiples of each other (the unit most entities use), and
otherwise told apart by its unit in the name (``p [A]``), so the names of a
domain's rows are unique.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from .kernel.recorder import QuantityStats
from .nist import Domain, SmartGridModel

UNIT_SCALES: dict[str, tuple[str, float]] = {
    unit: (family, scale)
    for family, units in {
        "power": {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9},
        "reactive power": {"var": 1.0, "kvar": 1e3, "Mvar": 1e6},
        "apparent power": {"VA": 1.0, "kVA": 1e3, "MVA": 1e6},
        "energy": {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6, "GWh": 1e9},
        "voltage": {"V": 1.0, "kV": 1e3},
        "current": {"A": 1.0, "kA": 1e3},
        "time": {"s": 1.0, "min": 60.0, "h": 3600.0},
    }.items()
    for unit, scale in units.items()
}
"""Unit -> (what it measures, size in the family's base unit): the conversions the summary may make."""

OTHER = "(other)"
GRID = "(grid, no owner)"
GRID_PREFIXES = frozenset({"grid", "bus", "branch", "switch", "load", "gen", "der", "shunt"})


@dataclass(frozen=True)
class SummaryRow:
    domain: str
    quantity: str
    unit: str
    entities: int
    samples: int
    minimum: float
    mean: float
    maximum: float
    last_total: float  # sum over entities of their last value (e.g. total energy so far)


def domain_map(model: SmartGridModel) -> dict[str, str]:
    """Recording entity -> domain name, for actors and the grid elements and devices they own."""
    domain_of = {actor.actor_id: actor.domain.value for actor in model.actors}
    domain_of.update({element: actor.domain.value for actor in model.actors for element in actor.elements})
    by_id = {actor.actor_id: actor.domain.value for actor in model.actors}
    domain_of.update({f"device/{device}": by_id[owner] for device, owner in model.device_owners.items() if owner in by_id})
    return domain_of


def entity_domain(entity: str, domain_of: dict[str, str]) -> str:
    """The domain an entity's samples belong to: its own, its owner's (``actor/...``), or a catch-all."""
    found = domain_of.get(entity) or domain_of.get(entity.split("/")[0])
    if found:
        return found
    return GRID if entity.partition("/")[0] in GRID_PREFIXES else OTHER


def summarise(stats: dict[tuple[str, str], QuantityStats], model: SmartGridModel) -> list[SummaryRow]:
    """Group recorded quantities by the domain of the recording entity (actor id or its prefix)."""
    domain_of = domain_map(model)
    groups: dict[tuple[str, str, str], list[QuantityStats]] = {}
    for (entity, quantity), item in stats.items():
        domain = entity_domain(entity, domain_of)
        groups.setdefault((domain, quantity, item.unit), []).append(item)
    order = {d.value: i for i, d in enumerate(Domain)}
    rows = []
    for (domain, quantity, unit), items in sorted(_one_unit_each(groups).items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])):
        samples = sum(i.count for i, _ in items)
        rows.append(
            SummaryRow(
                domain=domain,
                quantity=quantity,
                unit=unit,
                entities=len(items),
                samples=samples,
                minimum=min(i.minimum * k for i, k in items),
                mean=sum(i.total * k for i, k in items) / samples if samples else math.nan,
                maximum=max(i.maximum * k for i, k in items),
                last_total=sum(i.last * k for i, k in items),
            )
        )
    return rows


def _one_unit_each(groups: dict[tuple[str, str, str], list[QuantityStats]]) -> dict[tuple[str, str, str], list[tuple[QuantityStats, float]]]:
    """Merge a domain's quantity recorded in convertible units; name the rest by unit. Values carry their factor."""
    by_name: dict[tuple[str, str], list[tuple[str, list[QuantityStats]]]] = {}
    for (domain, quantity, unit), items in groups.items():
        by_name.setdefault((domain, quantity), []).append((unit, items))
    merged: dict[tuple[str, str, str], list[tuple[QuantityStats, float]]] = {}
    for (domain, quantity), variants in by_name.items():
        if len(variants) == 1:
            unit, items = variants[0]
            merged[(domain, quantity, unit)] = [(i, 1.0) for i in items]
            continue
        families = {UNIT_SCALES[u][0] if u in UNIT_SCALES else None for u, _ in variants}
        if len(families) == 1 and None not in families:
            target = max(variants, key=lambda v: (len(v[1]), v[0]))[0]
            merged[(domain, quantity, target)] = [(i, UNIT_SCALES[u][1] / UNIT_SCALES[target][1]) for u, items in variants for i in items]
        else:
            for unit, items in variants:
                merged[(domain, f"{quantity} [{unit}]" if unit else quantity, unit)] = [(i, 1.0) for i in items]
    return merged


def write_summary(path: Path, rows: list[SummaryRow]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["domain", "quantity", "unit", "entities", "samples", "min", "mean", "max", "last_total"])
        for r in rows:
            writer.writerow([r.domain, r.quantity, r.unit, r.entities, r.samples, repr(r.minimum), repr(r.mean), repr(r.maximum), repr(r.last_total)])
