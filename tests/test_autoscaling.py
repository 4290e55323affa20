"""Fleet groups of mode ``autoscaling``: one launch template and one Auto Scaling group that
carry what an ``instances`` group's instances carry, under mocks."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from components.amis import SUPPORTED_OS, agent_user_data
from fleetctl.plan.mockrun import Recording, run_program

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SUBNET = "aws:ec2/subnet:Subnet"

WEB_ASG = {"role": "WebServer", "count": 3, "mode": "autoscaling", "minCount": 2, "maxCount": 6}
APP_RHEL = {"role": "AppServer", "count": 2, "os": "rhel-9", "mode": "autoscaling",
            "rootVolumeSize": 20}


@pytest.fixture(scope="module")
def scaled() -> Recording:
    return run_program("dev", overrides={"fleet": [WEB_ASG, APP_RHEL], "natGateway": True})


@pytest.fixture(scope="module")
def mixed() -> Recording:
    """One group of each mode: the instance group is what the template must match."""
    return run_program("dev", overrides={"fleet": [
        {"role": "WebServer", "count": 1},
        {"role": "AppServer", "count": 2, "mode": "autoscaling"},
    ]})


def _tag_list(group: Any) -> dict[str, tuple[str, bool]]:
    return {t["key"]: (t["value"], t["propagateAtLaunch"]) for t in group.inputs["tags"]}


def test_a_group_is_one_template_and_one_auto_scaling_group(scaled: Recording) -> None:
    assert scaled.by_type(INSTANCE) == []
    assert sorted(r.name for r in scaled.by_type(TEMPLATE)) == ["fleet-app-lt", "fleet-web-lt"]
    assert sorted(r.name for r in scaled.by_type(GROUP)) == ["fleet-app-asg", "fleet-web-asg"]
    fleet_urn = next(r.urn for r in scaled.resources if r.type.endswith("fleet:WorkloadFleet"))
    assert all(r.parent == fleet_urn for r in scaled.by_type(TEMPLATE) + scaled.by_type(GROUP))


def test_capacity_and_subnets(scaled: Recording) -> None:
    web = scaled.one(GROUP, "fleet-web-asg")
    assert (web.inputs["desiredCapacity"], web.inputs["minSize"], web.inputs["maxSize"]) == (3, 2, 6)
    app = scaled.one(GROUP, "fleet-app-asg")  # min and max default to count: a fixed size
    assert (app.inputs["desiredCapacity"], app.inputs["minSize"], app.inputs["maxSize"]) == (2, 2, 2)
    private = sorted(r.outputs["id"] for r in scaled.by_type(SUBNET) if "private" in r.name)
    assert len(private) == 2
    assert sorted(web.inputs["vpcZoneIdentifiers"]) == private
    template = scaled.one(TEMPLATE, "fleet-web-lt")
    assert web.inputs["launchTemplate"] == {"id": template.outputs["id"],
                                            "version": str(template.outputs["latestVersion"])}


def test_group_waits_for_the_endpoints_like_instances(scaled: Recording) -> None:
    endpoints = {r.urn for r in scaled.by_type(ENDPOINT)}
    assert endpoints
    for group in scaled.by_type(GROUP):
        assert endpoints <= set(group.dependencies)


def test_group_propagates_the_targeted_tags_at_launch(scaled: Recording) -> None:
    tags = _tag_list(scaled.one(GROUP, "fleet-web-asg"))
    assert tags["Environment"] == ("OELabIPM", True)
    assert tags["Workload"] == ("Test", True)
    assert tags["InstanceRole"] == ("WebServer", True)
    assert tags["Patch Group"] == ("Critical", True)
    associations = scaled.by_type("aws:ssm/association:Association")  # inventory, patch scan
    assert len(associations) == 2
    for association in associations:
        for target in association.inputs["targets"]:
            key = target["key"].removeprefix("tag:")
            assert tags[key][1] and tags[key][0] in target["values"]


def test_template_carries_the_instance_settings(mixed: Recording) -> None:
    (instance,) = mixed.by_type(INSTANCE)
    template = mixed.one(TEMPLATE, "fleet-app-lt").inputs
    assert template["imageId"] == instance.inputs["ami"]  # the same AMI source and invoke
    assert template["instanceType"] == "t3.micro"
    assert template["iamInstanceProfile"] == {"name": instance.inputs["iamInstanceProfile"]}
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    assert "keyName" not in template
    (nic,) = template["networkInterfaces"]
    assert nic["associatePublicIpAddress"] == "false"
    assert nic["securityGroups"] == instance.inputs["vpcSecurityGroupIds"]
    assert "vpcSecurityGroupIds" not in template  # not allowed beside network interfaces
    (root,) = template["blockDeviceMappings"]
    # The mocked getAmi answers /dev/sda1; the name comes from the image, not a constant.
    assert root["deviceName"] == "/dev/sda1"
    assert root["ebs"] == {"encrypted": "true", "volumeType": "gp3", "deleteOnTermination": "true"}
    assert "userData" not in template  # Amazon Linux has the agent


def test_template_tags_instances_like_an_instance_group(mixed: Recording) -> None:
    (instance,) = mixed.by_type(INSTANCE)
    template = mixed.one(TEMPLATE, "fleet-app-lt").inputs
    specs = {s["resourceType"]: s["tags"] for s in template["tagSpecifications"]}
    assert set(specs) == {"instance", "volume"}
    expected = {**instance.inputs["tags"], "InstanceRole": "AppServer", "Name": "Test-App"}
    assert specs["instance"] == expected
    common = {"Environment": "OELabIPM", "Workload": "Test"}
    assert common.items() <= specs["volume"].items()


def test_rhel_template_installs_the_agent_base64_encoded(scaled: Recording) -> None:
    template = scaled.one(TEMPLATE, "fleet-app-lt").inputs
    expected = agent_user_data(SUPPORTED_OS["rhel-9"], "us-east-1")
    assert expected is not None
    assert base64.b64decode(template["userData"]).decode() == expected
    assert template["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 20


def test_outputs_name_the_groups_by_role(scaled: Recording, mixed: Recording) -> None:
    names = {r.name: r.outputs["name"] for r in scaled.by_type(GROUP)}
    assert scaled.outputs["autoScalingGroupNames"] == {
        "WebServer": names["fleet-web-asg"], "AppServer": names["fleet-app-asg"]}
    assert scaled.outputs["instanceIds"] == {}
    assert list(mixed.outputs["instanceIds"]) == ["Test-Web1"]
    assert list(mixed.outputs["autoScalingGroupNames"]) == ["AppServer"]


def test_dev_has_no_groups(dev: Recording) -> None:
    assert dev.outputs["autoScalingGroupNames"] == {}
    assert dev.by_type(GROUP) == [] and dev.by_type(TEMPLATE) == []


def test_a_group_of_a_thousand_is_still_two_resources() -> None:
    small = run_program("dev", overrides={"fleet": [{**WEB_ASG, "count": 2}]})
    large = run_program("dev", overrides={"fleet": [{**WEB_ASG, "count": 1000,
                                                     "maxCount": 1000}]})
    assert len(large.resources) == len(small.resources)
    assert large.one(GROUP, "fleet-web-asg").inputs["desiredCapacity"] == 1000


def test_plan_shows_a_group_as_one_line_with_its_capacity(scaled: Recording) -> None:
    from fleetctl.plan.render import key_properties

    props = key_properties(scaled.one(GROUP, "fleet-web-asg"))
    assert props["desiredCapacity"] == "3" and props["minSize"] == "2"
    assert props["maxSize"] == "6" and props["InstanceRole"] == "WebServer"
    assert props["Patch Group"] == "Critical"
    assert {"instanceType", "imageId"} <= set(key_properties(scaled.one(TEMPLATE, "fleet-web-lt")))


def test_critical_path_ends_with_the_group(scaled: Recording) -> None:
    """VPC (3 s) -> endpoint SG (3 s) -> interface endpoint (150 s) -> group (90 s)."""
    from fleetctl.plan.command import plan_nodes
    from fleetctl.plan.critical_path import create_seconds, critical_path

    assert create_seconds(TEMPLATE, True) == 2
    assert create_seconds(GROUP, True) == 90
    path = critical_path(plan_nodes(scaled))
    assert [s.type for s in path.steps][-2:] == [ENDPOINT, GROUP]
    assert path.total_seconds == pytest.approx(246.0)
