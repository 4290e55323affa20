"""Operator access: a read-only IAM policy for the people who check the fleet.

The seed's "more restrictive permissions" for users: exactly what ``fleetctl check`` and
``fleetctl inventory query`` call (registration, association status, inventory, compliance),
nothing that changes anything, limited to the stack's region. Attach it to an operator role
or group; on its own it grants nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# None of these supports resource-level permissions, hence Resource "*" (scoped by region).
FLEET_READ_ACTIONS = (
    "ec2:DescribeInstances",
    "ssm:DescribeInstanceInformation",
    "ssm:ListAssociations",
    "ssm:DescribeAssociation",
    "ssm:DescribeAssociationExecutions",
    "ssm:DescribeAssociationExecutionTargets",
    "ssm:DescribeInstanceAssociationsStatus",
    "ssm:GetInventory",
    "ssm:ListInventoryEntries",
    "ssm:ListResourceComplianceSummaries",
    "ssm:ListComplianceItems",
)


@dataclass
class OperatorAccessArgs:
    region: str
    tags: dict[str, str]
    path: str = "/"


def fleet_read_policy(region: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FleetInventoryReadOnly",
                    "Effect": "Allow",
                    "Action": list(FLEET_READ_ACTIONS),
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
                }
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
                policy=fleet_read_policy(args.region),
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})
