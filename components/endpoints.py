"""VPC endpoints that let instances in private subnets reach Systems Manager without internet.

Interface endpoints (private DNS on, one subnet per AZ) behind a security group that admits
HTTPS from the VPC only, and an S3 gateway endpoint whose policy lets through the AWS-owned
SSM buckets of the region (agent updates, documents, patch snapshots), with patching on the
region's Patch Manager and Amazon Linux repository buckets, the project's own log bucket and
the buckets the stack lists in ``s3EndpointAllowedBuckets``, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.partition import COMMERCIAL, Partition

# AWS-owned buckets SSM Agent reads from, per region (lab facts §2).
SSM_REGIONAL_BUCKETS = (
    "aws-ssm-{region}",
    "amazon-ssm-{region}",
    "amazon-ssm-packages-{region}",
    "{region}-birdwatcher-prod",
    "aws-ssm-document-attachments-{region}",
    "patch-baseline-snapshot-{region}",
    "aws-windows-downloads-{region}",
    "aws-ssm-distributor-file-{region}",
)

# Interface endpoint price in us-east-1 (USD per endpoint per AZ per hour), from the AWS
# PrivateLink pricing page (https://aws.amazon.com/privatelink/pricing/, "Interface Endpoint
# pricing"); other regions cost about the same or more. Data processing is extra.
INTERFACE_ENDPOINT_HOURLY_USD = 0.01
HOURS_PER_MONTH = 730  # AWS's own monthly-hours convention on its pricing pages


def monthly_endpoint_cost(services: int, az_count: int) -> float:
    """Estimated USD a month the interface endpoints cost while provisioned (no data)."""
    return services * az_count * INTERFACE_ENDPOINT_HOURLY_USD * HOURS_PER_MONTH


def empty_fleet_warning(services: int, az_count: int) -> str:
    """Why an empty fleet deserves a word: its endpoints bill by the hour all the same."""
    cost = monthly_endpoint_cost(services, az_count)
    return (
        f"the fleet has no instances, but its {services} interface endpoint(s) in {az_count} "
        f"AZ(s) still cost about USD {cost:.0f} a month (estimate: {services} x {az_count} x "
        f"USD {INTERFACE_ENDPOINT_HOURLY_USD}/hour x {HOURS_PER_MONTH} h, us-east-1 PrivateLink "
        "price, aws.amazon.com/privatelink/pricing); set fleet counts or destroy the stack"
    )


# What the workloads may do on the buckets of `s3EndpointAllowedBuckets`: read, write and
# delete objects (multipart uploads included, as the AWS CLI and SDKs use them for large
# files), list the bucket and find its region. Not granted: ACLs, bucket policies, tagging,
# versions, bucket configuration: administration does not belong on the fleet's data path.
WORKLOAD_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
WORKLOAD_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")


@dataclass
class SsmEndpointsArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Output[str]]
    route_table_ids: list[pulumi.Output[str]]
    services: list[str]
    region: str
    tags: dict[str, str]
    log_bucket_name: pulumi.Input[str] | None = None
    partition: Partition = COMMERCIAL
    workload_buckets: list[str] = field(default_factory=list)
    # AWS-owned buckets patching and package updates read (components/patch_buckets.py).
    patch_buckets: list[str] = field(default_factory=list)


def s3_endpoint_policy(
    region: str, log_bucket: str | None, partition: str = "aws",
    workload_buckets: Sequence[str] = (), patch_buckets: Sequence[str] = (),
) -> str:
    """Endpoint policy: read the SSM buckets of ``region``; write execution logs to ours; read
    the patching and package repository buckets (``patch_buckets``); the workloads' own
    buckets (``s3EndpointAllowedBuckets``), if any."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "SsmRegionalBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": [
                f"arn:{partition}:s3:::{bucket.format(region=region)}/*"
                for bucket in SSM_REGIONAL_BUCKETS
            ],
        }
    ]
    if patch_buckets:
        # Patch Manager's documents and baseline snapshots, and the Amazon Linux package
        # repositories: dnf/yum and AWS-RunPatchBaseline only read objects.
        statements.append(
            {
                "Sid": "PatchingAndPackageUpdates",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:{partition}:s3:::{bucket}/*" for bucket in patch_buckets],
            }
        )
    if log_bucket:
        statements.append(
            {
                "Sid": "InventoryExecutionLogs",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:GetEncryptionConfiguration"],
                "Resource": [
                    f"arn:{partition}:s3:::{log_bucket}",
                    f"arn:{partition}:s3:::{log_bucket}/*",
                ],
            }
        )
    if workload_buckets:
        # The endpoint decides every S3 request from the private subnets (its route wins
        # over 0.0.0.0/0 for S3 in the region, lab facts §7): without these statements the
        # workloads could reach no bucket of their own, NAT or not.
        statements += [
            {
                "Sid": "WorkloadBucketObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": list(WORKLOAD_OBJECT_ACTIONS),
                "Resource": [f"arn:{partition}:s3:::{b}/*" for b in workload_buckets],
            },
            {
                "Sid": "WorkloadBuckets",
                "Effect": "Allow",
                "Principal": "*",
                "Action": list(WORKLOAD_BUCKET_ACTIONS),
                "Resource": [f"arn:{partition}:s3:::{b}" for b in workload_buckets],
            },
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class SsmEndpoints(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]
    endpoint_ids: dict[str, pulumi.Output[str]]
    s3_endpoint_id: pulumi.Output[str]
    s3_prefix_list_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: SsmEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:endpoints:SsmEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags

        # No egress rules: endpoint ENIs only answer connections (security groups are stateful).
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description="HTTPS from inside the VPC to the Systems Manager endpoints",
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        description="HTTPS from the VPC",
                        protocol="tcp",
                        from_port=443,
                        to_port=443,
                        cidr_blocks=[args.vpc_cidr],
                    )
                ],
                tags={**tags, "Name": f"{name}-sg"},
            ),
            child,
        )

        self.endpoint_ids = {}
        for service in args.services:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                aws.ec2.VpcEndpointArgs(
                    vpc_id=args.vpc_id,
                    service_name=args.partition.endpoint_service(args.region, service),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=args.subnet_ids,
                    security_group_ids=[security_group.id],
                    tags={**tags, "Name": f"{name}-{service}"},
                ),
                child,
            )
            self.endpoint_ids[service] = endpoint.id

        policy: pulumi.Input[str] = (
            pulumi.Output.from_input(args.log_bucket_name).apply(
                lambda bucket: s3_endpoint_policy(
                    args.region, bucket, args.partition.name, args.workload_buckets,
                    args.patch_buckets,
                )
            )
            if args.log_bucket_name is not None
            else s3_endpoint_policy(args.region, None, args.partition.name, args.workload_buckets,
                                    args.patch_buckets)
        )
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            aws.ec2.VpcEndpointArgs(
                vpc_id=args.vpc_id,
                service_name=args.partition.endpoint_service(args.region, "s3"),
                vpc_endpoint_type="Gateway",
                route_table_ids=args.route_table_ids,
                policy=policy,
                tags={**tags, "Name": f"{name}-s3"},
            ),
            child,
        )
        self.endpoint_ids["s3"] = s3.id

        self.security_group_id = security_group.id
        self.s3_endpoint_id = s3.id
        self.s3_prefix_list_id = s3.prefix_list_id
        self.register_outputs(
            {"securityGroupId": self.security_group_id, "endpointIds": self.endpoint_ids}
        )
