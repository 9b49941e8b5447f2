"""Markets engines stay pure: no SimPy, and no direct reach into the grid or comm layers."""

import ast
from pathlib import Path

import cosim.markets

FORBIDDEN = ("simpy", "cosim.grid", "cosim.comm", "cosim.kernel", "devices")


def test_markets_imports_nothing_it_must_learn_over_comm():
    root = Path(cosim.markets.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []
