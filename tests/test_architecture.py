"""The architecture of DESIGN.md, checked on the source: who may import whom.

* the kernel knows nothing of layers, domains or devices;
* the electrical layer (cosim.grid) and the information layer (cosim.comm)
  never import each other, nor devices;
* Operations, Markets and Service Provider code never touches the grid: they
  learn about it only through messages (devices are the only bridge).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def imported_modules(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sources(folder):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("cosim/kernel", ("cosim.grid", "cosim.comm", "cosim.domains", "cosim.scenario", "cosim.markets", "devices")),
        ("cosim/grid", ("cosim.comm", "devices", "cosim.domains", "cosim.markets")),
        ("cosim/comm", ("cosim.grid", "devices", "cosim.domains", "cosim.markets")),
        ("cosim/markets", ("cosim.grid", "devices")),
        ("cosim/reliability", ("cosim.comm", "devices")),
    ],
)
def test_layer_does_not_import(folder, forbidden):
    assert sources(folder), f"{folder} has no sources"
    assert violations(folder, forbidden) == []


INFORMATION_ONLY_DOMAINS = ("operations", "markets", "service_provider")


def test_information_only_domains_never_touch_the_grid():
    offenders = []
    for path in sources("cosim/domains"):
        if not path.stem.startswith(INFORMATION_ONLY_DOMAINS):
            continue
        text = path.read_text()
        if any(n == "cosim.grid" or n.startswith("cosim.grid.") for n in imported_modules(path)) or 'service("grid")' in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_import_resolution_sees_relative_imports():
    # Guards the checker itself: a relative import of the grid from domains must resolve.
    names = imported_modules(ROOT / "cosim" / "domains" / "process.py")
    assert "cosim.kernel" in names and "cosim.domains.registry" in names
