"""The electrical layer stands alone: cosim.grid imports only itself, numpy, scipy, pydantic."""

from __future__ import annotations

import ast
from pathlib import Path

import cosim.grid

ALLOWED_THIRD_PARTY = {"numpy", "scipy", "pydantic", "kvxopt"}


def test_grid_imports_only_itself_and_its_numeric_stack() -> None:
    package = Path(cosim.grid.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "cosim":
                    assert name.startswith("cosim.grid"), f"{path.name} imports {name}"
                else:
                    import sys
                    assert top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, (
                        f"{path.name} imports {name}")
