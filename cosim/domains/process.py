"""Each NIST domain runs as one SimPy process that owns its actors and starts their applications."""

from __future__ import annotations

from typing import Any, Generator

from ..kernel import World
from ..nist import Domain
from .context import RunContext
from .registry import APPLICATIONS


def domain_process(world: World, domain: Domain, ctx: RunContext) -> Generator[Any, Any, None]:
    """Start the applications of every actor of ``domain`` and wait for those that end.

    Applications are validated when the scenario is loaded, so the parameter
    models here cannot fail.
    """
    actors = ctx.model.actors_in(domain)
    running = []
    for actor in actors:
        for app in actor.applications:
            kind = APPLICATIONS[app.kind]
            params = kind.params.model_validate(dict(app.params))
            running.append(world.process(kind.run(world, actor, params, ctx)))
    world.log("domain_started", domain=domain.value, actors=len(actors), applications=len(running))
    if running:
        yield world.env.all_of(running)
