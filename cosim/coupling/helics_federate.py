"""gridcosim as a HELICS value federate: grid quantities as publications and inputs.

The federate is configured with HELICS's own JSON federate configuration (name,
core type and broker address, ``period``, ``publications``, ``inputs`` or
``subscriptions``); the ``info`` field of each publication and input names the
grid quantity it carries, ``kind/name/quantity`` (:mod:`cosim.coupling.quantities`).
Run it with::

    python -m cosim.coupling.helics_federate SCENARIO FEDERATE.json [--out DIR] [--seed N]

Time (docs/cosimulation.md): HELICS time is gridcosim's simulated seconds.
After entering executing mode the federate applies what the others published
while initializing and publishes the grid at 0 s, then loops: request the next time (``now + period``, or the scenario's end when no
period is set, so that an input update interrupts the request), run every
gridcosim process due before the granted time with the inputs held, apply the
inputs updated at the granted time, publish. It always requests a time it
will accept and disconnects in a ``finally`` block, so a failure here cannot
leave the other federates waiting for a grant.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helics

from ..api import Simulation
from ..errors import ScenarioError
from ..runner import default_out_dir
from ..scenario import load_scenario
from .quantities import Quantity, apply_values


@dataclass(frozen=True)
class Binding:
    """A HELICS publication or input and the grid quantity it carries."""

    handle: Any
    quantity: Quantity


def bindings(federate: Any, sim: Simulation) -> tuple[list[Binding], list[Binding]]:
    """Publications (read from the grid) and inputs (set on the grid), from their ``info`` fields."""
    grid = sim._external()
    publications, inputs = [], []
    for index in range(helics.helicsFederateGetPublicationCount(federate)):
        handle = helics.helicsFederateGetPublicationByIndex(federate, index)
        quantity = Quantity.parse(helics.helicsPublicationGetInfo(handle), settable=False)
        quantity.check_exists(grid)
        publications.append(Binding(handle, quantity))
    for index in range(helics.helicsFederateGetInputCount(federate)):
        handle = helics.helicsFederateGetInputByIndex(federate, index)
        quantity = Quantity.parse(helics.helicsInputGetInfo(handle), settable=True)
        quantity.check_exists(grid)
        inputs.append(Binding(handle, quantity))
    return publications, inputs


def run_federate(scenario: str | Path, config: str | Path, *, out_dir: str | Path | None = None,
                 seed: int | None = None) -> Path:
    """Join the federation described by ``config`` and run ``scenario`` to its end; returns the results folder.

    Without ``out_dir`` the files go where ``cosim run`` would put them (``results/<scenario>-seed<N>-<time>``).
    """
    loaded = load_scenario(scenario)
    if out_dir is None:
        out_dir = default_out_dir(loaded.with_run(seed=seed))
    sim = Simulation(loaded, out_dir=out_dir, seed=seed)
    federate = helics.helicsCreateValueFederateFromConfig(str(config))
    status, error = "completed", None
    try:
        publications, inputs = bindings(federate, sim)
        period = helics.helicsFederateGetTimeProperty(federate, helics.HELICS_PROPERTY_TIME_PERIOD)
        helics.helicsFederateEnterExecutingMode(federate)
        # Values the others published while initializing apply from 0 s.
        take_inputs(sim, inputs)
        publish(sim, publications)
        while sim.now < sim.until:
            wanted = min(sim.now + period, sim.until) if period > 0 else sim.until
            granted = helics.helicsFederateRequestTime(federate, wanted)
            sim.step(min(granted, sim.until))
            take_inputs(sim, inputs)
            publish(sim, publications)
    except BaseException as failure:
        status, error = ("interrupted" if isinstance(failure, KeyboardInterrupt) else "failed"), f"{type(failure).__name__}: {failure}"
        raise
    finally:
        helics.helicsFederateDisconnect(federate)
        helics.helicsFederateFree(federate)
        result = sim.finish(status, error)
    return result.out_dir


def take_inputs(sim: Simulation, inputs: list[Binding]) -> None:
    """Apply the inputs updated since the last grant, now."""
    updated = {b.quantity: helics.helicsInputGetDouble(b.handle) for b in inputs if helics.helicsInputIsUpdated(b.handle)}
    if updated:
        apply_values(sim._external(), updated)


def publish(sim: Simulation, publications: list[Binding]) -> None:
    m = sim.measurements()
    for binding in publications:
        helics.helicsPublicationPublishDouble(binding.handle, binding.quantity.read(m))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cosim.coupling.helics_federate",
                                     description="Run a gridcosim scenario as a HELICS value federate.")
    parser.add_argument("scenario")
    parser.add_argument("config", help="HELICS federate configuration (JSON); info fields name grid quantities")
    parser.add_argument("--out", help="results folder (default: results/<scenario>-seed<N>-<time>)")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    try:
        json.loads(Path(args.config).read_text())
        out = run_federate(args.scenario, args.config, out_dir=args.out, seed=args.seed)
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return 2
    except (OSError, ValueError, helics.HelicsException) as error:
        print(f"{args.config}: {error}", file=sys.stderr)
        return 2
    print(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
