"""Helpers of the DR stories: run configs/pjm_dr.yaml or a variant, read its tables, events and series."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

import yaml

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

CONFIGS = Path(__file__).parents[2] / "configs"
PJM_DR = CONFIGS / "pjm_dr.yaml"


class Run:
    """The files of one finished run, read as rows."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def table(self, name: str) -> list[dict[str, str]]:
        with open(self.out / f"{name}.csv", newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        rows = [json.loads(line) for line in (self.out / "events.jsonl").read_text().splitlines()]
        return [r for r in rows if kind is None or r["kind"] == kind]

    def series(self, entity: str, quantity: str) -> list[tuple[float, float]]:
        return [(float(r["time_s"]), float(r["value"])) for r in self.table("timeseries")
                if r["entity"] == entity and r["quantity"] == quantity]


def run_variant(tmp: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Run:
    """Run pjm_dr.yaml after ``edit`` changes its parsed YAML; the market case is named absolutely."""
    raw = yaml.safe_load(PJM_DR.read_text())
    for actor in raw["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "iso_market":
                app["params"]["energy"]["case"] = str(CONFIGS / "pjm5bus_sced.yaml")
    if edit is not None:
        edit(raw)
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    run_scenario(load_scenario(path), tmp / "out")
    return Run(tmp / "out")


def app_params(raw: dict[str, Any], actor_id: str) -> dict[str, Any]:
    """Parameters of the actor's first application, or of the device with that id (the DR site population)."""
    actor = next((a for a in raw["actors"] if a["id"] == actor_id and a.get("applications")), None)
    if actor is not None:
        return actor["applications"][0]["params"]
    return next(d for d in raw["devices"] if d["id"] == actor_id)["params"]
