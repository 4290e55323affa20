"""Workload fleet: the tagged instances of one workload stack, spread across private subnets.

Every instance: IMDSv2 only (hop limit 1), encrypted gp3 root volume, no public IP, no key
pair (Session Manager replaces SSH), the SSM instance profile, and a security group with no
ingress whose egress reaches only what SSM needs (HTTPS to the VPC endpoints and to S3
through the gateway endpoint's prefix list; the internet only when a NAT was asked for).
A group of mode ``autoscaling`` gets the same settings in a launch template and one Auto
Scaling group instead of numbered instances (components/autoscaling.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.amis import SUPPORTED_OS, agent_user_data, resolve_ami
from components.autoscaling import ScalingGroupArgs, scaling_group
from components.config import FleetGroup
from components.partition import COMMERCIAL, Partition


@dataclass
class WorkloadFleetArgs:
    workload: str
    groups: list[FleetGroup]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Output[str]]
    s3_prefix_list_id: pulumi.Input[str]
    instance_profile_name: pulumi.Input[str]
    region: str
    tags: dict[str, str]
    internet_egress: bool = False
    partition: Partition = COMMERCIAL
    # Resources the instances must wait for (the endpoints: without them the agent cannot
    # register and the first inventory run fails).
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def instance_name(workload: str, group: FleetGroup, number: int) -> str:
    """The lab's Name tag: ``Prod-Web1``, ``Test-App2``."""
    return f"{workload}-{group.short_role}{number}"


def _egress_rules(args: WorkloadFleetArgs) -> list[aws.ec2.SecurityGroupEgressArgs]:
    rules = [
        aws.ec2.SecurityGroupEgressArgs(
            description="HTTPS to the Systems Manager interface endpoints",
            protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.vpc_cidr],
        ),
        aws.ec2.SecurityGroupEgressArgs(
            description="HTTPS to S3 through the gateway endpoint",
            protocol="tcp", from_port=443, to_port=443, prefix_list_ids=[args.s3_prefix_list_id],
        ),
    ]
    if args.internet_egress:
        rules += [
            aws.ec2.SecurityGroupEgressArgs(
                description=f"Package updates through the NAT gateway (port {port})",
                protocol="tcp", from_port=port, to_port=port, cidr_blocks=["0.0.0.0/0"],
            )
            for port in (80, 443)
        ]
    return rules


class WorkloadFleet(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]
    instance_ids: pulumi.Output[dict[str, str]]
    instance_names: list[str]
    # Role -> Auto Scaling group name, for the groups of mode `autoscaling`.
    auto_scaling_group_names: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: WorkloadFleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:fleet:WorkloadFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"{args.workload} fleet: no ingress, egress to SSM only",
                egress=_egress_rules(args),
                tags={**args.tags, "Name": f"{name}-sg"},
            ),
            child,
        )

        # Instances keep their AMI when AWS publishes a newer one: patching is the job of
        # Patch Manager, not of a replacement on the next `pulumi up`.
        instance_opts = pulumi.ResourceOptions(
            parent=self, depends_on=args.depends_on, ignore_changes=["ami"]
        )
        ids: list[pulumi.Output[str]] = []
        names: list[str] = []
        amis: dict[str, str] = {}
        scaling_groups: dict[str, pulumi.Output[str]] = {}
        for group in args.groups:
            os = SUPPORTED_OS[group.os]
            if os.key not in amis:
                amis[os.key] = resolve_ami(os, args.partition.name)
            user_data = agent_user_data(os, args.region, args.partition.dns_suffix)
            if group.mode == "autoscaling":
                # One launch template and one group, whatever the count (components/autoscaling.py).
                scaling_groups[group.role] = scaling_group(
                    f"{name}-{group.short_role.lower()}",
                    ScalingGroupArgs(
                        workload=args.workload, group=group, os=os, ami_id=amis[os.key],
                        user_data=user_data, subnet_ids=args.subnet_ids,
                        security_group_id=security_group.id,
                        instance_profile_name=args.instance_profile_name,
                        partition=args.partition, tags=args.tags,
                    ),
                    pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
                )
                continue
            root_volume = aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True,
                volume_type="gp3",
                volume_size=group.root_volume_size,
                delete_on_termination=True,
                tags=args.tags,
            )
            for number in range(1, group.count + 1):
                tag_name = instance_name(args.workload, group, number)
                instance = aws.ec2.Instance(
                    f"{name}-{group.short_role.lower()}{number}",
                    aws.ec2.InstanceArgs(
                        ami=amis[os.key],
                        instance_type=group.instance_type,
                        subnet_id=args.subnet_ids[(number - 1) % len(args.subnet_ids)],
                        vpc_security_group_ids=[security_group.id],
                        iam_instance_profile=args.instance_profile_name,
                        associate_public_ip_address=False,
                        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                            http_endpoint="enabled",
                            http_tokens="required",
                            http_put_response_hop_limit=1,
                        ),
                        root_block_device=root_volume,
                        user_data=user_data,
                        tags={
                            **args.tags,
                            "Name": tag_name,
                            "InstanceRole": group.role,
                            "Patch Group": group.patch_group,
                            "SSMManaged": "True",
                            "OS": os.key,
                            "AmiSsmParameter": os.ami_source_in(args.partition.name),
                        },
                    ),
                    instance_opts,
                )
                ids.append(instance.id)
                names.append(tag_name)

        self.security_group_id = security_group.id
        self.instance_names = names
        self.instance_ids = pulumi.Output.all(*ids).apply(
            lambda resolved: dict(zip(names, resolved, strict=True))
        )
        roles = list(scaling_groups)
        self.auto_scaling_group_names = pulumi.Output.all(*scaling_groups.values()).apply(
            lambda resolved: dict(zip(roles, resolved, strict=True))
        )
        self.register_outputs({
            "securityGroupId": self.security_group_id, "instanceIds": self.instance_ids,
            "autoScalingGroupNames": self.auto_scaling_group_names,
        })
