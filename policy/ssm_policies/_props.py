"""Unknown-safe reads of resource properties.

During ``pulumi preview`` the engine passes values it cannot know yet (ids of resources
not created, outputs of other resources) as sentinel strings, and ``pulumi_policy`` wraps
props so that reading one raises ``UnknownValueError``. Left alone, that exception turns
the whole policy into a generic advisory "can't run during preview" note. Policies here
read through ``get`` instead, receive ``UNKNOWN`` and decide per check what an unknown
means (usually: cannot be judged yet, so no violation; ``pulumi up`` re-runs the
resource policies with known inputs before creating anything).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError

# The engine's sentinels (pulumi_policy/proxy.py). Remediations see raw values, not proxies,
# so the sentinels must also be recognized directly.
_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # bool
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _Unknown:
    """Marker for a value that is not known until the update runs."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # An unknown must never pass for a real value in an `if` test.
        return False


UNKNOWN: Final = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def get(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walks ``path`` through mappings and sequences.

    Returns ``UNKNOWN`` when a value on the way is unknown, ``default`` when a key is
    missing, null, or the value on the way has the wrong shape.
    """
    current = obj
    for key in path:
        if is_unknown(current):
            return UNKNOWN
        try:
            if isinstance(key, int):
                if not is_sequence(current) or not -len(current) <= key < len(current):
                    return default
                current = current[key]
            else:
                if not isinstance(current, Mapping) or key not in current:
                    return default
                current = current[key]
        except UnknownValueError:
            return UNKNOWN
        if current is None:
            return default
    return UNKNOWN if is_unknown(current) else current


def has_key(obj: Any, key: str) -> bool:
    """``key in obj`` that counts an unknown value as present."""
    try:
        return isinstance(obj, Mapping) and key in obj
    except UnknownValueError:
        return True


def is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def items(value: Any) -> list[Any]:
    """The elements of a list property; unknown elements come back as ``UNKNOWN``."""
    if not is_sequence(value):
        return []
    result = []
    for i in range(len(value)):
        try:
            element = value[i]
        except UnknownValueError:
            element = UNKNOWN
        result.append(UNKNOWN if is_unknown(element) else element)
    return result


def entries(value: Any) -> dict[str, Any]:
    """A map property as a plain dict; unknown values come back as ``UNKNOWN``."""
    if not isinstance(value, Mapping):
        return {}
    result: dict[str, Any] = {}
    for key in value:
        try:
            element = value[key]
        except UnknownValueError:
            element = UNKNOWN
        result[str(key)] = UNKNOWN if is_unknown(element) else element
    return result


def strings(value: Any) -> list[str]:
    """The known string elements of a list (or a lone string) property."""
    if isinstance(value, str):
        return [] if is_unknown(value) else [value]
    return [v for v in items(value) if isinstance(v, str) and not is_unknown(v)]


def as_bool(value: Any) -> bool | None:
    """Booleans may arrive as strings from some providers and configs."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def maybe_json(value: Any) -> Any:
    """Provider config objects may arrive JSON-encoded; decode them when so."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def last_segment(ref: str) -> str:
    """``arn:aws:iam::1:role/path/name`` -> ``name``; a plain name stays as it is."""
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
