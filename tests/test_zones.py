"""Availability zones: only zones offering every instance type and interface endpoint service.

Facts pinned (lab facts §7, collected from AWS docs and provider issues): the t3 family is
not offered in us-east-1's ``use1-az3``; zone names map to different physical zones per
account, so offerings are matched on zone IDs (EC2 API reference,
DescribeInstanceTypeOfferings ``LocationType=availability-zone-id``); an interface endpoint
service lists the zone *names* it is offered in (EC2 API reference, ``ServiceDetail``
``AvailabilityZones``; pulumi-aws ``ec2.get_vpc_endpoint_service(...).availability_zones``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import ConfigError
from components.zones import Zone, pick_zones
from fleetctl.plan.mockrun import Recording, partial_recording, run_program
from fleetctl.plan.mocks import AwsMocks, zone_ids_by_name

SUBNET = "aws:ec2/subnet:Subnet"
T2_FLEET = [{"role": "WebServer", "count": 1, "instanceType": "t2.micro"}]


def _subnet_zones(rec: Recording) -> list[str]:
    private = sorted((r for r in rec.by_type(SUBNET) if "private" in r.name), key=lambda r: r.name)
    return [s.inputs["availabilityZone"] for s in private]


def test_mock_account_maps_a_zone_name_to_use1_az3() -> None:
    """The premise of the tests below: in the mock account, us-east-1b is use1-az3."""
    zones = zone_ids_by_name("us-east-1", "123456789012")
    assert zones["us-east-1b"] == "use1-az3"
    assert sorted(zones.values()) == [f"use1-az{i}" for i in range(1, 7)]


def test_zone_ids_follow_the_region() -> None:
    assert set(zone_ids_by_name("eu-west-1", "123456789012").values()) == {"euw1-az1", "euw1-az2", "euw1-az3"}
    assert set(zone_ids_by_name("ap-northeast-2", "123456789012").values()) == {
        f"apne2-az{i}" for i in range(1, 5)
    }


def test_dev_never_uses_use1_az3_for_t3(dev: Recording) -> None:
    # Sorted by name, the first two zones would be us-east-1a and us-east-1b (= use1-az3).
    assert dev.outputs["availabilityZones"] == ["us-east-1a", "us-east-1c"]
    assert dev.outputs["availabilityZoneIds"] == ["use1-az2", "use1-az4"]
    assert _subnet_zones(dev) == ["us-east-1a", "us-east-1c"]


def test_every_other_zone_of_us_east_1_is_usable() -> None:
    rec = run_program("dev", overrides={"azCount": 5})
    assert "use1-az3" not in rec.outputs["availabilityZoneIds"]
    assert _subnet_zones(rec) == ["us-east-1a", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]


def test_zones_are_matched_by_id_not_by_name() -> None:
    """In another account use1-az3 is another letter: the same config avoids that one."""
    account = "111111111111"
    names = {zone_id: name for name, zone_id in zone_ids_by_name("us-east-1", account).items()}
    assert names["use1-az3"] == "us-east-1d"
    rec = run_program("dev", overrides={"azCount": 4}, mocks=AwsMocks("us-east-1", account))
    assert _subnet_zones(rec) == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"]
    assert "use1-az3" not in rec.outputs["availabilityZoneIds"]


def test_six_zones_with_t3_in_us_east_1_is_one_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"azCount": 6})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "ssm-inventory:azCount: 6 AZs requested but only 5 of the 6 available in us-east-1"
    )
    assert "us-east-1b (use1-az3) lacks instance type t3.micro" in message
    assert "and endpoint services ssm, ec2messages, ec2, ssmmessages" in message
    assert "use 1 to 5" in message
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_a_windows_default_type_is_checked_too() -> None:
    """Windows groups default to t3.medium, which use1-az3 lacks as well."""
    fleet = [{"role": "WebServer", "count": 1, "os": "windows-2022"}]
    with pytest.raises(ConfigError, match=r"use1-az3\) lacks instance type t3\.medium"):
        run_program("dev", overrides={"azCount": 6, "fleet": fleet, "endpoints": [],
                                      "natGateway": True})


def test_instance_types_offered_everywhere_allow_every_zone() -> None:
    """t2 is offered in use1-az3: without interface endpoints all six zones qualify."""
    rec = run_program("dev", overrides={"azCount": 6, "fleet": T2_FLEET, "endpoints": []})
    assert sorted(rec.outputs["availabilityZoneIds"]) == [f"use1-az{i}" for i in range(1, 7)]


def test_groups_of_zero_instances_do_not_restrict_zones() -> None:
    fleet = [*T2_FLEET, {"role": "AppServer", "count": 0, "instanceType": "t3.micro"}]
    rec = run_program("dev", overrides={"azCount": 6, "fleet": fleet, "endpoints": []})
    assert len(rec.outputs["availabilityZoneIds"]) == 6


def test_endpoint_services_restrict_zones_on_their_own() -> None:
    """t2 fits use1-az3, but the ssm endpoint service is not offered there."""
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"azCount": 6, "fleet": T2_FLEET, "endpoints": ["ssm"]})
    message = str(caught.value)
    assert "us-east-1b (use1-az3) lacks endpoint service ssm)" in message
    assert "lacks instance type" not in message


class FewerZonesForKms(AwsMocks):
    """kms offered in two zones only (named, as the API answers), to see a service restrict."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        answer = super().call(args)
        if args.token == "aws:ec2/getVpcEndpointService:getVpcEndpointService" and \
                answer["service"] == "kms":
            answer["availabilityZones"] = ["us-east-1d", "us-east-1f"]
        return answer


def test_a_service_offered_in_fewer_zones_restricts_the_choice() -> None:
    endpoints = ["ssm", "ec2messages", "ec2", "ssmmessages", "kms"]
    rec = run_program("dev", overrides={"endpoints": endpoints}, mocks=FewerZonesForKms())
    assert rec.outputs["availabilityZones"] == ["us-east-1d", "us-east-1f"]
    assert rec.outputs["availabilityZoneIds"] == ["use1-az5", "use1-az1"]
    with pytest.raises(ConfigError, match=r"only 2 of the 6 .*us-east-1a \(use1-az2\) lacks endpoint "
                                          r"service kms;"):
        run_program("dev", overrides={"endpoints": endpoints, "azCount": 3}, mocks=FewerZonesForKms())


def test_the_region_count_error_stays_when_the_region_is_too_small() -> None:
    with pytest.raises(ConfigError, match=r"ssm-inventory:azCount: 4 AZs requested but the region has 3"):
        run_program("dev", overrides={"aws:region": "eu-west-1", "azCount": 4})


# -- the choice itself, without the runtime --------------------------------------------------

ZONES = [Zone("r-1c", "r1-az3"), Zone("r-1a", "r1-az1"), Zone("r-1b", "r1-az2")]


def test_pick_takes_qualifying_zones_in_name_order() -> None:
    offered = {("instance type", "t3.micro"): {"r1-az1", "r1-az3"}}
    assert pick_zones(2, ZONES, offered, "r-1") == [Zone("r-1a", "r1-az1"), Zone("r-1c", "r1-az3")]
    assert pick_zones(1, ZONES, {}, "r-1") == [Zone("r-1a", "r1-az1")]


def test_pick_names_every_zone_and_what_it_lacks() -> None:
    offered = {
        ("instance type", "t3.micro"): {"r1-az1", "r1-az3"},
        ("endpoint service", "ssm"): {"r1-az1"},
        ("endpoint service", "ec2"): {"r1-az1"},
    }
    with pytest.raises(ConfigError) as caught:
        pick_zones(2, ZONES, offered, "r-1")
    message = str(caught.value)
    assert "r-1b (r1-az2) lacks instance type t3.micro and endpoint services ssm, ec2;" in message
    assert "r-1c (r1-az3) lacks endpoint services ssm, ec2)" in message
    assert "use 1 to 1" in message


def test_pick_says_when_no_zone_qualifies() -> None:
    with pytest.raises(ConfigError, match="no zone qualifies"):
        pick_zones(1, ZONES, {("instance type", "p5.48xlarge"): set()}, "r-1")
