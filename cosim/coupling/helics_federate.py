"""gridcosim as a HELICS federate: grid quantities as publications and inputs, comm links as endpoints.

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

Endpoints whose ``info`` is ``link/<link>/<node>`` hand that comm link's
messages to the federation (:mod:`cosim.coupling.helics_links`); the federate
then asks for every instant it has an event, so that messages leave and
arrive at their exact times (:func:`run_event_by_event`).
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
from .helics_links import HelicsLinkCarrier
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
                 seed: int | None = None, until: str | float | None = None) -> Path:
    """Join the federation described by ``config`` and run ``scenario`` to its end; returns the results folder.

    Without ``out_dir`` the files go where ``cosim run`` would put them (``results/<scenario>-seed<N>-<time>``).
    """
    loaded = load_scenario(scenario)
    if out_dir is None:
        out_dir = default_out_dir(loaded.with_run(seed=seed))
    sim = Simulation(loaded, out_dir=out_dir, seed=seed, until=until)
    federate = helics.helicsCreateCombinationFederateFromConfig(str(config))
    status, error = "completed", None
    carrier: HelicsLinkCarrier | None = None
    try:
        publications, inputs = bindings(federate, sim)
        network = sim.world.service("comm") if sim.world.has_service("comm") else None
        carrier = HelicsLinkCarrier.attach(federate, network)
        period = helics.helicsFederateGetTimeProperty(federate, helics.HELICS_PROPERTY_TIME_PERIOD)
        if carrier is not None and period > 0:
            raise ValueError("a federate that carries comm links must not set 'period': grants on a period "
                             "would move each message to the next multiple of it (docs/cosimulation.md)")
        helics.helicsFederateEnterExecutingMode(federate)
        # Values the others published while initializing apply from 0 s.
        take_inputs(sim, inputs)
        publish(sim, publications)
        if carrier is None:
            run_on_period(federate, sim, publications, inputs, period)
        else:
            run_event_by_event(federate, sim, publications, inputs, carrier)
    except BaseException as failure:
        status, error = ("interrupted" if isinstance(failure, KeyboardInterrupt) else "failed"), f"{type(failure).__name__}: {failure}"
        raise
    finally:
        helics.helicsFederateDisconnect(federate)
        helics.helicsFederateFree(federate)
        if carrier is not None:
            carrier.finish()
            sim.world.log("helics_links", sent=carrier.sent, returned=carrier.returned, not_returned=carrier.sent - carrier.returned,
                          unknown=carrier.unknown)
        result = sim.finish(status, error)
    return result.out_dir


def run_on_period(federate: Any, sim: Simulation, publications: list[Binding], inputs: list[Binding], period: float) -> None:
    """Values only: step from grant to grant (every ``period``, or when an input changes)."""
    while sim.now < sim.until:
        wanted = min(sim.now + period, sim.until) if period > 0 else sim.until
        granted = helics.helicsFederateRequestTime(federate, wanted)
        sim.step(min(granted, sim.until))
        take_inputs(sim, inputs)
        publish(sim, publications)


def run_event_by_event(federate: Any, sim: Simulation, publications: list[Binding], inputs: list[Binding],
                       carrier: HelicsLinkCarrier) -> None:
    """With carried links: ask HELICS for each instant gridcosim has something to do, and take what arrives.

    Each request is for the next scheduled event; HELICS grants it, or an
    earlier time when a message comes back to a link end. Every event at the
    granted instant then runs with the federate at that time, so a message
    entering a carried link is sent at exactly its simulated time. HELICS
    counts time in whole nanoseconds: a grant that reaches the request in
    those units is taken as the request itself, so no event is left behind.
    """
    env = sim.world.env
    m = sim.measurements() if publications else None
    last = {b.quantity: b.quantity.read(m) for b in publications} if m is not None else {}  # published at 0 s already
    while sim.now < sim.until:
        wanted = min(env.peek(), sim.until)
        granted = helics.helicsFederateRequestTime(federate, wanted)
        instant = wanted if nanoseconds(granted) >= nanoseconds(wanted) else granted
        sim.step(instant)
        take_inputs(sim, inputs)
        carrier.deliver_arrivals()
        if instant >= sim.until:
            break
        while env.peek() == instant:  # the events of this instant, including the arrivals just put in
            env.step()
        last = publish_changes(sim, publications, last)


def nanoseconds(seconds: float) -> int:
    """HELICS's own unit of time."""
    return round(seconds * 1e9)


def publish_changes(sim: Simulation, publications: list[Binding], last: dict[Quantity, float]) -> dict[Quantity, float]:
    """Publish the quantities whose value changed since ``last``; returns the values now published."""
    if not publications:
        return last
    m = sim.measurements()
    now = dict(last)
    for binding in publications:
        value = binding.quantity.read(m)
        if last.get(binding.quantity) != value:
            helics.helicsPublicationPublishDouble(binding.handle, value)
            now[binding.quantity] = value
    return now


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
    parser.add_argument("--until", help="run this long instead of the scenario's duration (e.g. 10min)")
    args = parser.parse_args(argv)
    try:
        json.loads(Path(args.config).read_text())
        out = run_federate(args.scenario, args.config, out_dir=args.out, seed=args.seed, until=args.until)
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
