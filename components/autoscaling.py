"""A fleet group of mode ``autoscaling``: one launch template and one Auto Scaling group.

The launch template carries what each ``aws.ec2.Instance`` of an ``instances`` group carries
(components/fleet.py): the same AMI, the SSM instance profile, IMDSv2 required with hop limit
1, an encrypted gp3 root volume, no public IP, no key pair, the fleet security group, the
agent user data where the OS lacks the agent, and the lab's tags on every instance and
volume it launches. The group spans the private subnets and propagates the tags the
inventory association, patch scan and maintenance windows target, so they find its
instances with no change to them. Two resources, whatever the group's size.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.amis import OperatingSystem
from components.config import FleetGroup
from components.partition import Partition

# Tags the group itself propagates to each instance at launch (AWS: "Tag Auto Scaling
# groups and instances", PropagateAtLaunch). They are what State Manager and Patch Manager
# select on; the launch template's tag specifications carry them too, the group's copy wins
# on a conflict, so both say the same.
PROPAGATED_KEYS = ("Environment", "Workload", "InstanceRole", "Patch Group")


@dataclass
class ScalingGroupArgs:
    workload: str
    group: FleetGroup
    os: OperatingSystem
    ami_id: str
    user_data: str | None
    subnet_ids: list[pulumi.Output[str]]
    security_group_id: pulumi.Input[str]
    instance_profile_name: pulumi.Input[str]
    partition: Partition
    tags: dict[str, str]


def group_name_tag(workload: str, group: FleetGroup) -> str:
    """The Name tag of a group's instances: ``Prod-Web`` (they are not numbered)."""
    return f"{workload}-{group.short_role}"


def launched_instance_tags(args: ScalingGroupArgs) -> dict[str, str]:
    """The tags every instance the group launches carries (an instance's, Name unnumbered)."""
    return {
        **args.tags,
        "Name": group_name_tag(args.workload, args.group),
        "InstanceRole": args.group.role,
        "Patch Group": args.group.patch_group,
        "SSMManaged": "True",
        "OS": args.os.key,
        "AmiSsmParameter": args.os.ami_source_in(args.partition.name),
    }


def root_device_name(ami_id: str) -> str:
    """The AMI's root device (``/dev/xvda`` on Amazon Linux, ``/dev/sda1`` on Ubuntu and
    Windows): a launch template's block device mapping must name it, or the volume settings
    apply to an extra, empty volume instead of the root one."""
    image = aws.ec2.get_ami(
        most_recent=True,
        filters=[aws.ec2.GetAmiFilterArgs(name="image-id", values=[ami_id])],
    )
    return image.root_device_name


def scaling_group(
    name: str, args: ScalingGroupArgs, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """Registers the group's launch template and Auto Scaling group; returns the group name.

    ``opts`` carries the parent and the endpoints to wait for (as an instance would).
    """
    child = pulumi.ResourceOptions(parent=opts.parent)
    group = args.group
    instance_tags = launched_instance_tags(args)
    user_data = (
        base64.b64encode(args.user_data.encode()).decode() if args.user_data else None
    )  # launch templates take user data base64-encoded (instances take it plain)
    template = aws.ec2.LaunchTemplate(
        f"{name}-lt",
        aws.ec2.LaunchTemplateArgs(
            description=f"{args.workload} {group.role} instances ({args.os.key})",
            image_id=args.ami_id,
            instance_type=group.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(
                name=args.instance_profile_name,
            ),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=root_device_name(args.ami_id),
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true",
                        volume_type="gp3",
                        volume_size=group.root_volume_size,
                        delete_on_termination="true",
                    ),
                )
            ],
            # Security groups go on the interface: a template with network_interfaces
            # may not also set vpc_security_group_ids.
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    security_groups=[args.security_group_id],
                    delete_on_termination="true",
                )
            ],
            user_data=user_data,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="instance", tags=instance_tags
                ),
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="volume", tags=args.tags
                ),
            ],
            # A new AMI is a new version, and the default one: what scale-out launches next.
            update_default_version=True,
            tags={**args.tags, "Name": f"{name}-lt"},
        ),
        child,
    )
    propagated = {key: instance_tags[key] for key in PROPAGATED_KEYS}
    group_tags = {**args.tags, **propagated}
    scaling = aws.autoscaling.Group(
        f"{name}-asg",
        aws.autoscaling.GroupArgs(
            desired_capacity=group.count,
            min_size=group.min_size,
            max_size=group.max_size,
            vpc_zone_identifiers=args.subnet_ids,
            # The template's version number, not $Latest: a new version changes the group,
            # so the change shows in the plan (rolling it out is an instance refresh,
            # docs/operations.md).
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id,
                version=template.latest_version.apply(str),
            ),
            health_check_type="EC2",
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                for key, value in group_tags.items()
            ],
        ),
        pulumi.ResourceOptions(parent=opts.parent, depends_on=opts.depends_on),
    )
    return scaling.name
