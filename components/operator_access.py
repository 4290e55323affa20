"""Operator access: a read-only IAM policy for the people who check the fleet, and an
optional, separate one for those who also write the software policy's verdicts.

The seed's "more restrictive permissions" for users: exactly what ``fleetctl check``,
``fleetctl inventory query`` and ``fleetctl compliance evaluate|report`` call (registration,
association status, inventory, compliance, the console output of instances whose agent
failed to install), nothing that changes anything, limited to the stack's region, and to
this account's ARNs where the action allows resource-level permissions.

``fleetctl compliance evaluate --put`` writes compliance items: that one write lives in its
own policy (``complianceWriterPolicy``), attached only to whoever runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Which actions take resource-level permissions: Service Authorization Reference, "Actions,
# resources, and condition keys for AWS Systems Manager" and "... for Amazon EC2" (resource
# types column), and the Systems Manager user guide, "Working with associations using IAM"
# (State Manager checks a request only against the resources named in its parameters).

# No resource types in the reference: Resource "*" (still held to the region).
UNSCOPED_READ_ACTIONS = (
    "ec2:DescribeInstances",
    "ssm:DescribeInstanceInformation",
    "ssm:ListAssociations",
    "ssm:DescribeAssociationExecutions",
    "ssm:DescribeAssociationExecutionTargets",
    "ssm:GetInventory",
    # AWS:Application per node: GetInventory answers no such result type
    # (fleetctl/compliance/inventory.py).
    "ssm:ListInventoryEntries",
    "ssm:ListResourceComplianceSummaries",
    "ssm:ListComplianceItems",
)
# Resource type association (fleetctl passes AssociationId).
ASSOCIATION_READ_ACTIONS = ("ssm:DescribeAssociation",)
# Resource type instance (ec2:GetConsoleOutput: instance*, required; the SSM action also
# takes managed-instance, which only hybrid nodes have).
INSTANCE_READ_ACTIONS = ("ssm:DescribeInstanceAssociationsStatus", "ec2:GetConsoleOutput")

FLEET_READ_ACTIONS = UNSCOPED_READ_ACTIONS + ASSOCIATION_READ_ACTIONS + INSTANCE_READ_ACTIONS

# What `fleetctl compliance evaluate` reads (the fleet, its AWS:Application inventory) and
# `fleetctl compliance report` lists (summaries and items of every compliance type): all
# read-only, all in UNSCOPED_READ_ACTIONS above.
COMPLIANCE_READ_ACTIONS = (
    "ssm:DescribeInstanceInformation",
    "ssm:GetInventory",
    "ssm:ListInventoryEntries",  # per node, where GetInventory refuses AWS:Application
    "ssm:ListResourceComplianceSummaries",
    "ssm:ListComplianceItems",
)
# What `--put` adds. Resource types instance and managed-instance (Service Authorization
# Reference, Systems Manager: PutComplianceItems, Write): this account's nodes in the region.
COMPLIANCE_WRITE_ACTIONS = ("ssm:PutComplianceItems",)


def compliance_target_arns(region: str, account_id: str, partition: str = "aws") -> list[str]:
    """The nodes PutComplianceItems may write to: this account's EC2 instances and hybrid
    managed nodes in ``region``."""
    return [
        f"arn:{partition}:ec2:{region}:{account_id}:instance/*",
        f"arn:{partition}:ssm:{region}:{account_id}:managed-instance/*",
    ]


@dataclass
class OperatorAccessArgs:
    region: str
    tags: dict[str, str]
    account_id: str
    path: str = "/"
    partition: str = "aws"


def fleet_read_policy(region: str, account_id: str, partition: str = "aws") -> str:
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}

    def statement(sid: str, actions: tuple[str, ...], resource: str | list[str]) -> dict[str, object]:
        return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource,
                "Condition": in_region}

    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                statement("FleetInventoryReadOnly", UNSCOPED_READ_ACTIONS, "*"),
                statement("FleetAssociationsReadOnly", ASSOCIATION_READ_ACTIONS,
                          f"arn:{partition}:ssm:{region}:{account_id}:association/*"),
                statement("FleetInstancesReadOnly", INSTANCE_READ_ACTIONS,
                          f"arn:{partition}:ec2:{region}:{account_id}:instance/*"),
            ],
        }
    )


def compliance_writer_policy(region: str, account_id: str, partition: str = "aws") -> str:
    """Only ``ssm:PutComplianceItems`` on this account's nodes in ``region``: attached next
    to the read-only policy, it lets ``fleetctl compliance evaluate --put`` write verdicts."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PutComplianceItems",
            "Effect": "Allow",
            "Action": list(COMPLIANCE_WRITE_ACTIONS),
            "Resource": compliance_target_arns(region, account_id, partition),
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        }],
    })


def _managed_policy(
    owner: pulumi.ComponentResource, name: str, args: OperatorAccessArgs, description: str, document: str
) -> aws.iam.Policy:
    """One IAM managed policy of ``owner``, on the stack's IAM path and tags (attached by
    whoever grants access: the stack attaches it to nothing)."""
    return aws.iam.Policy(
        name,
        aws.iam.PolicyArgs(description=description, path=args.path, policy=document, tags=args.tags),
        pulumi.ResourceOptions(parent=owner),
    )


class OperatorAccess(pulumi.ComponentResource):
    policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:iam:OperatorAccess", name, None, opts)
        policy = _managed_policy(
            self,
            f"{name}-read-only",
            args,
            "Read-only view of the SSM fleet: registration, inventory "
            "association, inventory and compliance (fleetctl check)",
            fleet_read_policy(args.region, args.account_id, args.partition),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})


class ComplianceWriterAccess(pulumi.ComponentResource):
    """``complianceWriterPolicy``: the write of ``fleetctl compliance evaluate --put``."""

    policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:iam:ComplianceWriterAccess", name, None, opts)
        policy = _managed_policy(
            self,
            f"{name}-writer",
            args,
            "Writes compliance items (fleetctl compliance evaluate --put); "
            "attach together with the read-only operator policy",
            compliance_writer_policy(args.region, args.account_id, args.partition),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})
