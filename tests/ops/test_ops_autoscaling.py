"""``fleetctl check`` on instances an Auto Scaling group launched (moto's Auto Scaling
launches them with the group's propagated tags and EC2's ``aws:autoscaling:groupName``)."""

from __future__ import annotations

import json

import boto3
import pytest
from ops_fakes import stub_fleet
from ops_fleet import AMI, REGION, Fleet

from fleetctl.cli import main


def _scaling_group(count: int) -> list[str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "t3.micro",
        "TagSpecifications": [{"ResourceType": "instance",
                               "Tags": [{"Key": "Name", "Value": "Test-Web"}]}]})
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="fleet-web-asg-1a2b3c4", MinSize=count, MaxSize=count,
        DesiredCapacity=count, VPCZoneIdentifier=subnet,
        LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Latest"},
        Tags=[{"Key": key, "Value": value, "PropagateAtLaunch": True}
              for key, value in (("Environment", "OELabIPM"), ("Workload", "Test"))])
    groups = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    return [i["InstanceId"] for i in groups[0]["Instances"]]


def test_group_instances_are_checked_and_name_their_group(
        fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _scaling_group(2) + fleet.launch(1, name="Test-App")
    stub_fleet(fleet.stub, ids)

    rc = main(["check", "--workload", "Test", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert rc == 0
    groups = {row["instance_id"]: row["auto_scaling_group"] for row in report["instances"]}
    assert sorted(groups) == sorted(ids)
    assert [groups[i] for i in ids] == ["fleet-web-asg-1a2b3c4"] * 2 + [None]


def test_rich_output_shows_the_group_beside_the_name(
        fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _scaling_group(1)
    stub_fleet(fleet.stub, ids)

    assert main(["check", "--workload", "Test"]) == 0

    out = capsys.readouterr().out
    assert "fleet-web-asg-1a2b3c4" in out.replace("│", "").replace("\n", "")
