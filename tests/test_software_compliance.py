"""The software policy's scheduled Lambda function, its role, log group and schedule, and the
optional writer policy for `fleetctl compliance evaluate --put`, under mocks.

Sources, one per fact:
- Lambda developer guide, "Building Lambda functions with Python" (runtimes and deprecation
  dates) and pulumi-aws's ``aws.lambda_.Runtime`` (what the provider accepts).
- Lambda API reference, CreateFunction ``FunctionName`` ("If you specify only the function
  name, it is limited to 64 characters in length"; pattern ``[a-zA-Z0-9-_]+``).
- Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs" (default group
  ``/aws/lambda/<function-name>``; the role needs ``logs:CreateLogStream`` and
  ``logs:PutLogEvents``, ``logs:CreateLogGroup`` only if Lambda must create the group).
- Service Authorization Reference: "Actions, resources, and condition keys for AWS Systems
  Manager" (DescribeInstanceInformation, GetInventory: no resource types;
  PutComplianceItems: ``instance`` arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}
  and ``managed-instance``) and "... for Amazon CloudWatch Logs" (CreateLogStream,
  PutLogEvents: ``log-stream*``).
- EventBridge user guide, "Using resource-based policies for Amazon EventBridge" (a Lambda
  target needs ``lambda:InvokeFunction`` for ``events.amazonaws.com`` from the rule's ARN).
- CloudWatch Logs API reference, PutRetentionPolicy ``retentionInDays`` (botocore's model).
"""

from __future__ import annotations

import datetime
import fnmatch
import gzip
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pulumi
import pulumi_aws as aws
import pytest

from components.lambda_package import POLICY_FILE, lambda_archive
from components.operator_access import (
    COMPLIANCE_READ_ACTIONS,
    COMPLIANCE_WRITE_ACTIONS,
    FLEET_READ_ACTIONS,
    ComplianceWriterAccess,
    OperatorAccessArgs,
    fleet_read_policy,
)
from components.partition import COMMERCIAL, Partition
from components.software_compliance import (
    FUNCTION_NAME_MAX,
    FUNCTION_NAME_PATTERN,
    HANDLER,
    LOG_RETENTION_DAYS,
    RUNTIME,
    SoftwarePolicySchedule,
    SoftwarePolicyScheduleArgs,
    function_name,
    log_group_name,
    log_retention,
)
from fleetctl.plan.mockrun import Recording, record
from fleetctl.project import StackSettings

TAGS = {"Environment": "OELabIPM", "Workload": "Test"}
SETTINGS = StackSettings(project="ssm-inventory", stack="unit", config={"aws:region": "eu-west-1"})
ACCOUNT = "111122223333"
POLICY = '{"rules": [{"id": "ssm-agent", "kind": "required", "name": "amazon-ssm-agent"}]}'

FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"


def _schedule(partition: Partition = COMMERCIAL, **overrides: Any) -> Recording:
    region = "us-gov-west-1" if partition.name == "aws-us-gov" else "eu-west-1"
    settings = StackSettings(project="ssm-inventory", stack="unit", config={"aws:region": region})
    args = dict(
        workload="Test", environment_tag="OELabIPM", schedule="rate(1 day)",
        code=lambda_archive(POLICY, files={}), region=region, account_id=ACCOUNT,
        log_retention_days=45, tags=TAGS, iam_path="/ssm/",
        permissions_boundary=f"arn:{partition.name}:iam::{ACCOUNT}:policy/Boundary",
        partition=partition,
    )
    args.update(overrides)
    return record(lambda: SoftwarePolicySchedule(
        "software-policy", SoftwarePolicyScheduleArgs(**args)), settings)


@pytest.fixture(scope="module")
def scheduled() -> Recording:
    return _schedule()


def test_every_resource_is_a_child_of_the_component_and_tagged(scheduled: Recording) -> None:
    (component,) = scheduled.by_type("ssm-inventory:compliance:SoftwarePolicySchedule")
    children = [r for r in scheduled.resources if r.custom]
    assert sorted(r.type for r in children) == sorted(
        [FUNCTION, ROLE, ROLE_POLICY, LOG_GROUP, RULE, TARGET, PERMISSION])
    assert all(r.parent == component.urn for r in children)
    for resource in children:
        if resource.type in (FUNCTION, ROLE, LOG_GROUP, RULE):
            assert resource.inputs["tags"] == TAGS, resource.type


def test_function_runs_the_engine_handler_without_a_vpc(scheduled: Recording) -> None:
    function = scheduled.one(FUNCTION, "software-policy-function")
    role = scheduled.one(ROLE, "software-policy-role")
    assert function.inputs["name"] == "Test-software-policy"
    assert function.inputs["handler"] == HANDLER == "fleetctl.compliance.handler.handler"
    assert function.inputs["runtime"] == "python3.13"
    assert function.inputs["role"] == role.outputs["arn"]
    assert "vpcConfig" not in function.inputs  # it calls the regional SSM API only
    assert function.inputs["environment"]["variables"] == {
        "FLEET_WORKLOAD": "Test", "FLEET_ENVIRONMENT": "OELabIPM"}
    # Lambda developer guide, "Configure Lambda function timeout": "up to a maximum value of
    # 900 seconds". A run reads every node's inventory page by page, so it gets all of it.
    assert function.inputs["timeout"] == 900
    # The code is the archive given (here: the policy file alone), as a digest in the plan.
    assert function.inputs["code"]["archive"]["entries"] == 1


def test_function_logs_to_its_own_group_with_a_retention(scheduled: Recording) -> None:
    function = scheduled.one(FUNCTION, "software-policy-function")
    group = scheduled.one(LOG_GROUP, "software-policy-logs")
    assert group.inputs["name"] == "/aws/lambda/Test-software-policy" == log_group_name(
        function.inputs["name"])
    assert function.inputs["loggingConfig"]["logGroup"] == group.outputs["name"]
    assert group.inputs["retentionInDays"] == 60  # 45 days asked, the next value allowed
    # Created first: Lambda would otherwise create the group itself, without a retention.
    assert group.urn in function.dependencies


def test_role_trusts_lambda_only_with_path_and_boundary(scheduled: Recording) -> None:
    role = scheduled.one(ROLE, "software-policy-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]
    assert [s["Action"] for s in trust["Statement"]] == ["sts:AssumeRole"]
    assert role.inputs["path"] == "/ssm/"
    assert role.inputs["permissionsBoundary"] == f"arn:aws:iam::{ACCOUNT}:policy/Boundary"
    assert not scheduled.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def _statements(rec: Recording) -> dict[str, dict[str, Any]]:
    role = rec.one(ROLE, "software-policy-role")
    policy = rec.one(ROLE_POLICY, "software-policy-permissions")
    assert policy.inputs["role"] == role.outputs["id"]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def test_role_may_read_inventory_and_put_compliance_in_this_region_only(scheduled: Recording) -> None:
    statements = _statements(scheduled)
    assert set(statements) == {"ReadFleetInventory", "PutSoftwarePolicyCompliance", "WriteOwnLogs"}
    read, put, logs = (statements[s] for s in ("ReadFleetInventory", "PutSoftwarePolicyCompliance",
                                               "WriteOwnLogs"))
    # No resource types for these two in the reference: "*", held to the region.
    assert read["Action"] == ["ssm:DescribeInstanceInformation", "ssm:GetInventory",
                              "ssm:ListInventoryEntries"]
    assert read["Resource"] == "*"
    assert read["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    # PutComplianceItems: this account's instances and managed nodes in the region.
    assert put["Action"] == ["ssm:PutComplianceItems"]
    assert put["Resource"] == [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*",
                               f"arn:aws:ssm:eu-west-1:{ACCOUNT}:managed-instance/*"]
    assert put["Condition"] == read["Condition"]
    # Its own log group's streams; no CreateLogGroup (the stack creates the group).
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == (f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:"
                                "/aws/lambda/Test-software-policy:log-stream:*")
    actions = [a for s in statements.values() for a in s["Action"]]
    assert all("*" not in action for action in actions)
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in statements.values())


def test_schedule_invokes_the_function_and_only_that_rule_may(scheduled: Recording) -> None:
    function = scheduled.one(FUNCTION, "software-policy-function")
    rule = scheduled.one(RULE, "software-policy-schedule")
    target = scheduled.one(TARGET, "software-policy-target")
    permission = scheduled.one(PERMISSION, "software-policy-invoke")
    assert rule.inputs["scheduleExpression"] == "rate(1 day)"
    assert "eventPattern" not in rule.inputs
    assert target.inputs["rule"] == rule.outputs["name"]
    assert target.inputs["arn"] == function.outputs["arn"]
    assert "roleArn" not in target.inputs  # Lambda targets use the resource-based policy
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == function.outputs["name"]
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.outputs["arn"]


def test_govcloud_arns_and_principals() -> None:
    rec = _schedule(Partition("aws-us-gov"))
    statements = _statements(rec)
    assert statements["PutSoftwarePolicyCompliance"]["Resource"][0].startswith(
        "arn:aws-us-gov:ec2:us-gov-west-1:")
    assert statements["WriteOwnLogs"]["Resource"].startswith("arn:aws-us-gov:logs:us-gov-west-1:")
    assert rec.one(PERMISSION, "software-policy-invoke").inputs["principal"] == "events.amazonaws.com"


def test_runtime_is_one_the_provider_accepts_and_aws_still_supports() -> None:
    """python3.13: Amazon Linux 2023, deprecation Jun 30, 2029, python3.12 Oct 31, 2028
    ("Building Lambda functions with Python"); python3.10 and 3.11 Jun 30, 2026 (the Lambda
    runtime table as the AgentCore "Supported language runtimes" page and endoflife.date
    aws-lambda repeat it); python3.9 Dec 15, 2025 (Powertools for AWS Lambda issue #6883,
    terraform-linters/tflint-ruleset-aws PR #969, both quoting the Lambda runtimes page)."""
    deprecation = {"python3.9": datetime.date(2025, 12, 15), "python3.10": datetime.date(2026, 6, 30),
                   "python3.11": datetime.date(2026, 6, 30), "python3.12": datetime.date(2028, 10, 31),
                   "python3.13": datetime.date(2029, 6, 30)}
    assert RUNTIME in set(aws.lambda_.Runtime)
    assert RUNTIME.value in deprecation
    assert deprecation[RUNTIME.value] > datetime.date(2027, 11, 26)  # a year of support left


@pytest.mark.parametrize("workload", ["Test", "Prod", "team.a", "x" * 50, "A" * 49 + "b"])
def test_function_name_fits_lambda(workload: str) -> None:
    name = function_name(workload)
    assert len(name) <= FUNCTION_NAME_MAX == 64
    assert re.fullmatch(FUNCTION_NAME_PATTERN, name)
    assert re.fullmatch(r"[a-zA-Z0-9-_]+", name)
    assert name.endswith("-software-policy")


def test_function_name_limits_are_lambdas() -> None:
    """botocore's Lambda model, CreateFunction FunctionName: 64 characters for a bare name,
    and the name part of the shape's pattern."""
    model = Path(botocore.__file__).parent / "data" / "lambda" / "2015-03-31" / "service-2.json.gz"
    shapes = json.loads(gzip.decompress(model.read_bytes()))["shapes"]
    doc = shapes["CreateFunctionRequest"]["members"]["FunctionName"]["documentation"]
    assert "only the function name, it is limited to 64 characters" in doc
    assert "(function:)?([a-zA-Z0-9-_]+)" in shapes["FunctionName"]["pattern"]
    assert FUNCTION_NAME_PATTERN == r"^[A-Za-z0-9_-]{1,64}$"


def test_long_workloads_keep_distinct_function_names() -> None:
    assert function_name("team.a") == "team-a-software-policy"
    long_a, long_b = "w" * 49 + "a", "w" * 49 + "b"
    assert function_name(long_a) != function_name(long_b)


def test_log_retention_values_are_cloudwatchs() -> None:
    """The values botocore's CloudWatch Logs model documents for retentionInDays."""
    model = Path(botocore.__file__).parent / "data" / "logs" / "2014-03-28" / "service-2.json.gz"
    doc = json.loads(gzip.decompress(model.read_bytes()))["shapes"]["Days"]["documentation"]
    documented = tuple(int(v) for v in re.findall(r"\b\d+\b", doc.split("Possible values are:")[1]
                                                   .split(".")[0]))
    assert documented == LOG_RETENTION_DAYS
    assert [log_retention(d) for d in (1, 2, 30, 31, 90, 365, 366, 3650)] == [
        1, 3, 30, 60, 90, 365, 400, 3653]


# -- the writer policy and the read-only operator policy ----------------------------------------


def test_operator_policy_already_allows_what_compliance_evaluate_and_report_read() -> None:
    """`compliance evaluate` reads the fleet and its inventory, `compliance report` lists
    compliance summaries and items: all read-only, all in the operator policy."""
    granted = {a for s in json.loads(fleet_read_policy("eu-west-1", ACCOUNT))["Statement"]
               for a in s["Action"]}
    assert set(COMPLIANCE_READ_ACTIONS) <= granted
    assert set(COMPLIANCE_READ_ACTIONS) <= set(FLEET_READ_ACTIONS)
    assert not set(COMPLIANCE_WRITE_ACTIONS) & granted  # the operator policy stays read-only


def test_writer_policy_holds_only_put_compliance_items() -> None:
    rec = record(lambda: ComplianceWriterAccess("compliance", OperatorAccessArgs(
        region="eu-west-1", tags=TAGS, account_id=ACCOUNT, path="/ssm/")), SETTINGS)
    (component,) = rec.by_type("ssm-inventory:iam:ComplianceWriterAccess")
    (policy,) = rec.by_type("aws:iam/policy:Policy")
    assert policy.parent == component.urn and policy.inputs["path"] == "/ssm/"
    assert policy.inputs["tags"] == TAGS
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == ["ssm:PutComplianceItems"]
    assert statement["Resource"] == [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*",
                                     f"arn:aws:ssm:eu-west-1:{ACCOUNT}:managed-instance/*"]
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}


def test_archive_carries_the_policy_at_its_root() -> None:
    archive = lambda_archive(POLICY, files={})
    assert isinstance(archive, pulumi.AssetArchive)
    policy = archive.assets[POLICY_FILE]
    assert isinstance(policy, pulumi.StringAsset) and json.loads(policy.text)["rules"][0]["id"] == "ssm-agent"


# -- in the stacks -------------------------------------------------------------------------------


def test_writer_policy_only_when_asked_for(dev: Recording) -> None:
    from fleetctl.plan.mockrun import run_program

    assert not dev.by_type("ssm-inventory:iam:ComplianceWriterAccess")
    assert dev.outputs.get("complianceWriterPolicyArn") is None  # a None export is left out
    writers = run_program("dev", overrides={"complianceWriterPolicy": True})
    (policy,) = [p for p in writers.by_type("aws:iam/policy:Policy") if p.name == "compliance-writer"]
    assert writers.outputs["complianceWriterPolicyArn"] == policy.outputs["arn"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Action"] == ["ssm:PutComplianceItems"]
    assert statement["Resource"][0] == "arn:aws:ec2:us-east-1:123456789012:instance/*"
    # The read-only operator policy is still there and unchanged.
    assert writers.outputs["operatorPolicyArn"] == dev.outputs["operatorPolicyArn"]


def test_writer_flag_must_be_a_boolean() -> None:
    from components.config import ConfigError, parse_stack_config

    with pytest.raises(ConfigError) as error:
        parse_stack_config({"ssm-inventory:workload": "Test",
                            "ssm-inventory:complianceWriterPolicy": "maybe"})
    assert "ssm-inventory:complianceWriterPolicy" in str(error.value)
    assert "boolean" in str(error.value)


def test_prod_evaluates_its_policy_hourly_and_dev_only_from_the_cli(
    dev: Recording, prod: Recording
) -> None:
    from components.lambda_package import package_files

    assert not dev.by_type("ssm-inventory:compliance:SoftwarePolicySchedule")
    assert not dev.by_type(FUNCTION)
    assert dev.outputs.get("softwarePolicyFunctionName") is None
    function = prod.one(FUNCTION, "software-policy-function")
    assert function.inputs["name"] == "Prod-software-policy"
    assert function.inputs["environment"]["variables"] == {
        "FLEET_WORKLOAD": "Prod", "FLEET_ENVIRONMENT": "OELabIPM"}
    assert prod.one(RULE, "software-policy-schedule").inputs["scheduleExpression"] == "rate(1 hour)"
    assert prod.one(LOG_GROUP, "software-policy-logs").inputs["retentionInDays"] == 365
    # The engine, univers and its dependencies, and the policy file.
    assert function.inputs["code"]["archive"]["entries"] == len(package_files()) + 1
    assert prod.outputs["softwarePolicyFunctionName"] == "Prod-software-policy"
    assert prod.outputs["softwarePolicyFunctionArn"] == function.outputs["arn"]
    assert prod.outputs["softwarePolicyLogGroupName"] == "/aws/lambda/Prod-software-policy"


def test_the_stacks_rules_go_into_the_function(prod: Recording) -> None:
    from fleetctl.plan.mockrun import run_program

    rules = [{"id": "ssm-agent-minimum", "kind": "required", "name": "amazon-ssm-agent",
              "versions": ">=3.3.40.0", "platforms": ["Linux"], "severity": "CRITICAL"}]
    other = run_program("prod", overrides={"softwarePolicy": {"schedule": "rate(1 hour)",
                                                               "rules": rules}})
    code = prod.one(FUNCTION, "software-policy-function").inputs["code"]["archive"]
    changed = other.one(FUNCTION, "software-policy-function").inputs["code"]["archive"]
    assert changed["entries"] == code["entries"] and changed["sha256"] != code["sha256"]


def test_schedule_unset_means_no_function(prod: Recording) -> None:
    from fleetctl.plan.mockrun import run_program

    rules = [{"id": "ssm-agent", "kind": "required", "name": "amazon-ssm-agent"}]
    manual = run_program("prod", overrides={"softwarePolicy": {"rules": rules}})
    assert not manual.by_type(FUNCTION)
    assert {r.urn for r in manual.resources} == {
        r.urn for r in prod.resources if "SoftwarePolicySchedule" not in r.urn}



# -- the role against what the handler really calls ----------------------------------------------


def _handler_calls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, batched: bool
) -> list[tuple[str, dict[str, Any]]]:
    """The SSM operations (and parameters) of one handler run against the local endpoint,
    configured as the stack configures the function. ``batched``: a stand-in that answers
    AWS:Application in GetInventory (the service does not: the API reference allows only
    AWS:InstanceInformation); False: GetInventory refuses it, as the service does, and the
    handler reads node by node."""
    from types import SimpleNamespace

    from fleetctl.compliance import aws as compliance_aws
    from fleetctl.compliance import handler
    from tests.compliance.sw_fakes import app, entity, fake_credentials, iid, node
    from tests.ops.ops_server import FakeAws

    tmp_path.mkdir()
    fake_credentials(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("FLEET_WORKLOAD", "Test")
    monkeypatch.setenv("FLEET_ENVIRONMENT", "OELabIPM")
    policy = tmp_path / POLICY_FILE
    policy.write_text(POLICY)
    monkeypatch.setenv("SOFTWARE_POLICY_FILE", str(policy))
    monkeypatch.setattr(compliance_aws, "READ_WORKERS", 1)
    with FakeAws(accept_any_result_type=batched) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", fake.url)
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1))]})
        agent = [app("amazon-ssm-agent", "3.3.987.0")]
        if batched:
            fake.add("GetInventory", {"Entities": [entity(iid(1), agent)]})
        else:
            fake.add("GetInventory", (400, "InvalidResultAttributeException",
                                      "Result type name AWS:Application is not supported."))
            fake.add("ListInventoryEntries", {"InstanceId": iid(1), "TypeName": "AWS:Application",
                                              "CaptureTime": "2026-11-25T23:40:00Z", "Entries": agent})
        fake.add("PutComplianceItems", {})
        handler.handler({}, SimpleNamespace(aws_request_id="c0ffee00-1111-2222-3333-444455556666"))
    return fake.requests


def test_the_role_allows_exactly_what_the_handler_calls(
    scheduled: Recording, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = [*_handler_calls(monkeypatch, tmp_path / "batched", batched=True),
             *_handler_calls(monkeypatch, tmp_path / "per-node", batched=False)]
    called = {f"ssm:{operation}" for operation, _ in calls}
    statements = _statements(scheduled)
    ssm_granted = {a for s in statements.values() for a in s["Action"] if a.startswith("ssm:")}
    assert called == ssm_granted  # nothing missing, nothing extra
    # Each put names an EC2 instance of this account and region: an ARN the statement matches.
    patterns = statements["PutSoftwarePolicyCompliance"]["Resource"]
    puts = [params for operation, params in calls if operation == "PutComplianceItems"]
    assert len(puts) == 2
    for params in puts:
        arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/{params['ResourceId']}"
        assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in patterns)
        assert params["ResourceType"] == "ManagedInstance"

