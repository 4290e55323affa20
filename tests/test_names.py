"""Every name the program derives fits the service's length and character rules, for any
workload the config accepts: checked at the longest allowed workload, with every optional
resource on; one character more is refused before anything is registered.

Limits and their sources:
- Resource Data Sync name: 1-64 characters (SSM API reference, CreateResourceDataSync SyncName;
  botocore ssm service-2.json shape ResourceDataSyncName).
- Association name: ^[a-zA-Z0-9_\\-.]{3,128}$ (SSM API reference, CreateAssociation
  AssociationName; botocore shape AssociationName).
- S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, beginning and
  ending with a letter or digit, no two adjacent dots, not an IP address, no xn-- prefix and no
  -s3alias suffix (Amazon S3 User Guide, "General purpose bucket naming rules").
- IAM: role names 1-64, instance profile and policy names 1-128, of [\\w+=,.@-] (IAM API
  reference; botocore iam shapes roleNameType, instanceProfileNameType, policyNameType).
- Security group name and description: up to 255 of a-z A-Z 0-9 spaces ._-:/()#,@[]+=&;{}!$*
  (EC2 API reference, CreateSecurityGroup GroupName and Description).
- Tag values: up to 256 of letters, digits, spaces and _ . : / = + - @ (botocore ssm/iam
  TagValue shapes; the EC2 tag restrictions in the EC2 User Guide, "Tag restrictions").
- Lambda function name: at most 64 characters of [a-zA-Z0-9-_] (Lambda API reference,
  CreateFunction FunctionName; botocore lambda shape FunctionName), description at most 256;
  log group name 1-512 of [.-_/#A-Za-z0-9] (botocore logs shape LogGroupName).
- Autonamed resources: Pulumi appends "-" and a random suffix to the logical name (Pulumi docs,
  "Resource names", autonaming); the check allows 8 characters of suffix.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from components.config import WORKLOAD_MAX, ConfigError, FleetGroup, parse_stack_config
from components.fleet import instance_name
from fleetctl.plan.mockrun import Recording, run_program

LONGEST = "W" + "x" * (WORKLOAD_MAX - 2) + "9"
LONGEST_ROLE = "R" + "o" * 31  # FleetGroup.role allows 32 characters
AUTONAME_SUFFIX = 1 + 8

IAM_NAME = re.compile(r"^[\w+=,.@-]+$")
EC2_TEXT = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]*$")
ASSOCIATION_NAME = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")


def bucket_name_problem(name: str) -> str | None:
    """Amazon S3 User Guide, "General purpose bucket naming rules"."""
    if not 3 <= len(name) <= 63:
        return "length"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*[a-z0-9]", name) or ".." in name:
        return "characters"
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
        return "reserved prefix or suffix"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "IP address"


@pytest.fixture(scope="module")
def longest() -> Recording:
    return run_program(
        "prod",
        overrides={
            "ssm-inventory:workload": LONGEST,
            "ssm-inventory:operatorPolicy": "true",
            "ssm-inventory:complianceWriterPolicy": "true",
            "ssm-inventory:fleet": [{"role": LONGEST_ROLE, "count": 2, "os": "rhel-9"}],
            # Patching names things after the workload too (baselines, window, scan).
            "ssm-inventory:natGateway": True,
            "ssm-inventory:patching": {
                "enabled": True, "installWindow": {"enabled": True, "roles": [LONGEST_ROLE]},
                "alerts": {"enabled": True, "emails": ["ops@example.com"]},
            },
            "ssm-inventory:inventory": {
                "associationName": "InventoryAllInstances-" + "a" * 106,
                "executionLogs": True,
                "resourceDataSync": True,
            },
        },
    )


def _autonamed(logical: str, limit: int) -> None:
    assert len(logical) + AUTONAME_SUFFIX <= limit, logical


def test_the_longest_workload_still_makes_a_valid_sync_name(longest: Recording) -> None:
    [sync] = longest.by_type("aws:ssm/resourceDataSync:ResourceDataSync")
    name = sync.inputs["name"]
    assert name == f"ssm-inventory-{LONGEST.lower()}"
    assert len(name) == 64


def test_association_names_fit(longest: Recording) -> None:
    for association in longest.by_type("aws:ssm/association:Association"):
        assert ASSOCIATION_NAME.match(association.inputs["associationName"])


def test_bucket_names_fit(longest: Recording) -> None:
    buckets = longest.by_type("aws:s3/bucket:Bucket")
    assert len(buckets) == 3  # execution logs, the sync bucket and the Athena results bucket
    for bucket in buckets:
        assert "bucket" not in bucket.inputs  # autonamed from the logical name
        assert bucket_name_problem(bucket.outputs["bucket"]) is None
        _autonamed(bucket.name, 63)
        assert bucket_name_problem(bucket.name + "-abcdefgh") is None


@pytest.mark.parametrize(
    "type_token, limit",
    [
        ("aws:iam/role:Role", 64),
        ("aws:iam/instanceProfile:InstanceProfile", 128),
        ("aws:iam/policy:Policy", 128),
        ("aws:iam/rolePolicy:RolePolicy", 128),
    ],
)
def test_iam_names_fit(longest: Recording, type_token: str, limit: int) -> None:
    resources = longest.by_type(type_token)
    assert resources
    for resource in resources:
        name = resource.outputs["name"]
        assert IAM_NAME.match(name) and len(name) <= limit
        _autonamed(resource.name, limit)


def test_security_group_names_and_descriptions_fit(longest: Recording) -> None:
    groups = longest.by_type("aws:ec2/securityGroup:SecurityGroup")
    assert len(groups) == 2
    for group in groups:
        _autonamed(group.name, 255)
        description = group.inputs["description"]
        assert len(description) <= 255 and EC2_TEXT.match(description), description
    assert any(LONGEST in g.inputs["description"] for g in groups)


def _tag_values(resource: Any) -> list[str]:
    values = list((resource.inputs.get("tags") or {}).values())
    root = resource.inputs.get("rootBlockDevice") or {}
    return values + list((root.get("tags") or {}).values())


def test_every_tag_value_fits(longest: Recording) -> None:
    names = []
    for resource in longest.resources:
        for value in _tag_values(resource):
            assert len(value) <= 256 and TAG_VALUE.match(value), (resource.name, value)
        if resource.type == "aws:ec2/instance:Instance":
            names.append(resource.inputs["tags"]["Name"])
    assert names == [f"{LONGEST}-{LONGEST_ROLE}1", f"{LONGEST}-{LONGEST_ROLE}2"]


def test_the_name_tag_fits_at_the_largest_group() -> None:
    group = FleetGroup(role=LONGEST_ROLE, count=1000)
    name = instance_name(LONGEST, group, group.count)
    assert len(name) <= 256 and TAG_VALUE.match(name)


@pytest.mark.parametrize(
    "workload",
    [LONGEST + "x", "Test Env", "a/b", "team@corp", "-Test", "Prüfung", "", " "],
    ids=["one-too-long", "space", "slash", "at", "leading-dash", "non-ascii", "empty", "blank"],
)
def test_workloads_that_would_break_a_name_are_refused(workload: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"ssm-inventory:workload": workload})
    message = str(caught.value)
    assert "ssm-inventory:workload: must be 1 to 50 letters, digits, '_', '.' or '-'" in message
    assert "ssm-inventory-<workload>, at most 64 characters" in message


def test_refused_before_anything_is_registered() -> None:
    with pytest.raises(ConfigError, match="ssm-inventory:workload"):
        run_program("dev", overrides={"ssm-inventory:workload": LONGEST + "x"})


# botocore's SSM model: BaselineName, MaintenanceWindowName (and the window target's and
# task's names) are ^[a-zA-Z0-9_\-.]{3,128}$; the descriptions at most 128 characters
# (MaintenanceWindowDescription) or 1024 (BaselineDescription). EventBridge rule names are
# autonamed: at most 64 characters (PutRule Name).
SSM_NAME = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")


def test_patching_names_fit(longest: Recording) -> None:
    named = [
        *longest.by_type("aws:ssm/patchBaseline:PatchBaseline"),
        *longest.by_type("aws:ssm/maintenanceWindow:MaintenanceWindow"),
        *longest.by_type("aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget"),
        *longest.by_type("aws:ssm/maintenanceWindowTask:MaintenanceWindowTask"),
    ]
    assert len(named) == 4
    for resource in named:
        assert SSM_NAME.match(resource.inputs["name"]), resource.inputs["name"]
    for resource in named[1:]:
        assert len(resource.inputs["description"]) <= 128, resource.inputs["description"]
    assert any(LONGEST in r.inputs["name"] for r in named)
    for rule in longest.by_type("aws:cloudwatch/eventRule:EventRule"):
        _autonamed(rule.name, 64)


def test_software_policy_function_and_log_group_names_fit(longest: Recording) -> None:
    [function] = longest.by_type("aws:lambda/function:Function")
    name = function.inputs["name"]
    assert re.fullmatch(r"[a-zA-Z0-9\-_]{1,64}", name), name
    assert name.startswith(LONGEST[:20]) and name.endswith("-software-policy")
    assert len(function.inputs["description"]) <= 256
    [group] = longest.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == f"/aws/lambda/{name}"
    assert re.fullmatch(r"[.\-_/#A-Za-z0-9]{1,512}", group.inputs["name"])
