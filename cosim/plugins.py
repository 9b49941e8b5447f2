"""Plugins: application, event and device kinds from the user's own package.

A plugin is a Python module that registers kinds when imported, with the same
decorators and functions the built-in kinds use:
``cosim.domains.registry.application``, ``cosim.events.registry.event_kind``
and ``devices.plugins.register_device_kind``. It is found in two ways:

* an installed package declares an entry point in the group
  ``gridcosim.plugins`` (``[project.entry-points."gridcosim.plugins"]`` in its
  pyproject.toml); every such module is imported before a scenario is read;
* ``cosim --plugin MODULE`` (repeatable) or the ``GRIDCOSIM_PLUGINS``
  environment variable (comma-separated module names) names modules to import
  as well; the CLI sets the variable, so sweep workers it starts load them too.

A plugin that cannot be imported is a :class:`PluginError` (exit code 2 from
the CLI), naming the plugin and the reason.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib import metadata

ENTRY_POINT_GROUP = "gridcosim.plugins"
ENVIRONMENT_VARIABLE = "GRIDCOSIM_PLUGINS"

_loaded: set[str] = set()


class PluginError(Exception):
    """A plugin that cannot be loaded; the message names it and says why."""


def load_plugins(modules: Iterable[str] = ()) -> list[str]:
    """Import every installed plugin, the modules of ``GRIDCOSIM_PLUGINS`` and ``modules``; idempotent.

    Returns the names of the modules imported by this call.
    """
    wanted = [(f"entry point {ep.name}", ep.value.split(":")[0]) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    from_environment = [m.strip() for m in os.environ.get(ENVIRONMENT_VARIABLE, "").split(",") if m.strip()]
    wanted += [(f"plugin {m}", m) for m in (*from_environment, *modules)]
    imported = []
    for origin, module in wanted:
        if module in _loaded:
            continue
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any failure of the user's module is reported, not raised raw
            raise PluginError(f"{origin}: cannot import {module!r}: {type(error).__name__}: {error}") from None
        _loaded.add(module)
        imported.append(module)
    return imported


def add_to_environment(modules: Iterable[str]) -> None:
    """Name ``modules`` in ``GRIDCOSIM_PLUGINS`` so that worker processes started from here load them."""
    present = [m for m in os.environ.get(ENVIRONMENT_VARIABLE, "").split(",") if m]
    os.environ[ENVIRONMENT_VARIABLE] = ",".join(dict.fromkeys([*present, *modules]))
