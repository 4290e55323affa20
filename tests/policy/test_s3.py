"""s3-bucket-hardening: public access block, encryption and TLS-only policy, joined by name."""

from __future__ import annotations

import json
from typing import Any

from ssm_policies.s3 import s3_bucket_hardening

from tests.policy.helpers import UNKNOWN, stack_violations, urn

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
         "restrictPublicBuckets": True}
TLS_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::logs-1", "arn:aws:s3:::logs-1/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
Res = tuple[str, str, dict[str, Any]]


def hardened(bucket: str = "logs-1", *, skip: str = "", policy: str = TLS_ONLY,
             flags: dict | None = None) -> list[Res]:
    resources: list[Res] = [(BUCKET, "logs", {"id": bucket, "bucket": bucket,
                                              "arn": f"arn:aws:s3:::{bucket}"})]
    if skip != "pab":
        resources.append((PAB, "logs-pab", {"bucket": bucket, **(flags or FLAGS)}))
    if skip != "sse":
        resources.append((SSE, "logs-sse", {"bucket": bucket, "rules": [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}))
    if skip != "policy":
        resources.append((POLICY, "logs-policy", {"bucket": bucket, "policy": policy}))
    return resources


def test_hardened_bucket_passes() -> None:
    assert stack_violations(s3_bucket_hardening, hardened()) == []


def test_each_missing_setting_is_named_on_the_bucket() -> None:
    for skip, name in (("pab", "public access block"), ("sse", "encryption"),
                       ("policy", "TLS-only policy")):
        [(where, message)] = stack_violations(s3_bucket_hardening, hardened(skip=skip))
        assert where == urn(BUCKET, "logs")
        assert name in message


def test_partial_public_access_block_does_not_count() -> None:
    flags = {**FLAGS, "restrictPublicBuckets": False}
    assert stack_violations(s3_bucket_hardening, hardened(flags=flags))


def test_policy_without_secure_transport_deny_does_not_count() -> None:
    allow_only = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*",
                                            "Action": "s3:GetObject", "Resource": "*"}]})
    assert stack_violations(s3_bucket_hardening, hardened(policy=allow_only))


def test_settings_for_another_bucket_do_not_count() -> None:
    resources = hardened()
    other = [(t, n, {**p, "bucket": "other"}) if t != BUCKET else (t, n, p)
             for t, n, p in resources]
    [(_, message)] = stack_violations(s3_bucket_hardening, other)
    assert "public access block" in message and "encryption" in message


def test_account_level_block() -> None:
    config = {"accountPublicAccessBlock": True}
    assert stack_violations(s3_bucket_hardening, hardened(skip="pab"), config) == []
    account = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", FLAGS)
    assert stack_violations(s3_bucket_hardening, [*hardened(skip="pab"), account]) == []


def test_inline_deprecated_settings_are_accepted() -> None:
    bucket = (BUCKET, "logs", {"id": "logs-1", "bucket": "logs-1", "policy": TLS_ONLY,
                               "serverSideEncryptionConfiguration": {"rules": [
                                   {"applyServerSideEncryptionByDefault":
                                    {"sseAlgorithm": "AES256"}}]}})
    pab = (PAB, "pab", {"bucket": "logs-1", **FLAGS})
    assert stack_violations(s3_bucket_hardening, [bucket, pab]) == []


def test_unknown_references_during_preview_are_not_judged() -> None:
    resources = [(t, n, {**p, "bucket": UNKNOWN}) if t != BUCKET else (t, n, p)
                 for t, n, p in hardened()]
    assert stack_violations(s3_bucket_hardening, resources) == []
    unknown_bucket = [(BUCKET, "logs", {"bucket": UNKNOWN, "id": UNKNOWN})]
    assert stack_violations(s3_bucket_hardening, unknown_bucket) == []
