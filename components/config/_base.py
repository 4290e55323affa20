"""What every config module shares: the namespace, the pydantic base every model derives
from (camelCase aliases, unknown keys refused, frozen), ``ConfigError`` and two small
message helpers. Kept apart so the model modules depend on it and not on each other.
"""

from __future__ import annotations

import difflib
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

NAMESPACE = "ssm-inventory"


def _repeated(values: list[str]) -> list[str]:
    """The values a list holds more than once, sorted (for "lists X more than once")."""
    return sorted({v for v in values if values.count(v) > 1})


class ConfigError(pulumi.RunError):
    """Invalid stack config; the message names every bad key and what is allowed.

    A ``RunError`` so that ``pulumi up`` prints the message alone, without a traceback.
    """


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _close(word: str, choices: Any) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""
