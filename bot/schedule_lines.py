"""Where things are in a schedule file's raw text: the line of a key, a table or a list item.

tomllib gives values without positions, but every message to a host should name a line.
`LineIndex` reads the raw TOML once, with a small scanner that knows just enough TOML
(comments, the four kinds of string, nested brackets, `[table]` and `[[array]]` headers,
dotted keys) to record where each key and each array item starts. Paths are tuples as
tomllib's result would be walked: ``("series", "timezone")``, ``("chats", 1, "topic")``
(the second `[[chats]]` block), ``("chats", 1, "questions", 2)`` (its third question).

It never fails: text it cannot follow just yields fewer known lines, and `line` falls
back to the nearest enclosing key or table it did see.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["LineIndex", "Path"]

Path = tuple[str | int, ...]

_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"[^"\\\n]*"|\'[^\'\n]*\')'
_KEY = re.compile(rf"[ \t]*({_BARE_OR_QUOTED}(?:[ \t]*\.[ \t]*{_BARE_OR_QUOTED})*)[ \t]*=[ \t]*")
_HEADER = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_BARE_OR_QUOTED}(?:[ \t]*\.[ \t]*{_BARE_OR_QUOTED})*)")
_PART = re.compile(_BARE_OR_QUOTED)


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(dotted))


class LineIndex:
    """Line numbers (1-based) of the keys, tables and array items of one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._arrays: dict[tuple[str, ...], int] = {}
        self._scan(text)

    def line(self, path: Path) -> int | None:
        """The line where `path` starts, else that of its nearest recorded ancestor."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return None

    def _scan(self, text: str) -> None:
        section: Path = ()
        pos, line = 0, 1
        while pos < len(text):
            header = _HEADER.match(text, pos)
            key = _KEY.match(text, pos)
            if key:
                parts = _key_parts(key.group(1))
                for end in range(1, len(parts) + 1):  # a dotted key also places its tables
                    self._lines.setdefault((*section, *parts[:end]), line)
                path = (*section, *parts)
                pos, line = _skip_value(text, key.end(), line, self._item_recorder(path))
            elif header:
                section = self._enter(header.group(1) == "[[", _key_parts(header.group(2)))
                self._lines.setdefault(section, line)
            pos, line = _next_line(text, pos, line)

    def _enter(self, is_array: bool, parts: tuple[str, ...]) -> Path:
        """The path of a `[table]` or `[[array]]` header; sub-tables join the latest array item."""
        path: list[str | int] = []
        for depth in range(1, len(parts) + 1):
            path.append(parts[depth - 1])
            if parts[:depth] in self._arrays and (depth < len(parts) or not is_array):
                path.append(self._arrays[parts[:depth]])
        if is_array:
            index = self._arrays.get(parts, -1) + 1
            self._arrays[parts] = index
            path.append(index)
        return tuple(path)

    def _item_recorder(self, path: Path) -> Callable[[int, int], None]:
        def record(index: int, line: int) -> None:
            self._lines.setdefault((*path, index), line)

        return record


def _next_line(text: str, pos: int, line: int) -> tuple[int, int]:
    """Skip to the start of the next line (the rest of this one is a comment or a header)."""
    end = text.find("\n", pos)
    return (len(text), line) if end < 0 else (end + 1, line + 1)


def _skip_value(
    text: str, pos: int, line: int, on_item: Callable[[int, int], None]
) -> tuple[int, int]:
    """Skip one value from `pos`; report (index, line) of each item of a top array.

    Returns the position just after the value, on the value's last line.
    """
    depth, items, expecting = 0, 0, True
    while pos < len(text):
        char = text[pos]
        if char == "\n":
            if depth == 0:
                return pos, line
            line += 1
        elif char == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            continue
        elif char in "[{":
            if depth == 1 and expecting:
                on_item(items, line)
                expecting = False
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return pos + 1, line
        elif char == ",":
            if depth == 1:
                items, expecting = items + 1, True
        elif not char.isspace():
            if depth == 1 and expecting:
                on_item(items, line)
                expecting = False
            if char in "\"'":
                pos, line = _skip_string(text, pos, line)
                if depth == 0:
                    return pos, line
                continue
        pos += 1
    return pos, line


def _skip_string(text: str, pos: int, line: int) -> tuple[int, int]:
    """Skip a TOML string starting at `pos`; returns the position after it and its last line."""
    quote = text[pos]
    delimiter = quote * 3 if text.startswith(quote * 3, pos) else quote
    pos += len(delimiter)
    while pos < len(text):
        if text[pos] == "\\" and quote == '"':
            if text[pos + 1 : pos + 2] == "\n":
                line += 1
            pos += 2
            continue
        if text.startswith(delimiter, pos):
            end = pos + len(delimiter)
            while len(delimiter) == 3 and text[end : end + 1] == quote:
                end += 1  # up to two quotes may end a multi-line string
            return end, line
        if text[pos] == "\n":
            if len(delimiter) == 1:
                return pos, line  # an unclosed string: tomllib will report it
            line += 1
        pos += 1
    return pos, line
