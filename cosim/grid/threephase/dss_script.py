"""Read the text of an OpenDSS script into ordered element property lists.

This is the syntax half of the ``.dss`` reader (the meaning of the properties
is in :mod:`cosim.grid.threephase.dss_reader`). It knows comments (``!``,
``//``, ``/* ... */`` blocks), continuation lines (``~``, ``more``), quoted and
bracketed values (``[...]``, ``(...)``, ``{...}``, ``"..."``, ``'...'``),
``key = value`` with or without spaces, and the commands a feeder file uses:
``Clear``, ``New``, ``Edit``, ``Class.Name.Property=value``, ``Set``,
``Redirect``/``Compile`` and the solution commands, which it records and
otherwise ignores (the caller decides when to solve).

Every property keeps the file and line it came from, so an error later says
where to look. Raises :class:`DssError` for syntax it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OPEN_CLOSE = {"[": "]", "(": ")", "{": "}", '"': '"', "'": "'"}
# Commands with no effect on the network model.
IGNORED_COMMANDS = frozenset({"solve", "calcv", "calcvoltagebases", "buscoords", "show",
                              "plot", "export", "sample", "help", "disable", "enable"})


class DssError(ValueError):
    """A ``.dss`` input the reader cannot accept; the message names file and line."""


@dataclass(frozen=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Prop:
    """One ``key=value`` as written (key lower case, value with brackets removed)."""

    key: str
    value: str
    where: Where


@dataclass
class DssObject:
    """An element: class and name (lower case) and its properties in the order given."""

    cls: str
    name: str
    props: list[Prop] = field(default_factory=list)
    where: Where = Where("", 0)


@dataclass
class DssScript:
    """Everything a script defined: objects in definition order and the ``Set`` options."""

    objects: dict[tuple[str, str], DssObject] = field(default_factory=dict)
    options: dict[str, Prop] = field(default_factory=dict)


def _strip_comment(line: str) -> str:
    """The line without a ``!`` or ``//`` comment (outside quotes and brackets)."""
    depth: list[str] = []
    for i, ch in enumerate(line):
        if depth and ch == depth[-1]:
            depth.pop()
        elif ch in OPEN_CLOSE and (not depth or depth[-1] not in "\"'"):
            depth.append(OPEN_CLOSE[ch])
        elif not depth and (ch == "!" or line.startswith("//", i)):
            return line[:i]
    return line


def tokens(text: str, where: Where) -> list[str]:
    """Split a command into tokens; a bracketed or quoted group is one token (brackets kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch == ",":
            i += 1
            continue
        if ch == "=":
            out.append("=")
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in ",=":
            if text[i] in OPEN_CLOSE:
                close = OPEN_CLOSE[text[i]]
                end = text.find(close, i + 1)
                if end < 0:
                    raise DssError(f"{where}: unclosed {text[i]!r}")
                i = end + 1
            else:
                i += 1
        out.append(text[start:i])
    return out


def key_values(toks: list[str], where: Where) -> list[tuple[str | None, str]]:
    """Pair ``key = value`` tokens; a value without a key is positional (key None)."""
    out: list[tuple[str | None, str]] = []
    i = 0
    while i < len(toks):
        if i + 1 < len(toks) and toks[i + 1] == "=":
            if i + 2 >= len(toks):
                raise DssError(f"{where}: {toks[i]!r} has no value")
            out.append((toks[i].lower(), unbracket(toks[i + 2])))
            i += 3
        elif toks[i] == "=":
            raise DssError(f"{where}: '=' without a property name")
        else:
            out.append((None, unbracket(toks[i])))
            i += 1
    return out


def unbracket(value: str) -> str:
    if len(value) >= 2 and value[0] in OPEN_CLOSE and value[-1] == OPEN_CLOSE[value[0]]:
        return value[1:-1].strip()
    return value


def _logical_lines(path: Path) -> list[tuple[str, Where]]:
    """Commands of a file with continuations joined and comments removed."""
    out: list[tuple[str, Where]] = []
    in_block = False
    for no, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        stripped = raw.strip()
        if in_block:
            in_block = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_block = "*/" not in stripped[2:]
            continue
        text = _strip_comment(raw).strip()
        if not text:
            continue
        first = text.split(None, 1)[0].lower()
        if text.startswith("~") or first in ("more", "m"):
            rest = text[1:] if text.startswith("~") else text[len(first):]
            if not out:
                raise DssError(f"{path}:{no}: continuation line with nothing to continue")
            prev, where = out[-1]
            out[-1] = (prev + " " + rest, where)
        else:
            out.append((text, Where(str(path), no)))
    return out


def read_script(path: str | Path, script: DssScript | None = None) -> DssScript:
    """Parse ``path`` (and the files it redirects to) into a :class:`DssScript`."""
    path = Path(path)
    if not path.is_file():
        raise DssError(f"{path}: no such .dss file")
    script = DssScript() if script is None else script
    current: DssObject | None = None
    for text, where in _logical_lines(path):
        toks = tokens(text, where)
        verb = toks[0].lower()
        if verb == "clear":
            script.objects.clear()
            script.options.clear()
            current = None
        elif verb in ("new", "edit"):
            if len(toks) >= 4 and toks[1].lower() == "object" and toks[2] == "=":
                toks = [toks[0], toks[3], *toks[4:]]  # New object=Class.Name ...
            if len(toks) < 2 or "." not in toks[1]:
                raise DssError(f"{where}: {verb} needs Class.Name, got {text!r}")
            cls, name = toks[1].split(".", 1)
            key = (cls.lower(), name.lower())
            if verb == "new":
                if key in script.objects and key[0] != "circuit":
                    raise DssError(f"{where}: {cls}.{name} is defined twice")
                script.objects[key] = DssObject(key[0], key[1], where=where)
            elif key not in script.objects:
                raise DssError(f"{where}: Edit of undefined {cls}.{name}")
            current = script.objects[key]
            _append(current, key_values(toks[2:], where), where, script)
        elif verb == "set":
            for k, v in key_values(toks[1:], where):
                if k is None:
                    raise DssError(f"{where}: Set needs option=value, got {v!r}")
                script.options[k] = Prop(k, v, where)
        elif verb in ("redirect", "compile"):
            if len(toks) != 2:
                raise DssError(f"{where}: {verb} needs one file name")
            read_script(path.parent / unbracket(toks[1]), script)
        elif verb in IGNORED_COMMANDS:
            continue
        elif verb.count(".") >= 2 and len(toks) >= 2:
            # Class.Name.Property=value (an in-line edit)
            cls, name, prop = toks[0].rsplit(".", 2) if toks[0].count(".") > 2 else toks[0].split(".")
            key = (cls.lower(), name.lower())
            if key not in script.objects:
                raise DssError(f"{where}: edit of undefined {cls}.{name}")
            current = script.objects[key]
            _append(current, key_values([prop, *toks[1:]], where), where, script)
        else:
            raise DssError(f"{where}: unknown command {toks[0]!r}")
    return script


def _append(obj: DssObject, pairs: list[tuple[str | None, str]], where: Where,
            script: DssScript) -> None:
    for k, v in pairs:
        if k is None:
            raise DssError(f"{where}: {obj.cls}.{obj.name}: positional value {v!r} "
                           "(write property=value)")
        if k == "like":
            # like=Other copies Other's properties here; later ones override them.
            other = script.objects.get((obj.cls, v.lower()))
            if other is None:
                raise DssError(f"{where}: {obj.cls}.{obj.name}: like={v!r} is not defined")
            obj.props.extend(other.props)
            continue
        obj.props.append(Prop(k, v, where))
