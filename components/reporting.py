"""Fleet-wide reporting: Resource Data Syncs that land inventory in one S3 bucket for Athena.

The seed's "collect and aggregate data from multiple AWS accounts and Regions ... port data to
Amazon Athena and QuickSight": Systems Manager writes every inventory type (AWS:Application,
AWS:InstanceInformation, AWS:Network, AWS:ComplianceItem, ...) as JSON under
``<prefix>/<type>/accountid=/region=/resourcetype=/``.

- ``InventoryReporting`` (a *central* stack): the bucket, whose policy accepts syncs from this
  account and from each source account (each only under its own ``accountid=`` prefix), and
  this account's own syncs into it.
- ``InventorySyncs`` (a *sending* stack): this account's syncs into another stack's bucket.

A sync covers a whole account and region (not one workload): one per account and region, at
most 5 per account (lab facts §4), which components/config/reporting.py enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.buckets import PrivateBucketArgs, Statement, private_bucket
from components.partition import COMMERCIAL, Partition


@dataclass
class InventoryReportingArgs:
    sync_name: str
    region: str
    account_id: str
    tags: dict[str, str]
    prefix: str = "inventory"
    retention_days: int = 365
    protect: bool = False
    partition: Partition = COMMERCIAL
    # Other accounts whose syncs this bucket accepts.
    source_accounts: Sequence[str] = ()
    # Regions this account syncs from into the bucket; None: the stack's region only.
    sync_regions: Sequence[str] | None = None


@dataclass
class InventorySyncsArgs:
    sync_name: str
    region: str  # the stack's region
    destination_bucket: str
    destination_region: str
    sync_regions: Sequence[str] = field(default_factory=list)
    prefix: str = "inventory"


def _delivery_statement(sid: str, bucket_arn: str, account_id: str, prefix: str,
                        partition: Partition) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": partition.service_principal("ssm")},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{prefix}/*/accountid={account_id}/*",
        "Condition": {
            "StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceAccount": account_id,
            },
            "ArnLike": {
                "aws:SourceArn": f"arn:{partition.name}:ssm:*:{account_id}:resource-data-sync/*"
            },
        },
    }


def data_sync_statements(
    account_id: str, prefix: str, partition: Partition = COMMERCIAL,
    source_accounts: Sequence[str] = (),
) -> Callable[[str], list[Statement]]:
    """What Systems Manager needs to deliver syncs (the documented bucket policy, SSM user
    guide "Configuring resource data sync for Inventory"): one delivery statement per account,
    each confined to that account's ``accountid=`` prefix by resource and conditions."""
    ssm = partition.service_principal("ssm")

    def statements(bucket_arn: str) -> list[Statement]:
        return [
            {
                "Sid": "SSMBucketPermissionsCheck",
                "Effect": "Allow",
                "Principal": {"Service": ssm},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
            },
            _delivery_statement("SSMBucketDelivery", bucket_arn, account_id, prefix, partition),
            *(
                _delivery_statement(f"SSMBucketDelivery{source}", bucket_arn, source, prefix, partition)
                for source in source_accounts
                if source != account_id
            ),
        ]

    return statements


def create_syncs(
    owner: pulumi.ComponentResource, name: str, sync_name: str, stack_region: str,
    sync_regions: Sequence[str], bucket_name: pulumi.Input[str], bucket_region: str, prefix: str,
    depends_on: Sequence[pulumi.Resource] = (),
) -> list[aws.ssm.ResourceDataSync]:
    """One sync per region into the bucket. The stack region's sync is ``<name>-sync`` (its
    original URN); other regions get ``<name>-sync-<region>`` through a provider of theirs."""
    syncs = []
    for region in sync_regions:
        opts = pulumi.ResourceOptions(parent=owner, depends_on=list(depends_on))
        resource_name = f"{name}-sync"
        if region != stack_region:
            provider = aws.Provider(f"{name}-{region}", aws.ProviderArgs(region=region),
                                    pulumi.ResourceOptions(parent=owner))
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider))
            resource_name = f"{name}-sync-{region}"
        # Resource Data Syncs take no tags (policies exempt the type).
        syncs.append(aws.ssm.ResourceDataSync(
            resource_name,
            aws.ssm.ResourceDataSyncArgs(
                name=sync_name,
                s3_destination=aws.ssm.ResourceDataSyncS3DestinationArgs(
                    bucket_name=bucket_name,
                    region=bucket_region,
                    prefix=prefix,
                    sync_format="JsonSerDe",
                ),
            ),
            opts,
        ))
    return syncs


class InventoryReporting(pulumi.ComponentResource):
    """The central bucket and this account's syncs into it."""

    bucket_name: pulumi.Output[str]
    sync_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: InventoryReportingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:reporting:InventoryReporting", name, None, opts)
        bucket, ready = private_bucket(
            self,
            f"{name}-bucket",
            PrivateBucketArgs(
                tags=args.tags,
                retention_days=args.retention_days,
                protect=args.protect,
                extra_statements=data_sync_statements(
                    args.account_id, args.prefix, args.partition, args.source_accounts
                ),
                # The sync rewrites each instance's file in place and keeps a deleted
                # instance's last one: current objects never expire, old versions do.
                expire_current_objects=False,
            ),
        )
        regions = [args.region] if args.sync_regions is None else list(args.sync_regions)
        syncs = create_syncs(self, name, args.sync_name, args.region, regions, bucket.bucket,
                             args.region, args.prefix, depends_on=ready)
        self.bucket_name = bucket.bucket
        self.sync_name = syncs[0].name if syncs else None
        self.register_outputs({"bucketName": self.bucket_name, "syncName": self.sync_name})


class InventorySyncs(pulumi.ComponentResource):
    """This account's syncs into a central stack's bucket (in this or another account)."""

    sync_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: InventorySyncsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:reporting:InventorySyncs", name, None, opts)
        syncs = create_syncs(self, name, args.sync_name, args.region, args.sync_regions,
                             args.destination_bucket, args.destination_region, args.prefix)
        self.sync_name = syncs[0].name if syncs else None
        self.register_outputs({"syncName": self.sync_name})
