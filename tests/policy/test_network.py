"""sg-no-world-ingress, private-subnet-ssm-endpoints, endpoint-sg-allows-https."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ssm_policies.network import (
    endpoint_sg_https,
    no_world_ingress,
    private_subnet_endpoints,
    s3_endpoint_policy_scoped,
)

from tests.policy.helpers import UNKNOWN, stack_violations, urn, violations

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INSTANCE = "aws:ec2/instance:Instance"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
RT = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

Res = tuple[str, str, dict[str, Any]]


# -- sg-no-world-ingress ----------------------------------------------------------------------

def ingress(cidrs: list[str], port: int = 22, ipv6: list[str] | None = None) -> dict:
    rule: dict[str, Any] = {"protocol": "tcp", "fromPort": port, "toPort": port,
                            "cidrBlocks": cidrs}
    if ipv6:
        rule["ipv6CidrBlocks"] = ipv6
    return rule


def test_world_open_inline_ingress() -> None:
    [message] = violations(no_world_ingress, SG, {"ingress": [ingress(["0.0.0.0/0"])]})
    assert "0.0.0.0/0" in message and "22-22" in message
    assert violations(no_world_ingress, SG, {"ingress": [ingress([], ipv6=["::/0"])]})


def test_private_sources_and_egress_pass() -> None:
    assert violations(no_world_ingress, SG, {"ingress": [ingress(["10.0.0.0/16"])]}) == []
    egress = {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0,
                          "cidrBlocks": ["0.0.0.0/0"]}]}
    assert violations(no_world_ingress, SG, egress) == []


def test_separate_rule_resources() -> None:
    rule = {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": "sg-1"}
    [message] = violations(no_world_ingress, SG_RULE, rule)
    assert "all ports" in message
    assert violations(no_world_ingress, SG_RULE, {**rule, "type": "egress"}) == []
    vpc_rule = {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "cidrIpv4": "0.0.0.0/0"}
    assert violations(no_world_ingress, SG_INGRESS, vpc_rule)
    assert violations(no_world_ingress, SG_INGRESS, {**vpc_rule, "cidrIpv4": "10.0.0.0/8"}) == []


def test_allowed_public_ports() -> None:
    props = {"ingress": [ingress(["0.0.0.0/0"], port=443)]}
    assert violations(no_world_ingress, SG, props, {"allowedPublicPorts": [443]}) == []
    wide = {"ingress": [{"protocol": "tcp", "fromPort": 0, "toPort": 1000,
                         "cidrBlocks": ["0.0.0.0/0"]}]}
    assert violations(no_world_ingress, SG, wide, {"allowedPublicPorts": [443]})


def test_unknown_cidrs_are_not_judged() -> None:
    assert violations(no_world_ingress, SG, {"ingress": [ingress([UNKNOWN])]}) == []
    assert violations(no_world_ingress, SG, {"ingress": UNKNOWN}) == []


# -- private-subnet-ssm-endpoints -------------------------------------------------------------

def endpoint(service: str, private_dns: Any = True, **extra: Any) -> Res:
    props = {"id": f"vpce-{service}", "vpcId": "vpc-1", "vpcEndpointType": "Interface",
             "serviceName": f"com.amazonaws.us-east-1.{service}",
             "privateDnsEnabled": private_dns, "securityGroupIds": ["sg-endpoints"], **extra}
    return (ENDPOINT, f"ep-{service}", props)


S3_GATEWAY: Res = (ENDPOINT, "ep-s3", {"id": "vpce-s3", "vpcId": "vpc-1",
                                       "vpcEndpointType": "Gateway",
                                       "serviceName": "com.amazonaws.us-east-1.s3",
                                       "routeTableIds": ["rtb-private"]})


def network(*, routes: list[dict] | None = None, endpoints: list[Res] | None = None,
            extra: list[Res] | None = None) -> list[Res]:
    default_endpoints = [endpoint(s) for s in ("ssm", "ec2messages", "ssmmessages")]
    return [
        (VPC, "vpc", {"id": "vpc-1", "cidrBlock": "10.0.0.0/16", "mainRouteTableId": "rtb-main"}),
        (SUBNET, "private", {"id": "subnet-1", "vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24"}),
        (RT, "private-rt", {"id": "rtb-private", "vpcId": "vpc-1", "routes": routes or []}),
        (RTA, "private-rta", {"subnetId": "subnet-1", "routeTableId": "rtb-private"}),
        (INSTANCE, "web1", {"id": "i-1", "subnetId": "subnet-1"}),
        *([*default_endpoints, S3_GATEWAY] if endpoints is None else endpoints),
        *(extra or []),
    ]


def test_private_subnet_with_all_endpoints_passes() -> None:
    assert stack_violations(private_subnet_endpoints, network()) == []


def test_missing_endpoint_is_reported_on_the_instance() -> None:
    endpoints = [endpoint("ssm"), endpoint("ssmmessages"), S3_GATEWAY]
    [(where, message)] = stack_violations(private_subnet_endpoints,
                                          network(endpoints=endpoints))
    assert where == urn(INSTANCE, "web1")
    assert "no interface endpoint for ec2messages" in message


def test_ssmmessages_only_when_session_manager_expected() -> None:
    endpoints = [endpoint("ssm"), endpoint("ec2messages"), S3_GATEWAY]
    [(_, message)] = stack_violations(private_subnet_endpoints, network(endpoints=endpoints))
    assert "ssmmessages" in message
    assert stack_violations(private_subnet_endpoints, network(endpoints=endpoints),
                            {"sessionManager": False}) == []


def test_ec2messages_can_be_dropped_by_config() -> None:
    endpoints = [endpoint("ssm"), endpoint("ssmmessages"), S3_GATEWAY]
    config = {"interfaceServices": ["ssm"]}
    assert stack_violations(private_subnet_endpoints, network(endpoints=endpoints), config) \
        == []


def test_private_dns_must_be_enabled() -> None:
    endpoints = [endpoint("ssm", private_dns=False), endpoint("ec2messages"),
                 endpoint("ssmmessages"), S3_GATEWAY]
    [(_, message)] = stack_violations(private_subnet_endpoints, network(endpoints=endpoints))
    assert "ssm endpoint has private DNS disabled" in message
    endpoints[0] = endpoint("ssm", private_dns=UNKNOWN)
    assert stack_violations(private_subnet_endpoints, network(endpoints=endpoints)) == []


def test_s3_gateway_must_serve_the_subnets_route_table() -> None:
    endpoints = [endpoint(s) for s in ("ssm", "ec2messages", "ssmmessages")]
    [(_, message)] = stack_violations(private_subnet_endpoints, network(endpoints=endpoints))
    assert "no S3 gateway endpoint on route table rtb-private" in message
    other_table = (ENDPOINT, "ep-s3", {**S3_GATEWAY[2], "routeTableIds": ["rtb-other"]})
    assert stack_violations(private_subnet_endpoints,
                            network(endpoints=[*endpoints, other_table]))
    association = ("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
                   "s3-rt", {"vpcEndpointId": "vpce-s3", "routeTableId": "rtb-private"})
    assert stack_violations(private_subnet_endpoints,
                            network(endpoints=[*endpoints, other_table], extra=[association])) \
        == []
    assert stack_violations(private_subnet_endpoints, network(endpoints=endpoints),
                            {"requireS3Gateway": False}) == []


def test_endpoints_in_another_vpc_do_not_count() -> None:
    endpoints = [(t, n, {**p, "vpcId": "vpc-2"}) for t, n, p in network()[5:]]
    assert stack_violations(private_subnet_endpoints, network(endpoints=endpoints))


def test_internet_route_makes_endpoints_optional() -> None:
    nat = [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}]
    assert stack_violations(private_subnet_endpoints, network(routes=nat, endpoints=[])) == []
    route = (ROUTE, "default", {"routeTableId": "rtb-private",
                                "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"})
    assert stack_violations(private_subnet_endpoints,
                            network(endpoints=[], extra=[route])) == []
    local = [{"cidrBlock": "10.0.0.0/16", "gatewayId": "local"}]
    assert stack_violations(private_subnet_endpoints, network(routes=local, endpoints=[]))


def test_subnet_without_association_uses_the_main_route_table() -> None:
    resources = [r for r in network(endpoints=[]) if r[0] != RTA]
    [(_, message)] = stack_violations(private_subnet_endpoints, resources)
    assert "rtb-main" in message
    route = (ROUTE, "default", {"routeTableId": "rtb-main",
                                "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"})
    assert stack_violations(private_subnet_endpoints, [*resources, route]) == []


def test_instances_outside_stack_networks_or_unknown_subnets_are_skipped() -> None:
    resources = [(INSTANCE, "a", {"subnetId": "subnet-external"}),
                 (INSTANCE, "b", {"subnetId": UNKNOWN})]
    assert stack_violations(private_subnet_endpoints, resources) == []


def test_one_report_per_instance_for_a_shared_problem() -> None:
    resources = network(endpoints=[], extra=[(INSTANCE, "web2", {"subnetId": "subnet-1"})])
    found = stack_violations(private_subnet_endpoints, resources)
    assert sorted(w for w, _ in found if w) == [urn(INSTANCE, "web1"), urn(INSTANCE, "web2")]


# -- endpoint-sg-allows-https -----------------------------------------------------------------

def sg(rules: list[dict], sg_id: str = "sg-endpoints") -> Res:
    return (SG, sg_id, {"id": sg_id, "vpcId": "vpc-1", "ingress": rules})


HTTPS_FROM_VPC = {"protocol": "tcp", "fromPort": 443, "toPort": 443,
                  "cidrBlocks": ["10.0.0.0/16"]}


def test_https_from_the_vpc_passes() -> None:
    assert stack_violations(endpoint_sg_https, network(extra=[sg([HTTPS_FROM_VPC])])) == []
    subnet_only = {**HTTPS_FROM_VPC, "cidrBlocks": ["10.0.1.0/24"]}
    assert stack_violations(endpoint_sg_https, network(extra=[sg([subnet_only])])) == []
    from_group = {"protocol": "tcp", "fromPort": 443, "toPort": 443,
                  "securityGroups": ["sg-fleet"]}
    assert stack_violations(endpoint_sg_https, network(extra=[sg([from_group])])) == []


def test_wrong_port_or_outside_source_is_reported_per_endpoint() -> None:
    wrong_port = {**HTTPS_FROM_VPC, "fromPort": 80, "toPort": 80}
    found = stack_violations(endpoint_sg_https, network(extra=[sg([wrong_port])]))
    assert sorted(w for w, _ in found if w) == sorted(
        urn(ENDPOINT, f"ep-{s}") for s in ("ssm", "ec2messages", "ssmmessages"))
    outside = {**HTTPS_FROM_VPC, "cidrBlocks": ["192.168.0.0/16"]}
    assert stack_violations(endpoint_sg_https, network(extra=[sg([outside])]))
    world = {**HTTPS_FROM_VPC, "cidrBlocks": ["0.0.0.0/0"]}
    assert stack_violations(endpoint_sg_https, network(extra=[sg([world])]))


def test_separate_rule_resources_count() -> None:
    rule = (SG_RULE, "https", {"type": "ingress", "securityGroupId": "sg-endpoints",
                               "protocol": "tcp", "fromPort": 443, "toPort": 443,
                               "cidrBlocks": ["10.0.0.0/16"]})
    assert stack_violations(endpoint_sg_https, network(extra=[sg([]), rule])) == []
    vpc_rule = (SG_INGRESS, "https", {"securityGroupId": "sg-endpoints", "ipProtocol": "tcp",
                                      "fromPort": 443, "toPort": 443,
                                      "cidrIpv4": "10.0.0.0/16"})
    assert stack_violations(endpoint_sg_https, network(extra=[sg([]), vpc_rule])) == []


def test_endpoint_without_groups_or_with_external_groups() -> None:
    no_groups = [endpoint("ssm", securityGroupIds=[])]
    [(_, message)] = stack_violations(endpoint_sg_https, network(endpoints=no_groups))
    assert "default group" in message
    external = [endpoint("ssm", securityGroupIds=["sg-elsewhere"])]
    [(_, message)] = stack_violations(endpoint_sg_https, network(endpoints=external))
    assert "sg-elsewhere" in message
    assert stack_violations(endpoint_sg_https, network(endpoints=external),
                            {"trustedSecurityGroupIds": ["sg-elsewhere"]}) == []


def test_gateway_endpoints_and_unknowns_are_skipped() -> None:
    assert stack_violations(endpoint_sg_https, network(endpoints=[S3_GATEWAY])) == []
    unknown_groups = [endpoint("ssm", securityGroupIds=UNKNOWN)]
    assert stack_violations(endpoint_sg_https, network(endpoints=unknown_groups)) == []
    unknown_cidr = {**HTTPS_FROM_VPC, "cidrBlocks": [UNKNOWN]}
    assert stack_violations(endpoint_sg_https, network(extra=[sg([unknown_cidr])])) == []


# -- s3-endpoint-policy-scoped ----------------------------------------------------------------

def s3_endpoint(policy: Any, **changes: Any) -> dict[str, Any]:
    return {"vpcId": "vpc-1", "serviceName": "com.amazonaws.eu-west-1.s3",
            "vpcEndpointType": "Gateway", "routeTableIds": ["rtb-1"],
            "policy": policy if isinstance(policy, str) or policy is None else json.dumps(policy),
            **changes}


def allow(resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resources,
         **extra}]}


def test_program_s3_endpoint_policy_with_workload_buckets_passes() -> None:
    """What components/endpoints.py writes, workload buckets included, is accepted."""
    from components.endpoints import s3_endpoint_policy

    document = s3_endpoint_policy("eu-west-1", "logs-bucket", "aws", ["app-data", "reports.example.com"])
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(document)) == []


@pytest.mark.parametrize("resources", [
    "*", ["arn:aws:s3:::amazon-ssm-eu-west-1/*", "arn:aws:s3:::*"], "arn:aws:s3:::*/*",
    "arn:aws-cn:s3:::**", "arn:*",
])
def test_wildcard_bucket_is_flagged(resources: Any) -> None:
    [message] = violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(allow(resources)))
    assert "every bucket" in message and "Statement[0]" in message


def test_missing_policy_and_not_resource_are_flagged() -> None:
    [missing] = violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(None))
    assert "full access to every bucket" in missing
    not_resource = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                   "NotResource": "arn:aws:s3:::secret/*"}]}
    [message] = violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(not_resource))
    assert "NotResource" in message


def test_scoped_prefixes_denies_other_endpoints_and_unknowns_pass() -> None:
    scoped = allow(["arn:aws:s3:::amazon-ssm-*/*", "arn:aws:s3:::data/*"])
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(scoped)) == []
    deny_all = {"Statement": [*allow("arn:aws:s3:::data/*")["Statement"],
                              {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(deny_all)) == []
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, s3_endpoint(UNKNOWN)) == []
    interface = s3_endpoint(None, vpcEndpointType="Interface")
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, interface) == []
    ssm = s3_endpoint(None, serviceName="com.amazonaws.eu-west-1.ssm", vpcEndpointType="Interface")
    assert violations(s3_endpoint_policy_scoped, ENDPOINT, ssm) == []
