"""Operator access: a read-only IAM policy for the people who check the fleet.

The seed's "more restrictive permissions" for users: exactly what ``fleetctl check`` and
``fleetctl inventory query`` call (registration, association status, inventory, compliance,
the console output of instances whose agent failed to install), nothing that changes
anything, limited to the stack's region, and to this account's ARNs where the action allows
resource-level permissions.
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


class OperatorAccess(pulumi.ComponentResource):
    policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:iam:OperatorAccess", name, None, opts)
        policy = aws.iam.Policy(
            f"{name}-read-only",
            aws.iam.PolicyArgs(
                description="Read-only view of the SSM fleet: registration, inventory "
                "association, inventory and compliance (fleetctl check)",
                path=args.path,
                policy=fleet_read_policy(args.region, args.account_id, args.partition),
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})
