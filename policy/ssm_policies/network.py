"""Network policies: no world-open ingress, VPC endpoints for instances without an internet
route, endpoint security groups that admit HTTPS from the VPC, and S3 gateway endpoint
policies that name their buckets."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ._base import resource_policy, settings, stack_policy, string_list
from ._index import StackIndex
from ._props import UNKNOWN, as_bool, get, is_unknown, items, maybe_json, strings

INSTANCE = "aws:ec2/instance:Instance"
VPC = "aws:ec2/vpc:Vpc"
VPC_CIDR = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
ROUTE = "aws:ec2/route:Route"
RT_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
MAIN_RT_ASSOCIATION = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_RT = "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

WORLD = ("0.0.0.0/0", "::/0")
ENDPOINT_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html"


# -- ingress from anywhere --------------------------------------------------------------------

INGRESS_SCHEMA = {
    "allowedPublicPorts": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Ports that may be open to 0.0.0.0/0 or ::/0 (e.g. 443 on a load "
        "balancer's group).",
        "default": [],
    },
}


def _port_range(rule: Any) -> tuple[int, int] | None:
    """(from, to) of a rule; ``None`` when unknown. Protocol -1 means every port."""
    protocol = get(rule, "protocol", default=get(rule, "ipProtocol"))
    if protocol in ("-1", -1, "all"):
        return (0, 65535)
    low, high = get(rule, "fromPort"), get(rule, "toPort")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    return (int(low), int(high))


def world_sources(rule: Any) -> list[str]:
    cidrs = [
        *strings(get(rule, "cidrBlocks")),
        *strings(get(rule, "ipv6CidrBlocks")),
        *strings(get(rule, "cidrIpv4")),
        *strings(get(rule, "cidrIpv6")),
    ]
    return [c for c in cidrs if c in WORLD]


def _validate_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allowed_ports = set(settings(args, INGRESS_SCHEMA)["allowedPublicPorts"])
    if args.resource_type == SECURITY_GROUP:
        rules = [(f"ingress[{i}]", r) for i, r in enumerate(items(get(args.props, "ingress")))]
    elif args.resource_type == SG_RULE:
        rules = [("rule", args.props)] if get(args.props, "type") == "ingress" else []
    elif args.resource_type == SG_INGRESS_RULE:
        rules = [("rule", args.props)]
    else:
        return
    for where, rule in rules:
        sources = world_sources(rule)
        if not sources:
            continue
        ports = _port_range(rule)
        if ports is not None and ports[0] == ports[1] and ports[0] in allowed_ports:
            continue
        shown = "all ports" if ports == (0, 65535) else (
            f"ports {ports[0]}-{ports[1]}" if ports else "unknown ports")
        report(f"{where} admits {', '.join(sources)} on {shown}.", None)


no_world_ingress = resource_policy(
    name="sg-no-world-ingress",
    description="Security groups admit no inbound traffic from 0.0.0.0/0 or ::/0.",
    severity=Severity.CRITICAL,
    remediation_steps="Restrict the source to the VPC or a security group; use Session "
    "Manager instead of opening SSH/RDP.",
    url="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    validate=_validate_ingress,
    config=INGRESS_SCHEMA,
    tags=["security", "network"],
)


# -- network model shared by the stack policies -----------------------------------------------

class _Network:
    """Route tables, routes, endpoints and security group rules, keyed by id."""

    def __init__(self, index: StackIndex) -> None:
        self.index = index
        self.vpc_cidrs: dict[str, list[str]] = defaultdict(list)
        for vpc in index.of(VPC):
            self.vpc_cidrs[str(get(vpc.props, "id"))].extend(strings(get(vpc.props, "cidrBlock")))
        for extra in index.of(VPC_CIDR):
            self.vpc_cidrs[str(get(extra.props, "vpcId"))].extend(
                strings(get(extra.props, "cidrBlock")))

        self.subnet_table: dict[str, Any] = {}
        for assoc in index.of(RT_ASSOCIATION):
            subnet = get(assoc.props, "subnetId")
            if isinstance(subnet, str):
                self.subnet_table[subnet] = get(assoc.props, "routeTableId")
        self.main_table: dict[str, Any] = {}
        for vpc in index.of(VPC):
            main = get(vpc.props, "mainRouteTableId")
            if main is not None:
                self.main_table[str(get(vpc.props, "id"))] = main
        for assoc in index.of(MAIN_RT_ASSOCIATION):
            self.main_table[str(get(assoc.props, "vpcId"))] = get(assoc.props, "routeTableId")

        # route table id -> destinations of its routes (UNKNOWN marks an unknown one)
        self.routes: dict[str, list[Any]] = defaultdict(list)
        for table in index.of(ROUTE_TABLE, DEFAULT_ROUTE_TABLE):
            table_id = get(table.props, "id")
            if table.resource_type == DEFAULT_ROUTE_TABLE:
                table_id = get(table.props, "defaultRouteTableId", default=table_id)
            for route in items(get(table.props, "routes")):
                self.routes[str(table_id)].extend(_destinations(route, "cidrBlock",
                                                                "ipv6CidrBlock"))
        for route in index.of(ROUTE):
            self.routes[str(get(route.props, "routeTableId"))].extend(
                _destinations(route.props, "destinationCidrBlock", "destinationIpv6CidrBlock"))

        # vpc id -> endpoints; gateway endpoint id -> extra route tables
        self.endpoints: dict[str, list[PolicyResource]] = defaultdict(list)
        for endpoint in index.of(ENDPOINT):
            self.endpoints[str(get(endpoint.props, "vpcId"))].append(endpoint)
        self.endpoint_tables: dict[str, set[str]] = defaultdict(set)
        for assoc in index.of(ENDPOINT_RT):
            self.endpoint_tables[str(get(assoc.props, "vpcEndpointId"))].update(
                strings(get(assoc.props, "routeTableId")))

        # security group id -> its ingress rules, inline and separate
        self.ingress: dict[str, list[Any]] = defaultdict(list)
        for group in index.of(SECURITY_GROUP):
            self.ingress[str(get(group.props, "id"))].extend(items(get(group.props, "ingress")))
        for rule in index.of(SG_RULE):
            if get(rule.props, "type") == "ingress":
                self.ingress[str(get(rule.props, "securityGroupId"))].append(rule.props)
        for rule in index.of(SG_INGRESS_RULE):
            self.ingress[str(get(rule.props, "securityGroupId"))].append(rule.props)

    def route_table_of(self, subnet: PolicyResource) -> Any:
        subnet_id = get(subnet.props, "id")
        if isinstance(subnet_id, str) and subnet_id in self.subnet_table:
            return self.subnet_table[subnet_id]
        vpc_id = get(subnet.props, "vpcId")
        if is_unknown(vpc_id):
            return UNKNOWN
        # Without an explicit association the subnet uses the VPC's main route table; one
        # not managed here has only the local route, as AWS creates it.
        main = self.main_table.get(str(vpc_id))
        return main if main is not None else f"main route table of {vpc_id}"


def _destinations(route: Any, v4: str, v6: str) -> list[Any]:
    result = []
    for key in (v4, v6):
        value = get(route, key)
        if value is not None:
            result.append(value)
    return result


def service_of(endpoint: PolicyResource) -> str:
    """``com.amazonaws.us-east-1.ssm`` -> ``ssm`` (FIPS variants count as the service)."""
    name = get(endpoint.props, "serviceName")
    return name.rsplit(".", 1)[-1].removesuffix("-fips") if isinstance(name, str) else ""


def endpoint_type(endpoint: PolicyResource) -> str:
    value = get(endpoint.props, "vpcEndpointType", default="Gateway")
    return value if isinstance(value, str) else ""


# -- endpoints for instances without an internet route ----------------------------------------

ENDPOINTS_SCHEMA = {
    "interfaceServices": string_list(
        "Interface endpoint services required in the VPC of an instance without an internet "
        "route (drop ec2messages when every AMI runs SSM Agent 3.3.40.0 or newer; add ec2 "
        "for VSS snapshots, kms, logs as used).",
        ["ssm", "ec2messages"],
    ),
    "sessionManager": {
        "type": "boolean",
        "description": "Session Manager is expected, so ssmmessages is required too.",
        "default": True,
    },
    "requireS3Gateway": {
        "type": "boolean",
        "description": "Require an S3 gateway endpoint on the instance's route table "
        "(agent updates, patching, log upload).",
        "default": True,
    },
}


def _endpoint_problems(net: _Network, vpc_id: str, table: str, cfg: dict[str, Any]) -> list[str]:
    services = list(cfg["interfaceServices"])
    if cfg["sessionManager"] and "ssmmessages" not in services:
        services.append("ssmmessages")
    interface: dict[str, list[PolicyResource]] = defaultdict(list)
    s3_tables: set[str] = set()
    for endpoint in net.endpoints.get(vpc_id, []):
        kind, service = endpoint_type(endpoint), service_of(endpoint)
        if kind == "Interface":
            interface[service].append(endpoint)
        elif kind == "Gateway" and service == "s3":
            s3_tables.update(strings(get(endpoint.props, "routeTableIds")))
            s3_tables.update(net.endpoint_tables.get(str(get(endpoint.props, "id")), ()))
    problems = []
    for service in services:
        found = interface.get(service, [])
        if not found:
            problems.append(f"no interface endpoint for {service}")
        else:
            # Without private DNS the agent resolves the public endpoint name and fails.
            dns = [get(e.props, "privateDnsEnabled") for e in found]
            if not any(is_unknown(d) or as_bool(d) is True for d in dns):
                problems.append(f"the {service} endpoint has private DNS disabled")
    if cfg["requireS3Gateway"] and table not in s3_tables:
        problems.append(f"no S3 gateway endpoint on route table {table}")
    return problems


def _validate_endpoints(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, ENDPOINTS_SCHEMA)
    index = StackIndex(args.resources)
    net = _Network(index)
    memo: dict[tuple[str, str], list[str]] = {}
    for instance in index.of(INSTANCE):
        subnet = index.find(get(instance.props, "subnetId"), SUBNET)
        if subnet is None:
            continue  # unknown or outside the stack: the network is not ours to judge
        vpc_id, table = get(subnet.props, "vpcId"), net.route_table_of(subnet)
        if not isinstance(vpc_id, str) or not isinstance(table, str) or not table:
            continue
        destinations = net.routes.get(table, [])
        if any(is_unknown(d) or d in WORLD for d in destinations):
            continue  # has (or may have) a route out; endpoints are optional then
        key = (vpc_id, table)
        if key not in memo:
            memo[key] = _endpoint_problems(net, vpc_id, table, cfg)
        if memo[key]:
            report(f"Subnet {get(subnet.props, 'id')} has no route to the internet, and in VPC "
                   f"{vpc_id}: {'; '.join(memo[key])}.", instance.urn)


private_subnet_endpoints = stack_policy(
    name="private-subnet-ssm-endpoints",
    description="Instances in subnets without an internet route have SSM interface endpoints "
    "(ssm, ec2messages, ssmmessages) with private DNS and an S3 gateway endpoint.",
    severity=Severity.HIGH,
    remediation_steps="Create aws.ec2.VpcEndpoint resources (vpc_endpoint_type='Interface', "
    "private_dns_enabled=True) for com.amazonaws.<region>.ssm, .ec2messages and .ssmmessages, "
    "and a Gateway endpoint for com.amazonaws.<region>.s3 on the private route tables.",
    url=ENDPOINT_DOC,
    validate=_validate_endpoints,
    config=ENDPOINTS_SCHEMA,
    tags=["prerequisite", "network"],
)


# -- interface endpoint security groups -------------------------------------------------------

ENDPOINT_SG_SCHEMA = {
    "trustedSecurityGroupIds": string_list(
        "Security groups managed outside the stack and known to admit HTTPS from the VPC.",
        [],
    ),
}


def _inside(cidr: str, vpc_cidrs: list[str]) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    if network.prefixlen == 0:
        return False
    if not vpc_cidrs:
        return network.is_private  # VPC not in the stack: a private range is the best bound
    for vpc_cidr in vpc_cidrs:
        try:
            vpc_net = ipaddress.ip_network(vpc_cidr, strict=False)
        except ValueError:
            continue
        if network.version == vpc_net.version and network.subnet_of(vpc_net):  # type: ignore[arg-type]
            return True
    return False


def _admits_https(rule: Any, vpc_cidrs: list[str]) -> bool | None:
    """True/False, or ``None`` when the rule cannot be judged yet."""
    ports = _port_range(rule)
    protocol = get(rule, "protocol", default=get(rule, "ipProtocol"))
    if ports is None or is_unknown(protocol):
        return None
    if str(protocol).lower() not in ("tcp", "6", "-1", "all") or not ports[0] <= 443 <= ports[1]:
        return False
    peers = [*strings(get(rule, "securityGroups")), *strings(get(rule, "sourceSecurityGroupId")),
             *strings(get(rule, "referencedSecurityGroupId"))]
    if peers or as_bool(get(rule, "self")):
        return True  # security groups live in a VPC: the source is inside
    values = [get(rule, k) for k in ("cidrBlocks", "cidrIpv4", "ipv6CidrBlocks", "cidrIpv6")]
    if any(is_unknown(v) or any(is_unknown(x) for x in items(v)) for v in values):
        return None
    return any(_inside(cidr, vpc_cidrs) for value in values for cidr in strings(value))


def _validate_endpoint_sgs(args: StackValidationArgs, report: ReportViolation) -> None:
    trusted = set(settings(args, ENDPOINT_SG_SCHEMA)["trustedSecurityGroupIds"])
    index = StackIndex(args.resources)
    net = _Network(index)
    for endpoint in index.of(ENDPOINT):
        if endpoint_type(endpoint) != "Interface":
            continue
        groups = get(endpoint.props, "securityGroupIds")
        if is_unknown(groups) or any(is_unknown(g) for g in items(groups)):
            continue
        group_ids = strings(groups)
        if not group_ids:
            report("The endpoint has no security groups, so the VPC default group applies; "
                   "attach one admitting TCP 443 from the VPC.", endpoint.urn)
            continue
        if trusted.intersection(group_ids):
            continue
        vpc_cidrs = net.vpc_cidrs.get(str(get(endpoint.props, "vpcId")), [])
        verdicts: list[bool | None] = []
        external: list[str] = []
        for group_id in group_ids:
            if index.find(group_id, SECURITY_GROUP) is None:
                external.append(group_id)
                continue
            verdicts.extend(_admits_https(rule, vpc_cidrs) for rule in net.ingress.get(group_id, []))
        if True in verdicts or None in verdicts:
            continue
        where = f" (groups not in this stack: {', '.join(external)})" if external else ""
        report(f"No security group of {service_of(endpoint)} endpoint admits TCP 443 from "
               f"inside the VPC{where}.", endpoint.urn)


endpoint_sg_https = stack_policy(
    name="endpoint-sg-allows-https",
    description="Interface endpoint security groups admit TCP 443 from inside the VPC.",
    severity=Severity.HIGH,
    remediation_steps="Add an ingress rule for TCP 443 from the VPC (or private subnet) "
    "CIDRs, or from the instances' security group, to the endpoint's security group.",
    url="https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html",
    validate=_validate_endpoint_sgs,
    config=ENDPOINT_SG_SCHEMA,
    tags=["prerequisite", "network"],
)

# -- S3 gateway endpoint policy ---------------------------------------------------------------

def _every_bucket(resource: str) -> bool:
    """``*``, ``arn:aws:s3:::*``, ``arn:*:s3:::*/*``: a resource that matches any bucket."""
    if "*" not in resource and "?" not in resource:
        return False
    bucket = resource.split(":::", 1)[1].split("/", 1)[0] if ":::" in resource else resource
    return bucket.strip("*?") == "" or resource in ("*", "arn:*")


def _s3_endpoint_problems(document: Any) -> list[str]:
    if document is None or document == "":
        return ["it has no policy, so AWS applies full access to every bucket"]
    document = maybe_json(document)
    statements = get(document, "Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(document, dict) or not isinstance(statements, list):
        return ["its policy is not a JSON policy document"]
    problems = []
    for i, statement in enumerate(statements):
        if get(statement, "Effect") != "Allow":
            continue
        where = f"Statement[{i}]" + (f" ({statement['Sid']})" if get(statement, "Sid") else "")
        if get(statement, "NotResource") is not None:
            problems.append(f"{where} allows with NotResource, which covers every other bucket")
        wide = [r for r in strings(get(statement, "Resource")) if _every_bucket(r)]
        if wide:
            problems.append(f"{where} allows {', '.join(wide)}: every bucket in the region")
    return problems


def _validate_s3_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ENDPOINT:
        return
    name = get(args.props, "serviceName")
    if not isinstance(name, str) or name.rsplit(".", 1)[-1] != "s3":
        return
    if get(args.props, "vpcEndpointType", default="Gateway") != "Gateway":
        return  # interface endpoints for S3 are reached by DNS name, not by route
    document = get(args.props, "policy")
    if is_unknown(document):
        return
    problems = _s3_endpoint_problems(document)
    if problems:
        report("The S3 gateway endpoint decides every S3 request from its route tables, and "
               + "; ".join(problems) + ".", None)


s3_endpoint_policy_scoped = resource_policy(
    name="s3-endpoint-policy-scoped",
    description="S3 gateway endpoints have a policy whose Allow statements name their "
    "buckets (no wildcard bucket, no NotResource).",
    severity=Severity.MEDIUM,
    remediation_steps="Give the gateway endpoint a policy that allows the AWS-owned SSM "
    "buckets of the region (aws-ssm-<region>, amazon-ssm-<region>, ...) and the buckets the "
    "workloads use, each by name (the program: `s3EndpointAllowedBuckets`), not `*`.",
    url="https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html",
    validate=_validate_s3_endpoint,
    tags=["security", "network"],
)

POLICIES = [no_world_ingress, private_subnet_endpoints, endpoint_sg_https, s3_endpoint_policy_scoped]
