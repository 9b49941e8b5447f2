"""Output folders and files built from names in input files stay under their root.

A scenario, sweep or study name becomes one folder name. The schemas already
refuse names that are not a single path component (:data:`PathName`); the
functions here check again where the path is built, so that no name -- from a
file, a command line or a layer -- can write outside the folder it was given.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMPONENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class OutputPathError(ValueError):
    """A result path that would leave its root folder (message is user-facing)."""


def is_component(name: str) -> bool:
    """Whether ``name`` is one ordinary folder or file name: no separator, not ``.``/``..``, not hidden."""
    return bool(_COMPONENT.match(name)) and len(name) <= 200


def child(root: Path, name: str) -> Path:
    """``root / name`` after checking that ``name`` is a single component that stays under ``root``."""
    if not is_component(name):
        raise OutputPathError(f"{name!r} cannot be a folder or file name (letters, digits, '_', '.', '-'; no '/')")
    path = Path(root) / name
    check_under(root, path)
    return path


def check_under(root: Path, path: Path) -> None:
    """Raise :class:`OutputPathError` unless ``path`` resolves inside ``root`` (symlinks followed)."""
    base = Path(root).resolve()
    if not Path(path).resolve().is_relative_to(base):
        raise OutputPathError(f"{path} is outside {root}")
