"""``cosim describe``: the scenario's NIST model as tables (domains, actors, associations, interfaces)."""

from __future__ import annotations

from .nist import Domain
from .scenario import Scenario
from .scenario.durations import format_duration
from .texttable import format_table


def describe(scenario: Scenario) -> str:
    spec, model = scenario.spec, scenario.model
    run = spec.run
    out = [
        f"Scenario {spec.name} ({scenario.display_name})",
        f"  {spec.description}".rstrip(),
        f"  run: {format_duration(run.duration)} simulated, step {format_duration(run.step)}, seed {run.seed}, {run.mode}",
        "",
        "Actors by domain",
    ]
    rows = []
    for domain in Domain:
        actors = model.actors_in(domain)
        if not actors:
            rows.append([domain.value, "-", "(no actors)", "", ""])
        for actor in actors:
            segment = actor.segment.value if actor.segment else ""
            apps = ", ".join(app.kind for app in actor.applications) or "-"
            rows.append([domain.value, actor.actor_id, actor.role, segment, apps])
    out.append(format_table(["domain", "actor", "role", "sub-domain", "applications"], rows))
    out += ["", "Associations"]
    rows = []
    for association in model.associations:
        a, b = model.actor(association.source), model.actor(association.target)
        rows.append([association.source, association.target, f"{a.domain.value} - {b.domain.value}", association.kind.value, association.label])
    out.append(format_table(["from", "to", "domains", "kind", "label"], rows) if rows else "  (none)")
    out += ["", "Interfaces between domains"]
    rows = [[a.value, b.value, kind.value, str(count)] for (a, b, kind), count in model.interfaces().items()]
    out.append(format_table(["domain", "domain", "kind", "associations"], rows) if rows else "  (none)")
    return "\n".join(out)
