"""The project's exceptions, split by who must act.

::

    ScenarioError      the user fixes the scenario file (CLI: one line a problem, exit 2)

Everything the simulation itself meets -- a power flow that does not
converge, a lost message, a refused Modbus request -- is simulation data,
recorded and reported, never an exception that ends the run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it is and what rule it breaks."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be run; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
