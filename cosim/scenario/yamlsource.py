"""Reads a YAML file once, in bounded time and memory, and remembers where every key and item is.

The file is read from libyaml's event stream (the C parser when PyYAML has
it) and the Python values are built here, in one pass, instead of composing
PyYAML's node tree: a node per scalar costs about 500 bytes, and a 50 MB
scenario would need gigabytes. Building the values ourselves is also where
hostile input is refused before it can cost anything:

* aliases are shared, never copied, and the values they stand for are counted:
  past :data:`ALIAS_BUDGET` values beyond the file's own, the file is refused
  (a 1 KB "billion laughs" file would otherwise expand to billions of values
  in validation); an alias inside its own anchor (a cycle) is refused too;
* nesting deeper than :data:`MAX_DEPTH` is refused (a scenario needs about
  ten levels; thousands would end in a RecursionError further on);
* files larger than :data:`MAX_FILE_BYTES` are not read;
* only YAML's standard scalar tags are accepted (a ``!!python/...`` tag is an
  error, as with ``yaml.safe_load``).

PyYAML silently keeps the last of two equal keys; a scenario with a repeated
key is almost always a mistake, so it is reported here instead.

Lines are kept compactly: every mapping or list whose children do not all sit
on its own line keeps an ``array`` of its children's lines, so a file of
flow-style items (``- {name: x, bus: y}``) costs nothing extra.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

PathKey = tuple[Any, ...]

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists accepted (a scenario uses about ten)."""
ALIAS_BUDGET = 100_000
"""Values that aliases may add to a file beyond its own, counted as expanded."""
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Largest file read at all (a 50 MB scenario validates within the project's targets)."""

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when installed
_SCALAR_CACHE = 100_000
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp", "merge")
)


@dataclass(frozen=True)
class YamlDocument:
    """The values of a YAML file and where their keys and items are (1-based lines)."""

    data: Any
    root_line: int = 1
    # id(container) -> line of each child in order (dict insertion order or list index);
    # absent when every child is on the container's own line.
    child_lines: dict[int, array] = field(default_factory=dict, repr=False)

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path`` or of its nearest ancestor that is in the file (1-based)."""
        line = self.root_line
        current = self.data
        for part in tuple(path):
            if isinstance(current, dict):
                if part not in current:
                    return line
                index = _position(current, part)
            elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
                index = part
            else:
                return line
            lines = self.child_lines.get(id(current))
            if lines is not None and index < len(lines):
                line = lines[index]
            current = current[part]
        return line


def _position(mapping: dict[Any, Any], key: Any) -> int:
    for index, candidate in enumerate(mapping):
        if candidate == key:
            return index
    return 0


class YamlRefused(Exception):
    """The file is valid YAML or nearly so, but is refused (depth, aliases, tags); carries the line."""

    def __init__(self, message: str, line: int | None, path: PathKey = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path


def read_yaml(path: Path, display_name: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse ``path``; on failure return the problems (syntax, refused input, unreadable file).

    Duplicate keys are problems that do not stop the reading: the document is
    returned with them, so that schema problems are reported in the same pass.
    """
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(display_name, "", f"file is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")]
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return None, [Problem(display_name, "", f"cannot read file: {reason}")]
    return parse_yaml(text, display_name)


def parse_yaml(text: str, display_name: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Like :func:`read_yaml`, from text already read."""
    builder = _Builder(display_name)
    try:
        for event in yaml.parse(text, Loader=_PARSER):
            builder.feed(event)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        return None, [Problem(display_name, "", f"YAML syntax error: {problem}", line)]
    except YamlRefused as refused:
        return None, [Problem(display_name, format_path(refused.path), refused.message, refused.line)]
    document = YamlDocument(builder.root, builder.root_line, builder.child_lines)
    return document, builder.problems


class _Frame:
    """A mapping or list being built."""

    __slots__ = ("anchor", "container", "key", "key_line", "line", "lines", "merges", "path", "size", "spread")

    def __init__(self, container: Any, line: int, path: PathKey, anchor: str | None) -> None:
        self.container = container
        self.line = line
        self.path = path
        self.anchor = anchor
        self.lines = array("I")
        self.spread = False  # some child is on another line than the container
        self.size = 1  # values in this container as expanded, itself included
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merges: list[tuple[dict[Any, Any], int]] = []


_NO_KEY = object()


class _Builder:
    """Turns parser events into Python values, refusing what would cost without bound."""

    def __init__(self, display_name: str) -> None:
        self.name = display_name
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, expanded size)
        self.open_anchors: set[str] = set()
        self.alias_extra = 0
        self.root: Any = None
        self.root_line = 1
        self.documents = 0
        self.child_lines: dict[int, array] = {}
        self.problems: list[Problem] = []
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.scalars: dict[tuple[str, Any], Any] = {}

    # -- events ---------------------------------------------------------------------------------

    def feed(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            line = event.start_mark.line + 1
            self._value(self._scalar(event, line), line, 1, event.anchor)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self._start(event, event.start_mark.line + 1)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self._end()
        elif kind is yaml.AliasEvent:
            self._alias(event, event.start_mark.line + 1)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise YamlRefused("a scenario file holds one YAML document (found a second '---')", event.start_mark.line + 1)

    def _start(self, event: Any, line: int) -> None:
        tag = event.tag
        is_map = isinstance(event, yaml.MappingStartEvent)
        if tag not in (None, "!", "tag:yaml.org,2002:map" if is_map else "tag:yaml.org,2002:seq"):
            raise YamlRefused(f"unsupported YAML tag {tag!r}", line, self._child_path())
        if len(self.stack) >= MAX_DEPTH:
            raise YamlRefused(f"nested deeper than {MAX_DEPTH} levels", line, self._child_path()[:3])
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        # The line a lookup holds when it reaches this container: its key's line inside a mapping.
        parent = self.stack[-1] if self.stack else None
        reference = parent.key_line if parent is not None and isinstance(parent.container, dict) else line
        self.stack.append(_Frame({} if is_map else [], reference, self._child_path(), event.anchor))

    def _end(self) -> None:
        frame = self.stack.pop()
        container = frame.container
        for merged, merge_line in frame.merges:  # explicit keys win over merged ones (YAML merge key spec)
            for key, value in merged.items():
                if key not in container:
                    container[key] = value
                    frame.lines.append(merge_line)
                    frame.spread = frame.spread or merge_line != frame.line
        if frame.spread:
            self.child_lines[id(container)] = frame.lines
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (container, frame.size)
        self._value(container, frame.line, frame.size, None, is_container=True)

    def _alias(self, event: Any, line: int) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise YamlRefused(f"alias *{name} is inside its own anchor (a cycle)", line, self._child_path())
        if name not in self.anchors:
            raise YamlRefused(f"alias *{name} names no anchor before it", line, self._child_path())
        value, size = self.anchors[name]
        self.alias_extra += size
        if self.alias_extra > ALIAS_BUDGET:
            raise YamlRefused(
                f"aliases expand to more than {ALIAS_BUDGET:,} values beyond the file's own "
                f"(at alias *{name}); write the repeated parts out",
                line,
                self._child_path(),
            )
        self._value(value, line, size, None, is_container=isinstance(value, (dict, list)), aliased=True)

    # -- building -------------------------------------------------------------------------------

    def _child_path(self) -> PathKey:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return frame.path + (len(frame.container),)
        return frame.path if frame.key is _NO_KEY else frame.path + (frame.key,)

    def _scalar(self, event: Any, line: int) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            # Plain scalars repeat (keys, bus names, numbers): their resolved value is immutable, so cache it.
            key = (event.value, event.implicit)
            cached = self.scalars.get(key, _NO_KEY)
            if cached is not _NO_KEY:
                return cached
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            value = self._construct(event, tag, line)
            if len(self.scalars) < _SCALAR_CACHE:
                self.scalars[key] = value
            return value
        return self._construct(event, tag, line)

    def _construct(self, event: Any, tag: str, line: int) -> Any:
        if tag == "tag:yaml.org,2002:str":
            return event.value
        if tag not in _SCALAR_TAGS:
            raise YamlRefused(f"unsupported YAML tag {tag!r}", line, self._child_path())
        if tag == "tag:yaml.org,2002:merge":
            return _MERGE
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, OverflowError, yaml.YAMLError) as error:
            raise YamlRefused(f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}: {error}", line, self._child_path()) from None

    def _value(self, value: Any, line: int, size: int, anchor: str | None, is_container: bool = False, aliased: bool = False) -> None:
        if value is _MERGE and not (self.stack and isinstance(self.stack[-1].container, dict) and self.stack[-1].key is _NO_KEY):
            value = "<<"  # '<<' is a merge only as a key
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root, self.root_line = value, line
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            container.append(value)
            frame.lines.append(line)
            frame.spread = frame.spread or line != frame.line
            return
        if frame.key is _NO_KEY:  # this value is a key
            if is_container:
                raise YamlRefused("a mapping key must be a plain value, not a mapping or list", line, frame.path)
            frame.key, frame.key_line = value, line
            return
        key, key_line = frame.key, frame.key_line
        frame.key = _NO_KEY
        if key is _MERGE:
            self._merge(frame, value, key_line, aliased)
            return
        if key in container:
            self.problems.append(Problem(self.name, format_path(frame.path + (key,)), "duplicate key", key_line))
            container[key] = value
            return
        container[key] = value
        frame.lines.append(key_line)
        frame.spread = frame.spread or key_line != frame.line

    def _merge(self, frame: _Frame, value: Any, line: int, aliased: bool) -> None:
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            raise YamlRefused("a merge key '<<' takes a mapping or a list of mappings", line, frame.path)
        for source in sources:
            frame.merges.append((source, line))


class _Merge:
    def __repr__(self) -> str:
        return "<<"


_MERGE = _Merge()


def format_path(path: PathKey) -> str:
    """``('actors', 3, 'domain')`` -> ``actors[3].domain``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
