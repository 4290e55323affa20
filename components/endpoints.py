"""VPC endpoints that let instances in private subnets reach Systems Manager without internet.

Interface endpoints (private DNS on, one subnet per AZ) behind a security group that admits
HTTPS from the VPC only, and an S3 gateway endpoint whose policy lets through the AWS-owned
SSM buckets of the region (agent updates, documents, patch snapshots) and the project's own
log bucket, and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

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
    partition: str = "aws"


def s3_endpoint_policy(region: str, log_bucket: str | None, partition: str = "aws") -> str:
    """Endpoint policy: read the SSM buckets of ``region``; write execution logs to ours."""
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
                    service_name=f"com.amazonaws.{args.region}.{service}",
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
                lambda bucket: s3_endpoint_policy(args.region, bucket, args.partition)
            )
            if args.log_bucket_name is not None
            else s3_endpoint_policy(args.region, None, args.partition)
        )
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            aws.ec2.VpcEndpointArgs(
                vpc_id=args.vpc_id,
                service_name=f"com.amazonaws.{args.region}.s3",
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
