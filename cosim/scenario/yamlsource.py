"""Reads a YAML file and remembers the line of every key and item, for error messages.

PyYAML silently keeps the last of two equal keys; a scenario with a repeated
key is almost always a mistake, so it is reported here instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    lines: dict[PathKey, int]

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path`` or of its nearest ancestor that is in the file (1-based)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def read_yaml(path: Path, display_name: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse ``path``; on failure return the problems (syntax, duplicate keys, unreadable file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return None, [Problem(display_name, "", f"cannot read file: {reason}")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        return None, [Problem(display_name, "", f"YAML syntax error: {problem}", line)]
    lines: dict[PathKey, int] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, (), lines, problems, display_name)
    return YamlDocument(data, lines), problems


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], problems: list[Problem], name: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(Problem(name, format_path(path + (key,)), "duplicate key", key_node.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines, problems, name)


def format_path(path: PathKey) -> str:
    """``('actors', 3, 'domain')`` -> ``actors[3].domain``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
