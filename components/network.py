"""Network: a VPC with private subnets only (optionally one public subnet + NAT)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.zones import choose_zones

# The VPC is cut into eight equal blocks: up to six private subnets (one per AZ), one spare,
# and the last block for the optional public NAT subnet. Derived, never typed by hand.
SUBNET_SLOTS_BITS = 3
PUBLIC_SLOT = 7


@dataclass
class NetworkArgs:
    vpc_cidr: str
    az_count: int
    tags: dict[str, str]
    nat_gateway: bool = False
    # Zone names, chosen beforehand by components.zones.choose_zones (empty: any available).
    availability_zones: list[str] = field(default_factory=list)


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], str]:
    """Private subnet CIDRs (one per AZ) and the public NAT subnet CIDR."""
    blocks = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=SUBNET_SLOTS_BITS))
    return [str(b) for b in blocks[:az_count]], str(blocks[PUBLIC_SLOT])


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    availability_zones: list[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        zones = args.availability_zones or [
            zone.name for zone in choose_zones(args.az_count, aws.get_region().region)
        ]
        private_cidrs, public_cidr = subnet_cidrs(args.vpc_cidr, len(zones))

        # DNS support and hostnames are required for interface endpoints' private DNS.
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=args.vpc_cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={**tags, "Name": f"{name}-vpc"},
            ),
            child,
        )

        nat_gateway_id: pulumi.Output[str] | None = None
        if args.nat_gateway:
            nat_gateway_id = self._nat(name, vpc, zones[0], public_cidr, tags, child)

        self.private_subnet_ids = []
        self.private_route_table_ids = []
        for index, (zone, cidr) in enumerate(zip(zones, private_cidrs, strict=True)):
            label = f"{name}-private-{index + 1}"
            subnet = aws.ec2.Subnet(
                label,
                aws.ec2.SubnetArgs(
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={**tags, "Name": label, "Tier": "private"},
                ),
                child,
            )
            route_table = aws.ec2.RouteTable(
                f"{label}-rt",
                aws.ec2.RouteTableArgs(vpc_id=vpc.id, tags={**tags, "Name": f"{label}-rt"}),
                child,
            )
            aws.ec2.RouteTableAssociation(
                f"{label}-rta",
                aws.ec2.RouteTableAssociationArgs(
                    subnet_id=subnet.id, route_table_id=route_table.id
                ),
                child,
            )
            if nat_gateway_id is not None:
                aws.ec2.Route(
                    f"{label}-default-route",
                    aws.ec2.RouteArgs(
                        route_table_id=route_table.id,
                        destination_cidr_block="0.0.0.0/0",
                        nat_gateway_id=nat_gateway_id,
                    ),
                    child,
                )
            self.private_subnet_ids.append(subnet.id)
            self.private_route_table_ids.append(route_table.id)

        self.vpc_id = vpc.id
        self.vpc_cidr = args.vpc_cidr
        self.availability_zones = zones
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
            }
        )

    def _nat(
        self,
        name: str,
        vpc: aws.ec2.Vpc,
        zone: str,
        cidr: str,
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        """One public subnet with an internet gateway and a NAT gateway, for package updates."""
        igw = aws.ec2.InternetGateway(
            f"{name}-igw",
            aws.ec2.InternetGatewayArgs(vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}),
            child,
        )
        public = aws.ec2.Subnet(
            f"{name}-public",
            aws.ec2.SubnetArgs(
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-public", "Tier": "public"},
            ),
            child,
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            aws.ec2.RouteTableArgs(
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
                tags={**tags, "Name": f"{name}-public-rt"},
            ),
            child,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-rta",
            aws.ec2.RouteTableAssociationArgs(subnet_id=public.id, route_table_id=public_rt.id),
            child,
        )
        eip = aws.ec2.Eip(
            f"{name}-nat-eip",
            aws.ec2.EipArgs(domain="vpc", tags={**tags, "Name": f"{name}-nat-eip"}),
            pulumi.ResourceOptions(parent=self, depends_on=[igw]),
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat",
            aws.ec2.NatGatewayArgs(
                subnet_id=public.id,
                allocation_id=eip.id,
                tags={**tags, "Name": f"{name}-nat"},
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[igw]),
        )
        return nat.id
