"""The catalogue of application kinds an actor can run, declared as data.

Each kind names the domains it belongs to, the pydantic model of its
``params`` (so a scenario is validated before anything runs) and the
generator function that performs it. Domain modules register their kinds
with :func:`application`; the loader and ``cosim apps`` read the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generator

from pydantic import BaseModel, ConfigDict

from ..nist import Actor, Domain

if TYPE_CHECKING:
    from ..kernel import World
    from .context import RunContext

AppProcess = Callable[["World", Actor, Any, "RunContext"], Generator[Any, Any, Any]]


class Params(BaseModel):
    """Base of every application's parameter model: unknown keys are errors.

    ``grid_refs`` maps parameter names to the kind of grid element they name
    (``{"load": "load"}``), so the loader checks the name exists in the grid
    and that the scenario has a grid at all.

    ``device_refs`` maps parameter names to the device kind they name (``"*"``:
    any kind); the value is a device id or a list of ids (``{"poll": "*"}``
    for a SCADA polling list), checked against the scenario's ``devices:``.

    ``fronted_by`` maps a grid-reference parameter to the device kind that
    must stand between the application and that element (``{"der":
    "der_inverter"}``: rooftop PV reaches its DER only through an inverter);
    the wiring adds a device of that kind, with its defaults, bound to the
    element when the scenario's ``devices:`` has none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    grid_refs: ClassVar[dict[str, str]] = {}
    device_refs: ClassVar[dict[str, str]] = {}
    fronted_by: ClassVar[dict[str, str]] = {}

    def file_problems(self, base_dir: Path) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Problems of the files these params name (path under ``params``, message), checked when the scenario loads.

        ``base_dir`` is the folder relative paths are resolved against (the
        scenario file's). A kind that reads a file overrides this, so a
        missing or broken file is a one-line scenario error, not a failure
        once the run has started.
        """
        return iter(())


@dataclass(frozen=True)
class ApplicationKind:
    kind: str
    domains: frozenset[Domain]
    params: type[Params]
    run: AppProcess
    summary: str


APPLICATIONS: dict[str, ApplicationKind] = {}


def application(kind: str, domains: set[Domain], params: type[Params]) -> Callable[[AppProcess], AppProcess]:
    """Register the decorated generator function as application ``kind``.

    The function's docstring's first line becomes the summary in ``cosim apps``.
    """

    def register(run: AppProcess) -> AppProcess:
        if kind in APPLICATIONS:
            raise ValueError(f"application kind {kind!r} registered twice")
        summary = (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""
        APPLICATIONS[kind] = ApplicationKind(kind, frozenset(domains), params, run, summary)
        return run

    return register
