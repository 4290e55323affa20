"""A moto EC2 fleet plus a Stubber-backed SSM client, wired in place of ``make_clients``."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber
from ops_fakes import refuse_unsupported_result_types

from fleetctl.ops import aws

REGION = "us-east-1"
AMI = "ami-12c6146b"  # one of moto's built-in AMIs


class Fleet:
    """A moto EC2 fleet plus a Stubber-backed SSM client wired into ``make_clients``."""

    def __init__(self) -> None:
        self.ec2 = boto3.client("ec2", region_name=REGION, config=aws.RETRY_CONFIG)
        # refuses GetInventory result types as the service does (AWS:Application among them)
        self.ssm = refuse_unsupported_result_types(
            boto3.client("ssm", region_name=REGION, config=aws.RETRY_CONFIG)
        )
        self.stub = Stubber(self.ssm)
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="fleet-role", AssumeRolePolicyDocument="{}")
        profile = iam.create_instance_profile(InstanceProfileName="fleet-profile")
        iam.add_role_to_instance_profile(InstanceProfileName="fleet-profile", RoleName="fleet-role")
        self.profile_arn = profile["InstanceProfile"]["Arn"]
        self.calls: list[tuple[str | None, str | None]] = []

    def launch(
        self,
        count: int = 1,
        workload: str = "Test",
        name: str = "Test-Web",
        profile: bool = True,
        environment: str = "OELabIPM",
        os: str | None = None,
    ) -> list[str]:
        kwargs: dict[str, Any] = {}
        if profile:
            kwargs["IamInstanceProfile"] = {"Name": "fleet-profile"}
        reservation = self.ec2.run_instances(
            ImageId=AMI,
            MinCount=count,
            MaxCount=count,
            InstanceType="t3.micro",
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "Environment", "Value": environment},
                        {"Key": "Workload", "Value": workload},
                        {"Key": "Name", "Value": name},
                        *([{"Key": "OS", "Value": os}] if os else []),
                    ],
                }
            ],
            **kwargs,
        )
        return [i["InstanceId"] for i in reservation["Instances"]]

    def make_clients(
        self, region: str | None = None, profile: str | None = None, read_timeout: float = aws.READ_TIMEOUT
    ) -> aws.Clients:
        self.calls.append((region, profile))
        return aws.Clients(ec2=self.ec2, ssm=self.ssm, region=region or REGION)
