"""Lambda functions that work on the fleet (such as a scheduled compliance evaluator):

- each function runs on a runtime Lambda still supports: after a runtime's deprecation date
  it gets no security patches, and later functions on it can no longer be created or updated
  (Lambda developer guide, "Lambda runtimes", runtime deprecation policy);

- each function's log group is in the stack with a retention. Lambda writes to
  ``/aws/lambda/<function name>`` unless ``loggingConfig.logGroup`` names another, and creates
  that group itself at the first run when it does not exist: then it keeps logs forever and
  is no longer managed by the stack (Lambda developer guide, "Sending Lambda function logs to
  CloudWatch Logs" and "Configuring CloudWatch log groups");
- a role that Lambda assumes allows no action pattern with ``*`` (``ssm:*``, ``ssm:Put*``,
  ``*``), no ``NotAction``, and has no broad AWS managed policy attached: a function that
  runs unattended on a schedule gets the named actions it calls (IAM user guide, "Security
  best practices in IAM": apply least-privilege permissions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ._base import resource_policy, settings, stack_policy, string_list
from ._index import StackIndex
from ._props import get, is_unknown, items, last_segment, maybe_json, strings

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"

LOGS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
LEAST_PRIVILEGE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"


# -- supported runtime ---------------------------------------------------------------------------

RUNTIMES_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
# Deprecated by AWS as of November 2026: the runtimes pulumi-aws lists apart as legacy in its
# Runtime enum (python2.7-3.8, nodejs10.x-16.x, dotnet5.0/7, dotnetcore2.1/3.1, java8, go1.x,
# provided, ruby2.5/2.7) and their older siblings, plus, from the Lambda developer guide's
# runtime tables: python3.9 (Dec 15, 2025), python3.10 and 3.11 (Jun 30, 2026), nodejs18.x
# (Sep 1, 2025), dotnet6 (Dec 20, 2024).
DEPRECATED_RUNTIMES = [
    "python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11",
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
    "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x",
    "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet5.0",
    "dotnet6", "dotnet7", "ruby2.5", "ruby2.7", "go1.x", "provided",
]
RUNTIME_SCHEMA = {
    "deprecatedRuntimes": string_list(
        "Lambda runtime identifiers that must not be used (deprecated by AWS).", DEPRECATED_RUNTIMES),
}


def _validate_runtime(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FUNCTION:
        return
    runtime = get(args.props, "runtime")
    if not isinstance(runtime, str) or is_unknown(runtime):
        return  # container images have no runtime; unknown: judged at update
    if runtime in settings(args, RUNTIME_SCHEMA)["deprecatedRuntimes"]:
        report(f"Runtime {runtime} is deprecated by AWS: no more security patches, and Lambda "
               "will refuse to create or update functions on it.", None)


lambda_runtime_supported = resource_policy(
    name="lambda-runtime-supported",
    description="Lambda functions run on a runtime AWS has not deprecated.",
    severity=Severity.MEDIUM,
    remediation_steps="Move the function to a supported runtime of its language (Python: "
    "python3.13 or python3.12), test it, and update deprecatedRuntimes as AWS deprecates more.",
    url=RUNTIMES_DOC,
    validate=_validate_runtime,
    config=RUNTIME_SCHEMA,
    tags=["lambda"],
)


# -- log group with a retention ----------------------------------------------------------------


def function_log_group(props: Any) -> Any:
    """The group a function logs to: ``loggingConfig.logGroup``, else ``/aws/lambda/<name>``
    (UNKNOWN while the name is not known)."""
    custom = get(props, "loggingConfig", "logGroup")
    if is_unknown(custom) or (isinstance(custom, str) and custom):
        return custom
    name = get(props, "name")
    if is_unknown(name) or not isinstance(name, str) or not name:
        return None if not is_unknown(name) else name
    return f"/aws/lambda/{name}"


def _validate_log_groups(args: StackValidationArgs, report: ReportViolation) -> None:
    index = StackIndex(args.resources)
    groups = {get(g.props, "name"): g for g in index.of(LOG_GROUP)}
    for function in index.of(FUNCTION):
        name = function_log_group(function.props)
        if not isinstance(name, str) or is_unknown(name):
            continue
        group = groups.get(name)
        if group is None:
            report(f"The function's log group {name} is not in the stack: Lambda creates it at "
                   "the first run, keeping logs forever and outside the stack.", function.urn)
            continue
        retention = get(group.props, "retentionInDays")
        if is_unknown(retention):
            continue
        if not isinstance(retention, int | float) or retention <= 0:
            report(f"Log group {name} of a Lambda function has no retentionInDays: its logs "
                   "are kept forever.", group.urn)


lambda_log_group_retention = stack_policy(
    name="lambda-log-group-retention",
    description="Each Lambda function's log group (/aws/lambda/<name> or loggingConfig."
    "logGroup) is defined in the stack with a retention.",
    severity=Severity.MEDIUM,
    remediation_steps="Create aws.cloudwatch.LogGroup named /aws/lambda/<function name> with "
    "retention_in_days (e.g. 90) before the function (depends_on), or point the function's "
    "logging_config.log_group at such a group.",
    url=LOGS_DOC,
    validate=_validate_log_groups,
    tags=["lambda", "logging"],
)


# -- least privilege for Lambda roles ------------------------------------------------------------

WILDCARD_SCHEMA = {
    "forbiddenManagedPolicies": string_list(
        "AWS managed policies (names or ARNs) too broad for a Lambda role.",
        ["AdministratorAccess", "PowerUserAccess", "AmazonSSMFullAccess", "AmazonEC2FullAccess"],
    ),
}


def _statements(document: Any) -> list[Any]:
    statements = get(maybe_json(document), "Statement")
    return [statements] if isinstance(statements, Mapping) else items(statements)


def trusts_lambda(role: PolicyResource) -> bool:
    """The role's trust policy lets a ``lambda.<dns suffix>`` service principal assume it."""
    for statement in _statements(get(role.props, "assumeRolePolicy")):
        if get(statement, "Effect") != "Allow":
            continue
        services = strings(get(statement, "Principal", "Service"))
        if any(service.startswith("lambda.") for service in services):
            return True
    return False


def broad_grants(document: Any) -> list[str]:
    """What an IAM document allows too broadly: action patterns with ``*``, ``NotAction``."""
    found: list[str] = []
    for statement in _statements(document):
        if get(statement, "Effect") != "Allow":
            continue
        found.extend(a for a in strings(get(statement, "Action")) if "*" in a)
        if get(statement, "NotAction") is not None:
            found.append("NotAction")
    return found


def _validate_lambda_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    forbidden = {last_segment(p) for p in settings(args, WILDCARD_SCHEMA)["forbiddenManagedPolicies"]}
    index = StackIndex(args.resources)
    roles = {get(r.props, "name"): r for r in index.of(ROLE) if trusts_lambda(r)}
    roles.pop(None, None)
    documents: dict[str, list[tuple[PolicyResource, Any]]] = defaultdict(list)
    for role in roles.values():
        for inline in items(get(role.props, "inlinePolicies")):
            documents[get(role.props, "name")].append((role, get(inline, "policy")))
    for inline in index.of(ROLE_POLICY):
        role_ref = get(inline.props, "role")
        if isinstance(role_ref, str) and last_segment(role_ref) in roles:
            documents[last_segment(role_ref)].append((inline, get(inline.props, "policy")))
    for attachment in index.of(ROLE_ATTACHMENT):
        role_ref, arn = get(attachment.props, "role"), get(attachment.props, "policyArn")
        if not (isinstance(role_ref, str) and last_segment(role_ref) in roles):
            continue
        if not isinstance(arn, str) or is_unknown(arn):
            continue
        managed = index.find(arn, MANAGED_POLICY)
        if managed is not None:
            documents[last_segment(role_ref)].append((managed, get(managed.props, "policy")))
        elif last_segment(arn) in forbidden:
            report(f"Lambda role {last_segment(role_ref)} has the broad AWS managed policy "
                   f"{last_segment(arn)} attached.", attachment.urn)
    for role_name, found in documents.items():
        for where, document in found:
            broad = broad_grants(document)
            if broad:
                report(f"Lambda role {role_name} is allowed {', '.join(sorted(set(broad)))}: "
                       "name the actions the function calls.", where.urn)


lambda_role_no_wildcards = stack_policy(
    name="lambda-role-no-wildcard-actions",
    description="Roles that Lambda assumes allow named actions only: no '*' in an action, no "
    "NotAction, no broad AWS managed policy.",
    severity=Severity.HIGH,
    remediation_steps="List the exact actions the function calls (e.g. ssm:GetInventory, "
    "ssm:PutComplianceItems) in the role's policy, scoped to ARNs where the action takes "
    "them, instead of ssm:* or a managed full-access policy.",
    url=LEAST_PRIVILEGE_DOC,
    validate=_validate_lambda_roles,
    config=WILDCARD_SCHEMA,
    tags=["lambda", "iam"],
)

POLICIES = [lambda_runtime_supported, lambda_log_group_retention, lambda_role_no_wildcards]
