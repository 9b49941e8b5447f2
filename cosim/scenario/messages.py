"""Turns pydantic validation errors into one-line problems that name file, line and field.

pydantic's own wording is kept where it is already clear; where it is not
(unknown keys, enum choices, wrapper prefixes) it is rewritten, and the value
found is appended so the user sees what was wrong without opening the file.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from .yamlsource import PathKey, YamlDocument, format_path

_MAX_SHOWN = 60


def problems_from_validation(
    error: ValidationError,
    file: str,
    document: YamlDocument | None,
    model: type[BaseModel],
    prefix: PathKey = (),
) -> list[Problem]:
    """One :class:`Problem` for each pydantic error, paths prefixed with ``prefix``."""
    problems = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not _is_union_tag(part))
        path = prefix + loc
        message = _message(item, model, loc)
        line = document.line_of(path) if document is not None else None
        problems.append(Problem(file, format_path(path), message, line))
    return problems


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the tried union member (e.g. 'function-after[...]') into loc.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _message(item: Any, model: type[BaseModel], loc: PathKey) -> str:
    kind = item["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = ""
        if allowed:
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
        return f"unknown field{hint}"
    message = item["msg"]
    for wrapper in ("Value error, ", "Assertion failed, "):
        if message.startswith(wrapper):
            return message[len(wrapper) :]
    return f"{message} (found {_shown(item.get('input'))})"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _fields_at(model: type[BaseModel], loc: PathKey) -> list[str]:
    """The field names (by alias) of the model found at ``loc`` inside ``model``, if any."""
    current: Any = model
    for part in loc:
        current = _model_in(current)
        if current is None:
            return []
        if isinstance(part, int):
            current = _item_type(current)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for name, f in current.model_fields.items() if (f.alias or name) == part), None)
        if field is None:
            return []
        current = field.annotation
    final = _model_in(current)
    if final is None:
        return []
    return [field.alias or name for name, field in final.model_fields.items()]


def _model_in(annotation: Any) -> Any:
    """Unwrap Optional/Annotated/list down to a model class or a list annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return annotation
    if origin is not None:
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _item_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        arguments: Iterable[Any] = typing.get_args(annotation)
        return next(iter(arguments), None)
    return annotation
