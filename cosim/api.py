"""The Python API: load a scenario, run it whole or step by step, drive it from outside, read its results.

A minimal session::

    import cosim.api as gc

    sim = gc.Simulation("configs/quickstart.yaml", seed=7, until="6h")
    sim.step("1h")                       # simulated time advances to 3,600 s
    sim.set_load("factory_1", p_mw=2.4)  # an input from outside, applied now
    sim.step()                           # to the end of the run
    results = sim.finish()
    ts = results.timeseries()            # a pandas DataFrame

Everything runs in simulated time; nothing here sleeps. A bad scenario raises
:class:`cosim.errors.ScenarioError` whose lines are those ``cosim validate``
prints. Results are the same files ``cosim run`` writes (README, "Results"),
read back as tables, so a script and the command line agree byte for byte.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .coupling.inputs import ElementKind, ExternalGrid, ExternalInput
from .errors import ScenarioError
from .grid import GridMeasurements
from .parquet_export import require_pyarrow
from .runner import RunResult, build_world, finish_recording, start_recording
from .scenario import Scenario, load_scenario
from .scenario.durations import parse_duration

if TYPE_CHECKING:  # pandas is an optional dependency (the ``api`` extra)
    import pandas as pd
    import pyarrow as pa

__all__ = ["ElementKind", "Results", "ScenarioError", "Simulation", "load", "run"]


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises :class:`ScenarioError` listing every problem."""
    return load_scenario(path)


def _seconds(value: str | float | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_duration(value)
    return float(value)


class Simulation:
    """One scenario running in a World, advanced by :meth:`step` and closed by :meth:`finish`.

    ``out_dir`` receives the run's files as ``cosim run --out`` would write
    them; without it they go to a temporary folder that lives as long as the
    returned :class:`Results`. ``seed`` and ``until`` override the scenario's
    ``run`` section (``until`` in seconds or as text such as ``"6h"``).
    ``parquet=True`` also writes every table as Parquet when the run closes
    (``cosim run --format parquet``; needs pyarrow).
    """

    def __init__(self, scenario: Scenario | str | Path, *, out_dir: str | Path | None = None,
                 seed: int | None = None, until: str | float | None = None, parquet: bool = False) -> None:
        if parquet:
            require_pyarrow()
        self._parquet = parquet
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.scenario = loaded.with_run(seed=seed, duration=_seconds(until))
        self._temporary = tempfile.TemporaryDirectory(prefix="cosim-") if out_dir is None else None
        self.out_dir = Path(self._temporary.name) if self._temporary is not None else Path(out_dir)  # type: ignore[arg-type]
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.world, _ = build_world(self.scenario, self.out_dir)
        self._grid = ExternalGrid.of(self.world)
        start_recording(self.world, self.scenario, self.out_dir)
        self._started = time.perf_counter()
        self._result: RunResult | None = None

    # -- time ------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return self.world.now

    @property
    def until(self) -> float:
        """The run's end in simulated seconds."""
        return float(self.scenario.spec.run.duration)

    def step(self, until: str | float | None = None) -> float:
        """Advance simulated time to ``until`` (absolute, seconds or text; default the run's end); returns now.

        Every process due before ``until`` runs; processes due exactly at
        ``until`` run on the next step, after inputs set in between.
        """
        self._check_open()
        target = self.until if until is None else _seconds(until)
        assert target is not None
        if target > self.until:
            raise ValueError(f"step to {target:g} s is past the run's end ({self.until:g} s)")
        if target < self.now:
            raise ValueError(f"step to {target:g} s is before now ({self.now:g} s): time only moves forward")
        if target > self.now:
            self.world.run(target)
        return self.now

    # -- inputs from outside -------------------------------------------------------
    def set_load(self, name: str, p_mw: float, q_mvar: float | None = None) -> None:
        """Set a load's demand now (Q keeps the configured power factor when omitted)."""
        self._external().apply(ExternalInput(ElementKind.LOAD, name, p_mw, q_mvar))

    def set_der(self, name: str, p_mw: float, q_mvar: float | None = None) -> None:
        """Set a DER's available output now."""
        self._external().apply(ExternalInput(ElementKind.DER, name, p_mw, q_mvar))

    def set_generator(self, name: str, p_mw: float) -> None:
        """Set a generator's active-power setpoint now."""
        self._external().apply(ExternalInput(ElementKind.GENERATOR, name, p_mw))

    def measurements(self) -> GridMeasurements:
        """The solved grid now, as devices read it."""
        return self._external().measurements()

    def names(self, kind: ElementKind | str) -> tuple[str, ...]:
        """Names of the grid's buses, branches, loads, DERs or generators."""
        return self._external().names(ElementKind(kind))

    # -- the end ---------------------------------------------------------------------
    def finish(self, status: str = "completed", error: str | None = None) -> Results:
        """Close the run's files (manifest, summary) and return its results; idempotent."""
        if self._result is None:
            wall = time.perf_counter() - self._started
            rows = finish_recording(self.world, self.scenario, self.out_dir, status, error, wall, parquet=self._parquet)
            self._result = RunResult(self.out_dir, status, wall, self.world.now, rows, dict(self.world.recorder.event_counts))
        return Results(self._result, self._temporary)

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is None:
            self.finish()
        else:
            status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            self.finish(status, f"{type(error).__name__}: {error}")

    def _external(self) -> ExternalGrid:
        self._check_open()
        if self._grid is None:
            raise ValueError("this scenario has no grid section")
        return self._grid

    def _check_open(self) -> None:
        if self._result is not None:
            raise RuntimeError("the simulation is finished")


class Results:
    """A finished run's files, read back as pandas DataFrames (``pip install 'gridcosim[api]'``)."""

    def __init__(self, result: RunResult, keep_alive: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.run = result
        self.out_dir = result.out_dir
        self._keep_alive = keep_alive  # the temporary folder lives as long as these results

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.out_dir / "manifest.json").read_text()))

    def files(self) -> list[str]:
        """Names of the data files the run wrote."""
        return sorted(p.name for p in self.out_dir.iterdir() if p.is_file())

    def table(self, name: str) -> pd.DataFrame:
        """Any table of the run by name (``"timeseries"``, ``"messages"``, ``"settlement"``, ...).

        Read from its Parquet copy when the run wrote one (typed, faster), else from its CSV.
        """
        pandas = _pandas()
        parquet = self.out_dir / f"{name}.parquet"
        if parquet.exists() and name != "events":
            return pandas.read_parquet(parquet)
        return pandas.read_csv(self._csv(name))

    def arrow(self, name: str) -> pa.Table:
        """Any table of the run as a pyarrow Table (from its Parquet copy if written, else its CSV)."""
        require_pyarrow()
        import pyarrow.csv
        import pyarrow.parquet

        parquet = self.out_dir / f"{name}.parquet"
        if parquet.exists() and name != "events":
            return pyarrow.parquet.read_table(parquet)
        return pyarrow.csv.read_csv(self._csv(name))

    def _csv(self, name: str) -> Path:
        path = self.out_dir / f"{name}.csv"
        if not path.exists():
            raise KeyError(f"no table {name!r} in {self.out_dir} (have: {', '.join(n[:-4] for n in self.files() if n.endswith('.csv'))})")
        return path

    def timeseries(self) -> pd.DataFrame:
        """Tidy samples: ``time_s, entity, quantity, value, unit``."""
        return self.table("timeseries")

    def messages(self) -> pd.DataFrame:
        """Every message of the trace (scenarios with ``comm.trace``)."""
        return self.table("messages")

    def summary(self) -> pd.DataFrame:
        return self.table("summary")

    def events(self) -> pd.DataFrame:
        """The event log, one row per event, fields as columns."""
        pandas = _pandas()
        path = self.out_dir / "events.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
        return pandas.DataFrame(rows)

    def series(self, entity: str, quantity: str) -> pd.Series:
        """One quantity of one entity as a Series indexed by simulated time (s)."""
        frame = self.timeseries()
        chosen = frame[(frame["entity"] == entity) & (frame["quantity"] == quantity)]
        if chosen.empty:
            raise KeyError(f"no samples of {entity} {quantity}")
        return chosen.set_index("time_s")["value"].rename(f"{entity}.{quantity}")


def run(scenario: Scenario | str | Path, *, out_dir: str | Path | None = None, seed: int | None = None,
        until: str | float | None = None, parquet: bool = False) -> Results:
    """Run a scenario to its end and return its results (``parquet=True``: also as Parquet files)."""
    with Simulation(scenario, out_dir=out_dir, seed=seed, until=until, parquet=parquet) as sim:
        sim.step()
    return sim.finish()


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("reading results as DataFrames needs pandas: pip install 'gridcosim[api]'") from None
    return pandas
