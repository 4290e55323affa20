"""Instance types and root volumes per OS: what RunInstances would reject fails in config.

Sources of each image's root snapshot size (RunInstances fails with "Volume of size N GB is
smaller than snapshot ..., expect size >= M GB" below it):
- windows-2022: 30 GiB, lab facts §7 ("A root volume smaller than the AMI snapshot fails
  RunInstances (Windows Server 2022 30 GiB)", collected from AWS docs).
- amazon-linux-2023: 8 GiB, github.com/amazonlinux/amazon-linux-2023/issues/63 ("The
  non-minimal AMI uses an 8GB snapshot boot drive").
- amazon-linux-2: 8 GiB, github.com/CMSgov/bluebutton-web-deployment/pull/1405 ("Amazon
  Linux 2 gold image has a 8GB root volume by default").
- rhel-9: 10 GiB (Red Hat's RHEL 9 images; AlmaLinux's rebuilds carry the same 10 GB,
  github.com/AlmaLinux/cloud-images/issues/85). No AWS or Red Hat page in our search corpus
  states it: confirm with ``aws ec2 describe-images`` (BlockDeviceMappings[0].Ebs.VolumeSize).
- ubuntu-24.04, ubuntu-22.04: 8 GiB, Canonical's server AMIs (describe-images
  BlockDeviceMappings VolumeSize 8); likewise not stated on a doc page we could search.

Instance types: pulumi-aws's ``ec2.InstanceType`` enum (generated from the EC2 API) is the
list of names. Windows defaults to t3.medium (2 vCPU, 4 GiB; t3.micro has 1 GiB, too little
for Windows to finish booting before the first inventory runs).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.amis import SUPPORTED_OS
from components.config import KNOWN_INSTANCE_TYPES, ConfigError, FleetGroup, parse_stack_config
from fleetctl.plan.mockrun import partial_recording, run_program

ROOT_SNAPSHOT_GIB = {
    "amazon-linux-2023": 8,
    "amazon-linux-2": 8,
    "ubuntu-24.04": 8,
    "ubuntu-22.04": 8,
    "rhel-9": 10,
    "windows-2022": 30,
}
INSTANCE = "aws:ec2/instance:Instance"


def test_every_supported_os_states_its_root_snapshot_size() -> None:
    """A new OS must be added here too, with the source of its size."""
    assert {key: os.root_snapshot_gib for key, os in SUPPORTED_OS.items()} == ROOT_SNAPSHOT_GIB


def _fails(fleet: list[dict[str, Any]]) -> str:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"fleet": fleet})
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]
    return str(caught.value)


@pytest.mark.parametrize(("os", "minimum"), [("windows-2022", 30), ("rhel-9", 10)])
def test_root_volume_below_the_image_snapshot_is_refused(os: str, minimum: int) -> None:
    message = _fails([{"role": "WebServer", "count": 1, "os": os, "rootVolumeSize": minimum - 1}])
    assert (
        f"ssm-inventory:fleet[0].rootVolumeSize: {minimum - 1} GiB is smaller than the {os} image's "
        f"root snapshot; use at least {minimum} GiB"
    ) in message


def test_the_second_group_is_named_by_its_index() -> None:
    fleet = [{"role": "WebServer"}, {"role": "AppServer", "os": "windows-2022", "rootVolumeSize": 8}]
    assert "ssm-inventory:fleet[1].rootVolumeSize: 8 GiB" in _fails(fleet)


@pytest.mark.parametrize("os", sorted(ROOT_SNAPSHOT_GIB))
def test_root_volume_of_exactly_the_snapshot_size_is_used(os: str) -> None:
    size = ROOT_SNAPSHOT_GIB[os]
    rec = run_program(
        "dev", overrides={"fleet": [{"role": "WebServer", "count": 1, "os": os, "rootVolumeSize": size}],
                          "natGateway": True}  # dev patches: Ubuntu, RHEL, Windows need NAT
    )
    (instance,) = rec.by_type(INSTANCE)
    assert instance.inputs["rootBlockDevice"]["volumeSize"] == size


def test_windows_defaults_to_four_gib_linux_stays_micro() -> None:
    config = parse_stack_config({
        "ssm-inventory:workload": "Test",
        "ssm-inventory:fleet": '[{"role": "Web", "os": "windows-2022"}, {"role": "App"},'
                               ' {"role": "Db", "os": "rhel-9"}]',
    })
    assert [g.instance_type for g in config.fleet] == ["t3.medium", "t3.micro", "t3.micro"]


def test_an_explicit_instance_type_wins_over_the_os_default() -> None:
    group = FleetGroup.model_validate({"role": "Web", "os": "windows-2022", "instanceType": "m7i.large"})
    assert group.instance_type == "m7i.large"
    by_name = FleetGroup(role="Web", os="windows-2022", instance_type="t3.large")
    assert by_name.instance_type == "t3.large"


def test_windows_instances_launch_with_the_windows_default() -> None:
    rec = run_program("dev", overrides={"fleet": [{"role": "WebServer", "count": 1, "os": "windows-2022"}],
                                        "natGateway": True})
    (instance,) = rec.by_type(INSTANCE)
    assert instance.inputs["instanceType"] == "t3.medium"


def test_a_mistyped_instance_type_suggests_the_close_match() -> None:
    message = _fails([{"role": "WebServer", "count": 1, "instanceType": "t3.mirco"}])
    assert "ssm-inventory:fleet[0].instanceType: unknown EC2 instance type 't3.mirco'" in message
    assert "did you mean t3.micro" in message


def test_an_unknown_instance_type_without_close_match() -> None:
    message = _fails([{"role": "WebServer", "count": 1, "instanceType": "zz9.plural"}])
    assert "ssm-inventory:fleet[0].instanceType: unknown EC2 instance type 'zz9.plural'" in message
    assert "(names look like t3.micro)" in message


def test_known_instance_types_come_from_pulumi_aws() -> None:
    assert {"t3.micro", "t3.medium", "m7i-flex.large", "t4g.nano"} <= KNOWN_INSTANCE_TYPES
    assert "t3.mirco" not in KNOWN_INSTANCE_TYPES
    assert len(KNOWN_INSTANCE_TYPES) > 500


def test_the_lab_stacks_keep_t3_micro(dev: Any, prod: Any) -> None:
    for rec in (dev, prod):
        assert {i.inputs["instanceType"] for i in rec.by_type(INSTANCE)} == {"t3.micro"}
