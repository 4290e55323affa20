"""``--config`` keys as ``pulumi config set --path`` reads them.

A key is a config key (``inventory``, ``ssm-inventory:inventory``, ``aws:region``) optionally
followed by a property path: ``.name``, ``[0]`` or ``["quoted key"]``, e.g.
``inventory.schedule``, ``fleet[0].count``, ``tags["Patch Group"]``. Pulumi's own examples
(CLI reference, "pulumi config set"): ``names[0]``, ``parent.nested``,
``["parent.name"]["nested.name"]``. A path sets one leaf inside the stack's structured value
and keeps the rest; a bare key replaces the whole value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

Segment = str | int


class ConfigPathError(ValueError):
    """A ``--config`` key that is not a valid path, or a path that does not fit the value."""


@dataclass(frozen=True)
class ConfigPath:
    key: str  # the config key, as written (namespace optional)
    path: tuple[Segment, ...]  # empty for a bare key

    def describe(self, qualified_key: str) -> str:
        return qualified_key + format_path(self.path)


def format_path(path: tuple[Segment, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "").replace("-", "").isalnum():
            out += f".{part}"
        else:
            out += f'["{part}"]'
    return out


def parse_config_path(text: str) -> ConfigPath:
    """Splits ``inventory.schedule`` / ``fleet[0].count`` / ``tags["Patch Group"]``."""
    segments: list[Segment] = []
    i, n = 0, len(text)

    def fail(why: str) -> ConfigPathError:
        return ConfigPathError(f"{text!r}: {why} (paths look like inventory.schedule, "
                               'fleet[0].count or tags["Patch Group"])')

    while i < n:
        char = text[i]
        if char == "[":
            if text.startswith('["', i):
                end = text.find('"]', i + 2)
                if end < 0:
                    raise fail('a ["key"] is not closed')
                segments.append(text[i + 2:end])
                i = end + 2
            else:
                end = text.find("]", i)
                if end < 0 or not text[i + 1:end].isdigit():
                    raise fail("an index must be a number in brackets, like [0]")
                segments.append(int(text[i + 1:end]))
                i = end + 1
        elif char == ".":
            if not segments or i + 1 >= n or text[i + 1] in ".[":
                raise fail("a '.' must sit between two names")
            i += 1
        else:
            end = i
            while end < n and text[end] not in ".[":
                end += 1
            if segments and text[i - 1] != ".":
                raise fail("a name must follow '.'")
            segments.append(text[i:end])
            i = end
    if not segments or not isinstance(segments[0], str) or not segments[0].strip():
        raise fail("no config key")
    return ConfigPath(key=str(segments[0]).strip(), path=tuple(segments[1:]))


def set_path(value: Any, path: tuple[Segment, ...], leaf: Any, where: str) -> Any:
    """A copy of ``value`` with the leaf at ``path`` set (``leaf is None``: removed).

    Missing maps and lists are created as ``pulumi config set --path`` creates them; an
    index may be at most the list's length (that appends).
    """
    if not path:
        return leaf
    result = copy.deepcopy(value)
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        if result is None:
            result = []
        if not isinstance(result, list):
            raise ConfigPathError(f"{where}: is {_kind(result)}, not a list; cannot set [{head}]")
        if head > len(result) or (head == len(result) and leaf is None and not rest):
            raise ConfigPathError(f"{where}: index [{head}] is out of range (the list has "
                                  f"{len(result)} item(s); [{len(result)}] appends)")
        inner = result[head] if head < len(result) else None
        new = set_path(inner, rest, leaf, f"{where}[{head}]")
        if new is None and not rest:
            del result[head]
        elif head == len(result):
            result.append(new)
        else:
            result[head] = new
        return result
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise ConfigPathError(f"{where}: is {_kind(result)}, not an object; cannot set .{head}")
    new = set_path(result.get(head), rest, leaf, f"{where}{format_path((head,))}")
    if new is None and not rest:
        result.pop(head, None)
    else:
        result[head] = new
    return result


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else type(value).__name__
