"""The conformance suites reuse the HIL tests' helpers (served worlds, free ports, waits)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "hil"))
sys.path.insert(0, str(Path(__file__).parents[1] / "comm"))
