"""The software policy, evaluated in AWS on a schedule (``softwarePolicy.schedule``).

An EventBridge schedule runs a Lambda function (the repo's own ``fleetctl.compliance``
engine, :mod:`components.lambda_package`) that reads the fleet's ``AWS:Application``
inventory, judges it against the stack's policy and writes the verdicts as the compliance
type ``Custom:SoftwarePolicy``, next to Association and Patch on the Compliance page.

- The function: a Python runtime Lambda supports well past today (see ``RUNTIME``), no VPC
  (it only calls the regional Systems Manager API), named ``<workload>-software-policy``
  so its log group can exist before its first run.
- Its role trusts ``lambda.amazonaws.com`` only and may do exactly three things in this
  account and region, per the Service Authorization Reference ("Actions, resources, and
  condition keys for AWS Systems Manager"): ``ssm:DescribeInstanceInformation``,
  ``ssm:GetInventory`` and ``ssm:ListInventoryEntries`` (no resource types: ``*``, held to the
  region by ``aws:RequestedRegion``), ``ssm:PutComplianceItems`` (resource types ``instance`` and
  ``managed-instance``: this account's ARNs in this region); and write to its own log group
  ("... for Amazon CloudWatch Logs": ``CreateLogStream`` / ``PutLogEvents`` take
  ``log-stream``). No ``logs:CreateLogGroup``: the stack creates the group.
- The log group ``/aws/lambda/<function>`` (Lambda developer guide, "Sending Lambda function
  logs to CloudWatch Logs": the default group's name) with a retention, created before the
  function so Lambda never makes one that keeps logs forever.
- An EventBridge rule on the schedule, its target the function, and the function's
  permission for ``events.amazonaws.com`` limited to that rule's ARN (EventBridge user guide,
  "Using resource-based policies for Amazon EventBridge", Lambda permissions).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.operator_access import COMPLIANCE_WRITE_ACTIONS, compliance_target_arns
from components.partition import COMMERCIAL, Partition

HANDLER = "fleetctl.compliance.handler.handler"
# Lambda developer guide, "Building Lambda functions with Python": python3.13 on Amazon
# Linux 2023, deprecated Jun 30, 2029 (python3.10 and 3.11: Jun 30, 2026; 3.12: Oct 31, 2028).
RUNTIME = aws.lambda_.Runtime.PYTHON3D13
# The most Lambda allows ("Configure Lambda function timeout": "up to a maximum value of 900
# seconds (15 minutes)"). The reads are one ListInventoryEntries page per 50 packages per node
# (GetInventory answers no AWS:Application): with 400 packages a node, 1,000 nodes took 158 s
# against the stand-in at 20 ms and 10 % throttling (benchmarks/compliance_bench.py
# --packages 400), so 900 s holds a few thousand nodes; a run cut short writes nothing wrong
# (each node's put is whole) and the next run starts over.
TIMEOUT_SECONDS = 900
MEMORY_MB = 256

# Lambda API reference, CreateFunction FunctionName: "If you specify only the function
# name, it is limited to 64 characters in length", letters, digits, '-' and '_'.
FUNCTION_NAME_MAX = 64
FUNCTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
FUNCTION_SUFFIX = "-software-policy"

# Service Authorization Reference (see the module docstring): what each action is judged on.
# The handler's reads: the fleet, its inventory in batches, and per node where an account's
# GetInventory refuses AWS:Application (fleetctl/compliance/aws.py). No resource types: "*".
FLEET_READ_ACTIONS = ("ssm:DescribeInstanceInformation", "ssm:GetInventory", "ssm:ListInventoryEntries")
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")  # log-stream


# CloudWatch Logs API reference, PutRetentionPolicy retentionInDays (botocore's logs model,
# shape Days): "Possible values are: 1, 3, 5, ..., 3653"; anything else is refused.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)


def log_retention(days: int) -> int:
    """The shortest retention CloudWatch Logs accepts that keeps logs at least ``days``
    (the stack's ``inventory.logRetentionDays``, any number from 1 to 3650)."""
    return next(allowed for allowed in LOG_RETENTION_DAYS if allowed >= days)


def function_name(workload: str) -> str:
    """``<workload>-software-policy`` in Lambda's alphabet ('.' of a workload becomes '-'),
    within 64 characters: a long workload is cut and keeps a digest of its full name, so two
    stacks never share a name."""
    slug = re.sub(r"[^A-Za-z0-9_-]", "-", workload)
    name = f"{slug}{FUNCTION_SUFFIX}"
    if len(name) <= FUNCTION_NAME_MAX:
        return name
    digest = hashlib.sha256(workload.encode()).hexdigest()[:8]
    keep = FUNCTION_NAME_MAX - len(FUNCTION_SUFFIX) - len(digest) - 1
    return f"{slug[:keep]}-{digest}{FUNCTION_SUFFIX}"


def log_group_name(function: str) -> str:
    """The group Lambda writes a function's logs to unless told otherwise."""
    return f"/aws/lambda/{function}"


def function_policy(region: str, account_id: str, log_group: str, partition: Partition) -> str:
    """The function role's only permissions: read the fleet and its inventory, put compliance
    items on this account's nodes, write to its own log group; all in ``region``."""
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadFleetInventory", "Effect": "Allow", "Action": list(FLEET_READ_ACTIONS),
             "Resource": "*", "Condition": in_region},
            {"Sid": "PutSoftwarePolicyCompliance", "Effect": "Allow",
             "Action": list(COMPLIANCE_WRITE_ACTIONS),
             "Resource": compliance_target_arns(region, account_id, partition.name),
             "Condition": in_region},
            {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": list(LOG_WRITE_ACTIONS),
             "Resource": f"arn:{partition.name}:logs:{region}:{account_id}:log-group:"
                         f"{log_group}:log-stream:*"},
        ],
    })


@dataclass
class SoftwarePolicyScheduleArgs:
    workload: str
    environment_tag: str
    schedule: str  # an EventBridge schedule expression, validated in components/config/software_policy.py
    code: pulumi.Archive  # components.lambda_package.lambda_archive(...)
    region: str
    account_id: str
    log_retention_days: int  # any number of days; rounded up to one CloudWatch Logs accepts
    tags: dict[str, str]
    iam_path: str = "/"
    permissions_boundary: str | None = None
    partition: Partition = COMMERCIAL


class SoftwarePolicySchedule(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    rule_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: SoftwarePolicyScheduleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:compliance:SoftwarePolicySchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function = function_name(args.workload)
        logs = log_group_name(function)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=logs, retention_in_days=log_retention(args.log_retention_days),
                tags=args.tags),
            child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                description=f"{args.workload}: software policy function (reads inventory, "
                "puts Custom:SoftwarePolicy compliance)",
                assume_role_policy=args.partition.trust_policy("lambda"),
                path=args.iam_path,
                permissions_boundary=args.permissions_boundary,
                tags=args.tags,
            ),
            child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-permissions",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=function_policy(args.region, args.account_id, logs, args.partition),
            ),
            child,
        )
        lambda_function = aws.lambda_.Function(
            f"{name}-function",
            aws.lambda_.FunctionArgs(
                name=function,
                description=f"{args.workload}: evaluates the software policy against "
                "AWS:Application inventory, writes Custom:SoftwarePolicy compliance",
                role=role.arn,
                runtime=RUNTIME,
                handler=HANDLER,
                code=args.code,
                timeout=TIMEOUT_SECONDS,
                memory_size=MEMORY_MB,
                environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                    "FLEET_WORKLOAD": args.workload,
                    "FLEET_ENVIRONMENT": args.environment_tag,
                }),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                    log_format="Text", log_group=log_group.name),
                tags=args.tags,
            ),
            # The role's permissions and the log group exist before the first run.
            pulumi.ResourceOptions(parent=self, depends_on=[role_policy, log_group]),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-schedule",
            aws.cloudwatch.EventRuleArgs(
                description=f"{args.workload}: evaluate the software policy",
                schedule_expression=args.schedule,
                tags=args.tags,
            ),
            child,
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            aws.lambda_.PermissionArgs(
                action="lambda:InvokeFunction",
                function=lambda_function.name,
                principal=args.partition.service_principal("events"),
                source_arn=rule.arn,
            ),
            child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=lambda_function.arn),
            child,
        )

        self.function_name = lambda_function.name
        self.function_arn = lambda_function.arn
        self.role_arn = role.arn
        self.log_group_name = log_group.name
        self.rule_name = rule.name
        self.register_outputs({
            "functionName": self.function_name, "functionArn": self.function_arn,
            "roleArn": self.role_arn, "logGroupName": self.log_group_name,
            "ruleName": self.rule_name,
        })
