"""Private S3 buckets for the program's own data (execution logs, inventory sync).

Versioned, SSE-S3 encrypted, every public access path blocked, ACLs disabled, a TLS-only
policy (plus any service statements the caller needs), and expiring objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

Statement = dict[str, object]


@dataclass
class PrivateBucketArgs:
    tags: dict[str, str]
    retention_days: int
    protect: bool = False
    # Extra bucket-policy statements, given the bucket ARN (e.g. a service's delivery rights).
    extra_statements: Callable[[str], list[Statement]] | None = None
    # False for data rewritten in place and kept on purpose (the inventory sync: an unchanged
    # instance's file is current however old it is): only noncurrent versions expire then.
    expire_current_objects: bool = True


def tls_only_statement(bucket_arn: str) -> Statement:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(bucket_arn: str, extra: Callable[[str], list[Statement]] | None) -> str:
    statements = [tls_only_statement(bucket_arn), *(extra(bucket_arn) if extra else [])]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def private_bucket(
    owner: pulumi.ComponentResource, name: str, args: PrivateBucketArgs
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """Creates the bucket and its settings as children of ``owner``.

    Returns the bucket and the resources that must exist before anything writes to it.
    """
    child = pulumi.ResourceOptions(parent=owner)
    # protect blocks `pulumi destroy`; retain_on_delete keeps the bucket in AWS even if it
    # leaves the stack. Unprotected buckets may be emptied on destroy.
    bucket = aws.s3.Bucket(
        name,
        aws.s3.BucketArgs(force_destroy=not args.protect, tags=args.tags),
        pulumi.ResourceOptions(parent=owner, protect=args.protect, retain_on_delete=args.protect),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        child,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        child,
    )
    sse_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=sse_default(sse_algorithm="AES256"),
                )
            ],
        ),
        child,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        aws.s3.BucketVersioningInitArgs(
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
        ),
        child,
    )
    expiration = (
        aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days)
        if args.expire_current_objects
        else None
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        aws.s3.BucketLifecycleConfigurationArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-objects" if args.expire_current_objects else "expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=expiration,
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=7
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
        ),
        pulumi.ResourceOptions(parent=owner, depends_on=[versioning]),
    )
    # The policy waits for the public access block: S3 rejects some policy updates while
    # the block is being applied.
    extra = args.extra_statements
    policy = aws.s3.BucketPolicy(
        f"{name}-tls-only",
        aws.s3.BucketPolicyArgs(
            bucket=bucket.id, policy=bucket.arn.apply(lambda arn: bucket_policy(arn, extra))
        ),
        pulumi.ResourceOptions(parent=owner, depends_on=[public_access]),
    )
    return bucket, [public_access, ownership, encryption, policy]
