"""S3 buckets (inventory sync, execution logs) block public access, encrypt at rest and
refuse plain HTTP. With provider v7 these settings are separate resources that name the
bucket, so this is a stack policy joining them on the bucket name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from ._base import settings, stack_policy
from ._index import StackIndex
from ._props import as_bool, get, is_unknown, items, maybe_json, strings

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

SCHEMA = {
    "accountPublicAccessBlock": {
        "type": "boolean",
        "description": "The account-level S3 Block Public Access is enforced outside the "
        "stack, so per-bucket blocks are not required.",
        "default": False,
    },
}


def blocks_all(props: Any) -> bool:
    return all(as_bool(get(props, flag)) is True for flag in _BLOCK_FLAGS)


def encrypts(rules: Any) -> bool:
    return any(
        isinstance(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm"), str)
        for rule in items(rules)
    )


def denies_insecure_transport(document: Any) -> bool:
    """A Deny statement conditioned on aws:SecureTransport = false."""
    statements = get(maybe_json(document), "Statement")
    listed = [statements] if isinstance(statements, Mapping) else items(statements)
    for statement in listed:
        if get(statement, "Effect") != "Deny":
            continue
        condition = get(statement, "Condition", "Bool", "aws:SecureTransport")
        values = [condition] if isinstance(condition, bool | str) else items(condition)
        if any(str(v).lower() == "false" for v in values):
            return True
    return False


class _Companions:
    """Per bucket name: which settings some resource in the stack provides."""

    def __init__(self) -> None:
        self.provided: dict[str, set[str]] = defaultdict(set)
        self.unknown: set[str] = set()  # settings whose target bucket is unknown in preview

    def add(self, ref: Any, setting: str, ok: bool) -> None:
        if is_unknown(ref):
            self.unknown.add(setting)
        elif ok:
            for name in strings(ref):
                self.provided[name].add(setting)


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, SCHEMA)
    index = StackIndex(args.resources)
    companions = _Companions()
    account_block = cfg["accountPublicAccessBlock"] or any(
        blocks_all(r.props) for r in index.of(ACCOUNT_PUBLIC_ACCESS_BLOCK))
    for block in index.of(PUBLIC_ACCESS_BLOCK):
        companions.add(get(block.props, "bucket"), "public access block", blocks_all(block.props))
    for sse in index.of(*ENCRYPTION):
        companions.add(get(sse.props, "bucket"), "encryption", encrypts(get(sse.props, "rules")))
    for policy in index.of(BUCKET_POLICY):
        companions.add(get(policy.props, "bucket"), "TLS-only policy",
                       denies_insecure_transport(get(policy.props, "policy")))

    for bucket in index.of(*BUCKETS):
        missing = _missing(bucket, companions, account_block)
        if missing:
            name = get(bucket.props, "bucket", default=bucket.name)
            report(f"Bucket {name!r} lacks: {', '.join(missing)}.", bucket.urn)


def _missing(bucket: PolicyResource, companions: _Companions, account_block: bool) -> list[str]:
    names = {str(get(bucket.props, k)) for k in ("bucket", "id") if get(bucket.props, k)}
    if any(is_unknown(get(bucket.props, k)) for k in ("bucket", "id")) and not names:
        return []  # the bucket's own name is unknown in preview
    provided: set[str] = set()
    for name in names:
        provided |= companions.provided.get(name, set())
    # Inline (deprecated in v7, still accepted) settings on the bucket itself.
    if encrypts(get(bucket.props, "serverSideEncryptionConfiguration", "rules")):
        provided.add("encryption")
    if denies_insecure_transport(get(bucket.props, "policy")):
        provided.add("TLS-only policy")
    if account_block:
        provided.add("public access block")
    wanted = ["public access block", "encryption", "TLS-only policy"]
    return [w for w in wanted if w not in provided and w not in companions.unknown]


s3_bucket_hardening = stack_policy(
    name="s3-bucket-hardening",
    description="S3 buckets block all public access, have default encryption and a bucket "
    "policy denying requests without TLS.",
    severity=Severity.HIGH,
    remediation_steps="Add aws.s3.BucketPublicAccessBlock (all four flags true), "
    "aws.s3.BucketServerSideEncryptionConfiguration, and an aws.s3.BucketPolicy statement "
    "Deny s3:* when Bool aws:SecureTransport is false.",
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
    validate=_validate,
    config=SCHEMA,
    tags=["security", "s3"],
)

POLICIES = [s3_bucket_hardening]
