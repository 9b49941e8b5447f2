"""MATPOWER cases saved as MATLAB ``.mat`` files (``savecase`` in MATPOWER, ``to_mpc`` in pandapower).

The file holds a struct ``mpc`` with ``baseMVA``, ``bus``, ``gen``, ``branch``
(and optionally ``version``, ``gencost``, ``bus_name``); it is read with
scipy and handed to the same builder as ``.m`` and JSON cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class MatFileError(ValueError):
    """A ``.mat`` file that holds no MATPOWER case; the message says what is missing."""


def read_mat(path: Path) -> dict[str, Any]:
    """The case matrices of a ``.mat`` file, in the form the ``.m`` reader returns."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        content = loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except (OSError, ValueError, NotImplementedError, MatReadError) as error:
        raise MatFileError(f"{path}: not a readable MATLAB file ({error})") from None
    structs = [v for k, v in content.items() if not k.startswith("__") and hasattr(v, "_fieldnames")]
    case = next((s for s in structs if {"bus", "gen", "branch"} <= set(s._fieldnames)), None)
    if case is None:
        found = sorted(k for k in content if not k.startswith("__"))
        raise MatFileError(f"{path}: no MATPOWER case struct (with bus, gen, branch) in the file (variables: {', '.join(found)})")
    data: dict[str, Any] = {}
    for name in case._fieldnames:
        value = getattr(case, name)
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            matrix = np.atleast_2d(value) if name in ("bus", "gen", "branch", "gencost") else value
            data[name] = matrix.tolist()
        elif isinstance(value, (int, float, np.number)):
            data[name] = float(value)
        elif isinstance(value, str):
            data[name] = value
        elif isinstance(value, np.ndarray) and value.dtype == object and name == "bus_name":
            data[name] = [str(v) for v in value]
    if "version" in data:
        data["version"] = str(data["version"]).strip().rstrip(".0") or "2"
    return data
