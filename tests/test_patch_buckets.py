"""The S3 gateway endpoint lets patching and package updates through: the region table, and
each stack's endpoint policy per region and OS family (and still nothing else).

Source of the table: AWS Systems Manager User Guide, "Reference: Amazon S3 buckets for
patching operations" (patch-operations-s3-buckets), tables "Buckets containing SSM Command
documents for patching operations (Linux and Windows Server)" and "Buckets containing AWS
managed patch baseline snapshots", copied here row by row. Amazon Linux repositories: lab
facts §7 (AWS knowledge-center and Application Migration Service troubleshooting pages).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from components.endpoints import SSM_REGIONAL_BUCKETS
from components.patch_buckets import PATCH_MANAGER_BUCKETS, patching_buckets
from fleetctl.plan.mockrun import Recording, partial_recording, run_program

# Region code -> (aws-patch-manager bucket, patch-baseline-snapshot bucket), as the guide lists.
USER_GUIDE_ROWS = {
    "us-east-2": ("aws-patch-manager-us-east-2-552881074", "patch-baseline-snapshot-us-east-2"),
    "us-east-1": ("aws-patch-manager-us-east-1-1970c647d", "patch-baseline-snapshot-us-east-1"),
    "us-west-1": ("aws-patch-manager-us-west-1-8badb4304", "patch-baseline-snapshot-us-west-1"),
    "us-west-2": ("aws-patch-manager-us-west-2-34d7f99f8", "patch-baseline-snapshot-us-west-2"),
    "af-south-1": ("aws-patch-manager-af-south-1-bdd5f65a9", "patch-baseline-snapshot-af-south-1-tbxdb5b9"),
    "ap-east-1": ("aws-patch-manager-ap-east-1-632356271", "patch-baseline-snapshot-ap-east-1"),
    "ap-south-2": ("aws-patch-manager-ap-south-2-32f4b4128", "patch-baseline-snapshot-ap-south-2-50209442"),
    "ap-southeast-3": ("aws-patch-manager-ap-southeast-3-aa48fc462",
                       "patch-baseline-snapshot-ap-southeast-3-be0a3174"),
    "ap-southeast-4": ("aws-patch-manager-ap-southeast-4-01e2c40d3",
                       "patch-baseline-snapshot-ap-southeast-4-dc6f76ce"),
    "ap-south-1": ("aws-patch-manager-ap-south-1-cb7c62ff9", "patch-baseline-snapshot-ap-south-1"),
    "ap-northeast-3": ("aws-patch-manager-ap-northeast-3-67373598a",
                       "patch-baseline-snapshot-ap-northeast-3"),
    "ap-northeast-2": ("aws-patch-manager-ap-northeast-2-10467995c",
                       "patch-baseline-snapshot-ap-northeast-2"),
    "ap-southeast-1": ("aws-patch-manager-ap-southeast-1-7fdfd9ef7",
                       "patch-baseline-snapshot-ap-southeast-1"),
    "ap-southeast-2": ("aws-patch-manager-ap-southeast-2-17283a275",
                       "patch-baseline-snapshot-ap-southeast-2"),
    "ap-northeast-1": ("aws-patch-manager-ap-northeast-1-4849fa78f",
                       "patch-baseline-snapshot-ap-northeast-1"),
    "ca-central-1": ("aws-patch-manager-ca-central-1-3148e69e3", "patch-baseline-snapshot-ca-central-1"),
    "ca-west-1": ("aws-patch-manager-ca-west-1-9e3a4b2f9", "patch-baseline-snapshot-ca-west-1"),
    "eu-central-1": ("aws-patch-manager-eu-central-1-9163fdaaf", "patch-baseline-snapshot-eu-central-1"),
    "eu-west-1": ("aws-patch-manager-eu-west-1-5522fb710", "patch-baseline-snapshot-eu-west-1"),
    "eu-west-2": ("aws-patch-manager-eu-west-2-902a2bc74", "patch-baseline-snapshot-eu-west-2"),
    "eu-south-1": ("aws-patch-manager-eu-south-1-c52f3f594", "patch-baseline-snapshot-eu-south-1"),
    "eu-west-3": ("aws-patch-manager-eu-west-3-29bf85721", "patch-baseline-snapshot-eu-west-3"),
    "eu-south-2": ("aws-patch-manager-eu-south-2-a4cf248b1", "patch-baseline-snapshot-eu-south-2-df2c9d70"),
    "eu-north-1": ("aws-patch-manager-eu-north-1-795879e9b", "patch-baseline-snapshot-eu-north-1"),
    "eu-central-2": ("aws-patch-manager-eu-central-2-184ce43c8", "patch-baseline-snapshot-eu-central-2"),
    "il-central-1": ("aws-patch-manager-il-central-1-e221cb57b", "patch-baseline-snapshot-il-central-1"),
    "me-south-1": ("aws-patch-manager-me-south-1-a53fc9dce", "patch-baseline-snapshot-me-south-1-uduvl7q8"),
    "me-central-1": ("aws-patch-manager-me-central-1-2932f2f80", "patch-baseline-snapshot-me-central-1"),
    "sa-east-1": ("aws-patch-manager-sa-east-1-ddf4b6a09", "patch-baseline-snapshot-sa-east-1"),
}

AL2023 = [{"role": "WebServer", "count": 1}]
AL2 = [{"role": "WebServer", "count": 1, "os": "amazon-linux-2"}]
MIXED = [
    {"role": "WebServer", "count": 1},
    {"role": "AppServer", "count": 1, "os": "amazon-linux-2"},
    {"role": "UbuntuServer", "count": 1, "os": "ubuntu-24.04"},
]


@pytest.mark.parametrize("region", sorted(USER_GUIDE_ROWS))
def test_region_table_matches_the_user_guide(region: str) -> None:
    assert PATCH_MANAGER_BUCKETS[region] == USER_GUIDE_ROWS[region]
    assert patching_buckets(region, [])[:2] == list(USER_GUIDE_ROWS[region])


def test_the_table_lists_exactly_the_guides_regions() -> None:
    assert set(PATCH_MANAGER_BUCKETS) == set(USER_GUIDE_ROWS)


def test_suffixed_regions_use_the_suffixed_names() -> None:
    """me-south-1 and af-south-1 (lab facts §7): the plain names do not exist there."""
    assert patching_buckets("me-south-1", []) == [
        "aws-patch-manager-me-south-1-a53fc9dce", "patch-baseline-snapshot-me-south-1-uduvl7q8"]
    assert "patch-baseline-snapshot-af-south-1-tbxdb5b9" in patching_buckets("af-south-1", [])


def test_amazon_linux_repositories_only_for_the_families_present() -> None:
    assert patching_buckets("eu-west-1", ["amazon-linux-2023"])[2:] == ["al2023-repos-eu-west-1-de612dc2"]
    assert patching_buckets("eu-west-1", ["amazon-linux-2"])[2:] == [
        "amazonlinux-2-repos-eu-west-1", "amazonlinux.eu-west-1.amazonaws.com"]
    assert patching_buckets("eu-west-1", ["ubuntu-24.04", "windows-2022"])[2:] == []


def test_an_unknown_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        patching_buckets("ap-southeast-5", ["amazon-linux-2023"])
    message = str(caught.value)
    assert "aws:region: ap-southeast-5 has no Patch Manager buckets" in message
    assert "ssm-inventory:patching.enabled" in message


def test_an_unknown_region_stops_the_stack_before_anything_is_registered() -> None:
    with pytest.raises(ConfigError, match="aws:region: ap-southeast-5") as caught:
        run_program("dev", overrides={"aws:region": "ap-southeast-5"})
    recording = partial_recording(caught.value)
    assert recording is not None and [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]
    # The same region without patching deploys (the table only matters when patching is on).
    run_program("dev", overrides={"aws:region": "ap-southeast-5", "patching": {"enabled": False}})


def _s3_policy(recording: Recording) -> dict[str, Any]:
    endpoint = recording.one("aws:ec2/vpcEndpoint:VpcEndpoint", "ssm-endpoints-s3")
    return dict(json.loads(endpoint.inputs["policy"]))


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any] | None:
    return next((s for s in policy["Statement"] if s["Sid"] == sid), None)


@pytest.mark.parametrize(
    ("region", "fleet", "repositories"),
    [
        ("us-east-1", AL2023, ["al2023-repos-us-east-1-de612dc2"]),
        ("eu-west-1", AL2, ["amazonlinux-2-repos-eu-west-1", "amazonlinux.eu-west-1.amazonaws.com"]),
        ("me-south-1", MIXED, ["al2023-repos-me-south-1-de612dc2", "amazonlinux-2-repos-me-south-1",
                               "amazonlinux.me-south-1.amazonaws.com"]),
        ("af-south-1", [{"role": "WebServer", "count": 1, "os": "windows-2022"}], []),
    ],
)
def test_endpoint_policy_lets_the_regions_patch_buckets_through(
    region: str, fleet: list[dict[str, Any]], repositories: list[str]
) -> None:
    recording = run_program("dev", overrides={"aws:region": region, "fleet": fleet, "natGateway": True})
    policy = _s3_policy(recording)
    patching = _statement(policy, "PatchingAndPackageUpdates")
    assert patching is not None
    assert patching["Action"] == "s3:GetObject"
    expected = [*USER_GUIDE_ROWS[region], *repositories]
    assert patching["Resource"] == [f"arn:aws:s3:::{bucket}/*" for bucket in expected]
    # Still nothing else: the SSM buckets of the region and the patching buckets (dev has no
    # log bucket and no workload buckets).
    allowed = {f"arn:aws:s3:::{b.format(region=region)}/*" for b in SSM_REGIONAL_BUCKETS}
    allowed |= {f"arn:aws:s3:::{bucket}/*" for bucket in expected}
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert resources == allowed


def test_without_patching_the_endpoint_policy_is_unchanged() -> None:
    recording = run_program("dev", overrides={"patching": {"enabled": False}})
    policy = _s3_policy(recording)
    assert _statement(policy, "PatchingAndPackageUpdates") is None
    assert [s["Sid"] for s in policy["Statement"]] == ["SsmRegionalBuckets"]


def test_prod_policy_keeps_its_log_bucket_and_adds_patching(prod: Recording) -> None:
    policy = _s3_policy(prod)
    assert [s["Sid"] for s in policy["Statement"]] == [
        "SsmRegionalBuckets", "PatchingAndPackageUpdates", "InventoryExecutionLogs"]
    patching = _statement(policy, "PatchingAndPackageUpdates")
    assert patching is not None and "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/*" in patching["Resource"]


def test_instance_role_may_read_exactly_the_patching_buckets(prod: Recording) -> None:
    """With a VPC endpoint the instance profile must allow the AWS-owned buckets explicitly
    (user guide, "SSM Agent communications with AWS managed S3 buckets")."""
    inline = prod.one("aws:iam/rolePolicy:RolePolicy", "managed-instances-patching-buckets")
    (statement,) = json.loads(inline.inputs["policy"])["Statement"]
    assert statement["Action"] == "s3:GetObject"
    buckets = patching_buckets("us-east-1", ["amazon-linux-2023"])
    assert statement["Resource"] == [f"arn:aws:s3:::{b}/*" for b in buckets]
    profile = prod.one("aws:iam/instanceProfile:InstanceProfile", "managed-instances-profile")
    assert inline.urn in profile.dependencies
    unpatched = run_program("prod", overrides={"patching": {"enabled": False}})
    assert not [r for r in unpatched.by_type("aws:iam/rolePolicy:RolePolicy") if "patching" in r.name]
