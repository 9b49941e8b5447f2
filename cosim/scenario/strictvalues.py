"""Validate input files with pydantic, refusing numbers that pydantic lets through.

pydantic's lax mode turns ``true`` into ``1.0``, and accepts ``.nan``,
``.inf``, ``"nan"`` and ``"1e999"`` for a float. In a scenario each of them
validates and then fails or never ends: ``duration: .inf`` runs forever,
``p_mw: .nan`` poisons the power flow, ``peak_kw: true`` is a typo taken as
1 kW. Strict mode would also refuse what users rightly write (an enum by its
name, an int where a float is expected), so instead every number a model
accepted is compared with the value the file gave:

* a number that came from a YAML boolean is refused;
* a float that is not finite is refused (write nothing for "no limit": the
  defaults that mean "unbounded" are not read from the file);
* an integer outside 64 bits is refused (arrays and the solver hold int64).

The rule applies to every model a file is validated against (scenario,
grid, comm, devices, application and event parameters, study, sweep, bench
and market case files), because all of them go through
:func:`validate_input`. Fields typed ``Any`` are skipped: their content is
validated by its own model later, and reported there.

Cost: the file's values are scanned once for suspects (booleans, non-finite
floats, huge integers, texts such as ``"nan"``); only the suspects are looked
up in the validated model, so a large valid file pays one quick scan.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

M = TypeVar("M", bound=BaseModel)

_INT64 = 2**63 - 1
_NON_FINITE_TEXT = re.compile(r"^\s*[+-]?(nan|inf|infinity|\d[\d_]*(\.\d*)?e\+?\d{3,}|\d{300,}(\.\d*)?)\s*$", re.IGNORECASE)
_SKIP = object()


def validate_input(model: type[M], raw: Any) -> M:
    """``model.model_validate(raw)``, then the number rules above; raises pydantic's ValidationError for both."""
    value = model.model_validate(raw)
    errors: list[InitErrorDetails] = []
    for path, given in _suspects(raw):
        got = _follow(value, path)
        if got is _SKIP or isinstance(got, bool) or not isinstance(got, (int, float)):
            continue
        message = None
        if isinstance(given, bool):
            message = "must be a number, not a yes/no value"
        elif isinstance(got, float) and not math.isfinite(got):
            message = "must be a finite number"
        elif isinstance(got, int) and abs(got) > _INT64:
            message = "is too large (more than 64 bits)"
        if message is not None:
            errors.append(InitErrorDetails(type=PydanticCustomError("input_number", message), loc=path, input=given))
    if errors:
        raise ValidationError.from_exception_data(model.__name__, errors)
    return value


def _suspects(raw: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Paths of values that a lax number field would turn into a bad number, in file order."""
    if not isinstance(raw, (dict, list)):
        return
    stack: list[tuple[Iterator[tuple[Any, Any]], tuple[Any, ...]]] = [(_items(raw), ())]
    while stack:
        items, path = stack[-1]
        for key, item in items:
            if isinstance(item, (dict, list)):
                stack.append((_items(item), path + (key,)))
                break
            if isinstance(item, bool):
                yield path + (key,), item
            elif isinstance(item, float):
                if not math.isfinite(item) or abs(item) > _INT64:  # 1e300 is finite, but not as an int field
                    yield path + (key,), item
            elif isinstance(item, int):
                if abs(item) > _INT64:
                    yield path + (key,), item
            elif isinstance(item, str) and len(item) < 400 and _NON_FINITE_TEXT.match(item):
                yield path + (key,), item
        else:
            stack.pop()


def _items(node: dict[Any, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


def _follow(value: Any, path: tuple[Any, ...]) -> Any:
    """The validated value at ``path`` (YAML keys, aliases resolved), or _SKIP where a field is untyped."""
    current = value
    annotation: Any = None
    for part in path:
        if isinstance(current, BaseModel):
            field = _fields(type(current)).get(part)
            if field is None:
                return _SKIP
            name, annotation = field
            if annotation is Any:
                return _SKIP
            current = getattr(current, name)
            continue
        annotation = _element(annotation, 1 if isinstance(current, dict) else 0)
        if annotation is Any:
            return _SKIP
        if isinstance(current, (list, tuple)) and isinstance(part, int) and 0 <= part < len(current) or isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _SKIP
    return current


_FIELD_CACHE: dict[type, dict[Any, tuple[str, Any]]] = {}


def _fields(model: type[BaseModel]) -> dict[Any, tuple[str, Any]]:
    """YAML key (alias or name) -> (attribute name, annotation without Annotated/Optional), per model."""
    found = _FIELD_CACHE.get(model)
    if found is None:
        found = {}
        for name, field in model.model_fields.items():
            found[name] = (name, _strip(field.annotation))
            if field.alias:
                found[field.alias] = found[name]
        _FIELD_CACHE[model] = found
    return found


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X; ``X | None`` -> X; a union with Any -> Any; other unions stay."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
            if Any in arguments:
                return Any
            if len(arguments) == 1:
                annotation = arguments[0]
                continue
        return annotation


def _element(annotation: Any, position: int) -> Any:
    """The item annotation of a list/tuple (position 0) or the value annotation of a dict (position 1); Any if unknown."""
    candidates = list(typing.get_args(annotation)) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else [annotation]
    for candidate in candidates:
        candidate = _strip(candidate)
        origin = typing.get_origin(candidate)
        if origin in (list, tuple, dict, set, frozenset):
            arguments = typing.get_args(candidate)
            if not arguments:
                return Any
            return _strip(arguments[-1] if origin is dict and position == 1 else arguments[0])
    return Any
