"""Tag policies: required keys on every taggable AWS resource, and allowed values."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
)

from ._base import resource_policy, settings, string_list
from ._props import UNKNOWN, entries, get, has_key, is_sequence, is_unknown, items, maybe_json
from .aws_taggable import TAGGABLE_TYPES

INSTANCE = "aws:ec2/instance:Instance"
TAGGING_DOC = "https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html"


def _tag_map(value: Any) -> dict[str, Any] | None:
    """A tags property as {key: value}; ``None`` when the whole property is unknown.

    Most AWS resources take a map; a few (autoscaling groups) take a list of
    ``{key, value, ...}`` blocks.
    """
    if is_unknown(value):
        return None
    if is_sequence(value):
        result: dict[str, Any] = {}
        for block in items(value):
            key = get(block, "key")
            if isinstance(key, str):
                result[key] = get(block, "value", default="")
        return result
    return entries(value)


def effective_tags(args: ResourceValidationArgs) -> dict[str, Any] | None:
    """The tags AWS will put on the resource: provider default tags, ``tagsAll``, ``tags``.

    ``None`` when the tags cannot be known yet (an unknown map could hold any key).
    """
    merged: dict[str, Any] = {}
    provider_props = args.provider.props if args.provider is not None else {}
    defaults = maybe_json(get(provider_props, "defaultTags"))
    merged.update(entries(get(defaults, "tags")))
    for key in ("tagsAll", "tags"):
        tags = _tag_map(get(args.props, key))
        if tags is None:
            return None
        merged.update(tags)
    return merged


def is_taggable(args: ResourceValidationArgs, exempt: list[str]) -> bool:
    if not args.resource_type.startswith("aws:") or args.resource_type in exempt:
        return False
    # The generated list covers the provider version it was built from; a tags property
    # on a newer type marks it taggable too.
    return args.resource_type in TAGGABLE_TYPES or has_key(args.props, "tags")


REQUIRED_SCHEMA = {
    "requiredTags": string_list(
        "Tag keys every taggable AWS resource must carry (case sensitive).",
        ["Environment", "Workload"],
    ),
    "requiredTagsByType": {
        "type": "object",
        "description": "Extra required tag keys per resource type token.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {INSTANCE: ["InstanceRole", "Patch Group"]},
    },
    "exemptTypes": string_list(
        "Resource types never checked (e.g. types without tags support in AWS).",
        ["aws:ssm/resourceDataSync:ResourceDataSync"],
    ),
}


def _validate_required(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, REQUIRED_SCHEMA)
    if not is_taggable(args, cfg["exemptTypes"]):
        return
    tags = effective_tags(args)
    if tags is None:
        return  # unknown during preview; `pulumi up` re-checks with known inputs
    required = [*cfg["requiredTags"], *cfg["requiredTagsByType"].get(args.resource_type, [])]
    missing = [
        key for key in required
        if key not in tags or (isinstance(tags[key], str) and not tags[key].strip())
    ]
    if missing:
        report(f"Missing required tag(s): {', '.join(repr(k) for k in missing)}.", None)


required_tags = resource_policy(
    name="required-tags",
    description="Taggable AWS resources carry the required tags (instances also InstanceRole "
    "and Patch Group).",
    severity=Severity.MEDIUM,
    remediation_steps="Add the missing keys to the resource's `tags` (or to the provider's "
    "`defaultTags`). `Patch Group` is case sensitive and contains a space.",
    url=TAGGING_DOC,
    validate=_validate_required,
    config=REQUIRED_SCHEMA,
    tags=["tagging"],
)


ALLOWED_SCHEMA = {
    "allowedValues": {
        "type": "object",
        "description": "Allowed values per tag key, e.g. {\"Workload\": [\"Test\", \"Prod\"]}.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {},
    },
    "exemptTypes": REQUIRED_SCHEMA["exemptTypes"],
}


def _validate_allowed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, ALLOWED_SCHEMA)
    allowed: dict[str, list[str]] = cfg["allowedValues"]
    if not allowed or not is_taggable(args, cfg["exemptTypes"]):
        return
    tags = effective_tags(args) or {}
    for key, values in allowed.items():
        value = tags.get(key)
        if value is None or value is UNKNOWN or is_unknown(value):
            continue  # absence is required-tags' business; unknowns are judged at update
        if value not in values:
            report(f"Tag {key!r} is {value!r}; allowed: {', '.join(values)}.", None)


allowed_tag_values = resource_policy(
    name="allowed-tag-values",
    description="Tag values are drawn from the configured allow-lists (e.g. Workload in "
    "Test/Prod), so State Manager tag targets select what they should.",
    severity=Severity.MEDIUM,
    remediation_steps="Use one of the allowed values, or extend `allowedValues` in the "
    "policy pack config.",
    url="https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "sysman-state-assoc-targets-and-rate-controls.html",
    validate=_validate_allowed,
    enforcement_level=EnforcementLevel.ADVISORY,
    config=ALLOWED_SCHEMA,
    tags=["tagging"],
)

POLICIES = [required_tags, allowed_tag_values]
