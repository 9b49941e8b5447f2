"""Finds what a results folder holds, for the report: manifest, scenario, tables, events.

The report must work on any results folder, including one from an older or
failed run, so every piece is optional: what is missing becomes a note in
the report, not an error. Only a folder without ``manifest.json`` is refused
(it is not a results folder).

The scenario is looked for, in order: the ``--scenario`` option; the copy
``scenario.yaml`` in the run folder (written by ``cosim sweep``); the path
in the manifest, as written when the run started (relative to the folder the
run was started from, so it is also tried from each parent of the results
folder). A scenario whose hash differs from the manifest's is still used,
with a note saying it changed since the run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError

KNOWN_FILES = ("timeseries.csv", "summary.csv", "events.jsonl", "messages.csv", "market_results.csv")


@dataclass(frozen=True)
class RunData:
    run_dir: Path
    manifest: dict[str, Any]
    scenario: Any | None  # cosim.scenario.Scenario, when found and valid
    notes: tuple[str, ...] = field(default=())  # what could not be found, said in the report

    def file(self, name: str) -> Path | None:
        path = self.run_dir / name
        return path if path.is_file() else None

    @property
    def extra_tables(self) -> tuple[Path, ...]:
        """Every CSV table a layer wrote besides the ones with a section of their own."""
        return tuple(p for p in sorted(self.run_dir.glob("*.csv")) if p.name not in KNOWN_FILES)


def load_run(run_dir: Path, scenario_path: Path | None = None) -> RunData:
    """Read ``run_dir``; raises :class:`ScenarioError` only when it is not a results folder."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not run_dir.is_dir():
        raise ScenarioError([Problem(str(run_dir), "", "no such results folder")])
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except OSError:
        raise ScenarioError([Problem(str(run_dir), "", "not a results folder: it has no manifest.json")]) from None
    except ValueError as error:
        raise ScenarioError([Problem(str(manifest_path), "", f"not valid JSON: {error}")]) from None
    scenario, notes = _find_scenario(run_dir, manifest, scenario_path)
    return RunData(run_dir, manifest, scenario, tuple(notes))


def _candidates(run_dir: Path, manifest: dict[str, Any], given: Path | None) -> list[tuple[Path, Path | None]]:
    """Scenario files to try, each with the folder its relative paths resolve against (None: its own).

    The run folder's copy names its files (a grid case, a market case)
    relative to the original scenario, so it is read against the original's
    folder when that is found.
    """
    if given is not None:
        return [(given, None)]
    recorded = manifest.get("scenario")
    originals: list[Path] = []
    if recorded:
        recorded_path = Path(recorded)
        originals.append(recorded_path)
        if not recorded_path.is_absolute():
            originals += [parent / recorded_path for parent in run_dir.resolve().parents]
    origin = next((p.resolve().parent for p in originals if p.is_file()), None)
    return [(run_dir / "scenario.yaml", origin)] + [(p, None) for p in originals]


def _find_scenario(run_dir: Path, manifest: dict[str, Any], given: Path | None) -> tuple[Any | None, list[str]]:
    from ..scenario import load_scenario

    notes: list[str] = []
    for candidate, base_dir in _candidates(run_dir, manifest, given):
        if not candidate.is_file():
            continue
        try:
            scenario = load_scenario(candidate, base_dir)
        except ScenarioError as error:
            notes.append(f"scenario {candidate} does not load any more ({len(error.problems)} problems, first: {error.problems[0]})")
            continue
        recorded = manifest.get("scenario_sha256")
        if recorded and hashlib.sha256(candidate.read_bytes()).hexdigest() != recorded:
            notes.append(f"scenario {candidate} has changed since the run (its hash differs from the manifest's)")
        return scenario, notes
    where = given or manifest.get("scenario") or "(not recorded)"
    notes.append(f"scenario file not found ({where}); give it with --scenario to draw the domain diagram")
    return None, notes
