"""The rules of DESIGN.md as a checker over a source tree: imports and calls, read from the AST.

A tree breaks the architecture when:

* a layer imports what it must not (the kernel knows no layers; ``cosim.grid``
  and ``cosim.comm`` never import each other nor devices; markets never see
  the grid or devices);
* Operations or Markets code imports the electrical layer (the DMS's own
  engineering model, :data:`OWN_MODEL_MODULES`, solves its own copy of the
  network and is the one named exception);
* anything outside devices and the wiring imports a grid action (``SetLoad``,
  ``apply_action``, ...) or the live grid service;
* anything outside devices and the wiring reaches the ``grid`` or ``devices``
  service (a call of ``service``, ``has_service`` or any ``*service*``
  function with that name, literal or through a module constant), or the
  world's private service table;
* anything outside devices and the wiring imports a device's runtime (its
  register store, grid binding, protection logic) rather than its data
  (register maps, encodings, configurations);
* anything imports the physical world's modules (:data:`PHYSICAL_WORLD`)
  other than the places named in :data:`PHYSICAL_IMPORTERS`, so their
  exemption cannot be borrowed by a domain calling through them.

The physical world -- what nature and people's hands do, which no actor
decides and no information system carries -- touches the grid without a
device in between. Each module that stands for it is named, one file at a
time, in :data:`PHYSICAL_WORLD` with the reason; a folder is never exempt
wholesale except ``cosim/events`` (scenario events: the author's switching
and nature's faults).

:func:`violations` returns one line per offence, ``path:line: rule``, so the
test that runs it on the real tree prints exactly what to fix. Who may do what
is data at the top of this module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

LAYER_IMPORTS: dict[str, tuple[str, ...]] = {
    "cosim/kernel": ("cosim.grid", "cosim.comm", "cosim.domains", "cosim.scenario", "cosim.markets", "cosim.operations", "devices"),
    "cosim/grid": ("cosim.comm", "devices", "cosim.domains", "cosim.markets", "cosim.operations"),
    "cosim/comm": ("cosim.grid", "devices", "cosim.domains", "cosim.markets", "cosim.operations"),
    "cosim/markets": ("cosim.grid", "devices", "cosim.wiring"),
    "cosim/operations": ("cosim.grid", "cosim.wiring"),
    "cosim/reliability": ("cosim.comm", "devices"),
    "cosim/domains": ("cosim.wiring",),
}
"""Folder -> module prefixes it must never import."""

OWN_MODEL_MODULES: dict[str, str] = {
    "cosim/operations/dms_model.py": "the DMS's engineering model: it builds and solves its own copy of the "
    "feeder from the scenario's data, as a real DMS does, and never sees the live grid",
}
"""Modules allowed to import ``cosim.grid``'s network model and solver despite their folder's rule."""

BRIDGE = ("devices/", "cosim/wiring/", "cosim/runner.py", "cosim/hil/", "cosim/coupling/")
"""Where the two layers may be joined: the devices themselves, the code that wires them into a world, and the
coupling to other simulators, whose inputs stand for the physical world beyond the scenario."""

PHYSICAL_WORLD: dict[str, str] = {
    "cosim/physical/premises.py": "a premise's natural demand (people switching appliances) and the sun on its "
    "panels: demand goes through the premise's ESI gateway when it has one, else onto the load as appliances draw "
    "it; PV power goes only to the DER inverter device",
    "cosim/physical/fieldwork.py": "a crew's hands on site: repairing damage, working a switch at its device's "
    "local control or its handle, seeing the fault on patrol",
    "cosim/physical/truth.py": "the ground truth of served customers, the study's instrument that the OMS is "
    "checked against; no actor sees it",
    "cosim/reliability/damage.py": "failed components of a reliability incident: failures are physics, "
    "injected as faults and held dead until a crew repairs them",
    "cosim/reliability/incidents.py": "a reliability incident's failures, drawn from failure rates and "
    "injected into the grid, and the served loads it reads as the study's truth",
}
"""Single modules that stand for the physical world, not an actor, and why each may touch the live grid."""

PHYSICAL_DEVICE_ACCESS = ("cosim/physical/premises.py", "cosim/physical/fieldwork.py")
"""Physical-world modules that meet devices the way the world does: the premise's circuit at its ESI gateway and
the panels' DC cable at their inverter; a crew's hand on a device's local control or a switch's handle."""

PHYSICAL_IMPORTERS: dict[str, tuple[str, ...]] = {
    "cosim/domains/__init__.py": ("cosim.physical.premises", "cosim.physical.truth"),
    "cosim/domains/distribution.py": ("cosim.physical.fieldwork",),
}
"""Who may import a physical-world module besides its own package: the application registry, which
registers the premises' demand and PV and the outage truth, and the crews' dispatcher, whose crews do the field
work. Anything else calling through them would borrow their exemption."""

GRID_ACCESS = BRIDGE + ("cosim/grid/", "cosim/events/") + tuple(PHYSICAL_WORLD)
"""May reach the live grid: the bridge, the grid itself, scenario events (faults, the author's switching) and the
named physical-world modules, which stand for the physical world rather than for any actor."""

DEVICE_ACCESS = BRIDGE + PHYSICAL_DEVICE_ACCESS
"""May reach devices' memory (the ``devices`` service, their runtime modules)."""

DEVICE_RUNTIME = ("devices.field", "devices.protection", "devices.registerstore", "devices.gridbinding",
                  "devices.settingsbinding", "devices.capacitorcontrol", "devices.intents", "devices.noise")
"""Device modules that hold or drive live state; register maps, encodings and configurations are data anyone may read."""

GRID_SERVICE_MODULES = ("cosim.grid.service", "cosim.grid.measurements", "cosim.wiring.grid", "cosim.wiring.devices")
"""Importing these hands out the live grid (or the devices) itself."""

PHYSICAL_PACKAGE = "cosim.physical"
"""The package whose one job is the physical world: importing it whole is importing all its modules."""

PHYSICAL_MODULES = tuple(p.removesuffix(".py").replace("/", ".") for p in PHYSICAL_WORLD)
"""The physical-world modules as module names."""

SERVICE_NAMES = {"grid": GRID_ACCESS, "devices": DEVICE_ACCESS}
"""Service names that are layers, and who may look them up."""


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def grid_action_names(root: Path) -> set[str]:
    """Every class and the ``apply_action`` function of ``cosim/grid/actions.py``: the typed ways to change the grid."""
    tree = ast.parse((root / "cosim" / "grid" / "actions.py").read_text())
    names = {node.name for node in tree.body if isinstance(node, ast.ClassDef) and node.name != "Change"}
    return names | {"apply_action"}


def _module_name(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def _imports(root: Path, path: Path, tree: ast.AST) -> list[tuple[int, str, str | None]]:
    """``(line, module, imported name or None)`` for each import, relative imports made absolute."""
    package = _module_name(root, path).split(".")[:-1]  # also right for __init__.py: its module name ends in __init__
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.extend((node.lineno, module, alias.name) for alias in node.names)
    return found


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _allowed(rel: str, places: tuple[str, ...]) -> bool:
    """``rel`` is one of ``places``: a file named exactly, or under a folder named with its trailing ``/``."""
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in places)


def _string_constants(tree: ast.AST, imported: dict[str, str]) -> dict[str, str]:
    """Names bound to string literals anywhere in the module, and imported layer-name constants."""
    values: dict[str, str] = dict(imported)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value.value
        elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, str)):
            values[node.target.id] = node.value.value
    return values


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _argument_strings(node: ast.Call, constants: dict[str, str]) -> list[str]:
    found = []
    for arg in list(node.args) + [k.value for k in node.keywords]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append(arg.value)
        elif isinstance(arg, ast.Name) and arg.id in constants:
            found.append(constants[arg.id])
        elif isinstance(arg, ast.Attribute) and arg.attr in constants:
            found.append(constants[arg.attr])
    return found


def check_file(root: Path, path: Path, actions: set[str]) -> list[Violation]:
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(), rel)
    found: list[Violation] = []
    imports = _imports(root, path, tree)

    # Layer import rules.
    for folder, forbidden in LAYER_IMPORTS.items():
        if not rel.startswith(folder + "/"):
            continue
        for line, module, name in imports:
            full = f"{module}.{name}" if name else module
            hit = next((f for f in forbidden if _under(module, (f,)) or _under(full, (f,))), None)
            if hit is None:
                continue
            if hit == "cosim.grid" and rel in OWN_MODEL_MODULES:
                continue
            found.append(Violation(rel, line, f"{folder} imports {full} (it must not import {hit})"))

    # Grid actions, the live grid and device runtimes, outside the places allowed to touch them.
    layer_constants: dict[str, str] = {}
    for line, module, name in imports:
        full = f"{module}.{name}" if name else module
        if _under(module, ("cosim.grid",)) and name in actions and not _allowed(rel, GRID_ACCESS) and rel not in OWN_MODEL_MODULES:
            found.append(Violation(rel, line, f"imports the grid action {name} (only devices act on the grid)"))
        if (_under(module, GRID_SERVICE_MODULES) or _under(full, GRID_SERVICE_MODULES)) and not _allowed(rel, GRID_ACCESS):
            found.append(Violation(rel, line, f"imports {full}, the live grid or device layer"))
        if (_under(module, DEVICE_RUNTIME) or _under(full, DEVICE_RUNTIME)) and not _allowed(rel, DEVICE_ACCESS):
            found.append(Violation(rel, line, f"imports {full}, a device's runtime (read devices over comm)"))
        physical = next((m for m in (module, full) if _under(m, PHYSICAL_MODULES)), None)
        if physical is None and full == PHYSICAL_PACKAGE:  # the package whole (``from cosim import physical``)
            physical = f"{PHYSICAL_PACKAGE}.*"
        if (physical is not None and rel.rsplit("/", 1)[0] != physical.rsplit(".", 1)[0].replace(".", "/")
                and not _under(physical, PHYSICAL_IMPORTERS.get(rel, ()))):
            found.append(Violation(rel, line, f"imports {full}, a physical-world module (only "
                                   f"{', '.join(sorted(PHYSICAL_IMPORTERS))} may, each the ones it is named with)"))
        if _under(module, ("cosim.wiring",)) and name == "SERVICE":
            layer_constants["SERVICE"] = module.rsplit(".", 1)[-1]

    constants = _string_constants(tree, layer_constants)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_services" and not rel.startswith("cosim/kernel/"):
            found.append(Violation(rel, node.lineno, "reads the world's private service table"))
        if not isinstance(node, ast.Call):
            continue
        callee = _callee_name(node.func)
        if callee == "getattr" and any(s.endswith("service") for s in _argument_strings(node, constants)):
            found.append(Violation(rel, node.lineno, "looks up a service through getattr"))
            continue
        if "service" not in callee.lower() or callee == "add_service":
            continue
        for name in _argument_strings(node, constants):
            places = SERVICE_NAMES.get(name)
            if places is not None and not _allowed(rel, places):
                found.append(Violation(rel, node.lineno, f"looks up the {name!r} service (only devices and wiring may)"))
    return found


def violations(root: Path, folders: tuple[str, ...] = ("cosim", "devices")) -> list[str]:
    """Every violation in the tree at ``root``, one ``path:line: rule`` line each, sorted."""
    actions = grid_action_names(root)
    found: list[Violation] = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            found.extend(check_file(root, path, actions))
    return sorted(str(v) for v in found)
