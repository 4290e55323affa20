"""Shared plumbing: policy constructors that require the metadata every policy must carry,
and config reading with the schema defaults as the single source of truth."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceRemediation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "ssm-fleet-guard"
TAGS = ["aws", "ssm"]

Schema = dict[str, dict[str, Any]]

# The SDK runs synchronous remediations too (it only awaits awaitables), but its type
# alias promises an Awaitable; this is the shape the policies here actually have.
SyncRemediation = Callable[[ResourceValidationArgs], Mapping[str, Any] | None]


def settings(args: ResourceValidationArgs | StackValidationArgs, schema: Schema) -> dict[str, Any]:
    """The policy's config: schema defaults overlaid with what the engine sent.

    The engine fills defaults in before ``Configure``; unit tests and clients that skip
    ``Configure`` do not, so defaults are applied here as well (deep-copied, since
    policies may treat them as their own).
    """
    result: dict[str, Any] = {key: deepcopy(spec.get("default")) for key, spec in schema.items()}
    given: Mapping[str, Any] = args.get_config() or {}
    result.update({k: v for k, v in given.items() if k in schema})
    for key, spec in schema.items():
        # Config crosses the wire as protobuf Struct numbers, i.e. floats.
        if spec.get("type") == "integer" and isinstance(result[key], float):
            result[key] = int(result[key])
        elif spec.get("items", {}).get("type") == "integer" and isinstance(result[key], list):
            result[key] = [int(v) if isinstance(v, float) else v for v in result[key]]
    return result


def resource_policy(
    *,
    name: str,
    description: str,
    severity: Severity,
    remediation_steps: str,
    url: str,
    validate: ResourceValidation,
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config: Schema | None = None,
    remediate: SyncRemediation | None = None,
    tags: list[str] | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediate=cast(ResourceRemediation | None, remediate),
        enforcement_level=enforcement_level,
        config_schema=PolicyConfigSchema(properties=config) if config else None,
        severity=severity,
        remediation_steps=remediation_steps,
        url=url,
        tags=[*TAGS, *(tags or [])],
    )


def stack_policy(
    *,
    name: str,
    description: str,
    severity: Severity,
    remediation_steps: str,
    url: str,
    validate: StackValidation,
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config: Schema | None = None,
    tags: list[str] | None = None,
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=PolicyConfigSchema(properties=config) if config else None,
        severity=severity,
        remediation_steps=remediation_steps,
        url=url,
        tags=[*TAGS, *(tags or [])],
    )


def string_list(description: str, default: list[str]) -> dict[str, Any]:
    """JSON schema of a config property holding a list of strings."""
    return {
        "type": "array",
        "items": {"type": "string"},
        "description": description,
        "default": default,
    }
