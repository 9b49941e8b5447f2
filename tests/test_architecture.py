"""The architecture of DESIGN.md, checked on the source by :mod:`architecture_rules` (imports and calls, from the AST).

The real tree must pass, and the failure names every offending line. The
checker is itself tested the way it failed before: violations are planted in a
scratch copy of the tree, and each must be caught, naming its file -- among
them the ones that prove the physical world's exemptions are narrow (one file
each, not their folder, and not borrowable by a domain importing them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from architecture_rules import violations

ROOT = Path(__file__).parents[1]

PLANTED = {
    "markets reads the live grid": (
        "cosim/domains/markets.py",
        "\n\ndef _peek(world):\n    return world.service('grid').measurements()\n",
    ),
    "SCADA imports a grid action": (
        "cosim/operations/scada.py",
        "\nfrom cosim.grid import SetLoad  # noqa: E402,F401\n",
    ),
    "Operations DR reads a relay's memory": (
        "cosim/domains/operations_dr.py",
        '\n\ndef _relay_memory(world):\n    return world.service("devices")["relay_cb"].store.read(3, 0, 1)\n',
    ),
    "the grid found through the wiring's constant": (
        "cosim/domains/service_provider.py",
        "\nfrom ..wiring.grid import SERVICE  # noqa: E402\n\n\ndef _g(world):\n    return world.service(SERVICE)\n",
    ),
    "the grid found through a local name": (
        "cosim/operations/oms.py",
        "\n\ndef _g(world):\n    layer = 'grid'\n    return world.has_service(layer)\n",
    ),
    "the grid found through a helper": (
        "cosim/domains/markets.py",
        '\n\ndef _g(world):\n    return await_service(world, "grid")\n',
    ),
    "the private service table": (
        "cosim/operations/dms.py",
        "\n\ndef _g(world):\n    return world._services\n",
    ),
    "a device runtime imported by a domain": (
        "cosim/domains/service_provider.py",
        "\nfrom devices.registerstore import RegisterStore  # noqa: E402,F401\n",
    ),
    "markets import the solver": (
        "cosim/markets/sced.py",
        "\nfrom cosim.grid.acflow import solve_ac  # noqa: E402,F401\n",
    ),
    "the kernel imports a layer": (
        "cosim/kernel/world.py",
        "\nfrom cosim.comm import network  # noqa: E402,F401\n",
    ),
    "the grid imports comm": (
        "cosim/grid/topology.py",
        "\nimport cosim.comm.network  # noqa: E402,F401\n",
    ),
    # The physical world's exemptions are narrow: one named file each.
    "a domain sets a load itself": (
        "cosim/domains/service_provider.py",
        "\nfrom cosim.grid import SetLoad  # noqa: E402\n\n\ndef _shed(world):\n"
        "    world.service('grid').apply(SetLoad('home_1', 0.0))\n",
    ),
    "the crews' dispatcher reaches the grid itself": (
        "cosim/domains/distribution.py",
        '\n\ndef _peek(world):\n    return world.service("grid").active_fault\n',
    ),
    "a new module beside the physical world's is not exempt": (
        "cosim/physical/weather.py",
        '"""Not named in the rules."""\n\n\ndef _g(world):\n    return world.service("grid")\n',
    ),
    "a reliability module other than the failure injectors": (
        "cosim/reliability/cosimstudy.py",
        '\n\ndef _g(world):\n    return world.service("grid")\n',
    ),
    "a domain borrows the premises' grid access": (
        "cosim/domains/markets.py",
        "\nfrom cosim.physical.premises import load_profile  # noqa: E402,F401\n",
    ),
    "a domain borrows the crews' field work": (
        "cosim/domains/operations_dr.py",
        "\nfrom ..physical import fieldwork  # noqa: E402,F401\n",
    ),
    "a domain imports the physical package whole": (
        "cosim/domains/bulk_generation.py",
        "\nfrom cosim import physical  # noqa: E402,F401\n",
    ),
    "the truth recorder reaches a device's memory": (
        "cosim/physical/truth.py",
        '\n\ndef _relay(world):\n    return world.service("devices")["relay_cb"].store\n',
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for folder in ("cosim", "devices"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.parametrize("story", sorted(PLANTED))
def test_each_planted_violation_is_caught(story, pristine, tmp_path):
    rel, code = PLANTED[story]
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    before = set(violations(tree))
    with (tree / rel).open("a") as f:
        f.write(code)
    new = set(violations(tree)) - before
    assert new, f"{story}: nothing caught"
    assert all(line.startswith(rel + ":") for line in new), new


def test_the_checker_sees_the_design_exception_and_nothing_else_in_dms_model(pristine):
    # The DMS model imports cosim.grid by design; the same import one folder over is caught.
    assert not [v for v in violations(pristine) if v.startswith("cosim/operations/dms_model.py")]


def test_the_real_tree_keeps_the_architecture():
    found = violations(ROOT)
    assert not found, "architecture violations (path:line: rule):\n" + "\n".join(found)
