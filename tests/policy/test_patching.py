"""Patch Manager policies: patch groups with baselines per OS family, one scan method per
target set, maintenance window task limits, SNS topic encryption and EventBridge keys, and
an S3 gateway endpoint policy that lets Patch Manager's buckets through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ssm_policies.patching import (
    OS_FAMILIES,
    endpoint_region,
    maintenance_window_task_limits,
    os_family,
    patch_group_baseline,
    s3_endpoint_allows_patching,
    single_patch_scan_method,
    sns_eventbridge_topic_key,
    sns_topic_encrypted,
)

from tests.policy.helpers import UNKNOWN, UNKNOWN_ARRAY, stack_violations, urn, violations

INSTANCE = "aws:ec2/instance:Instance"
BASELINE = "aws:ssm/patchBaseline:PatchBaseline"
GROUP = "aws:ssm/patchGroup:PatchGroup"
ASSOCIATION = "aws:ssm/association:Association"
TASK = "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask"
WINDOW_TARGET = "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget"
TOPIC = "aws:sns/topic:Topic"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

Resources = list[tuple[str, str, dict[str, Any]]]


def instance(name: str, os: str | None, group: str | None = "Critical") -> tuple[str, str, dict]:
    tags = {"Environment": "OELabIPM", "Workload": "Test"}
    if os is not None:
        tags["OS"] = os
    if group is not None:
        tags["Patch Group"] = group
    return (INSTANCE, name, {"id": f"i-{name}", "tags": tags})


def baseline(name: str, system: str | None) -> tuple[str, str, dict]:
    props: dict[str, Any] = {"id": f"pb-{name}", "name": name}
    if system is not None:
        props["operatingSystem"] = system
    return (BASELINE, name, props)


def registration(name: str, group: str, baseline_id: str) -> tuple[str, str, dict]:
    return (GROUP, name, {"id": f"{group},{baseline_id}", "patchGroup": group,
                          "baselineId": baseline_id})


# -- patch-group-baseline ---------------------------------------------------------------------

@pytest.mark.parametrize("os, family", [
    ("amazon-linux-2023", "AMAZON_LINUX_2023"), ("amazon-linux-2", "AMAZON_LINUX_2"),
    ("ubuntu-24.04", "UBUNTU"), ("ubuntu-22.04", "UBUNTU"),
    ("rhel-9", "REDHAT_ENTERPRISE_LINUX"), ("windows-2022", "WINDOWS"), ("debian-12", None),
])
def test_os_tag_maps_to_the_baseline_os(os: str, family: str | None) -> None:
    """PatchBaseline operatingSystem values (SSM API reference, CreatePatchBaseline)."""
    assert os_family(os, OS_FAMILIES) == family


def test_groups_registered_for_each_os_family_pass() -> None:
    stack: Resources = [
        instance("al", "amazon-linux-2023"), instance("win", "windows-2022"),
        baseline("al", "AMAZON_LINUX_2023"), baseline("win", "WINDOWS"),
        registration("al", "Critical", "pb-al"), registration("win", "Critical", "pb-win"),
    ]
    assert stack_violations(patch_group_baseline, stack) == []


def test_unregistered_group_is_reported_on_the_instance() -> None:
    stack: Resources = [instance("al", "amazon-linux-2023", group="Web"),
                        baseline("al", "AMAZON_LINUX_2023"),
                        registration("al", "Critical", "pb-al")]
    [(where, message)] = stack_violations(patch_group_baseline, stack)
    assert where == urn(INSTANCE, "al") and "'Web' is not registered" in message


def test_group_registered_for_another_os_family_is_reported() -> None:
    stack: Resources = [instance("ubuntu", "ubuntu-24.04"), baseline("al", "AMAZON_LINUX_2023"),
                        registration("al", "Critical", "pb-al")]
    [(where, message)] = stack_violations(patch_group_baseline, stack)
    assert where == urn(INSTANCE, "ubuntu")
    assert "AMAZON_LINUX_2023 only" in message and "needs a UBUNTU baseline" in message


def test_baseline_without_operating_system_is_windows() -> None:
    """CreatePatchBaseline: OperatingSystem defaults to WINDOWS."""
    stack: Resources = [instance("win", "windows-2022"), instance("al", "amazon-linux-2"),
                        baseline("default", None), registration("g", "Critical", "pb-default")]
    assert [w for w, _ in stack_violations(patch_group_baseline, stack)] == [urn(INSTANCE, "al")]


def test_instances_without_os_tag_need_some_registration_only() -> None:
    stack: Resources = [instance("x", None), baseline("al", "AMAZON_LINUX_2023"),
                        registration("al", "Critical", "pb-al")]
    assert stack_violations(patch_group_baseline, stack) == []
    stack[0] = instance("x", None, group="Other")
    assert len(stack_violations(patch_group_baseline, stack)) == 1


def test_baseline_outside_the_stack_is_not_judged() -> None:
    predefined = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0123456789abcdef0"
    stack: Resources = [instance("ubuntu", "ubuntu-24.04"),
                        registration("g", "Critical", predefined)]
    assert stack_violations(patch_group_baseline, stack) == []


def test_stacks_that_do_not_patch_are_not_judged_unless_configured() -> None:
    stack: Resources = [instance("al", "amazon-linux-2023")]
    assert stack_violations(patch_group_baseline, stack) == []
    [_] = stack_violations(patch_group_baseline, stack, {"onlyWhenPatching": False})


def test_unknown_group_values_are_not_judged() -> None:
    stack: Resources = [(INSTANCE, "x", {"tags": UNKNOWN}), instance("y", "rhel-9", "Web"),
                        (GROUP, "g", {"patchGroup": UNKNOWN, "baselineId": UNKNOWN})]
    assert stack_violations(patch_group_baseline, stack) == []


def test_os_families_are_configurable() -> None:
    stack: Resources = [instance("deb", "debian-12"), baseline("deb", "DEBIAN"),
                        registration("deb", "Critical", "pb-deb")]
    assert stack_violations(patch_group_baseline, stack) == []  # unmapped OS: any baseline
    stack[1] = baseline("al", "AMAZON_LINUX_2023")
    stack[2] = registration("al", "Critical", "pb-al")
    assert stack_violations(patch_group_baseline, stack,
                            {"osFamilies": {"debian-*": "DEBIAN"}})


# -- single-patch-scan-method -----------------------------------------------------------------

TEST = [{"key": "tag:Environment", "values": ["OELabIPM"]},
        {"key": "tag:Workload", "values": ["Test"]}]
PROD = [TEST[0], {"key": "tag:Workload", "values": ["Prod"]}]


def scan_association(name: str, targets: Any, operation: str | None = "Scan",
                     document: str = "AWS-RunPatchBaseline") -> tuple[str, str, dict]:
    props: dict[str, Any] = {"name": document, "targets": targets,
                             "scheduleExpression": "rate(1 day)"}
    if operation is not None:
        props["parameters"] = {"Operation": operation}
    return (ASSOCIATION, name, props)


def window_target(name: str, targets: Any) -> tuple[str, str, dict]:
    return (WINDOW_TARGET, name, {"id": f"wt-{name}", "windowId": "mw-1",
                                  "resourceType": "INSTANCE", "targets": targets})


def window_task(name: str, targets: Any, operation: str = "Scan",
                **changes: Any) -> tuple[str, str, dict]:
    props: dict[str, Any] = {
        "windowId": "mw-1", "taskType": "RUN_COMMAND", "taskArn": "AWS-RunPatchBaseline",
        "targets": targets, "maxConcurrency": "1", "maxErrors": "1",
        "taskInvocationParameters": {"runCommandParameters": {"parameters": [
            {"name": "Operation", "values": [operation]},
            {"name": "RebootOption", "values": ["RebootIfNeeded"]}]}},
    }
    props.update(changes)
    return (TASK, name, props)


def test_one_scan_per_target_set_passes() -> None:
    stack: Resources = [scan_association("test", TEST), scan_association("prod", PROD)]
    assert stack_violations(single_patch_scan_method, stack) == []


def test_scan_association_and_install_window_may_share_targets() -> None:
    """Scan then Install, as the lab does: only scans are counted."""
    stack: Resources = [scan_association("scan", TEST), window_target("web", TEST),
                        window_task("install", [{"key": "WindowTargetIds",
                                                 "values": ["wt-web"]}], "Install")]
    assert stack_violations(single_patch_scan_method, stack) == []


def test_window_scan_task_overlapping_a_scan_association_is_reported() -> None:
    """User guide, "Avoiding unintentional patch compliance data overwrites"."""
    web = [*TEST, {"key": "tag:InstanceRole", "values": ["WebServer"]}]  # within TEST
    stack: Resources = [scan_association("scan", TEST), window_target("web", web),
                        window_task("scan-task", [{"key": "WindowTargetIds",
                                                   "values": ["wt-web"]}])]
    [(where, message)] = stack_violations(single_patch_scan_method, stack)
    assert where == urn(TASK, "scan-task")
    assert urn(ASSOCIATION, "scan") in message and "overwrites" in message


def test_two_scan_associations_on_one_target_set_are_reported() -> None:
    stack: Resources = [scan_association("a", TEST),
                        scan_association("b", list(reversed(TEST)),
                                         document="AWS-RunPatchBaselineAssociation")]
    assert [w for w, _ in stack_violations(single_patch_scan_method, stack)] \
        == [urn(ASSOCIATION, "b")]


def test_window_task_targeting_instance_ids_directly() -> None:
    stack: Resources = [scan_association("all", [{"key": "InstanceIds", "values": ["*"]}]),
                        window_task("ids", [{"key": "InstanceIds", "values": ["i-1"]}])]
    assert [w for w, _ in stack_violations(single_patch_scan_method, stack)] == [urn(TASK, "ids")]


def test_non_scan_runs_and_unknowns_are_ignored() -> None:
    stack: Resources = [
        scan_association("scan", TEST),
        scan_association("install", TEST, "Install"),
        scan_association("no-operation", TEST, None),  # the document has no default
        scan_association("unknown-targets", UNKNOWN_ARRAY),
        ("aws:ssm/association:Association", "inventory",
         {"name": "AWS-GatherSoftwareInventory", "targets": TEST}),
        window_task("outside", [{"key": "WindowTargetIds", "values": ["wt-elsewhere"]}]),
    ]
    assert stack_violations(single_patch_scan_method, stack) == []


def test_patch_documents_are_configurable() -> None:
    stack: Resources = [scan_association("a", TEST, document="Custom-Patch"),
                        scan_association("b", TEST, document="Custom-Patch")]
    assert stack_violations(single_patch_scan_method, stack) == []
    assert stack_violations(single_patch_scan_method, stack,
                            {"patchDocuments": ["Custom-Patch"]})


# -- maintenance-window-task-limits -----------------------------------------------------------

TARGETED = [{"key": "WindowTargetIds", "values": ["wt-web"]}]


@pytest.mark.parametrize("concurrency, errors", [("1", "1"), ("10%", "0"), ("100%", "5%")])
def test_task_with_limits_passes(concurrency: str, errors: str) -> None:
    _, _, props = window_task("t", TARGETED, maxConcurrency=concurrency, maxErrors=errors)
    assert violations(maintenance_window_task_limits, TASK, props) == []


def test_task_without_limits_is_reported() -> None:
    _, _, props = window_task("t", TARGETED)
    del props["maxConcurrency"], props["maxErrors"]
    found = violations(maintenance_window_task_limits, TASK, props)
    assert [m.split(" ")[0] for m in found] == ["maxConcurrency", "maxErrors"]


@pytest.mark.parametrize("key, value", [("maxConcurrency", "0"), ("maxConcurrency", "150%"),
                                        ("maxErrors", "-1"), ("maxErrors", "one")])
def test_limits_the_service_refuses_are_reported(key: str, value: str) -> None:
    """Patterns of MaxConcurrency / MaxErrors in botocore's SSM service model."""
    _, _, props = window_task("t", TARGETED, **{key: value})
    [message] = violations(maintenance_window_task_limits, TASK, props)
    assert message.startswith(key)


def test_targetless_tasks_and_unknowns() -> None:
    _, _, props = window_task("t", [])
    del props["maxConcurrency"], props["maxErrors"]
    assert violations(maintenance_window_task_limits, TASK, props) == []
    assert len(violations(maintenance_window_task_limits, TASK, props,
                          {"requireForTargetlessTasks": True})) == 2
    _, _, props = window_task("t", TARGETED, maxConcurrency=UNKNOWN, maxErrors=UNKNOWN)
    assert violations(maintenance_window_task_limits, TASK, props) == []
    _, _, props = window_task("t", UNKNOWN_ARRAY)
    del props["maxErrors"]
    assert violations(maintenance_window_task_limits, TASK, props) == []


# -- sns-topic-encrypted ----------------------------------------------------------------------

def test_encrypted_topic_passes_and_unencrypted_is_reported() -> None:
    assert violations(sns_topic_encrypted, TOPIC, {"name": "alerts",
                                                   "kmsMasterKeyId": "key-1"}) == []
    [message] = violations(sns_topic_encrypted, TOPIC, {"name": "alerts"})
    assert "kmsMasterKeyId unset" in message
    assert violations(sns_topic_encrypted, TOPIC, {"name": "alerts", "kmsMasterKeyId": ""})


def test_topic_exemptions_and_unknown_key() -> None:
    assert violations(sns_topic_encrypted, TOPIC, {"name": "public-news"},
                      {"exemptTopics": ["public-*"]}) == []
    assert violations(sns_topic_encrypted, TOPIC, {"name": "alerts",
                                                   "kmsMasterKeyId": UNKNOWN}) == []


# -- sns-eventbridge-topic-key ----------------------------------------------------------------

EVENTS_KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Account", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "EventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]})
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


def alert_stack(key_ref: str, policy: str | None = EVENTS_KEY_POLICY) -> Resources:
    key: dict[str, Any] = {"id": "key-1", "arn": "arn:aws:kms:us-east-1:123456789012:key/key-1",
                           "keyId": "key-1"}
    if policy is not None:
        key["policy"] = policy
    return [
        (KEY, "alerts", key),
        (ALIAS, "alerts", {"id": "alias/patch-alerts", "name": "alias/patch-alerts",
                           "targetKeyId": "key-1"}),
        (TOPIC, "alerts", {"id": TOPIC_ARN, "arn": TOPIC_ARN, "name": "alerts",
                           "kmsMasterKeyId": key_ref}),
        (EVENT_TARGET, "alerts", {"rule": "noncompliant", "arn": TOPIC_ARN}),
    ]


@pytest.mark.parametrize("ref", ["key-1", "arn:aws:kms:us-east-1:123456789012:key/key-1",
                                 "alias/patch-alerts"])
def test_customer_key_allowing_eventbridge_passes(ref: str) -> None:
    assert stack_violations(sns_eventbridge_topic_key, alert_stack(ref)) == []


@pytest.mark.parametrize("ref", ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"])
def test_aws_managed_sns_key_on_an_eventbridge_target_is_reported(ref: str) -> None:
    """EventBridge cannot use alias/aws/sns: SNS developer guide, "Enable compatibility
    between event sources from AWS services and encrypted topics"."""
    [(where, message)] = stack_violations(sns_eventbridge_topic_key, alert_stack(ref))
    assert where == urn(TOPIC, "alerts") and "alias/aws/sns" in message


def test_key_policy_without_eventbridge_is_reported_unless_disabled() -> None:
    stack = alert_stack("key-1", policy=None)  # the default key policy: the account only
    [(_, message)] = stack_violations(sns_eventbridge_topic_key, stack)
    assert "events.amazonaws.com" in message
    assert stack_violations(sns_eventbridge_topic_key, stack, {"checkKeyPolicy": False}) == []


def test_topics_no_rule_targets_and_unknown_keys_are_not_judged() -> None:
    stack = alert_stack("alias/aws/sns")
    assert stack_violations(sns_eventbridge_topic_key, stack[:3]) == []  # no EventBridge target
    assert stack_violations(sns_eventbridge_topic_key, alert_stack(UNKNOWN)) == []
    assert stack_violations(sns_eventbridge_topic_key, alert_stack("key-1", UNKNOWN)) == []
    # a key outside the stack cannot be read: only the managed alias is known to fail
    assert stack_violations(sns_eventbridge_topic_key, alert_stack("key-elsewhere")) == []


# -- s3-endpoint-allows-patching --------------------------------------------------------------

def endpoint_policy(*resources: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "SsmBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": ["arn:aws:s3:::aws-ssm-us-east-1/*", *resources]}]})


def s3_stack(policy: Any, region: str = "us-east-1", patches: bool = True) -> Resources:
    stack: Resources = [(ENDPOINT, "s3", {"serviceName": f"com.amazonaws.{region}.s3",
                                          "vpcEndpointType": "Gateway", "policy": policy})]
    if patches:
        stack.append(baseline("al", "AMAZON_LINUX_2023"))
    return stack


PATCH_BUCKETS = ("arn:aws:s3:::patch-baseline-snapshot-us-east-1/*",
                 "arn:aws:s3:::aws-patch-manager-us-east-1-552881074/*")


@pytest.mark.parametrize("resources", [
    PATCH_BUCKETS,
    ("arn:aws:s3:::patch-baseline-snapshot-us-east-1*/*",
     "arn:aws:s3:::aws-patch-manager-us-east-1-*/*"),
    ("arn:aws:s3:::patch-baseline-snapshot-*/*", "arn:aws:s3:::aws-patch-manager-*/*"),
])
def test_endpoint_letting_patch_buckets_through_passes(resources: tuple[str, ...]) -> None:
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(endpoint_policy(*resources))) \
        == []


def test_suffixed_bucket_names_of_some_regions_pass() -> None:
    """User guide, "Reference: Amazon S3 buckets for patching operations": me-south-1's
    snapshot bucket is patch-baseline-snapshot-me-south-1-uduvl7q8."""
    policy = endpoint_policy("arn:aws:s3:::patch-baseline-snapshot-me-south-1-uduvl7q8/*",
                             "arn:aws:s3:::aws-patch-manager-me-south-1-a53fc9dce/*")
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(policy, "me-south-1")) == []
    assert endpoint_region("com.amazonaws.me-south-1.s3") == "me-south-1"
    assert endpoint_region("cn.com.amazonaws.cn-north-1.s3") == "cn-north-1"


def test_endpoint_without_patch_buckets_is_reported() -> None:
    [(where, message)] = stack_violations(s3_endpoint_allows_patching,
                                          s3_stack(endpoint_policy(PATCH_BUCKETS[0])))
    assert where == urn(ENDPOINT, "s3")
    assert "aws-patch-manager-us-east-1-*" in message
    assert "patch-baseline-snapshot-us-east-1*" not in message


@pytest.mark.parametrize("resources", [
    ("arn:aws:s3:::patch-baseline-snapshot-us-west-2/*",      # another region's buckets
     "arn:aws:s3:::aws-patch-manager-us-west-2-1/*"),
    ("arn:aws:s3:::patch-baseline-snapshot-us-east-1",         # bucket ARNs, not objects
     "arn:aws:s3:::aws-patch-manager-us-east-1-1"),
])
def test_wrong_region_or_bucket_arns_are_reported(resources: tuple[str, ...]) -> None:
    assert len(stack_violations(s3_endpoint_allows_patching,
                                s3_stack(endpoint_policy(*resources)))) == 1


def test_deny_or_list_only_statements_do_not_count() -> None:
    policy = json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": PATCH_BUCKETS},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": PATCH_BUCKETS}]})
    assert len(stack_violations(s3_endpoint_allows_patching, s3_stack(policy))) == 1
    wildcard_action = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*",
                                                "Action": "s3:Get*", "Resource": PATCH_BUCKETS}})
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(wildcard_action)) == []


def test_only_stacks_that_patch_and_known_policies_are_judged() -> None:
    bare = endpoint_policy()
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(bare, patches=False)) == []
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(UNKNOWN)) == []
    assert stack_violations(s3_endpoint_allows_patching, s3_stack(None)) == []  # full access
    # a patch association alone makes the stack one that patches
    stack = [*s3_stack(bare, patches=False), scan_association("scan", TEST)]
    assert len(stack_violations(s3_endpoint_allows_patching, stack)) == 1


def test_bucket_prefixes_are_configurable() -> None:
    policy = endpoint_policy(*PATCH_BUCKETS)
    extra = {"bucketPrefixes": ["patch-baseline-snapshot-{region}", "aws-patch-manager-{region}-",
                                "aws-windows-downloads-{region}"]}
    [(_, message)] = stack_violations(s3_endpoint_allows_patching, s3_stack(policy), extra)
    assert "aws-windows-downloads-us-east-1*" in message
