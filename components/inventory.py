"""Inventory collection: the State Manager association that runs AWS-GatherSoftwareInventory.

Targets are the fleet's ``Environment`` AND ``Workload`` tags, so that two workload stacks in
one account never target the same instance (an instance touched by two inventory
associations gets no inventory at all). Execution logs optionally go to a bucket made here:
versioned, encrypted, private, TLS-only, expiring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

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


def association_targets(target_tags: dict[str, str]) -> list[dict[str, object]]:
    """One target per tag key: State Manager requires all of them to match."""
    return [{"key": f"tag:{key}", "values": [value]} for key, value in target_tags.items()]


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class InventoryCollection(pulumi.ComponentResource):
    association_id: pulumi.Output[str]
    association_name: pulumi.Output[str]
    targets: list[dict[str, object]]
    log_bucket_name: pulumi.Output[str] | None
    log_bucket_arn: pulumi.Output[str] | None
    log_key_prefix: str

    def __init__(
        self, name: str, args: InventoryCollectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
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
                schedule_expression=args.schedule,
                parameters=args.parameters,
                targets=[
                    aws.ssm.AssociationTargetArgs(key=str(t["key"]), values=list(t["values"]))  # type: ignore[call-overload]
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
        child = pulumi.ResourceOptions(parent=self)
        # Prod keeps its logs: protect blocks `pulumi destroy`, retain_on_delete keeps the
        # bucket in AWS even if it leaves the stack.
        bucket = aws.s3.Bucket(
            f"{name}-logs",
            aws.s3.BucketArgs(force_destroy=not args.protect_log_bucket, tags=args.tags),
            pulumi.ResourceOptions(
                parent=self,
                protect=args.protect_log_bucket,
                retain_on_delete=args.protect_log_bucket,
            ),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-public-access",
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
            f"{name}-logs-ownership",
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            ),
            child,
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"
                        ),
                    )
                ],
            ),
            child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-logs-versioning",
            aws.s3.BucketVersioningInitArgs(
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                    status="Enabled"
                ),
            ),
            child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-execution-logs",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=args.log_retention_days
                        ),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=7
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=1
                        ),
                    )
                ],
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        # The policy waits for the public access block: S3 rejects some policies while the
        # block is being applied.
        policy = aws.s3.BucketPolicy(
            f"{name}-logs-tls-only",
            aws.s3.BucketPolicyArgs(bucket=bucket.id, policy=bucket.arn.apply(tls_only_policy)),
            pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        return bucket, [public_access, ownership, encryption, policy]
