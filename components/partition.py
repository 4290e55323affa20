"""The AWS partition a stack deploys into, and every name that differs between partitions.

ARNs start ``arn:<partition>:``; service principals, hostnames and VPC endpoint service names
are built from the partition's DNS suffix and reverse-DNS prefix, as the provider's
``aws.get_partition()`` reports them (``aws``: ``amazonaws.com`` / ``com.amazonaws``;
``aws-us-gov``: the same; ``aws-cn``: ``amazonaws.com.cn`` / ``cn.com.amazonaws``).

Supported: ``aws`` and ``aws-us-gov`` (tests run both stacks in us-gov-west-1). Other
partitions (China, the ISO regions) are refused with a config error naming ``aws:region``:
their images, SSM buckets and endpoint services are not verified here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi_aws as aws

from components.config import ConfigError

SUPPORTED_PARTITIONS = ("aws", "aws-us-gov")


@dataclass(frozen=True)
class Partition:
    name: str = "aws"
    dns_suffix: str = "amazonaws.com"
    reverse_dns_prefix: str = "com.amazonaws"

    def service_principal(self, service: str) -> str:
        """``ec2`` -> ``ec2.amazonaws.com`` (an IAM trust policy's service principal)."""
        return f"{service}.{self.dns_suffix}"

    def trust_policy(self, service: str) -> str:
        """An IAM role trust policy letting only ``service`` (``ec2``, ``ssm``) assume the role."""
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": self.service_principal(service)},
                "Action": "sts:AssumeRole",
            }],
        })

    def endpoint_service(self, region: str, service: str) -> str:
        """``ssm`` -> ``com.amazonaws.us-east-1.ssm`` (a VPC endpoint's service name)."""
        return f"{self.reverse_dns_prefix}.{region}.{service}"

    def s3_url(self, region: str) -> str:
        """The regional S3 endpoint, ``https://s3.us-east-1.amazonaws.com``."""
        return f"https://s3.{region}.{self.dns_suffix}"

    def aws_managed_policy(self, name: str) -> str:
        """``AmazonSSMManagedInstanceCore`` -> its ARN in this partition."""
        return f"arn:{self.name}:iam::aws:policy/{name}"


COMMERCIAL = Partition()


def unsupported_partition_message(region: str, partition: str) -> str:
    return (
        "invalid stack config:\n"
        f"  aws:region: {region} is in the {partition} partition, which this program does not "
        "support; supported: aws (the commercial regions) and aws-us-gov (us-gov-west-1, "
        "us-gov-east-1)"
    )


def current_partition(region: str) -> Partition:
    """The stack's partition, from the provider; ConfigError (before anything is registered)
    when it is not one this program supports."""
    found = aws.get_partition()
    if found.partition not in SUPPORTED_PARTITIONS:
        raise ConfigError(unsupported_partition_message(region, found.partition))
    return Partition(found.partition, found.dns_suffix, found.reverse_dns_prefix)


def require_same_partition(key: str, arn: str | None, partition: Partition) -> None:
    """An ARN given in config (``key``) must be of the stack's partition: IAM refuses a
    commercial policy ARN in GovCloud at deploy time."""
    if arn is not None and not arn.startswith(f"arn:{partition.name}:"):
        raise ConfigError(
            "invalid stack config:\n"
            f"  {key}: {arn} is not an ARN of this stack's partition {partition.name} "
            f"(expected arn:{partition.name}:...)"
        )
