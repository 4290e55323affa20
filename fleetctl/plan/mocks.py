"""Deterministic stand-ins for the AWS provider under Pulumi's mock runtime.

Ids, ARNs and autonamed names are derived from the resource's logical name, so two runs of
the same stack produce identical plans (diffable in review) and every computed output a
component reads (ARNs, names, prefix lists, AZs) has a realistic shape.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"

# Number of AZs the mocks report per region (real counts, so azCount beyond them fails as
# it would in AWS). Regions not listed get three.
AZ_COUNT_BY_REGION = {"us-east-1": 6, "us-west-2": 4, "ap-northeast-2": 4, "eu-west-1": 3}

# The partitions as the AWS SDK describes them (botocore's data/partitions.json: a region
# pattern and DNS suffix each); the provider's getPartition answers with these, plus the
# suffix reversed as reverseDnsPrefix (amazonaws.com.cn -> cn.com.amazonaws).
# Found without importing botocore: a plan has no other use for it.
_BOTOCORE_SPEC = importlib.util.find_spec("botocore")
_BOTOCORE_DIR = Path(_BOTOCORE_SPEC.origin or "." if _BOTOCORE_SPEC else ".").parent
_PARTITIONS_FILE = _BOTOCORE_DIR / "data" / "partitions.json"


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

# Zone IDs are named after the region: us-east-1 -> use1-az1, ap-northeast-2 -> apne2-az1,
# us-gov-west-1 -> usgw1-az1, cn-northwest-1 -> cnnw1-az1.
_REGION_WORD_CODES = {
    "north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "northeast": "ne",
    "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g",
}

# Zones that offer only part of what the region offers (lab facts §7: the t3 family is absent
# from us-east-1's use1-az3, an older zone). The mock offers these older families there and
# no interface endpoint service either (endpoint services leave zones out: AWS knowledge
# center "interface-endpoint-availability-zone"; a us-east-1 PrivateLink error listing
# use1-az1, -az2, -az4, -az5, -az6 only: github.com/chanzuckerberg/cztack/pull/865). That
# the SSM services skip use1-az3 is the mock's assumption. Every other zone offers all.
CONSTRAINED_ZONES: dict[str, frozenset[str]] = {
    "use1-az3": frozenset({"t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4",
                           "i2", "d2", "g2", "x1"}),
}

_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/instance:Instance": "i",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/route:Route": "r",
}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def zone_id_prefix(region: str) -> str:
    """``us-east-1`` -> ``use1``: the prefix of the region's zone IDs."""
    area, *words = region.split("-")
    return area + "".join(_REGION_WORD_CODES.get(word, word[:1]) if not word.isdigit() else word
                          for word in words)


def zone_ids_by_name(region: str, account_id: str) -> dict[str, str]:
    """The account's zone name -> zone ID map of ``region``.

    AWS maps zone names to physical zones independently for each account: the mock rotates
    the IDs by an offset derived from account and region (for the mock account in us-east-1,
    ``us-east-1b`` is ``use1-az3``), so code that matched names instead of IDs would show.
    """
    count = AZ_COUNT_BY_REGION.get(region, 3)
    offset = int(_digest("zones", account_id, region), 16) % count
    prefix = zone_id_prefix(region)
    return {
        f"{region}{letter}": f"{prefix}-az{(index + offset) % count + 1}"
        for index, letter in enumerate("abcdefgh"[:count])
    }


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
            zones = zone_ids_by_name(self.region, self.account_id)
            return {"names": list(zones), "zoneIds": list(zones.values()), "id": self.region,
                    "groupNames": [self.region] * len(zones)}
        if token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            return self._instance_type_offerings(a)
        if token == "aws:ec2/getVpcEndpointService:getVpcEndpointService":
            return self._vpc_endpoint_service(a)
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
            filters = a.get("filters") or []
            seed = ",".join(f"{f['name']}={f['values']}" for f in filters)
            image = f"ami-{_digest(self.region, *a.get('owners') or [], seed)}"
            # Looked up by id (a launch template's root device name): that image.
            image = next((f["values"][0] for f in filters if f["name"] == "image-id"), image)
            return {"id": image, "imageId": image, "architecture": "x86_64",
                    "ownerId": (a.get("owners") or [""])[0], "rootDeviceName": "/dev/sda1"}
        raise NotImplementedError(f"no mock for invoke {token}")

    def _instance_type_offerings(self, a: dict[str, Any]) -> dict[str, Any]:
        """DescribeInstanceTypeOfferings per zone, filtered by ``instance-type`` values."""
        location_type = a.get("locationType") or "region"
        wanted = [v for f in a.get("filters") or [] if f["name"] == "instance-type"
                  for v in f["values"]]
        zones = zone_ids_by_name(self.region, self.account_id)
        pairs: list[tuple[str, str]] = []
        for instance_type in wanted:
            family = instance_type.split(".")[0]
            if location_type == "region":
                pairs.append((instance_type, self.region))
                continue
            for name, zone_id in zones.items():
                families = CONSTRAINED_ZONES.get(zone_id)
                if families is None or family in families:
                    pairs.append((instance_type, zone_id if "id" in location_type else name))
        return {"id": self.region, "region": self.region, "locationType": location_type,
                "filters": a.get("filters"), "instanceTypes": [t for t, _ in pairs],
                "locations": [loc for _, loc in pairs], "locationTypes": [location_type] * len(pairs)}

    def _vpc_endpoint_service(self, a: dict[str, Any]) -> dict[str, Any]:
        """An AWS interface endpoint service of this region; its zones are listed by NAME."""
        prefix, dns = self.partition["reverseDnsPrefix"], self.partition["dnsSuffix"]
        name = a.get("serviceName") or f"{prefix}.{self.region}.{a.get('service')}"
        if f".{self.region}." not in name:
            raise ValueError(f"no matching EC2 VPC Endpoint Service found for {name}")
        service = name.rsplit(".", 1)[-1]
        zones = [zone for zone, zone_id in zone_ids_by_name(self.region, self.account_id).items()
                 if zone_id not in CONSTRAINED_ZONES]
        return {"id": name, "serviceName": name, "service": service, "serviceType": "Interface",
                "serviceId": f"vpce-svc-{_digest(name)}", "owner": "amazon", "region": self.region,
                "serviceRegion": self.region, "availabilityZones": zones,
                "acceptanceRequired": False, "managesVpcEndpoints": False,
                "vpcEndpointPolicySupported": True,
                "privateDnsName": f"{service}.{self.region}.{dns}",
                "baseEndpointDnsNames": [f"{service}.{self.region}.vpce.{dns}"],
                "supportedIpAddressTypes": ["ipv4"], "tags": {}}

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
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
            state["arn"] = f"{arn}:ec2:{region}:{account}:launch-template/{resource_id}"
            state.update(latestVersion=1, defaultVersion=1)
        elif typ == "aws:autoscaling/group:Group":
            state.setdefault("name", f"{name}-{_digest(name, length=7)}")
            state["arn"] = (f"{arn}:autoscaling:{region}:{account}:autoScalingGroup:"
                            f"{_uuid(name)}:autoScalingGroupName/{state['name']}")
            resource_id = state["name"]
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
        elif typ == "aws:ssm/patchBaseline:PatchBaseline":
            resource_id = f"pb-{_digest(typ, name)}"
            state["arn"] = f"{arn}:ssm:{region}:{account}:patchbaseline/{resource_id}"
        elif typ == "aws:ssm/maintenanceWindow:MaintenanceWindow":
            resource_id = f"mw-{_digest(typ, name)}"
        elif typ == "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget":
            resource_id = _uuid(name)
        elif typ == "aws:kms/key:Key":
            resource_id = _uuid(name)
            state.update(keyId=resource_id, arn=f"{arn}:kms:{region}:{account}:key/{resource_id}")
        elif typ == "aws:sns/topic:Topic":
            topic = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            state.update(name=topic, arn=f"{arn}:sns:{region}:{account}:{topic}")
            resource_id = state["arn"]
        elif typ == "aws:cloudwatch/eventRule:EventRule":
            rule = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            state.update(name=rule, arn=f"{arn}:events:{region}:{account}:rule/{rule}")
            resource_id = rule
        elif typ == "aws:lambda/function:Function":
            function = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            state.update(name=function, arn=f"{arn}:lambda:{region}:{account}:function:{function}",
                         invokeArn=f"{arn}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                                   f"{arn}:lambda:{region}:{account}:function:{function}/invocations")
            resource_id = function
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            state.update(name=group, arn=f"{arn}:logs:{region}:{account}:log-group:{group}")
            resource_id = group
        elif typ == "aws:ssm/resourceDataSync:ResourceDataSync":
            resource_id = inputs.get("name", name)
        if "tags" in inputs and typ != "aws:autoscaling/group:Group":  # its tags are a list
            state["tagsAll"] = dict(inputs.get("tags") or {})
        state["id"] = resource_id
        return resource_id, state
