"""Devices a scenario implies: the field device an application must act through when the scenario names none.

An application whose parameters declare ``fronted_by`` (rooftop PV:
``{"der": "der_inverter"}``) reaches that grid element only through a device
of that kind. Where the scenario's ``devices:`` has no such device bound to
the element, the loader adds one with the kind's defaults, owned by the
application's actor, so every scenario keeps the rule "only devices act on
the grid" without its author writing the device out. It samples as often as
the application updates it (its ``step``, else the run's), since its input
changes no faster; grid changes wake it as they wake every device.
"""

from __future__ import annotations

from typing import Any

from ..domains.registry import APPLICATIONS
from .schema import ScenarioFile
from .strictvalues import validate_input


def implied_devices(spec: ScenarioFile) -> list[dict[str, Any]]:
    """Device entries (as in ``devices:``) to add: id ``<element>_<kind>``, or with ``_2``, ``_3``... if taken.

    ``spec`` must have passed the scenario checks (application parameters valid).
    """
    taken = {str(raw.get("id")) for raw in spec.devices if isinstance(raw, dict)}
    bound = {(raw.get("kind"), key, value) for raw in spec.devices if isinstance(raw, dict)
             for key, value in raw.items() if isinstance(value, str)}
    added: list[dict[str, Any]] = []
    for actor in spec.actors:
        for app in actor.applications:
            kind_spec = APPLICATIONS.get(app.kind)
            if kind_spec is None or not kind_spec.params.fronted_by:
                continue
            params = validate_input(kind_spec.params, app.params)
            for param, kind in kind_spec.params.fronted_by.items():
                element = getattr(params, param)
                field = kind_spec.params.grid_refs[param]
                if element is None or (kind, field, element) in bound:
                    continue
                device_id, n = f"{element}_{kind}", 1
                while device_id in taken:
                    n += 1
                    device_id = f"{element}_{kind}_{n}"
                step_s = getattr(params, "step", None) or spec.run.step
                added.append({"id": device_id, "kind": kind, field: element, "actor": actor.id,
                              "params": {"sample_period_s": float(step_s)}})
                taken.add(device_id)
                bound.add((kind, field, element))
    return added
