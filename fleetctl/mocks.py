"""Deterministic stand-ins for the AWS provider under Pulumi's mock runtime.

Ids, ARNs and autonamed names are derived from the resource's logical name, so two runs of
the same stack produce identical plans (diffable in review) and every computed output a
component reads (ARNs, names, prefix lists, AZs) has a realistic shape.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pulumi

ACCOUNT_ID = "123456789012"

# Number of AZs the mocks report per region (real counts, so azCount beyond them fails as
# it would in AWS). Regions not listed get three.
AZ_COUNT_BY_REGION = {"us-east-1": 6, "us-west-2": 4, "ap-northeast-2": 4, "eu-west-1": 3}

# The partitions as the AWS SDK describes them (botocore's data/partitions.json: a region
# pattern and DNS suffix each); the provider's getPartition answers with these, plus the
# suffix reversed as reverseDnsPrefix (amazonaws.com.cn -> cn.com.amazonaws).
_PARTITIONS_FILE = Path(botocore.__file__).parent / "data" / "partitions.json"


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    return list(json.loads(_PARTITIONS_FILE.read_text())["partitions"])


def partition_of(region: str) -> dict[str, str]:
    """``partition``, ``dnsSuffix`` and ``reverseDnsPrefix`` of ``region`` (aws if unknown)."""
    found = next(
        (p for p in _partitions() if re.match(p["regionRegex"], region)),
        next(p for p in _partitions() if p["id"] == "aws"),
    )
    suffix = found["outputs"]["dnsSuffix"]
    return {"partition": found["id"], "dnsSuffix": suffix,
            "reverseDnsPrefix": ".".join(reversed(suffix.split(".")))}


_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/instance:Instance": "i",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/route:Route": "r",
}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    h = _digest(seed, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class AwsMocks(pulumi.runtime.Mocks):
    """Mocks for the pulumi-aws resources and invokes this project uses."""

    def __init__(self, region: str = "us-east-1", account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self.partition = partition_of(region)

    # -- invokes ---------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token, a = args.token, args.args
        arn, dns = f"arn:{self.partition['partition']}", self.partition["dnsSuffix"]
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            count = AZ_COUNT_BY_REGION.get(self.region, 3)
            letters = "abcdefgh"[:count]
            return {
                "names": [f"{self.region}{x}" for x in letters],
                "zoneIds": [f"use1-az{i + 1}" for i in range(count)],
                "id": self.region,
            }
        if token == "aws:index/getRegion:getRegion":
            return {"region": self.region, "name": self.region, "id": self.region,
                    "endpoint": f"ec2.{self.region}.{dns}"}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "id": self.account_id,
                    "arn": f"{arn}:iam::{self.account_id}:user/ci", "userId": "AIDAMOCK"}
        if token == "aws:index/getPartition:getPartition":
            return {**self.partition, "id": self.partition["partition"]}
        if token == "aws:ssm/getParameter:getParameter":
            name = a["name"]
            return {"name": name, "value": f"ami-{_digest(self.region, name)}", "type": "String",
                    "arn": f"{arn}:ssm:{self.region}::parameter{name}", "id": name,
                    "version": 1, "insecureValue": f"ami-{_digest(self.region, name)}"}
        if token == "aws:ec2/getAmi:getAmi":
            seed = ",".join(f"{f['name']}={f['values']}" for f in a.get("filters", []))
            image = f"ami-{_digest(self.region, *a.get('owners', []), seed)}"
            return {"id": image, "imageId": image, "architecture": "x86_64",
                    "ownerId": (a.get("owners") or [""])[0], "rootDeviceName": "/dev/sda1"}
        raise NotImplementedError(f"no mock for invoke {token}")

    # -- resources -------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        prefix = _ID_PREFIX.get(typ)
        resource_id = f"{prefix}-{_digest(typ, name)}" if prefix else f"{name}-id"
        state = dict(inputs)
        account, region = self.account_id, self.region
        arn, dns = f"arn:{self.partition['partition']}", self.partition["dnsSuffix"]

        if typ == "aws:ec2/vpc:Vpc":
            state["arn"] = f"{arn}:ec2:{region}:{account}:vpc/{resource_id}"
            state["mainRouteTableId"] = f"rtb-{_digest('main', name)}"
            state["defaultSecurityGroupId"] = f"sg-{_digest('default', name)}"
        elif typ == "aws:ec2/subnet:Subnet":
            state["arn"] = f"{arn}:ec2:{region}:{account}:subnet/{resource_id}"
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            state["arn"] = f"{arn}:ec2:{region}:{account}:security-group/{resource_id}"
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            state["arn"] = f"{arn}:ec2:{region}:{account}:vpc-endpoint/{resource_id}"
            service = str(inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            if inputs.get("vpcEndpointType") == "Gateway":
                state["prefixListId"] = f"pl-{_digest('prefix-list', service, length=8)}"
            else:
                state["dnsEntries"] = [{"dnsName": f"{resource_id}.{service}.{region}"
                                                   f".vpce.{dns}", "hostedZoneId": "Z1"}]
        elif typ == "aws:ec2/instance:Instance":
            state["arn"] = f"{arn}:ec2:{region}:{account}:instance/{resource_id}"
            octets = bytes.fromhex(_digest(name, length=4))
            state["privateIp"] = f"10.255.{octets[0]}.{octets[1] % 254 + 1}"
            state["publicIp"] = ""
            state["instanceState"] = "running"
        elif typ == "aws:iam/role:Role":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
            state["arn"] = f"{arn}:iam::{account}:role{inputs.get('path', '/')}{state['name']}"
            state["uniqueId"] = f"AROA{_digest(name, length=17).upper()}"
            resource_id = state["name"]
        elif typ == "aws:iam/instanceProfile:InstanceProfile":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
            state["arn"] = (f"{arn}:iam::{account}:instance-profile"
                            f"{inputs.get('path', '/')}{state['name']}")
            resource_id = state["name"]
        elif typ == "aws:iam/policy:Policy":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
            state["arn"] = f"{arn}:iam::{account}:policy{inputs.get('path', '/')}{state['name']}"
            state["policyId"] = f"ANPA{_digest(name, length=17).upper()}"
            resource_id = state["arn"]
        elif typ == "aws:iam/rolePolicy:RolePolicy":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
        elif typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{name}-{_digest(name, length=7)}"
            state.update(bucket=bucket, arn=f"{arn}:s3:::{bucket}", region=region,
                         bucketDomainName=f"{bucket}.s3.{dns}")
            resource_id = bucket
        elif typ == "aws:ssm/association:Association":
            resource_id = _uuid(name)
            state["associationId"] = resource_id
            state["arn"] = f"{arn}:ssm:{region}:{account}:association/{resource_id}"
        elif typ == "aws:ssm/resourceDataSync:ResourceDataSync":
            resource_id = inputs.get("name", name)
        if "tags" in inputs:
            state["tagsAll"] = dict(inputs.get("tags") or {})
        state["id"] = resource_id
        return resource_id, state
