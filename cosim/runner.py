"""Runs one scenario: builds the world, starts the seven domain processes, records, summarises.

Whatever happens during the run, the recorder is closed and the manifest says
how the run ended, so nothing recorded before a failure is lost.
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import __version__
from .domains import RunContext, domain_process
from .events import event_schedule
from .kernel import World
from .kernel.recorder import trim_partial_line
from .kernel.world import ProgressCallback
from .nist import Domain
from .outpaths import OutputPathError, child
from .parquet_export import export_run
from .scenario import Scenario
from .summary import SummaryRow, summarise, write_summary
from .wiring.comm import attach_comm
from .wiring.devices import attach_devices, device_configs, start_utc_us
from .wiring.grid import attach_grid, grid_sampler

DEPENDENCIES = ("simpy", "numpy", "scipy", "pymodbus", "paho-mqtt", "pydantic", "PyYAML")


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    status: str
    wall_time_s: float
    simulated_time_s: float
    summary: list[SummaryRow]
    event_counts: dict[str, int]


def default_out_dir(scenario: Scenario, root: Path = Path("results")) -> Path:
    """``results/<scenario>-seed<N>-<UTC timestamp>``: new for every run, sortable by time."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return child(root, f"{scenario.spec.name}-seed{scenario.spec.run.seed}-{stamp}")


RUN_MARKER = "manifest.json"  # a folder holding one is the results of an earlier run


def prepare_out_dir(out_dir: Path, overwrite: bool = False) -> None:
    """Make ``out_dir`` an empty, writable results folder, or raise :class:`OutputPathError` saying why not.

    A folder that is not empty is refused, so that two runs never mix their
    files (the manifest would vouch for the other run's tables). With
    ``overwrite`` the results of an earlier run are removed first -- only when
    the folder holds a run's ``manifest.json``, so that a mistyped ``--out``
    never clears a folder that is not a results folder.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputPathError(f"{out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise OutputPathError(f"{out_dir} is not empty; give --overwrite to replace an earlier run's results, or another --out")
        if not (out_dir / RUN_MARKER).is_file():
            raise OutputPathError(f"{out_dir} is not empty and holds no {RUN_MARKER}: not a results folder, so it is not cleared")
        for entry in out_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".cosim-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputPathError(f"cannot write results in {out_dir}: {error.strerror or error}") from None


def versions() -> dict[str, str]:
    found = {"gridcosim": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def build_world(scenario: Scenario, out_dir: Path | None) -> tuple[World, RunContext]:
    """A world with every domain process started, ready to run."""
    run = scenario.spec.run
    world = World(run.seed, out_dir, real_time=run.mode == "realtime", realtime_factor=run.realtime_factor)
    utc_us = start_utc_us(run.start_utc, run.mode)   # read once: "now" is the same instant for every layer
    ctx = RunContext(scenario.model, run.step, run.duration, scenario.base_dir, device_configs(scenario), utc_us)
    grid = attach_grid(world, scenario)
    attach_comm(world, scenario)
    attach_devices(world, scenario, utc_us)
    for domain in Domain:
        world.process(domain_process(world, domain, ctx))
    if grid is not None:
        world.process(grid_sampler(world, grid, run.step))
    if scenario.spec.events:
        world.process(event_schedule(world, scenario.spec.events))
    return world, ctx


def start_recording(world: World, scenario: Scenario, out_dir: Path | None, **manifest: object) -> None:
    """Write the opening manifest (status ``running``) and the scenario copy; shared by run and serve."""
    run = scenario.spec.run
    fields: dict[str, object] = dict(
        scenario=scenario.display_name,
        scenario_name=scenario.spec.name,
        scenario_sha256=scenario.sha256,
        seed=run.seed,
        duration_s=run.duration,
        mode=run.mode,
        versions=versions(),
        started_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        status="running",
    )
    fields.update(manifest)
    world.recorder.write_manifest(**fields)
    if out_dir is not None:
        # The exact scenario that ran, beside its results (reports and re-runs read it).
        (Path(out_dir) / "scenario.yaml").write_bytes(scenario.source)


def finish_recording(
    world: World, scenario: Scenario, out_dir: Path | None, status: str, error: str | None, wall_time_s: float,
    parquet: bool = False, **manifest: object
) -> list[SummaryRow]:
    """Close a run however it ended: link statistics, summary, files and the final manifest.

    A write that fails here (a full disk) does not stop the closing: the
    recorder trims partial lines and the manifest says ``failed`` if it can
    still be written. The first such error is raised at the end when the run
    itself had not failed already.

    With ``parquet`` the closed tables are also written as Parquet
    (:mod:`cosim.parquet_export`) and the manifest lists them too.
    """
    ended_well = status == "completed"
    late: OSError | None = None
    rows = summarise(world.recorder.stats, scenario.model)
    try:
        if world.has_service("comm"):
            world.service("comm").finish()
        rows = summarise(world.recorder.stats, scenario.model)
        if out_dir is not None:
            write_summary(Path(out_dir) / "summary.csv", rows)
    except OSError as failure:
        late = failure
        status, error = "failed", f"{type(failure).__name__}: {failure}"
        if out_dir is not None and (Path(out_dir) / "summary.csv").exists():
            trim_partial_line(Path(out_dir) / "summary.csv")
    try:
        world.recorder.close(status=status, error=error, wall_time_s=round(wall_time_s, 3), simulated_time_s=world.now, **manifest)
    except OSError as failure:
        late = late or failure
    if parquet and out_dir is not None and late is None:
        try:
            export_run(Path(out_dir))
            world.recorder.write_manifest(files=world.recorder.file_digests(), formats=["csv", "parquet"])
        except OSError as failure:
            late = failure
    if late is not None and ended_well:  # otherwise the run's own error is already on its way up
        raise late
    return rows


def run_scenario(scenario: Scenario, out_dir: Path | None, progress: ProgressCallback | None = None,
                 parquet: bool = False) -> RunResult:
    """Run ``scenario`` to its duration, streaming results into ``out_dir`` (and Parquet copies with ``parquet``).

    Re-raises whatever ends the run early, after closing the files with
    status ``failed`` and the error in the manifest.
    """
    run = scenario.spec.run
    world, _ = build_world(scenario, out_dir)
    started = time.perf_counter()
    status, error_text = "completed", None
    try:
        # Inside the try: an interrupt (a sweep worker's SIGTERM) right after the opening manifest is
        # written must still close the run, or the manifest would say "running" for ever.
        start_recording(world, scenario, out_dir)
        world.run(run.duration, progress=progress)
    except BaseException as error:  # also KeyboardInterrupt: the files must still be closed
        status, error_text = ("interrupted" if isinstance(error, KeyboardInterrupt) else "failed"), f"{type(error).__name__}: {error}"
        raise
    finally:
        wall = time.perf_counter() - started
        rows = finish_recording(world, scenario, out_dir, status, error_text, wall, parquet=parquet)
    return RunResult(Path(out_dir) if out_dir else Path(), status, wall, world.now, rows, dict(world.recorder.event_counts))
