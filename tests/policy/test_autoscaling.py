"""autoscaling-propagates-inventory-tags: a group's instances carry the inventory
association's tag targets (AWS: "Tag Auto Scaling groups and instances", PropagateAtLaunch)."""

from __future__ import annotations

from typing import Any

from ssm_policies.autoscaling import group_propagates_inventory_tags as policy

from tests.policy.helpers import UNKNOWN, stack_violations, urn

GROUP = "aws:autoscaling/group:Group"
ASSOCIATION = "aws:ssm/association:Association"

INVENTORY = (ASSOCIATION, "inventory", {
    "name": "AWS-GatherSoftwareInventory",
    "targets": [{"key": "tag:Environment", "values": ["OELabIPM"]},
                {"key": "tag:Workload", "values": ["Prod"]}],
})


def group(**tags: Any) -> tuple[str, str, dict[str, Any]]:
    """A group whose tags are given as key=(value, propagate)."""
    blocks = [{"key": k.replace("_", " "), "value": v, "propagateAtLaunch": p}
              for k, (v, p) in tags.items()]
    return (GROUP, "web-asg", {"name": "web-asg", "tags": blocks})


GOOD = group(Environment=("OELabIPM", True), Workload=("Prod", True),
             InstanceRole=("WebServer", True), Patch_Group=("Critical", True))


def test_group_that_propagates_the_targets_passes() -> None:
    assert stack_violations(policy, [INVENTORY, GOOD]) == []


def test_missing_unpropagated_or_untargeted_tag_is_reported_on_the_group() -> None:
    missing = group(Environment=("OELabIPM", True))
    [(where, message)] = stack_violations(policy, [INVENTORY, missing])
    assert where == urn(GROUP, "web-asg")
    assert "no tag 'Workload' (one of Prod)" in message
    quiet = group(Environment=("OELabIPM", True), Workload=("Prod", False))
    [(_, message)] = stack_violations(policy, [INVENTORY, quiet])
    assert "'Workload' is not propagated at launch" in message
    other = group(Environment=("OELabIPM", True), Workload=("Test", True))
    [(_, message)] = stack_violations(policy, [INVENTORY, other])
    assert "'Workload' is 'Test', not one of Prod" in message


def test_propagate_flag_as_string_counts() -> None:
    stringly = group(Environment=("OELabIPM", "true"), Workload=("Prod", "true"))
    assert stack_violations(policy, [INVENTORY, stringly]) == []


def test_matching_any_inventory_association_is_enough() -> None:
    test_inventory = (ASSOCIATION, "inventory-test", {
        "name": "AWS-GatherSoftwareInventory",
        "targets": [{"key": "tag:Workload", "values": ["Test"]}]})
    test_group = group(Workload=("Test", True))
    assert stack_violations(policy, [INVENTORY, test_inventory, test_group]) == []


def test_unknowns_everything_targets_and_no_inventory_are_not_judged() -> None:
    assert stack_violations(policy, [INVENTORY, (GROUP, "g", {"tags": UNKNOWN})]) == []
    unknown_targets = (ASSOCIATION, "inventory", {"name": "AWS-GatherSoftwareInventory",
                                                  "targets": UNKNOWN})
    assert stack_violations(policy, [unknown_targets, group()]) == []
    everything = (ASSOCIATION, "inventory", {"name": "AWS-GatherSoftwareInventory",
                                             "targets": [{"key": "InstanceIds", "values": ["*"]}]})
    assert stack_violations(policy, [everything, group()]) == []
    other_document = (ASSOCIATION, "patch", {**INVENTORY[2], "name": "AWS-RunPatchBaseline"})
    assert stack_violations(policy, [other_document, group()]) == []
    assert stack_violations(policy, [INVENTORY]) == []  # no group, nothing to say
