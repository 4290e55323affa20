"""Instance role: what every managed instance needs to talk to Systems Manager.

Trusts EC2, carries ``AmazonSSMManagedInstanceCore`` (never the deprecated
``AmazonEC2RoleforSSM``), and, when execution logs are on, may write to that bucket prefix
and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.partition import COMMERCIAL, Partition

SSM_CORE_POLICY_NAME = "AmazonSSMManagedInstanceCore"
SSM_CORE_POLICY = COMMERCIAL.aws_managed_policy(SSM_CORE_POLICY_NAME)


@dataclass
class InstanceRoleArgs:
    tags: dict[str, str]
    path: str = "/"
    permissions_boundary: str | None = None
    log_bucket_arn: pulumi.Input[str] | None = None
    log_key_prefix: str = ""
    partition: Partition = COMMERCIAL
    # AWS-owned buckets patching reads (components/patch_buckets.py): with a VPC endpoint
    # the instance profile must allow them explicitly (Systems Manager user guide, "SSM
    # Agent communications with AWS managed S3 buckets"; "Reference: Amazon S3 buckets for
    # patching operations").
    patch_buckets: list[str] = field(default_factory=list)


def log_writer_policy(bucket_arn: str, prefix: str) -> str:
    """Least privilege for the agent's execution-log upload (lab facts §2)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteExecutionLogs",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{prefix}*",
                },
                {
                    "Sid": "ReadBucketEncryption",
                    "Effect": "Allow",
                    "Action": "s3:GetEncryptionConfiguration",
                    "Resource": bucket_arn,
                },
            ],
        }
    )


def patch_reader_policy(buckets: list[str], partition: Partition) -> str:
    """Read access to the patching buckets, and nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadPatchingBuckets",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": [f"arn:{partition.name}:s3:::{b}/*" for b in buckets],
                }
            ],
        }
    )


class InstanceRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    instance_profile_name: pulumi.Output[str]
    instance_profile_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: InstanceRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:iam:InstanceRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                assume_role_policy=args.partition.trust_policy("ec2"),
                description="ManagedInstancesRole: lets EC2 instances register with Systems Manager",
                path=args.path,
                permissions_boundary=args.permissions_boundary,
                tags=args.tags,
            ),
            child,
        )
        core = aws.iam.RolePolicyAttachment(
            f"{name}-ssm-core",
            aws.iam.RolePolicyAttachmentArgs(
                role=role.name,
                policy_arn=args.partition.aws_managed_policy(SSM_CORE_POLICY_NAME),
            ),
            child,
        )
        profile_depends: list[pulumi.Resource] = [core]
        if args.log_bucket_arn is not None:
            prefix = args.log_key_prefix
            logs = aws.iam.RolePolicy(
                f"{name}-execution-logs",
                aws.iam.RolePolicyArgs(
                    role=role.id,
                    policy=pulumi.Output.from_input(args.log_bucket_arn).apply(
                        lambda arn: log_writer_policy(arn, prefix)
                    ),
                ),
                child,
            )
            profile_depends.append(logs)

        if args.patch_buckets:
            patching = aws.iam.RolePolicy(
                f"{name}-patching-buckets",
                aws.iam.RolePolicyArgs(
                    role=role.id, policy=patch_reader_policy(args.patch_buckets, args.partition)),
                child,
            )
            profile_depends.append(patching)

        # The profile waits for the policies so an instance never boots with a bare role.
        profile = aws.iam.InstanceProfile(
            f"{name}-profile",
            aws.iam.InstanceProfileArgs(role=role.name, path=args.path, tags=args.tags),
            pulumi.ResourceOptions(parent=self, depends_on=profile_depends),
        )

        self.role_arn = role.arn
        self.role_name = role.name
        self.instance_profile_name = profile.name
        self.instance_profile_arn = profile.arn
        self.register_outputs(
            {
                "roleArn": self.role_arn,
                "roleName": self.role_name,
                "instanceProfileName": self.instance_profile_name,
            }
        )
