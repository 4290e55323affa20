"""Inventory collection: the State Manager association that runs AWS-GatherSoftwareInventory.

Targets are the fleet's ``Environment`` AND ``Workload`` tags, so that two workload stacks in
one account never target the same instance (an instance touched by two inventory
associations gets no inventory at all). Execution logs optionally go to a bucket made here:
versioned, encrypted, private, TLS-only, expiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.buckets import PrivateBucketArgs, private_bucket
from components.schedule import validate_schedule

INVENTORY_DOCUMENT = "AWS-GatherSoftwareInventory"


@dataclass
class InventoryCollectionArgs:
    association_name: str
    schedule: str
    parameters: dict[str, str]
    target_tags: dict[str, str]
    region: str
    tags: dict[str, str]
    compliance_severity: str = "MEDIUM"
    execution_logs: bool = False
    log_key_prefix: str = "inventory-execution-logs/"
    log_retention_days: int = 90
    protect_log_bucket: bool = False


def association_targets(target_tags: dict[str, str]) -> list[dict[str, Any]]:
    """One target per tag key: State Manager requires all of them to match."""
    return [{"key": f"tag:{key}", "values": [value]} for key, value in target_tags.items()]


class InventoryCollection(pulumi.ComponentResource):
    association_id: pulumi.Output[str]
    association_name: pulumi.Output[str]
    targets: list[dict[str, Any]]
    log_bucket_name: pulumi.Output[str] | None
    log_bucket_arn: pulumi.Output[str] | None
    log_key_prefix: str

    def __init__(
        self, name: str, args: InventoryCollectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Config has checked it already; a component used on its own must not pass a
        # schedule State Manager would refuse at deploy time.
        schedule = validate_schedule(args.schedule)
        super().__init__("ssm-inventory:inventory:InventoryCollection", name, None, opts)
        self.targets = association_targets(args.target_tags)
        self.log_key_prefix = args.log_key_prefix
        self.log_bucket_name = None
        self.log_bucket_arn = None

        output_location = None
        association_depends: list[pulumi.Resource] = []
        if args.execution_logs:
            bucket, ready = self._log_bucket(name, args)
            self.log_bucket_name = bucket.bucket
            self.log_bucket_arn = bucket.arn
            association_depends = ready
            output_location = aws.ssm.AssociationOutputLocationArgs(
                s3_bucket_name=bucket.bucket,
                s3_key_prefix=args.log_key_prefix.rstrip("/"),
                s3_region=args.region,
            )

        association = aws.ssm.Association(
            f"{name}-association",
            aws.ssm.AssociationArgs(
                name=INVENTORY_DOCUMENT,
                association_name=args.association_name,
                schedule_expression=schedule,
                parameters=args.parameters,
                targets=[
                    aws.ssm.AssociationTargetArgs(key=t["key"], values=t["values"])
                    for t in self.targets
                ],
                output_location=output_location,
                compliance_severity=args.compliance_severity,
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=association_depends),
        )

        self.association_id = association.association_id
        self.association_name = association.association_name.apply(lambda n: n or "")
        self.register_outputs(
            {
                "associationId": self.association_id,
                "associationName": self.association_name,
                "logBucketName": self.log_bucket_name,
            }
        )

    def _log_bucket(
        self, name: str, args: InventoryCollectionArgs
    ) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        """The execution-log bucket and the resources that must exist before logs are written."""
        return private_bucket(
            self,
            f"{name}-logs",
            PrivateBucketArgs(
                tags=args.tags,
                retention_days=args.log_retention_days,
                protect=args.protect_log_bucket,
            ),
        )
