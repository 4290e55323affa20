"""The Patch Manager policies over the protocol, on a synthetic patching stack: the dev
recording (with the program's own patching switched off) plus hand-built patching resources
(baseline, patch group, Scan association, install maintenance window, encrypted alert topic
fed by EventBridge, patch buckets in the S3 endpoint policy). The compliant stack passes the
prod config with no diagnostics; seeded mutations are each caught by exactly their policy.
(Built by hand so that each mutation is one small edit; the resource types and engine
property names are pulumi-aws's. The program's own patching stacks pass the prod config in
tests/policy/test_e2e.py.)"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetctl.plan.analyzer_client import Diagnostic, PolicyPackServer, load_config_file, mandatory
from fleetctl.plan.mockrun import RecordedResource, Recording, run_program

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
INSTANCE = "aws:ec2/instance:Instance"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
BASELINE = "aws:ssm/patchBaseline:PatchBaseline"
TASK = "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask"
TOPIC = "aws:sns/topic:Topic"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TAGS = {"Environment": "OELabIPM", "Workload": "Test"}
TEST_TARGETS = [{"key": "tag:Environment", "values": ["OELabIPM"]},
                {"key": "tag:Workload", "values": ["Test"]}]
PATCH_MANAGER_OBJECTS = f"arn:aws:s3:::aws-patch-manager-{REGION}-*/*"


def _resource(type_: str, name: str, inputs: dict[str, Any], id_: str,
              **outputs: Any) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::ssm-inventory::ssm-inventory:patching:PatchManagement${type_}::{name}",
        type=type_, name=name, custom=True,
        parent="urn:pulumi:dev::ssm-inventory::ssm-inventory:patching:PatchManagement::patching",
        dependencies=[], property_dependencies={}, inputs=inputs,
        outputs={**copy.deepcopy(inputs), "id": id_, **outputs}, id=id_)


def _key_policy() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "EventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]})


def patching_stack(dev: Recording) -> list[RecordedResource]:
    """dev + the patching resources, with the S3 endpoint reading Patch Manager's buckets."""
    resources = copy.deepcopy(dev.resources)
    s3 = next(r for r in resources if r.type == ENDPOINT
              and r.inputs.get("vpcEndpointType") == "Gateway")
    for props in (s3.inputs, s3.outputs):
        policy = json.loads(props["policy"])
        policy["Statement"][0]["Resource"].append(PATCH_MANAGER_OBJECTS)
        props["policy"] = json.dumps(policy)
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:patch-alerts"
    task_parameters = [{"name": "Operation", "values": ["Install"]},
                       {"name": "RebootOption", "values": ["RebootIfNeeded"]}]
    resources += [
        _resource(BASELINE, "patch-baseline-al2023", {
            "name": "AmazonLinuxSecAndNonSecBaseline-Test", "operatingSystem": "AMAZON_LINUX_2023",
            "approvalRules": [{"approveAfterDays": 0, "complianceLevel": "CRITICAL",
                               "patchFilters": [{"key": "CLASSIFICATION", "values": ["Security"]}]}],
            "rejectedPatches": ["system-release.*"], "tags": dict(TAGS)}, "pb-0a1b2c3d4e5f60718"),
        _resource("aws:ssm/patchGroup:PatchGroup", "patch-group-critical-al2023", {
            "patchGroup": "Critical", "baselineId": "pb-0a1b2c3d4e5f60718"},
            "Critical,pb-0a1b2c3d4e5f60718"),
        _resource("aws:ssm/association:Association", "patch-scan", {
            "name": "AWS-RunPatchBaseline", "associationName": "PatchScan-Test",
            "parameters": {"Operation": "Scan"}, "scheduleExpression": "rate(1 day)",
            "complianceSeverity": "CRITICAL", "targets": copy.deepcopy(TEST_TARGETS),
            "tags": dict(TAGS)}, "assoc-patch-scan"),
        _resource("aws:ssm/maintenanceWindow:MaintenanceWindow", "patch-install", {
            "name": "PatchTestWorkloadWebServers", "schedule": "cron(0 2 ? * * *)",
            "scheduleTimezone": "UTC", "duration": 3, "cutoff": 1, "tags": dict(TAGS)},
            "mw-0123456789abcdef0"),
        _resource("aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget", "patch-install-web", {
            "windowId": "mw-0123456789abcdef0", "resourceType": "INSTANCE",
            "targets": [{"key": "tag:Workload", "values": ["Test"]},
                        {"key": "tag:InstanceRole", "values": ["WebServer"]}]},
            "wt-0123456789abcdef0"),
        _resource(TASK, "patch-install-task", {
            "windowId": "mw-0123456789abcdef0", "taskType": "RUN_COMMAND",
            "taskArn": "AWS-RunPatchBaseline", "priority": 1,
            "maxConcurrency": "1", "maxErrors": "1",
            "targets": [{"key": "WindowTargetIds", "values": ["wt-0123456789abcdef0"]}],
            "taskInvocationParameters": {"runCommandParameters": {
                "parameters": task_parameters}}}, "wtask-1"),
        _resource("aws:kms/key:Key", "patch-alerts-key", {
            "description": "patch alerts", "enableKeyRotation": True, "policy": _key_policy(),
            "tags": dict(TAGS)}, "key-1", arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/key-1"),
        _resource(TOPIC, "patch-alerts", {
            "name": "patch-alerts", "kmsMasterKeyId": "key-1", "tags": dict(TAGS)},
            topic_arn, arn=topic_arn),
        _resource("aws:cloudwatch/eventRule:EventRule", "patch-noncompliant", {
            "eventPattern": json.dumps({"source": ["aws.ssm"], "detail-type": [
                "Configuration Compliance State Change"],
                "detail": {"compliance-status": ["non_compliant"]}}),
            "tags": dict(TAGS)}, "patch-noncompliant"),
        _resource("aws:cloudwatch/eventTarget:EventTarget", "patch-noncompliant-sns", {
            "rule": "patch-noncompliant", "arn": topic_arn}, "patch-noncompliant-sns"),
    ]
    return resources


@pytest.fixture(scope="module")
def dev() -> Recording:
    """dev without the program's patching: the synthetic resources below take its place."""
    return run_program("dev", overrides={"patching": {"enabled": False}})


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="dev") as server:
        yield server


def _summary(diagnostics: list[Diagnostic]) -> list[str]:
    return [f"{d.policy_name} {d.enforcement_level} {d.urn}: {d.message}" for d in diagnostics]


def test_compliant_patching_stack_passes_prod(dev: Recording,
                                              prod_pack: PolicyPackServer) -> None:
    diagnostics = prod_pack.check(patching_stack(dev))
    assert diagnostics == [], _summary(diagnostics)


# -- seeded mutations -------------------------------------------------------------------------

Mutation = Callable[[list[RecordedResource]], set[str]]  # mutates, returns the URNs expected


def _both(resource: RecordedResource, update: Callable[[dict[str, Any]], Any]) -> None:
    update(resource.inputs)
    update(resource.outputs)


def _one(resources: list[RecordedResource], type_: str) -> RecordedResource:
    return next(r for r in resources if r.type == type_)


def unregistered_patch_group(resources: list[RecordedResource]) -> set[str]:
    web = _one(resources, INSTANCE)
    _both(web, lambda p: p["tags"].update({"Patch Group": "NonCritical"}))
    return {web.urn}


def baseline_for_another_os(resources: list[RecordedResource]) -> set[str]:
    _both(_one(resources, BASELINE), lambda p: p.update(operatingSystem="UBUNTU"))
    return {r.urn for r in resources if r.type == INSTANCE}


def second_scan_method(resources: list[RecordedResource]) -> set[str]:
    task = _one(resources, TASK)
    _both(task, lambda p: p["taskInvocationParameters"]["runCommandParameters"]["parameters"][0]
          .update(values=["Scan"]))
    return {task.urn}


def task_without_limits(resources: list[RecordedResource]) -> set[str]:
    task = _one(resources, TASK)
    _both(task, lambda p: [p.pop("maxConcurrency"), p.pop("maxErrors")])
    return {task.urn}


def unencrypted_topic(resources: list[RecordedResource]) -> set[str]:
    topic = _one(resources, TOPIC)
    _both(topic, lambda p: p.pop("kmsMasterKeyId"))
    return {topic.urn}


def aws_managed_topic_key(resources: list[RecordedResource]) -> set[str]:
    topic = _one(resources, TOPIC)
    _both(topic, lambda p: p.update(kmsMasterKeyId="alias/aws/sns"))
    return {topic.urn}


def endpoint_blocks_patch_manager(resources: list[RecordedResource]) -> set[str]:
    s3 = next(r for r in resources if r.type == ENDPOINT
              and r.inputs.get("vpcEndpointType") == "Gateway")

    def update(props: dict[str, Any]) -> None:
        policy = json.loads(props["policy"])
        policy["Statement"][0]["Resource"].remove(PATCH_MANAGER_OBJECTS)
        props["policy"] = json.dumps(policy)
    _both(s3, update)
    return {s3.urn}


MUTATIONS: list[tuple[Mutation, str]] = [
    (unregistered_patch_group, "patch-group-baseline"),
    (baseline_for_another_os, "patch-group-baseline"),
    (second_scan_method, "single-patch-scan-method"),
    (task_without_limits, "maintenance-window-task-limits"),
    (unencrypted_topic, "sns-topic-encrypted"),
    (aws_managed_topic_key, "sns-eventbridge-topic-key"),
    (endpoint_blocks_patch_manager, "s3-endpoint-allows-patching"),
]


@pytest.mark.parametrize("mutation, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_patching_mutation_is_caught(mutation: Mutation, expected: str, dev: Recording,
                                     prod_pack: PolicyPackServer) -> None:
    resources = patching_stack(dev)
    urns = mutation(resources)
    diagnostics = mandatory(prod_pack.check(resources))
    assert {d.policy_name for d in diagnostics} == {expected}, _summary(diagnostics)
    assert {d.urn for d in diagnostics} == urns, _summary(diagnostics)


def test_dev_config_blocks_overlapping_scans_and_advises_the_rest(dev: Recording) -> None:
    resources = patching_stack(dev)
    second_scan_method(resources)
    aws_managed_topic_key(resources)
    config = load_config_file(PACK_DIR / "config" / "dev.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="dev") as pack:
        levels = {d.policy_name: d.enforcement_level for d in pack.check(resources)}
    assert levels == {"single-patch-scan-method": "mandatory",
                      "sns-eventbridge-topic-key": "advisory"}
