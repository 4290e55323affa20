"""From the engine's raw config map to a validated StackConfig: unknown keys and JSON shapes
first (with the ``aws:`` key checks), then the models, then the checks across sections;
each stage stops with one ConfigError listing all its problems, before anything is built.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import ValidationError

from components.config._base import NAMESPACE, ConfigError
from components.config.errors import _format_errors
from components.config.patching import patching_problems
from components.config.provider import _provider_problems
from components.config.software_policy import software_policy_problems
from components.config.stack import StackConfig

# Keys whose raw config value is JSON (lists and objects), and the shape a person should write.
_STRUCTURED_KEYS = {
    "endpoints": list, "fleet": list, "inventory": dict, "patching": dict, "tags": dict,
    "s3EndpointAllowedBuckets": list, "reporting": dict, "softwarePolicy": dict,
}
_EXPECTED_SHAPE = {
    "endpoints": "a list of service names like [ssm, ec2messages]",
    "fleet": "a list of groups like [{role: WebServer, count: 2}]",
    "inventory": "an object like {schedule: rate(30 minutes)}",
    "tags": "a map of tag keys to values like {Owner: platform-team}",
    "s3EndpointAllowedBuckets": "a list of bucket names like [app-data, reports.example.com]",
    "patching": "an object like {enabled: true, scanSchedule: rate(1 day)}",
    "reporting": "an object like {central: true, sourceAccounts: ['111122223333']}",
    "softwarePolicy": "an object like {rules: [{id: ssm-agent, kind: required, name: amazon-ssm-agent}]}",
}


def _describe_value(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _structured_value(key: str, text: Any) -> tuple[Any, str | None]:
    """The parsed value of a structured key, or a message saying what shape was expected."""
    expected = _STRUCTURED_KEYS[key]
    try:
        parsed = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        parsed = text  # a plain string, e.g. `endpoints: ssm`
    if isinstance(parsed, expected):
        return parsed, None
    return None, f"expected {_EXPECTED_SHAPE[key]}, got {_describe_value(parsed)}"


def parse_stack_config(raw: dict[str, str]) -> StackConfig:
    """Validates the raw engine config map (``ssm-inventory:key`` -> string) into a StackConfig.

    Raises ConfigError with one message covering every problem found.
    """
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    problems: list[str] = _provider_problems(raw)
    known = {field.alias or name for name, field in StackConfig.model_fields.items()}
    for full_key, text in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        if key not in known:
            problems.append(f"{full_key}: is not a known key; allowed: {', '.join(sorted(known))}")
            continue
        if key not in _STRUCTURED_KEYS:
            values[key] = text
            continue
        parsed, problem = _structured_value(key, text)
        if problem:
            problems.append(f"{full_key}: {problem}")
            continue
        values[key] = parsed
    if problems:
        raise ConfigError("invalid stack config:\n  " + "\n  ".join(problems))
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    problems = patching_problems(config) + software_policy_problems(config)
    if problems:
        raise ConfigError("invalid stack config:\n  " + "\n  ".join(problems))
    return config


def read_engine_config() -> dict[str, str]:
    """The raw config map the engine gave this program (env bag first, explicit settings win)."""
    return {**get_config_env(), **CONFIG.get()}


def load_stack_config() -> StackConfig:
    """Reads and validates this stack's config; raises ConfigError before anything is built."""
    return parse_stack_config(read_engine_config())
