"""Every ```python block in docs/python.md and docs/cosimulation.md runs, from the repository root.

Blocks of one page share nothing: each starts from a fresh namespace, so each
example stands on its own as a reader would copy it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = ("python.md", "cosimulation.md")
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        path = ROOT / "docs" / page
        if path.exists():
            for index, match in enumerate(BLOCK.finditer(path.read_text())):
                found.append((page, index, match.group(1)))
    return found


def test_the_pages_have_examples():
    pages = {page for page, _, _ in blocks()}
    assert "python.md" in pages


@pytest.mark.parametrize("page, index, code", blocks(), ids=lambda v: str(v) if isinstance(v, (int, str)) and len(str(v)) < 20 else "")
def test_docs_example_runs(page, index, code, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"docs/{page}[{index}]", "exec"), {"__name__": f"docs_{index}"})
