"""Supported operating systems: where their AMIs come from and how SSM Agent gets there.

AMIs resolve from AWS's public SSM parameters (lab facts §2), so a stack always starts from
the current image without anyone typing AMI ids. SSM Agent is preinstalled on Amazon Linux,
Ubuntu (snap) and Windows Server AMIs; RHEL needs it installed from the regional bucket,
which the S3 gateway endpoint lets through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi_aws as aws

# The user data script for AMIs without SSM Agent, and the line it writes to the serial
# console when every install attempt failed (fleetctl/ops/models.py keeps the same string).
AGENT_INSTALL_SCRIPT = Path(__file__).with_name("ssm_agent_install.sh")
AGENT_INSTALL_FAILURE_MARKER = "SSM_AGENT_INSTALL_FAILED"


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
    # components/config/fleet.py): Windows needs more than t3.micro's 1 GiB to be ready for the
    # first inventory runs.
    default_instance_type: str = "t3.micro"
    # Patch Manager's name for the OS (a patch baseline's operating_system; SSM API
    # reference, OperatingSystem enum) and whether its packages come from the internet
    # (Ubuntu, RHEL, Windows: a NAT gateway is needed) rather than from S3 buckets of the
    # region (Amazon Linux: the S3 gateway endpoint's policy must let them through).
    patch_os: str = "AMAZON_LINUX_2023"
    updates_from_internet: bool = False

    def image_owner_in(self, partition: str) -> str | None:
        """The image owner account in ``partition`` (vendors publish from one account per
        partition; ``image_owner`` is the commercial one)."""
        if self.image_owner is None:
            return None
        return PARTITION_IMAGE_OWNERS.get(self.image_owner, {}).get(partition, self.image_owner)

    def ami_source_in(self, partition: str) -> str:
        """Human- and policy-readable provenance of the AMI, recorded as a tag."""
        if self.ssm_parameter:
            return self.ssm_parameter
        # Tag values stay within the characters every AWS service accepts (no wildcards).
        return f"ec2-image:{self.image_owner_in(partition)}:{self.image_family}"


# Red Hat publishes its images from one account per partition: 309956199498 in the commercial
# regions, 219670896067 in GovCloud (Red Hat knowledge base, "Where are the official Red Hat
# Enterprise Linux AMIs in AWS?", https://access.redhat.com/solutions/15356). China
# (841258680906) is not listed: the aws-cn partition is refused (components/partition.py).
PARTITION_IMAGE_OWNERS: dict[str, dict[str, str]] = {
    "309956199498": {"aws-us-gov": "219670896067"},
}


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
            patch_os="AMAZON_LINUX_2",
        ),
        OperatingSystem(
            "ubuntu-24.04",
            "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
            True,
            patch_os="UBUNTU", updates_from_internet=True,
        ),
        OperatingSystem(
            "ubuntu-22.04",
            "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
            True,
            patch_os="UBUNTU", updates_from_internet=True,
        ),
        # Red Hat publishes no public SSM parameter: newest RHEL 9 image of Red Hat's account.
        OperatingSystem(
            "rhel-9", None, False,
            image_owner="309956199498", image_name="RHEL-9.*_HVM-*-x86_64-*",
            image_family="RHEL-9",
            root_snapshot_gib=10,
            patch_os="REDHAT_ENTERPRISE_LINUX", updates_from_internet=True,
        ),
        OperatingSystem(
            "windows-2022",
            "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base",
            True,
            root_snapshot_gib=30,
            default_instance_type="t3.medium",  # 2 vCPU, 4 GiB
            patch_os="WINDOWS", updates_from_internet=True,
        ),
    )
}


def agent_user_data(
    os: OperatingSystem, region: str, dns_suffix: str = "amazonaws.com"
) -> str | None:
    """User data that installs and starts SSM Agent where the AMI lacks it (else None)."""
    if os.agent_preinstalled:
        return None
    # The regional agent bucket is reachable through the S3 gateway endpoint.
    url = (
        f"https://s3.{region}.{dns_suffix}/amazon-ssm-{region}/latest/linux_amd64/"
        "amazon-ssm-agent.rpm"
    )
    # Download, install and start with bounded retries; on failure a marker line on the
    # serial console (AGENT_INSTALL_FAILURE_MARKER) that `fleetctl check` looks for.
    return AGENT_INSTALL_SCRIPT.read_text().replace("@AGENT_URL@", url)


def resolve_ami(os: OperatingSystem, partition: str = "aws") -> str:
    """Looks the current AMI id up once per OS (an invoke, so previews show the real id)."""
    if os.ssm_parameter:
        return aws.ssm.get_parameter(name=os.ssm_parameter).value
    return aws.ec2.get_ami(
        owners=[os.image_owner_in(partition) or ""],
        most_recent=True,
        filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=[os.image_name or ""]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
        ],
    ).id
