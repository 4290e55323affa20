"""Fleet-wide reporting: a Resource Data Sync that lands inventory in S3 for Athena.

The seed's "port data to Amazon Athena and QuickSight": Systems Manager writes every inventory
type (AWS:Application, AWS:InstanceInformation, AWS:Network, AWS:ComplianceItem, ...) as
JSON under ``<prefix>/<type>/accountid=/region=/resourcetype=/``, ready for a JsonSerDe table.
A sync covers the whole account and region (not one workload), so enable it in one stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def data_sync_statements(
    account_id: str, prefix: str, partition: Partition = COMMERCIAL
) -> Callable[[str], list[Statement]]:
    """What Systems Manager needs to deliver a sync (the documented bucket policy)."""
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
            {
                "Sid": "SSMBucketDelivery",
                "Effect": "Allow",
                "Principal": {"Service": ssm},
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
            },
        ]

    return statements


class InventoryReporting(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    sync_name: pulumi.Output[str]

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
                extra_statements=data_sync_statements(args.account_id, args.prefix, args.partition),
            ),
        )
        # Resource Data Syncs take no tags (policies exempt the type).
        sync = aws.ssm.ResourceDataSync(
            f"{name}-sync",
            aws.ssm.ResourceDataSyncArgs(
                name=args.sync_name,
                s3_destination=aws.ssm.ResourceDataSyncS3DestinationArgs(
                    bucket_name=bucket.bucket,
                    region=args.region,
                    prefix=args.prefix,
                    sync_format="JsonSerDe",
                ),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self.bucket_name = bucket.bucket
        self.sync_name = sync.name
        self.register_outputs({"bucketName": self.bucket_name, "syncName": self.sync_name})
