"""Each public entry module imports first, in a fresh interpreter: no circular import depends on import order.

`python -m devices.docs` once failed because devices.config, imported first,
reached the domains, which imported devices.field before devices.config was
complete; the full suite hid it, since other modules had been imported first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ENTRY_MODULES = ("devices.config", "devices.field", "devices.docs", "devices.registermaps", "cosim.scenario", "cosim.grid",
                 "cosim.comm", "cosim.domains", "cosim.markets", "cosim.operations.dms", "cosim.reliability", "cosim.api",
                 "cosim.cli", "cosim.hil", "cosim.batch", "cosim.report", "cosim.coupling.mosaik_sim")


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_module_imports_first(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
