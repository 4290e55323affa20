"""Association schedule, names, targets and one inventory association per target set."""

from __future__ import annotations

from typing import Any

import pytest
from ssm_policies.inventory import (
    association_name,
    association_schedule,
    association_targets,
    schedule_problem,
    single_inventory_association,
)

from tests.policy.helpers import UNKNOWN, UNKNOWN_ARRAY, stack_violations, urn, violations

ASSOCIATION = "aws:ssm/association:Association"
TARGETS = [{"key": "tag:Environment", "values": ["OELabIPM"]},
           {"key": "tag:Workload", "values": ["Test"]}]
GOOD: dict[str, Any] = {
    "name": "AWS-GatherSoftwareInventory",
    "associationName": "InventoryAllInstances",
    "scheduleExpression": "rate(30 minutes)",
    "targets": TARGETS,
}


@pytest.mark.parametrize("expression", [
    "rate(30 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(30 days)",
    "cron(0 2 ? * SUN *)", "cron(0/30 * * * ? *)", "cron(15 10 ? * * *)",
    "cron(0 */30 * * * ? *)", "cron(0 0/4 * * ? *)", "cron(30 23 ? * 3L *)",
])
def test_valid_schedules(expression: str) -> None:
    assert schedule_problem(expression) is None
    assert violations(association_schedule, ASSOCIATION,
                      {**GOOD, "scheduleExpression": expression}) == []


@pytest.mark.parametrize("expression, fragment", [
    ("rate(10 minutes)", "every 30 minutes"),
    ("rate(29 minutes)", "every 30 minutes"),
    ("rate(31 days)", "under 31 days"),
    ("rate(744 hours)", "under 31 days"),
    ("cron(0/10 * * * ? *)", "every 30 minutes"),
    ("cron(* * * * ? *)", "every 30 minutes"),
    ("cron(0 2 * *)", "six fields"),
    ("cron(0 0/3 * * ? *)", "every 3 hours is not supported"),
    ("cron(0 2 ? JAN MON *)", "does not support months"),
    ("every 30 minutes", "not a valid schedule"),
])
def test_invalid_schedules(expression: str, fragment: str) -> None:
    [message] = violations(association_schedule, ASSOCIATION,
                           {**GOOD, "scheduleExpression": expression})
    assert fragment in message


def test_inventory_association_needs_a_schedule_others_do_not() -> None:
    no_schedule = {k: v for k, v in GOOD.items() if k != "scheduleExpression"}
    assert violations(association_schedule, ASSOCIATION, no_schedule)
    other = {**no_schedule, "name": "AWS-RunPatchBaseline"}
    assert violations(association_schedule, ASSOCIATION, other) == []
    assert violations(association_schedule, ASSOCIATION,
                      {**GOOD, "scheduleExpression": UNKNOWN}) == []


def test_association_names() -> None:
    assert violations(association_name, ASSOCIATION, GOOD) == []
    [message] = violations(association_name, ASSOCIATION,
                           {**GOOD, "associationName": "Inventory All Instances"})
    assert "no spaces" in message
    assert violations(association_name, ASSOCIATION, {**GOOD, "associationName": "ab"})
    assert violations(association_name, ASSOCIATION, {**GOOD, "associationName": "x" * 129})
    assert violations(association_name, ASSOCIATION, {**GOOD, "name": "bad name!"})
    assert violations(association_name, ASSOCIATION, {**GOOD, "associationName": UNKNOWN}) \
        == []
    shared = "arn:aws:ssm:us-east-1:123456789012:document/MyInventory"
    assert violations(association_name, ASSOCIATION, {**GOOD, "name": shared}) == []


def test_tag_targets_pass() -> None:
    assert violations(association_targets, ASSOCIATION, GOOD) == []


def test_wildcard_targets_need_config() -> None:
    wildcard = {**GOOD, "targets": [{"key": "InstanceIds", "values": ["*"]}]}
    [message] = violations(association_targets, ASSOCIATION, wildcard)
    assert "InstanceIds=*" in message
    assert violations(association_targets, ASSOCIATION, wildcard,
                      {"allowAllInstances": True}) == []


def test_non_tag_targets_and_missing_targets() -> None:
    ids = {**GOOD, "targets": [{"key": "InstanceIds", "values": ["i-1", "i-2"]}]}
    assert violations(association_targets, ASSOCIATION, ids)
    no_targets = {k: v for k, v in GOOD.items() if k != "targets"}
    [message] = violations(association_targets, ASSOCIATION, no_targets)
    assert "no targets" in message
    assert violations(association_targets, ASSOCIATION, {**no_targets, "instanceId": "i-1"})


def test_target_limits() -> None:
    six = {**GOOD, "targets": [{"key": f"tag:K{i}", "values": ["v"]} for i in range(6)]}
    assert any("at most 5" in m for m in violations(association_targets, ASSOCIATION, six))
    many = {**GOOD, "targets": [{"key": "tag:Name", "values": [f"v{i}" for i in range(51)]}]}
    assert any("at most 50" in m for m in violations(association_targets, ASSOCIATION, many))


def test_targets_only_checked_for_inventory_and_known_values() -> None:
    other = {**GOOD, "name": "AWS-RunPatchBaseline",
             "targets": [{"key": "InstanceIds", "values": ["*"]}]}
    assert violations(association_targets, ASSOCIATION, other) == []
    assert violations(association_targets, ASSOCIATION, {**GOOD, "targets": UNKNOWN_ARRAY}) \
        == []


def test_inventory_documents_are_configurable() -> None:
    custom = {**GOOD, "name": "Custom-Inventory", "targets": []}
    assert violations(association_targets, ASSOCIATION, custom) == []
    assert violations(association_targets, ASSOCIATION, custom,
                      {"inventoryDocuments": ["Custom-Inventory"]})


# -- single-inventory-association -------------------------------------------------------------

def test_one_association_per_target_set() -> None:
    test = (ASSOCIATION, "test", GOOD)
    prod = (ASSOCIATION, "prod", {**GOOD, "targets": [TARGETS[0], {"key": "tag:Workload",
                                                                   "values": ["Prod"]}]})
    assert stack_violations(single_inventory_association, [test, prod]) == []


def test_duplicate_target_set_is_reported_on_the_second() -> None:
    reordered = {**GOOD, "targets": list(reversed(TARGETS))}  # order does not matter
    found = stack_violations(single_inventory_association,
                             [(ASSOCIATION, "a", GOOD), (ASSOCIATION, "b", reordered)])
    assert [w for w, _ in found] == [urn(ASSOCIATION, "b")]


def test_wildcard_overlaps_everything() -> None:
    wildcard = {**GOOD, "targets": [{"key": "InstanceIds", "values": ["*"]}]}
    found = stack_violations(single_inventory_association,
                             [(ASSOCIATION, "all", wildcard), (ASSOCIATION, "test", GOOD)])
    assert [w for w, _ in found] == [urn(ASSOCIATION, "all")]


def test_non_inventory_and_unknown_targets_are_ignored() -> None:
    patch = {**GOOD, "name": "AWS-RunPatchBaseline"}
    assert stack_violations(single_inventory_association,
                            [(ASSOCIATION, "a", GOOD), (ASSOCIATION, "p", patch)]) == []
    unknown = {**GOOD, "targets": [{"key": "tag:Workload", "values": UNKNOWN_ARRAY}]}
    assert stack_violations(single_inventory_association,
                            [(ASSOCIATION, "a", unknown), (ASSOCIATION, "b", unknown)]) == []


def test_superset_targets_may_overlap() -> None:
    broad = {**GOOD, "targets": [TARGETS[0]]}  # Environment only: also matches GOOD's instances
    found = stack_violations(single_inventory_association,
                             [(ASSOCIATION, "narrow", GOOD), (ASSOCIATION, "broad", broad)])
    assert [w for w, _ in found] == [urn(ASSOCIATION, "broad")]
    assert "may overlap" in found[0][1]


def test_unrelated_tag_keys_may_overlap() -> None:
    team = {**GOOD, "targets": [{"key": "tag:Team", "values": ["payments"]}]}
    found = stack_violations(single_inventory_association,
                             [(ASSOCIATION, "a", GOOD), (ASSOCIATION, "team", team)])
    assert [w for w, _ in found] == [urn(ASSOCIATION, "team")]


def test_common_key_with_disjoint_values_is_accepted() -> None:
    def workload(*values: str) -> dict[str, object]:
        return {**GOOD, "targets": [TARGETS[0], {"key": "tag:Workload", "values": list(values)}]}

    assert stack_violations(single_inventory_association, [
        (ASSOCIATION, "a", workload("Test", "Dev")), (ASSOCIATION, "b", workload("Prod")),
        (ASSOCIATION, "c", workload("Staging"))]) == []
    found = stack_violations(single_inventory_association, [
        (ASSOCIATION, "a", workload("Test", "Dev")), (ASSOCIATION, "b", workload("Dev"))])
    assert [w for w, _ in found] == [urn(ASSOCIATION, "b")]
