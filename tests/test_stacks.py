"""The dev and prod stacks from their real stack files, end to end under mocks."""

from __future__ import annotations

import json
import re

import pytest

from components.amis import SUPPORTED_OS
from fleetctl.plan.mockrun import RecordedResource, Recording, run_program
from tests.conftest import is_taggable, tags_of

INSTANCE = "aws:ec2/instance:Instance"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ASSOCIATION = "aws:ssm/association:Association"
BUCKET = "aws:s3/bucket:Bucket"

EXPECTED_OUTPUTS = {
    "vpcId", "privateSubnetIds", "endpointSecurityGroupId", "endpointIds", "instanceRoleArn",
    "instanceRoleName", "instanceProfileName", "instanceIds", "associationId",
    "associationName", "inventoryTargets", "operatorPolicyArn", "availabilityZoneIds",
}


def _inventory_association(rec: Recording) -> RecordedResource:
    (association,) = [a for a in rec.by_type(ASSOCIATION)
                      if a.inputs["name"] == "AWS-GatherSoftwareInventory"]
    return association


def _counts(rec: Recording) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rec.resources:
        counts[r.type] = counts.get(r.type, 0) + 1
    return counts


def test_dev_counts(dev: Recording) -> None:
    counts = _counts(dev)
    assert counts[INSTANCE] == 4
    assert counts["aws:ec2/subnet:Subnet"] == 2
    assert counts[ENDPOINT] == 5  # ssm, ec2messages, ec2, ssmmessages + s3 gateway
    assert counts[ASSOCIATION] == 2  # inventory + the one patch scan
    assert BUCKET not in counts  # execution logs are off in dev
    assert "aws:ec2/internetGateway:InternetGateway" not in counts
    assert "aws:ec2/natGateway:NatGateway" not in counts
    assert counts["ssm-inventory:network:Network"] == 1
    assert counts["ssm-inventory:fleet:WorkloadFleet"] == 1


def test_prod_has_protected_log_bucket(prod: Recording) -> None:
    bucket = prod.one(BUCKET, "inventory-logs")
    assert bucket.protect and bucket.retain_on_delete
    association = _inventory_association(prod)
    location = association.inputs["outputLocation"]
    assert location["s3BucketName"] == bucket.outputs["bucket"]
    assert location["s3KeyPrefix"] == "inventory-execution-logs"
    assert prod.outputs["logBucketName"] == bucket.outputs["bucket"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_resource_carries_common_tags(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    workload = {"dev": "Test", "prod": "Prod"}[stack]
    taggable = [r for r in rec.resources if r.custom and is_taggable(r)]
    assert len(taggable) >= 15
    for resource in taggable:
        tags = tags_of(resource)
        assert tags.get("Environment") == "OELabIPM", resource.urn
        assert tags.get("Workload") == workload, resource.urn
        assert tags.get("Owner") == "platform-team", resource.urn


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_instances_follow_the_lab_tags_and_security_baseline(
    stack: str, request: pytest.FixtureRequest
) -> None:
    rec: Recording = request.getfixturevalue(stack)
    workload = {"dev": "Test", "prod": "Prod"}[stack]
    names = sorted(tags_of(i)["Name"] for i in rec.by_type(INSTANCE))
    assert names == sorted(f"{workload}-{r}{n}" for r in ("Web", "App") for n in (1, 2))
    subnets = {r.outputs["id"] for r in rec.by_type("aws:ec2/subnet:Subnet")}
    for instance in rec.by_type(INSTANCE):
        i = instance.inputs
        tags = tags_of(instance)
        assert tags["SSMManaged"] == "True"
        assert tags["Patch Group"] == "Critical"
        assert tags["InstanceRole"] in {"WebServer", "AppServer"}
        assert i["metadataOptions"]["httpTokens"] == "required"
        assert i["metadataOptions"]["httpPutResponseHopLimit"] == 1
        assert i["rootBlockDevice"]["encrypted"] is True
        assert i["rootBlockDevice"]["volumeType"] == "gp3"
        assert i["associatePublicIpAddress"] is False
        assert "keyName" not in i
        assert i["subnetId"] in subnets
        assert i["iamInstanceProfile"] == rec.outputs["instanceProfileName"]
    # Spread: each role's instances land in different AZs.
    web = [i.inputs["subnetId"] for i in rec.by_type(INSTANCE) if tags_of(i)["InstanceRole"] == "WebServer"]
    assert len(set(web)) == 2


def test_targets_are_disjoint_between_dev_and_prod(dev: Recording, prod: Recording) -> None:
    def targets(rec: Recording) -> dict[str, list[str]]:
        association = _inventory_association(rec)
        return {t["key"]: t["values"] for t in association.inputs["targets"]}

    dev_targets, prod_targets = targets(dev), targets(prod)
    assert set(dev_targets) == set(prod_targets) == {"tag:Environment", "tag:Workload"}
    assert dev_targets["tag:Workload"] != prod_targets["tag:Workload"]
    # No instance of one stack matches the other stack's targets (all keys must match).
    for rec, other in ((dev, prod_targets), (prod, dev_targets)):
        for instance in rec.by_type(INSTANCE):
            tags = tags_of(instance)
            matches = all(tags.get(k.removeprefix("tag:")) in v for k, v in other.items())
            assert not matches, instance.urn
    assert dev.outputs["associationName"] != prod.outputs["associationName"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_outputs_present_for_stack_references(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    assert set(rec.outputs) >= EXPECTED_OUTPUTS
    assert set(rec.outputs["endpointIds"]) == {"ssm", "ec2messages", "ec2", "ssmmessages", "s3"}
    assert len(rec.outputs["instanceIds"]) == 4
    assert all(v.startswith("i-") for v in rec.outputs["instanceIds"].values())
    assert rec.outputs["instanceRoleArn"].startswith("arn:aws:iam::")
    assert len(rec.outputs["privateSubnetIds"]) == 2
    json.dumps(rec.outputs)  # plain JSON for stack references


def test_dev_has_no_log_bucket_output(dev: Recording) -> None:
    # Pulumi drops exports whose value is None: stack references read it as null.
    assert dev.outputs.get("logBucketName") is None


def test_every_child_is_parented_to_a_component(dev: Recording) -> None:
    components = {r.urn for r in dev.resources if not r.custom}
    for resource in dev.resources[1:]:
        assert resource.parent in components, resource.urn
        if resource.custom:
            assert resource.parent != dev.stack_urn, f"{resource.urn} is not inside a component"


def test_instances_wait_for_the_endpoints(dev: Recording) -> None:
    # depends_on a component expands to its children: every endpoint must be up first.
    endpoint_urns = {r.urn for r in dev.by_type(ENDPOINT)}
    for instance in dev.by_type(INSTANCE):
        assert endpoint_urns <= set(instance.dependencies), instance.urn


def test_prod_syncs_inventory_to_s3_for_athena(prod: Recording, dev: Recording) -> None:
    (sync,) = prod.by_type("aws:ssm/resourceDataSync:ResourceDataSync")
    destination = sync.inputs["s3Destination"]
    bucket = prod.one(BUCKET, "reporting-bucket")
    assert destination["bucketName"] == bucket.outputs["bucket"]
    assert destination["syncFormat"] == "JsonSerDe"
    assert sync.inputs["name"] == prod.outputs["resourceDataSyncName"] == "ssm-inventory-prod"
    # A sync is account-wide: only one of the two stacks makes one.
    assert not dev.by_type("aws:ssm/resourceDataSync:ResourceDataSync")
    assert dev.outputs.get("resourceDataSyncName") is None


# Characters every AWS service accepts in tag keys and values (EC2 is laxer; S3, IAM and SSM
# are not), so one tag set works on every resource.
PORTABLE_TAG = re.compile(r"^[\w .:/=+\-@]*$")


def test_tags_use_portable_characters_for_every_os() -> None:
    # The first role is prod's install window role; Ubuntu, RHEL and Windows patch through a
    # NAT gateway (config refuses them without one).
    fleet = [{"role": "WebServer" if i == 0 else f"R{i}", "count": 1, "os": os}
             for i, os in enumerate(SUPPORTED_OS)]
    rec = run_program("prod", overrides={"fleet": fleet, "natGateway": True})
    tagged = [r for r in rec.resources if r.custom and is_taggable(r)]
    assert len(rec.by_type(INSTANCE)) == len(SUPPORTED_OS)
    for resource in tagged:
        for key, value in tags_of(resource).items():
            assert PORTABLE_TAG.match(key) and PORTABLE_TAG.match(value), (resource.urn, key, value)
            assert len(key) <= 128 and len(value) <= 256


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stacks_log_no_warning(stack: str, request: pytest.FixtureRequest) -> None:
    """No pulumi.log.warn from the program: pulumi-aws logs one for every use of a deprecated
    resource type (e.g. ``BucketVersioningV2 is deprecated``), so this also pins that the
    program uses only current types (their SDK classes alias the V2 types: no replacement)."""
    rec: Recording = request.getfixturevalue(stack)
    assert rec.warnings == []
    assert not [r.type for r in rec.resources if r.type.endswith("V2")]


def test_empty_fleet_warns_with_the_endpoint_cost() -> None:
    """Interface endpoints bill per endpoint per AZ per hour whether or not an instance uses
    them: USD 0.01 in us-east-1 (aws.amazon.com/privatelink/pricing), 730 hours a month."""
    rec = run_program("dev", overrides={"fleet": [{"role": "WebServer", "count": 0}]})
    assert not rec.by_type("aws:ec2/instance:Instance")
    assert len(rec.warnings) == 1
    # 4 interface endpoints (the default) x 2 AZs x 0.01 x 730 = 58.40
    assert "4 interface endpoint(s) in 2 AZ(s) still cost about USD 58 a month" in rec.warnings[0]
    assert "estimate" in rec.warnings[0]
