"""pandapower's JSON network files (``pandapower.to_json``) as case files: ``grid: {case: net.json}``.

Recognised by content; read with pandapower (``pip install 'gridcosim[pandapower]'``)
and converted by :func:`cosim.grid.pandapower_import.mpc_from_pandapower`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..grid.matpower import JSON_CASE_READERS
from ..grid.pandapower_import import PandapowerImportError, is_pandapower_json, mpc_from_pandapower


def read_pandapower_json(path: Path, parsed: Any) -> dict[str, Any] | None:
    """MATPOWER matrices of a pandapower JSON file, or None for any other JSON."""
    if not is_pandapower_json(parsed):
        return None
    try:
        import pandapower
    except ImportError:
        raise PandapowerImportError(f"{path}: a pandapower network file needs pandapower: pip install 'gridcosim[pandapower]'") from None
    return mpc_from_pandapower(pandapower.from_json(str(path)))


if read_pandapower_json not in JSON_CASE_READERS:
    JSON_CASE_READERS.append(read_pandapower_json)
