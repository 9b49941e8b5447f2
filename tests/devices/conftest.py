"""Device tests reuse the grid tests' analytic references (the single-area frequency response)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "grid"))
