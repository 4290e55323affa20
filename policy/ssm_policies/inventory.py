"""State Manager association policies: schedule bounds, names, tag targets, and one
inventory association per target set."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ._base import resource_policy, settings, stack_policy, string_list
from ._index import StackIndex
from ._props import get, is_unknown, items, strings
from ._schedule import schedule_problem

ASSOCIATION = "aws:ssm/association:Association"
INVENTORY_DOC = "AWS-GatherSoftwareInventory"
DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/"

ASSOCIATION_NAME = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
DOCUMENT_NAME = re.compile(r"^[a-zA-Z0-9_\-.:/]{3,128}$")
DOCUMENTS_SCHEMA = string_list(
    "SSM documents treated as inventory collection.", [INVENTORY_DOC])


def _is_inventory(args_props: Any, documents: list[str]) -> bool:
    name = get(args_props, "name")
    return isinstance(name, str) and name.rsplit("/", 1)[-1] in documents


# -- schedule ---------------------------------------------------------------------------------

SCHEDULE_SCHEMA = {"inventoryDocuments": DOCUMENTS_SCHEMA}


def _validate_schedule(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ASSOCIATION:
        return
    expression = get(args.props, "scheduleExpression")
    if is_unknown(expression):
        return
    if not isinstance(expression, str) or not expression:
        if _is_inventory(args.props, settings(args, SCHEDULE_SCHEMA)["inventoryDocuments"]):
            report("The inventory association has no schedule, so inventory is collected once "
                   "only; use rate(30 minutes) or slower.", None)
        return
    problem = schedule_problem(expression)
    if problem:
        report(problem + ".", None)


association_schedule = resource_policy(
    name="ssm-association-schedule",
    description="Association schedules are ones State Manager accepts: a rate from 30 minutes "
    "to under 31 days, or a cron of the documented association forms (inventory associations "
    "must have one).",
    severity=Severity.MEDIUM,
    remediation_steps="Use a rate expression between rate(30 minutes) and rate(30 days), "
    "e.g. the default rate(30 minutes), or a cron State Manager accepts for associations: "
    "every 30 minutes, every 1, 2, 4, 8 or 12 hours, daily, weekly, nth or last weekday.",
    url=DOC + "reference-cron-and-rate-expressions.html",
    validate=_validate_schedule,
    config=SCHEDULE_SCHEMA,
    tags=["inventory"],
)


# -- names ------------------------------------------------------------------------------------

def _validate_names(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ASSOCIATION:
        return
    name = get(args.props, "associationName")
    if isinstance(name, str) and not is_unknown(name) and not ASSOCIATION_NAME.match(name):
        report(f"associationName {name!r} must match {ASSOCIATION_NAME.pattern} "
               "(3-128 letters, digits, _ - . ; no spaces).", None)
    document = get(args.props, "name")
    if isinstance(document, str) and not DOCUMENT_NAME.match(document):
        report(f"Document name {document!r} is not a valid SSM document name.", None)


association_name = resource_policy(
    name="ssm-association-name",
    description="Association and document names are valid (no spaces, 3-128 characters).",
    severity=Severity.LOW,
    remediation_steps="Rename the association, e.g. InventoryAllInstances.",
    url=DOC + "state-manager-associations.html",
    validate=_validate_names,
    tags=["inventory"],
)


# -- targets ----------------------------------------------------------------------------------

TARGETS_SCHEMA = {
    "inventoryDocuments": DOCUMENTS_SCHEMA,
    "allowAllInstances": {
        "type": "boolean",
        "description": "Allow InstanceIds=* (every managed node in the account and region). "
        "Only safe when one stack owns inventory for the whole account.",
        "default": False,
    },
}


def _validate_targets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ASSOCIATION:
        return
    cfg = settings(args, TARGETS_SCHEMA)
    if not _is_inventory(args.props, cfg["inventoryDocuments"]):
        return
    if get(args.props, "instanceId") is not None:
        report("instanceId (deprecated) targets a single instance; target by tags.", None)
    targets = get(args.props, "targets")
    if is_unknown(targets):
        return
    blocks = items(targets)
    if not blocks:
        report("The inventory association has no targets; target instances by tag "
               "(e.g. tag:Environment and tag:Workload).", None)
        return
    if len(blocks) > 5:
        report(f"{len(blocks)} targets; State Manager accepts at most 5.", None)
    for block in blocks:
        key, values = get(block, "key"), get(block, "values")
        if is_unknown(key) or is_unknown(values):
            continue
        listed = strings(values)
        if len(listed) > 50:
            report(f"Target {key} lists {len(listed)} values; at most 50.", None)
        if key == "InstanceIds" and listed == ["*"]:
            if not cfg["allowAllInstances"]:
                report("InstanceIds=* targets every managed node in the account and region, "
                       "colliding with any other inventory association; target by tags.", None)
        elif not (isinstance(key, str) and key.startswith("tag:") and len(key) > 4):
            report(f"Target key {key!r} is not a tag target (tag:<Key>).", None)


association_targets = resource_policy(
    name="inventory-tag-targets",
    description="Inventory associations target instances by tags (no InstanceIds=* unless "
    "configured), within State Manager's limits.",
    severity=Severity.MEDIUM,
    remediation_steps="Set targets=[{key: 'tag:Environment', values: [...]}, {key: "
    "'tag:Workload', values: [...]}] so each stack inventories only its own instances.",
    url=DOC + "sysman-inventory-configuring.html",
    validate=_validate_targets,
    config=TARGETS_SCHEMA,
    tags=["inventory"],
)


# -- one inventory association per target set -------------------------------------------------

SINGLE_SCHEMA = {"inventoryDocuments": DOCUMENTS_SCHEMA}


TargetSet = frozenset[tuple[str, frozenset[str]]]


def target_set(props: Any) -> TargetSet | None:
    """Targets as a hashable set, ``None`` when unknown. Keys AND, values OR."""
    targets = get(props, "targets")
    if is_unknown(targets):
        return None
    result = set()
    for block in items(targets):
        key, values = get(block, "key"), get(block, "values")
        if not isinstance(key, str) or is_unknown(values) or is_unknown(key):
            return None
        result.add((key, frozenset(strings(values))))
    instance = get(props, "instanceId")
    if isinstance(instance, str):
        result.add(("InstanceIds", frozenset([instance])))
    return frozenset(result)


def provably_disjoint(a: TargetSet, b: TargetSet) -> bool:
    """True when no instance can match both target sets.

    Target keys AND, values OR (instance ids act as one more key): the sets are disjoint only
    if some key used by both has no value in common. Anything else may overlap, since an
    instance can carry any tags.
    """
    def by_key(targets: TargetSet) -> dict[str, frozenset[str]]:
        keyed: dict[str, frozenset[str]] = {}
        for key, values in targets:  # a key listed twice must match both lists
            keyed[key] = keyed[key] & values if key in keyed else values
        return keyed

    left, right = by_key(a), by_key(b)
    return any(left[key].isdisjoint(right[key]) for key in left.keys() & right.keys())


def _validate_single(args: StackValidationArgs, report: ReportViolation) -> None:
    documents = settings(args, SINGLE_SCHEMA)["inventoryDocuments"]
    # Pairwise over inventory associations only (a handful per stack, not per resource), so
    # the policy stays linear in the stack's size.
    checked: list[tuple[TargetSet, str]] = []
    everything: str | None = None
    inventory = [r for r in StackIndex(args.resources).of(ASSOCIATION)
                 if _is_inventory(r.props, documents)]
    all_instances = ("InstanceIds", frozenset(["*"]))
    for association in inventory:
        targets = target_set(association.props)
        if targets is None:
            continue
        if all_instances in targets:
            everything = everything or association.urn
            continue
        for other, other_urn in checked:
            if targets == other:
                report(f"Another inventory association ({other_urn}) has the same targets; "
                       "inventory does not run on instances targeted twice.", association.urn)
                break
            if not provably_disjoint(targets, other):
                report(f"The targets may overlap those of {other_urn}: no target key used by "
                       "both has disjoint values, so an instance can match both and then gets "
                       "no inventory. Target both by a common tag key with different values "
                       "(e.g. Workload).", association.urn)
                break
        checked.append((targets, association.urn))
    if everything is not None and len(inventory) > 1:
        report("This inventory association targets every instance (InstanceIds=*) and the "
               "stack has other inventory associations; they overlap.", everything)


single_inventory_association = stack_policy(
    name="single-inventory-association",
    description="At most one AWS-GatherSoftwareInventory association per target set in a stack.",
    severity=Severity.HIGH,
    remediation_steps="Keep one inventory association per instance set; merge duplicates and "
    "make target sets disjoint (e.g. Environment AND Workload tags).",
    url=DOC + "inventory-troubleshooting.html",
    validate=_validate_single,
    config=SINGLE_SCHEMA,
    tags=["inventory"],
)

POLICIES = [association_schedule, association_name, association_targets,
            single_inventory_association]
