"""Auto Scaling group policies: the instances a group launches carry the tags the
inventory association selects on, so inventory follows the group as it scales."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, Severity, StackValidationArgs

from ._base import settings, stack_policy
from ._index import StackIndex
from ._props import as_bool, get, is_unknown, items
from .inventory import ASSOCIATION, DOCUMENTS_SCHEMA, _is_inventory, target_set

GROUP = "aws:autoscaling/group:Group"
TAG_TARGET_PREFIX = "tag:"
DOC = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html"

PROPAGATION_SCHEMA = {"inventoryDocuments": DOCUMENTS_SCHEMA}


def _propagated(group_props: Any) -> dict[str, tuple[Any, bool]] | None:
    """``{key: (value, propagateAtLaunch)}`` of a group's ``tags``; ``None`` when unknown."""
    tags = get(group_props, "tags")
    if is_unknown(tags):
        return None
    result: dict[str, tuple[Any, bool]] = {}
    for block in items(tags):
        key = get(block, "key")
        if is_unknown(key) or is_unknown(get(block, "value")) \
                or is_unknown(get(block, "propagateAtLaunch")):
            return None
        if isinstance(key, str):
            result[key] = (get(block, "value"), as_bool(get(block, "propagateAtLaunch")) is True)
    return result


def _gaps(tags: dict[str, tuple[Any, bool]], targets: list[tuple[str, frozenset[str]]]) -> list[str]:
    """What keeps the group's instances out of these tag targets (empty: they match)."""
    gaps = []
    for key, values in targets:
        shown = f"{key!r} (one of {', '.join(sorted(values))})"
        if key not in tags:
            gaps.append(f"no tag {shown}")
        elif tags[key][0] not in values:
            gaps.append(f"tag {key!r} is {tags[key][0]!r}, not one of {', '.join(sorted(values))}")
        elif not tags[key][1]:
            gaps.append(f"tag {key!r} is not propagated at launch")
    return gaps


def _validate_propagation(args: StackValidationArgs, report: ReportViolation) -> None:
    documents = settings(args, PROPAGATION_SCHEMA)["inventoryDocuments"]
    index = StackIndex(args.resources)
    tag_targets: list[tuple[str, list[tuple[str, frozenset[str]]]]] = []
    for association in index.of(ASSOCIATION):
        if not _is_inventory(association.props, documents):
            continue
        targets = target_set(association.props)
        if targets is None:
            return  # unknown targets: judged at update
        if ("InstanceIds", frozenset(["*"])) in targets:
            return  # every instance is targeted, tagged or not
        keyed = sorted((key.removeprefix(TAG_TARGET_PREFIX), values)
                       for key, values in targets if key.startswith(TAG_TARGET_PREFIX))
        if keyed:
            tag_targets.append((association.urn, keyed))
    if not tag_targets:
        return  # no tag-targeted inventory here: inventory-tag-targets speaks to that
    for group in index.of(GROUP):
        tags = _propagated(group.props)
        if tags is None:
            continue
        gaps = [(urn, _gaps(tags, targets)) for urn, targets in tag_targets]
        if any(not found for _, found in gaps):
            continue
        urn, first = gaps[0]
        report(f"Instances this group launches match no inventory association's tag targets "
               f"({urn}): {'; '.join(first)}. They would get no inventory.", group.urn)


group_propagates_inventory_tags = stack_policy(
    name="autoscaling-propagates-inventory-tags",
    description="Each Auto Scaling group propagates at launch the tags an inventory "
    "association targets, with targeted values, so the instances it launches are inventoried.",
    severity=Severity.HIGH,
    remediation_steps="Add the association's target tag keys (e.g. Environment, Workload) to "
    "the group's `tags` with values it targets and `propagate_at_launch=True`.",
    url=DOC,
    validate=_validate_propagation,
    config=PROPAGATION_SCHEMA,
    tags=["inventory", "tagging"],
)

POLICIES = [group_propagates_inventory_tags]
