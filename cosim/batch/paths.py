"""Parameter addresses: which value of a scenario file a sweep changes.

An address is the scenario's YAML path written the way the error messages
already print it, with one addition so that it survives edits to the file:
a list item may be named by its ``id``, ``name`` or ``kind`` instead of its
position::

    run.seed
    run.duration
    actors[home_1].applications[load_profile].params.noise_pct
    actors[4].peak_kw                 # by position, counted from 0
    associations[2].label

Rules, so that an address means one thing:

* ``[N]`` with digits is a position; anything else is matched against the
  items' ``id``, then ``name``, then ``kind`` -- exactly one item must match.
* Every list item named must exist. A mapping key may be absent (an
  application without ``params`` yet); whether it is a real field is then
  decided by validating the resolved scenario, the same way a hand-written
  file is validated, so a typo still gets its "did you mean" line.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

SELECTOR_KEYS = ("id", "name", "kind")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


class AddressError(ValueError):
    """An address that is malformed or names nothing in the base scenario (message is user-facing)."""


@dataclass(frozen=True)
class Key:
    """A mapping key."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Item:
    """A list item, by position (``index``) or by id/name/kind (``label``)."""

    label: str

    @property
    def index(self) -> int | None:
        return int(self.label) if self.label.isdigit() else None

    def __str__(self) -> str:
        return f"[{self.label}]"


Step = Key | Item


@dataclass(frozen=True)
class Address:
    """A parsed parameter address; ``text`` is how the user wrote it."""

    text: str
    steps: tuple[Step, ...]

    @property
    def leaf(self) -> str:
        """The last key (``noise_pct``)."""
        keys = [s.name for s in self.steps if isinstance(s, Key)]
        return keys[-1] if keys else self.text

    @property
    def short(self) -> str:
        """The first list item named by id/name/kind and the last key, for run ids and tables (``home_1.noise_pct``).

        Says which actor (device, line, ...) a value belongs to where the leaf alone would not;
        an address with no named item is its leaf (``run.seed`` -> ``seed``).
        """
        named = [s.label for s in self.steps if isinstance(s, Item) and s.index is None]
        return f"{named[0]}.{self.leaf}" if named else self.leaf


def parse_address(text: str) -> Address:
    """Parse ``actors[home_1].params.x``; raises :class:`AddressError` saying where it breaks."""
    if not isinstance(text, str) or not text:
        raise AddressError("an address is a non-empty text such as 'run.seed'")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _NAME.match(text, pos)
        if match is None:
            raise AddressError(f"expected a field name at character {pos + 1} of {text!r}")
        steps.append(Key(match.group()))
        pos = match.end()
        while pos < len(text) and text[pos] == "[":
            end = text.find("]", pos)
            if end < 0:
                raise AddressError(f"'[' without ']' in {text!r}")
            label = text[pos + 1 : end].strip()
            if not label:
                raise AddressError(f"empty [] in {text!r}")
            steps.append(Item(label))
            pos = end + 1
        if pos < len(text):
            if text[pos] != "." or pos == len(text) - 1:
                raise AddressError(f"expected '.' or '[' at character {pos + 1} of {text!r}")
            pos += 1
    return Address(text, tuple(steps))


def check_address(data: Any, address: Address) -> None:
    """Raise :class:`AddressError` unless ``address`` can be set in the scenario ``data``."""
    parent, last = _walk(data, address, create=False)
    if isinstance(last, Item):
        _find(parent, last, address)
    elif not isinstance(parent, dict):
        raise AddressError(f"{_shown(address.steps[:-1])} is a value, not a section with {last.name!r}")


def set_value(data: Any, address: Address, value: Any) -> Any:
    """A deep copy of the scenario ``data`` with ``value`` at ``address`` (missing keys created)."""
    data = copy.deepcopy(data)
    parent, last = _walk(data, address, create=True)
    if isinstance(last, Key):
        parent[last.name] = copy.deepcopy(value)
    else:
        parent[_find(parent, last, address)] = copy.deepcopy(value)
    return data


def _walk(data: Any, address: Address, create: bool) -> tuple[Any, Step]:
    """The container holding the addressed value, and the step that names it inside."""
    current = data
    for depth, step in enumerate(address.steps[:-1]):
        where = _shown(address.steps[: depth + 1])
        if isinstance(step, Key):
            if not isinstance(current, dict):
                raise AddressError(f"{_shown(address.steps[:depth]) or 'the scenario'} is a value, not a section with {step.name!r}")
            if step.name not in current or current[step.name] is None:
                nxt = address.steps[depth + 1]
                if isinstance(nxt, Item):
                    raise AddressError(f"{where} is not in the base scenario, so it has no items to choose from")
                if not create:
                    current = {}  # absent section: the schema check of the resolved run decides
                    continue
                current[step.name] = {}
            current = current[step.name]
        else:
            current = current[_find(current, step, address, where)]
    return current, address.steps[-1]


def _find(container: Any, step: Item, address: Address, where: str | None = None) -> int:
    where = where or address.text
    if not isinstance(container, list):
        raise AddressError(f"{where}: not a list, cannot pick an item")
    if step.index is not None:
        if step.index >= len(container):
            raise AddressError(f"{where}: position {step.index} is past the end (the list has {len(container)} items)")
        return step.index
    for key in SELECTOR_KEYS:
        hits = [i for i, item in enumerate(container) if isinstance(item, dict) and str(item.get(key)) == step.label]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise AddressError(f"{where}: {len(hits)} items have {key} {step.label!r}; use a position such as [{hits[0]}]")
    known = sorted({str(item.get(k)) for item in container if isinstance(item, dict) for k in SELECTOR_KEYS if item.get(k) is not None})
    hint = f" (known: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})" if known else ""
    raise AddressError(f"{where}: no item has id, name or kind {step.label!r}{hint}")


def _shown(steps: tuple[Step, ...]) -> str:
    text = ""
    for step in steps:
        text += str(step) if isinstance(step, Item) or not text else f".{step}"
    return text
