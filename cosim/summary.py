"""A per-domain digest of what a run recorded: one row per domain and quantity."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from .kernel.recorder import QuantityStats
from .nist import Domain, SmartGridModel

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
    for (domain, quantity, unit), items in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])):
        samples = sum(i.count for i in items)
        rows.append(
            SummaryRow(
                domain=domain,
                quantity=quantity,
                unit=unit,
                entities=len(items),
                samples=samples,
                minimum=min(i.minimum for i in items),
                mean=sum(i.total for i in items) / samples if samples else math.nan,
                maximum=max(i.maximum for i in items),
                last_total=sum(i.last for i in items),
            )
        )
    return rows


def write_summary(path: Path, rows: list[SummaryRow]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["domain", "quantity", "unit", "entities", "samples", "min", "mean", "max", "last_total"])
        for r in rows:
            writer.writerow([r.domain, r.quantity, r.unit, r.entities, r.samples, repr(r.minimum), repr(r.mean), repr(r.maximum), repr(r.last_total)])
