"""Lambda policies: each function's log group in the stack with a retention; Lambda roles
with named actions only. Unit tests, then seeded mutations of the prod stack (whose
``softwarePolicy.schedule`` deploys the compliance function) through the protocol.

Sources: Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs" (default
group ``/aws/lambda/<function-name>``) and "Configuring CloudWatch log groups"
(``loggingConfig.logGroup``); IAM user guide, "Security best practices in IAM" (least
privilege).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ssm_policies.functions import (
    DEPRECATED_RUNTIMES,
    lambda_log_group_retention,
    lambda_role_no_wildcards,
    lambda_runtime_supported,
)

from fleetctl.plan.analyzer_client import PolicyPackServer, load_config_file, mandatory
from fleetctl.plan.mockrun import RecordedResource, Recording
from tests.policy.helpers import UNKNOWN, stack_violations, urn, violations

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED = "aws:iam/policy:Policy"
PACK_DIR = Path(__file__).resolve().parents[2] / "policy"

LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EC2_TRUST = LAMBDA_TRUST.replace("lambda.", "ec2.")


def _document(*actions: str, not_action: bool = False) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Resource": "*"}
    statement["NotAction" if not_action else "Action"] = list(actions)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# -- lambda-runtime-supported ------------------------------------------------------------------


def test_supported_runtimes_pass_and_deprecated_ones_are_reported() -> None:
    for runtime in ("python3.12", "python3.13", "python3.14", "nodejs22.x"):
        assert violations(lambda_runtime_supported, FUNCTION, {"runtime": runtime}) == []
    for runtime in ("python3.11", "python3.9", "nodejs18.x", "go1.x"):
        [message] = violations(lambda_runtime_supported, FUNCTION, {"runtime": runtime})
        assert runtime in message and "deprecated" in message
    # Container images have no runtime; an unknown one is judged at update.
    assert violations(lambda_runtime_supported, FUNCTION, {"packageType": "Image"}) == []
    assert violations(lambda_runtime_supported, FUNCTION, {"runtime": UNKNOWN}) == []
    config = {"deprecatedRuntimes": ["python3.12"]}
    assert violations(lambda_runtime_supported, FUNCTION, {"runtime": "python3.12"}, config)


def test_deprecated_list_covers_pulumi_aws_legacy_runtimes() -> None:
    """pulumi-aws's Runtime enum lists current runtimes first and the legacy ones after
    ruby3.4 (dotnet5.0 ... ruby2.7); every legacy one is refused, no current Python one is."""
    import pulumi_aws as aws

    members = [member.value for member in aws.lambda_.Runtime]
    legacy = members[members.index("ruby3.4") + 1:]
    assert "python3.8" in legacy and "go1.x" in legacy
    assert set(legacy) <= set(DEPRECATED_RUNTIMES)
    assert not {"python3.12", "python3.13", "python3.14"} & set(DEPRECATED_RUNTIMES)
    # Lambda developer guide: python3.9 Dec 15, 2025; python3.10 and 3.11 Jun 30, 2026.
    assert {"python3.9", "python3.10", "python3.11"} <= set(DEPRECATED_RUNTIMES)


# -- lambda-log-group-retention ----------------------------------------------------------------


def test_function_with_its_group_and_a_retention_passes() -> None:
    stack = [(FUNCTION, "f", {"name": "fn"}),
             (LOG_GROUP, "g", {"name": "/aws/lambda/fn", "retentionInDays": 90})]
    assert stack_violations(lambda_log_group_retention, stack) == []


def test_missing_group_is_reported_on_the_function() -> None:
    [(where, message)] = stack_violations(lambda_log_group_retention, [(FUNCTION, "f", {"name": "fn"})])
    assert where == urn(FUNCTION, "f") and "/aws/lambda/fn" in message


def test_group_without_retention_is_reported_on_the_group() -> None:
    for group in ({"name": "/aws/lambda/fn"}, {"name": "/aws/lambda/fn", "retentionInDays": 0}):
        [(where, message)] = stack_violations(
            lambda_log_group_retention, [(FUNCTION, "f", {"name": "fn"}), (LOG_GROUP, "g", group)])
        assert where == urn(LOG_GROUP, "g") and "kept forever" in message


def test_custom_log_group_is_followed() -> None:
    function = (FUNCTION, "f", {"name": "fn", "loggingConfig": {"logGroup": "shared-logs"}})
    kept = (LOG_GROUP, "g", {"name": "shared-logs", "retentionInDays": 30})
    assert stack_violations(lambda_log_group_retention, [function, kept]) == []
    default_only = (LOG_GROUP, "d", {"name": "/aws/lambda/fn", "retentionInDays": 30})
    [(where, _)] = stack_violations(lambda_log_group_retention, [function, default_only])
    assert where == urn(FUNCTION, "f")


def test_unknown_names_are_not_judged() -> None:
    stack = [(FUNCTION, "f", {"name": UNKNOWN}), (FUNCTION, "h", {"loggingConfig": {"logGroup": UNKNOWN}})]
    assert stack_violations(lambda_log_group_retention, stack) == []


# -- lambda-role-no-wildcard-actions -----------------------------------------------------------


def _role(name: str = "fn-role", trust: str = LAMBDA_TRUST, **props: Any) -> tuple[str, str, dict[str, Any]]:
    return (ROLE, name, {"name": name, "id": name, "arn": f"arn:aws:iam::1:role/{name}",
                         "assumeRolePolicy": trust, **props})


def test_named_actions_pass() -> None:
    stack = [_role(), (ROLE_POLICY, "p", {"role": "fn-role",
                                          "policy": _document("ssm:GetInventory", "ssm:PutComplianceItems")})]
    assert stack_violations(lambda_role_no_wildcards, stack) == []


@pytest.mark.parametrize("actions", [("ssm:*",), ("*",), ("ssm:Put*",), ("logs:CreateLogStream", "ssm:Get*")])
def test_wildcard_actions_in_a_role_policy_are_reported(actions: tuple[str, ...]) -> None:
    stack = [_role(), (ROLE_POLICY, "p", {"role": "fn-role", "policy": _document(*actions)})]
    [(where, message)] = stack_violations(lambda_role_no_wildcards, stack)
    assert where == urn(ROLE_POLICY, "p") and "fn-role" in message
    assert all(a in message for a in actions if "*" in a)


def test_not_action_inline_and_managed_documents_are_read() -> None:
    inline = _role(inlinePolicies=[{"name": "i", "policy": _document("ssm:GetInventory", not_action=True)}])
    [(where, message)] = stack_violations(lambda_role_no_wildcards, [inline])
    assert where == urn(ROLE, "fn-role") and "NotAction" in message
    managed = (MANAGED, "m", {"arn": "arn:aws:iam::1:policy/broad", "name": "broad",
                              "policy": _document("ssm:*")})
    attach = (ATTACHMENT, "a", {"role": "fn-role", "policyArn": "arn:aws:iam::1:policy/broad"})
    [(where, _)] = stack_violations(lambda_role_no_wildcards, [_role(), managed, attach])
    assert where == urn(MANAGED, "m")


def test_broad_aws_managed_policies_are_reported_configurably() -> None:
    attach = (ATTACHMENT, "a", {"role": "fn-role",
                                "policyArn": "arn:aws:iam::aws:policy/AmazonSSMFullAccess"})
    [(where, message)] = stack_violations(lambda_role_no_wildcards, [_role(), attach])
    assert where == urn(ATTACHMENT, "a") and "AmazonSSMFullAccess" in message
    allowed = {"forbiddenManagedPolicies": ["AdministratorAccess"]}
    assert stack_violations(lambda_role_no_wildcards, [_role(), attach], allowed) == []


def test_roles_other_services_assume_are_not_judged() -> None:
    stack = [_role(trust=EC2_TRUST), (ROLE_POLICY, "p", {"role": "fn-role", "policy": _document("s3:*")})]
    assert stack_violations(lambda_role_no_wildcards, stack) == []


# -- seeded mutations of the prod stack --------------------------------------------------------


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="prod") as server:
        yield server


def _first(resources: list[RecordedResource], type_: str) -> RecordedResource:
    return next(r for r in resources if r.type == type_)


def _no_retention(resources: list[RecordedResource]) -> str:
    group = _first(resources, LOG_GROUP)
    for props in (group.inputs, group.outputs):
        props.pop("retentionInDays", None)
    return group.urn


def _log_group_left_to_lambda(resources: list[RecordedResource]) -> str:
    group = _first(resources, LOG_GROUP)
    resources.remove(group)
    return _first(resources, FUNCTION).urn


def _ssm_star(resources: list[RecordedResource]) -> str:
    policy = next(r for r in resources
                  if r.type == ROLE_POLICY and "ssm:PutComplianceItems" in r.inputs["policy"])
    for props in (policy.inputs, policy.outputs):
        document = json.loads(props["policy"])
        document["Statement"][1]["Action"] = ["ssm:*"]
        props["policy"] = json.dumps(document)
    return policy.urn


def _old_runtime(resources: list[RecordedResource]) -> str:
    function = _first(resources, FUNCTION)
    for props in (function.inputs, function.outputs):
        props["runtime"] = "python3.11"
    return function.urn


@pytest.mark.parametrize(("mutation", "expected"), [
    (_old_runtime, "lambda-runtime-supported"),
    (_no_retention, "lambda-log-group-retention"),
    (_log_group_left_to_lambda, "lambda-log-group-retention"),
    (_ssm_star, "lambda-role-no-wildcard-actions"),
])
def test_mutation_of_prod_is_caught(mutation: Any, expected: str, prod: Recording,
                                    prod_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(prod.resources)
    assert _first(resources, FUNCTION)  # prod evaluates its software policy on a schedule
    assert not mandatory(prod_pack.check(copy.deepcopy(resources)))
    where = mutation(resources)
    diagnostics = mandatory(prod_pack.check(resources))
    assert {d.policy_name for d in diagnostics} == {expected}
    assert where in {d.urn for d in diagnostics}
