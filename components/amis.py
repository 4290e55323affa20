"""Supported operating systems: where their AMIs come from and how SSM Agent gets there.

AMIs resolve from AWS's public SSM parameters (lab facts §2), so a stack always starts from
the current image without anyone typing AMI ids. SSM Agent is preinstalled on Amazon Linux,
Ubuntu (snap) and Windows Server AMIs; RHEL needs it installed from the regional bucket,
which the S3 gateway endpoint lets through.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class OperatingSystem:
    key: str
    # Where the AMI id comes from: an AWS public SSM parameter, or (for vendors that publish
    # none, like Red Hat) the newest image of an owner account matching a name pattern.
    ssm_parameter: str | None
    agent_preinstalled: bool
    image_owner: str | None = None
    image_name: str | None = None  # a DescribeImages name filter (may hold wildcards)
    image_family: str | None = None  # wildcard-free label of that filter, for the tag
    # Size of the image's root snapshot: RunInstances rejects a smaller root volume
    # ("Volume of size N GB is smaller than snapshot ..."). Sources in tests/test_os_sizes.py.
    root_snapshot_gib: int = 8
    # The instance type a fleet group of this OS gets unless it sets instanceType (applied by
    # components/config.py): Windows needs more than t3.micro's 1 GiB to be ready for the
    # first inventory runs.
    default_instance_type: str = "t3.micro"

    @property
    def ami_source(self) -> str:
        """Human- and policy-readable provenance of the AMI, recorded as a tag."""
        if self.ssm_parameter:
            return self.ssm_parameter
        # Tag values stay within the characters every AWS service accepts (no wildcards).
        return f"ec2-image:{self.image_owner}:{self.image_family}"


SUPPORTED_OS: dict[str, OperatingSystem] = {
    os.key: os
    for os in (
        OperatingSystem(
            "amazon-linux-2023",
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
            True,
        ),
        OperatingSystem(
            "amazon-linux-2",
            "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
            True,
        ),
        OperatingSystem(
            "ubuntu-24.04",
            "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
            True,
        ),
        OperatingSystem(
            "ubuntu-22.04",
            "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
            True,
        ),
        # Red Hat publishes no public SSM parameter: newest RHEL 9 image of Red Hat's account.
        OperatingSystem(
            "rhel-9", None, False,
            image_owner="309956199498", image_name="RHEL-9.*_HVM-*-x86_64-*",
            image_family="RHEL-9",
            root_snapshot_gib=10,
        ),
        OperatingSystem(
            "windows-2022",
            "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base",
            True,
            root_snapshot_gib=30,
            default_instance_type="t3.medium",  # 2 vCPU, 4 GiB
        ),
    )
}


def agent_user_data(os: OperatingSystem, region: str) -> str | None:
    """User data that installs and starts SSM Agent where the AMI lacks it (else None)."""
    if os.agent_preinstalled:
        return None
    # The regional agent bucket is reachable through the S3 gateway endpoint.
    url = (
        f"https://s3.{region}.amazonaws.com/amazon-ssm-{region}/latest/linux_amd64/"
        "amazon-ssm-agent.rpm"
    )
    # --disablerepo: without a NAT the vendor repos are unreachable, and dnf would fail on
    # their metadata before installing a package that needs none of them.
    return (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        f"dnf install -y --disablerepo='*' {url}\n"
        "systemctl enable --now amazon-ssm-agent\n"
    )


def resolve_ami(os: OperatingSystem) -> str:
    """Looks the current AMI id up once per OS (an invoke, so previews show the real id)."""
    if os.ssm_parameter:
        return aws.ssm.get_parameter(name=os.ssm_parameter).value
    return aws.ec2.get_ami(
        owners=[os.image_owner or ""],
        most_recent=True,
        filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=[os.image_name or ""]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
        ],
    ).id
