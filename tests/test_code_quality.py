"""mypy and ruff over the whole code base, with the project's configuration in pyproject.toml.

They run inside the test suite so that the README's test command (and CI)
fails on a type error or a lint finding, like on any other defect.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mypy_is_clean():
    result = run("mypy", "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean():
    result = run("ruff", "check", "--no-cache", "cosim", "devices", "tests", "benchmarks", "examples", "configs")
    assert result.returncode == 0, result.stdout + result.stderr
