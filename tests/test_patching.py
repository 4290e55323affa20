"""Patch management and compliance alerts: each component under mocks (engine names), and
the dev, prod and a mixed-OS stack end to end.

Sources: the lab's AmazonLinuxSecAndNonSecBaseline and PatchTestWorkloadWebServers (lab
facts §1); DescribePatchProperties (SSM API reference) for each OS's filter keys; PatchRule
("ApproveAfterDays ... Not supported for Debian Server or Ubuntu Server"); "Avoiding
unintentional patch compliance data overwrites" (one scan method); the managed policy
``arn:aws:iam::aws:policy/service-role/AmazonSSMMaintenanceWindowRole``; EventBridge and
``alias/aws/sns`` (lab facts §7); SSM's EventBridge events ("Configuration Compliance State
Change": compliance-status, resource-id; "EC2 State Manager Instance Association State
Change": association-id, status).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.alerts import ComplianceAlerts, ComplianceAlertsArgs
from components.config import FleetGroup, InstallWindowConfig
from components.partition import Partition
from components.patching import PatchManagement, PatchManagementArgs
from fleetctl.plan.mockrun import RecordedResource, Recording, record, run_program
from fleetctl.project import StackSettings

BASELINE = "aws:ssm/patchBaseline:PatchBaseline"
PATCH_GROUP = "aws:ssm/patchGroup:PatchGroup"
ASSOCIATION = "aws:ssm/association:Association"
WINDOW = "aws:ssm/maintenanceWindow:MaintenanceWindow"
WINDOW_TARGET = "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget"
WINDOW_TASK = "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask"
TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"
RULE = "aws:cloudwatch/eventRule:EventRule"
INSTANCE = "aws:ec2/instance:Instance"
TAGS = {"Environment": "OELabIPM", "Workload": "Test"}
GOV = Partition("aws-us-gov")


def _run(program: Any, region: str = "eu-west-1") -> Recording:
    return record(program, StackSettings(project="ssm-inventory", stack="unit",
                                         config={"aws:region": region}))


def _group(role: str, os: str, patch_group: str = "Critical", count: int = 1) -> FleetGroup:
    return FleetGroup.model_validate({"role": role, "os": os, "patchGroup": patch_group, "count": count})


def _patching(groups: list[FleetGroup], **changes: Any) -> PatchManagementArgs:
    return PatchManagementArgs(**{
        "workload": "Test", "groups": groups, "target_tags": TAGS, "scan_schedule": "rate(1 day)",
        "approve_after_days": 7, "tags": TAGS, **changes})


def _rules(baseline: RecordedResource) -> list[dict[str, Any]]:
    return list(baseline.inputs["approvalRules"])


def _filters(rule: dict[str, Any]) -> dict[str, list[str]]:
    return {f["key"]: f["values"] for f in rule["patchFilters"]}


# -- the component ---------------------------------------------------------------------------

def test_amazon_linux_baseline_follows_the_lab() -> None:
    rec = _run(lambda: PatchManagement("p", _patching([_group("WebServer", "amazon-linux-2023")])))
    (baseline,) = rec.by_type(BASELINE)
    assert baseline.inputs["operatingSystem"] == "AMAZON_LINUX_2023"
    assert baseline.inputs["rejectedPatches"] == ["system-release.*"]
    assert baseline.inputs["tags"] == TAGS
    security, everything = _rules(baseline)
    assert _filters(security) == {"PRODUCT": ["*"], "CLASSIFICATION": ["Security"], "SEVERITY": ["*"]}
    assert security["complianceLevel"] == "CRITICAL" and security["approveAfterDays"] == 7
    assert not security.get("enableNonSecurity")
    assert _filters(everything) == {"PRODUCT": ["*"], "CLASSIFICATION": ["*"], "SEVERITY": ["*"]}
    assert everything["complianceLevel"] == "MEDIUM" and everything["enableNonSecurity"] is True
    assert everything["approveAfterDays"] == 7


def test_each_os_family_gets_rules_in_its_own_properties() -> None:
    groups = [_group("A", "amazon-linux-2"), _group("U", "ubuntu-24.04"), _group("V", "ubuntu-22.04"),
              _group("R", "rhel-9"), _group("W", "windows-2022")]
    rec = _run(lambda: PatchManagement("p", _patching(groups, approve_after_days=0)))
    baselines = {b.inputs["operatingSystem"]: b for b in rec.by_type(BASELINE)}
    assert set(baselines) == {"AMAZON_LINUX_2", "UBUNTU", "REDHAT_ENTERPRISE_LINUX", "WINDOWS"}
    # DescribePatchProperties: the filter keys each OS accepts.
    allowed = {"AMAZON_LINUX_2": {"PRODUCT", "CLASSIFICATION", "SEVERITY"},
               "REDHAT_ENTERPRISE_LINUX": {"PRODUCT", "CLASSIFICATION", "SEVERITY"},
               "UBUNTU": {"PRODUCT", "PRIORITY"},
               "WINDOWS": {"PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY"}}
    for operating_system, baseline in baselines.items():
        rules = _rules(baseline)
        assert [r["complianceLevel"] for r in rules] == ["CRITICAL", "MEDIUM"]
        for rule in rules:
            assert set(_filters(rule)) <= allowed[operating_system], operating_system
            # Ubuntu takes no approval delay (PatchRule); the others take the configured one.
            assert rule.get("approveAfterDays") == (None if operating_system == "UBUNTU" else 0)
    windows_security = _filters(_rules(baselines["WINDOWS"])[0])
    assert windows_security["CLASSIFICATION"] == ["CriticalUpdates", "SecurityUpdates"]
    assert _filters(_rules(baselines["UBUNTU"])[0])["PRIORITY"] == ["Required", "Important"]
    assert "rejectedPatches" not in baselines["WINDOWS"].inputs


def test_patch_groups_register_each_value_with_each_family_using_it() -> None:
    groups = [_group("Web", "amazon-linux-2023", "Critical"),
              _group("App", "amazon-linux-2023", "NonCritical"),
              _group("Win", "windows-2022", "Critical"), _group("Idle", "rhel-9", "Spare", count=0)]
    rec = _run(lambda: PatchManagement("p", _patching(groups)))
    baseline_of = {b.outputs["id"]: b.inputs["operatingSystem"] for b in rec.by_type(BASELINE)}
    registrations = {(r.inputs["patchGroup"], baseline_of[r.inputs["baselineId"]])
                     for r in rec.by_type(PATCH_GROUP)}
    assert registrations == {("Critical", "AMAZON_LINUX_2023"),
                             ("NonCritical", "AMAZON_LINUX_2023"), ("Critical", "WINDOWS")}
    assert "REDHAT_ENTERPRISE_LINUX" not in baseline_of.values()  # no instances, no baseline


def test_one_scan_association_on_environment_and_workload() -> None:
    rec = _run(lambda: PatchManagement("p", _patching([_group("Web", "amazon-linux-2023")],
                                                      log_bucket_name="logs")))
    (scan,) = rec.by_type(ASSOCIATION)
    assert scan.inputs["name"] == "AWS-RunPatchBaseline"
    assert scan.inputs["parameters"] == {"Operation": "Scan"}
    assert scan.inputs["scheduleExpression"] == "rate(1 day)"
    assert scan.inputs["complianceSeverity"] == "HIGH"
    assert scan.inputs["targets"] == [{"key": "tag:Environment", "values": ["OELabIPM"]},
                                      {"key": "tag:Workload", "values": ["Test"]}]
    # Execution logs under the instance role's writable prefix.
    assert scan.inputs["outputLocation"]["s3KeyPrefix"] == "inventory-execution-logs/patch-scan"
    assert not rec.by_type(WINDOW) and not rec.by_type(WINDOW_TASK)


def test_a_bad_scan_schedule_is_refused_by_the_component_too() -> None:
    with pytest.raises(ValueError, match="more often than every 30 minutes"):
        _run(lambda: PatchManagement("p", _patching([_group("Web", "amazon-linux-2023")],
                                                    scan_schedule="rate(5 minutes)")))


COMMERCIAL = Partition()


def _window_program(partition: Partition = COMMERCIAL, **window: Any) -> Any:
    config = InstallWindowConfig.model_validate({"enabled": True, **window})
    return lambda: PatchManagement("p", _patching(
        [_group("WebServer", "amazon-linux-2023"), _group("AppServer", "amazon-linux-2023")],
        install_window=config, log_bucket_name="logs", partition=partition))


def test_install_window_follows_the_labs_window() -> None:
    rec = _run(_window_program(scheduleTimezone="Asia/Seoul", maxConcurrency="10%", maxErrors="0",
                               rebootOption="NoReboot"))
    (window,) = rec.by_type(WINDOW)
    assert window.inputs["schedule"] == "cron(0 2 ? * * *)"
    assert window.inputs["scheduleTimezone"] == "Asia/Seoul"
    assert (window.inputs["duration"], window.inputs["cutoff"]) == (3, 1)
    assert window.inputs["allowUnassociatedTargets"] is False and window.inputs["tags"] == TAGS
    assert window.inputs["name"] == "PatchInstall-Test"
    (target,) = rec.by_type(WINDOW_TARGET)
    assert target.inputs["windowId"] == window.outputs["id"]
    assert target.inputs["resourceType"] == "INSTANCE"
    assert target.inputs["targets"] == [{"key": "tag:Workload", "values": ["Test"]},
                                        {"key": "tag:InstanceRole", "values": ["WebServer"]}]
    (task,) = rec.by_type(WINDOW_TASK)
    inputs = task.inputs
    assert (inputs["taskType"], inputs["taskArn"]) == ("RUN_COMMAND", "AWS-RunPatchBaseline")
    assert (inputs["maxConcurrency"], inputs["maxErrors"]) == ("10%", "0")
    assert inputs["targets"] == [{"key": "WindowTargetIds", "values": [target.outputs["id"]]}]
    run_command = inputs["taskInvocationParameters"]["runCommandParameters"]
    assert {p["name"]: p["values"] for p in run_command["parameters"]} == {
        "Operation": ["Install"], "RebootOption": ["NoReboot"]}
    assert run_command["outputS3Bucket"] == "logs"
    assert run_command["outputS3KeyPrefix"] == "inventory-execution-logs/patch-install"
    role = rec.one("aws:iam/role:Role", "p-window-role")
    assert inputs["serviceRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ssm.amazonaws.com"}]
    (attachment,) = rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonSSMMaintenanceWindowRole")
    assert attachment.urn in task.dependencies


def test_install_window_role_is_partition_aware() -> None:
    rec = _run(_window_program(partition=GOV, roles=["WebServer", "AppServer"]), region="us-gov-west-1")
    (attachment,) = rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == (
        "arn:aws-us-gov:iam::aws:policy/service-role/AmazonSSMMaintenanceWindowRole")
    (target,) = rec.by_type(WINDOW_TARGET)
    assert target.inputs["targets"][1] == {"key": "tag:InstanceRole", "values": ["WebServer", "AppServer"]}


def _alerts_program(emails: list[str]) -> Any:
    return lambda: ComplianceAlerts("a", ComplianceAlertsArgs(
        workload="Test", emails=emails, instance_ids=["i-2", "i-1"],
        association_ids=["assoc-inventory", pulumi.Output.from_input("assoc-scan")],
        account_id="111122223333", tags=TAGS))


def test_alerts_topic_is_encrypted_with_a_key_eventbridge_may_use() -> None:
    rec = _run(_alerts_program(["ops@example.com", "oncall@example.com"]))
    (key,) = rec.by_type(KEY)
    assert key.inputs["enableKeyRotation"] is True and key.inputs["tags"] == TAGS
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministers"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    events = statements["EventBridgePublishesToTheTopic"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    (topic,) = rec.by_type(TOPIC)
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]  # not alias/aws/sns
    assert topic.inputs["tags"] == TAGS


def test_alert_rules_cover_this_stacks_instances_and_associations_only() -> None:
    rec = _run(_alerts_program(["ops@example.com"]))
    patterns = {r.name: json.loads(r.inputs["eventPattern"]) for r in rec.by_type(RULE)}
    assert patterns["a-non-compliant"] == {
        "source": ["aws.ssm"], "detail-type": ["Configuration Compliance State Change"],
        "detail": {"compliance-status": ["non_compliant"], "resource-id": ["i-1", "i-2"]}}
    assert patterns["a-association-failed"] == {
        "source": ["aws.ssm"], "detail-type": ["EC2 State Manager Instance Association State Change"],
        "detail": {"association-id": ["assoc-inventory", "assoc-scan"], "status": ["Failed"]}}
    (topic,) = rec.by_type(TOPIC)
    targets = rec.by_type("aws:cloudwatch/eventTarget:EventTarget")
    assert {t.inputs["arn"] for t in targets} == {topic.outputs["arn"]} and len(targets) == 2
    (policy,) = rec.by_type("aws:sns/topicPolicy:TopicPolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish" and statement["Resource"] == topic.outputs["arn"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == sorted(
        r.outputs["arn"] for r in rec.by_type(RULE))


def test_one_email_subscription_per_address() -> None:
    rec = _run(_alerts_program(["ops@example.com", "oncall@example.com"]))
    subscriptions = rec.by_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == ["oncall@example.com", "ops@example.com"]
    assert {s.inputs["protocol"] for s in subscriptions} == {"email"}
    # Named by address, not position: reordering the list replaces no subscription.
    reordered = _run(_alerts_program(["oncall@example.com", "ops@example.com"]))
    assert sorted(s.urn for s in reordered.by_type("aws:sns/topicSubscription:TopicSubscription")) == sorted(
        s.urn for s in subscriptions)


# -- the stacks ------------------------------------------------------------------------------

MIXED_FLEET = [
    {"role": "WebServer", "count": 2},
    {"role": "UbuntuServer", "count": 1, "os": "ubuntu-24.04", "patchGroup": "Standard"},
    {"role": "RhelServer", "count": 1, "os": "rhel-9", "patchGroup": "Standard"},
    {"role": "WinServer", "count": 2, "os": "windows-2022", "patchGroup": "Windows"},
]
EXPECTED_FAMILIES = {
    "dev": {"AMAZON_LINUX_2023"},
    "prod": {"AMAZON_LINUX_2023"},
    "mixed": {"AMAZON_LINUX_2023", "UBUNTU", "REDHAT_ENTERPRISE_LINUX", "WINDOWS"},
}


@pytest.fixture(scope="module")
def mixed() -> Recording:
    return run_program("dev", overrides={"fleet": MIXED_FLEET, "natGateway": True})


@pytest.fixture(params=["dev", "prod", "mixed"])
def stack(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    return request.param, request.getfixturevalue(request.param)


def test_baselines_for_exactly_the_fleets_os_families(stack: tuple[str, Recording]) -> None:
    name, rec = stack
    families = [b.inputs["operatingSystem"] for b in rec.by_type(BASELINE)]
    assert sorted(families) == sorted(EXPECTED_FAMILIES[name])  # one each
    assert set(rec.outputs["patchBaselineIds"]) == EXPECTED_FAMILIES[name]


def test_group_registrations_match_the_instances_tags(stack: tuple[str, Recording]) -> None:
    _, rec = stack
    baseline_of = {b.outputs["id"]: b.inputs["operatingSystem"] for b in rec.by_type(BASELINE)}
    os_family = {"amazon-linux-2023": "AMAZON_LINUX_2023", "ubuntu-24.04": "UBUNTU",
                 "rhel-9": "REDHAT_ENTERPRISE_LINUX", "windows-2022": "WINDOWS"}
    tagged = {(i.inputs["tags"]["Patch Group"], os_family[i.inputs["tags"]["OS"]])
              for i in rec.by_type(INSTANCE)}
    registered = [(g.inputs["patchGroup"], baseline_of[g.inputs["baselineId"]])
                  for g in rec.by_type(PATCH_GROUP)]
    assert sorted(registered) == sorted(tagged)  # each pair once, none missing, none extra


def test_exactly_one_scan_association_per_stack(stack: tuple[str, Recording]) -> None:
    _, rec = stack
    scans = [a for a in rec.by_type(ASSOCIATION) if a.inputs["name"] == "AWS-RunPatchBaseline"]
    assert len(scans) == 1 and scans[0].inputs["parameters"] == {"Operation": "Scan"}
    # No maintenance window scans as well (one scan method).
    for task in rec.by_type(WINDOW_TASK):
        parameters = task.inputs["taskInvocationParameters"]["runCommandParameters"]["parameters"]
        assert {p["name"]: p["values"] for p in parameters}["Operation"] == ["Install"]
    assert rec.outputs["patchScanAssociationId"] == scans[0].outputs["associationId"]


def test_dev_and_prod_scan_targets_are_disjoint(dev: Recording, prod: Recording) -> None:
    def scan_targets(rec: Recording) -> dict[str, list[str]]:
        (scan,) = [a for a in rec.by_type(ASSOCIATION) if a.inputs["name"] == "AWS-RunPatchBaseline"]
        return {t["key"]: t["values"] for t in scan.inputs["targets"]}

    dev_targets, prod_targets = scan_targets(dev), scan_targets(prod)
    assert set(dev_targets) == set(prod_targets) == {"tag:Environment", "tag:Workload"}
    assert set(dev_targets["tag:Workload"]).isdisjoint(prod_targets["tag:Workload"])
    for rec, other in ((dev, prod_targets), (prod, dev_targets)):
        for instance in rec.by_type(INSTANCE):
            tags = instance.inputs["tags"]
            assert not all(tags.get(k.removeprefix("tag:")) in v for k, v in other.items())


def test_window_and_alerts_only_where_configured(stack: tuple[str, Recording]) -> None:
    name, rec = stack
    configured = name == "prod"
    assert bool(rec.by_type(WINDOW)) is configured
    assert bool(rec.by_type(WINDOW_TASK)) is configured
    assert bool(rec.by_type(TOPIC)) is configured
    assert bool(rec.by_type(RULE)) is configured
    assert (rec.outputs.get("maintenanceWindowId") is not None) is configured
    assert (rec.outputs.get("alertTopicArn") is not None) is configured


def test_prod_window_targets_its_web_servers_and_alerts_watch_its_fleet(prod: Recording) -> None:
    (target,) = prod.by_type(WINDOW_TARGET)
    assert target.inputs["targets"] == [{"key": "tag:Workload", "values": ["Prod"]},
                                        {"key": "tag:InstanceRole", "values": ["WebServer"]}]
    (task,) = prod.by_type(WINDOW_TASK)
    assert (task.inputs["maxConcurrency"], task.inputs["maxErrors"]) == ("1", "1")
    assert task.inputs["taskInvocationParameters"]["runCommandParameters"]["outputS3Bucket"] == (
        prod.outputs["logBucketName"])
    patterns = {r.name: json.loads(r.inputs["eventPattern"]) for r in prod.by_type(RULE)
                if "eventPattern" in r.inputs}  # not the software policy's schedule
    instances = sorted(i.outputs["id"] for i in prod.by_type(INSTANCE))
    assert patterns["alerts-non-compliant"]["detail"]["resource-id"] == instances
    associations = sorted(a.outputs["associationId"] for a in prod.by_type(ASSOCIATION))
    assert patterns["alerts-association-failed"]["detail"]["association-id"] == associations
    (subscription,) = prod.by_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "platform-team@example.com"


def test_patching_off_registers_no_patching_resources() -> None:
    rec = run_program("prod", overrides={"patching": {"enabled": False}})
    components = ("ssm-inventory:patching", "ssm-inventory:alerts")
    assert not [r for r in rec.resources if r.type.startswith(components)]
    assert len(rec.by_type(ASSOCIATION)) == 1
    assert rec.outputs.get("patchBaselineIds") is None
