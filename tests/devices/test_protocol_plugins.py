"""The protocol plug-ins keep their boundary: devices never import a protocol, and the scenario chooses.

Invariants of devices/protocols/registry.py and settings.py: every section
of a device entry's ``protocols:`` has a plug-in whose endpoint and docs
functions exist, and the other way round; no device module, nor the device
config, imports a protocol endpoint (only the registry and the settings); an
entry is served by exactly the protocols it lists (Modbus alone when it
lists none).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from cosim.errors import ScenarioError
from devices.protocols.registry import PLUGINS
from devices.protocols.settings import ProtocolsConfig

from devworlds import scenario_file, start

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"devices.protocols.registry", "devices.protocols.settings"}


def test_every_section_has_a_plug_in_whose_functions_exist():
    assert set(ProtocolsConfig.model_fields) == set(PLUGINS)
    for plugin in PLUGINS.values():
        for target in filter(None, (plugin.endpoint, plugin.docs)):
            module, _, name = target.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), target
        if plugin.hil is not None:
            assert (ROOT / (plugin.hil.replace(".", "/") + ".py")).exists(), plugin.hil


def test_no_device_module_imports_a_protocol_endpoint():
    # devices/field/__init__.py registers the device kinds, one of which (openadr_ven) is a protocol's device
    files = [*sorted((ROOT / "devices" / "field").glob("[!_]*.py")), ROOT / "devices" / "config.py"]
    for path in files:
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        protocols = {name for name in imported if name.startswith("devices.protocols")}
        assert protocols <= ALLOWED, f"{path.relative_to(ROOT)} imports {sorted(protocols - ALLOWED)}"


def test_an_entry_is_served_by_exactly_the_protocols_it_lists(tmp_path):
    run = start(scenario_file(tmp_path, """
        - {id: plain, kind: protective_relay, node: field, unit_id: 1, switch: cb}
        - {id: dnp3_only, kind: recloser, node: field, unit_id: 1, switch: sw2, protocols: {dnp3: {address: 20}}}
        """))
    units = run.comm.modbus_server("field").banks
    assert set(units) == {1} and units[1] is run.devices["plain"].store  # unit 1 twice: only one serves Modbus
    assert set(run.devices["plain"].endpoints) == set() and set(run.devices["dnp3_only"].endpoints) == {"dnp3"}


def test_exposing_a_device_that_serves_no_modbus_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError) as error:
        start(scenario_file(tmp_path, """
            - {id: r1, kind: protective_relay, node: field, switch: cb, expose: {port: 15020},
               protocols: {dnp3: {address: 1}}}
            """))
    assert "expose serves the device's Modbus unit on real TCP: list modbus under protocols" in str(error.value)
