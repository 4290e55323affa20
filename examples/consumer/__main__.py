"""A consumer of an ssm-inventory stack: one more managed instance in that fleet's network.

Everything about the fleet comes from the stack's outputs (docs/outputs.md) through a
``pulumi.StackReference``: the VPC and private subnets, the interface endpoints' security
group (the instance's only way out is HTTPS to them), the instance profile that lets SSM
Agent register, and the Environment/Workload tag values that the fleet's inventory
association targets, so State Manager inventories this instance like the fleet's own.

Like the fleet's instances: no public IP, no key pair, IMDSv2 required, encrypted gp3 root
volume, AMI resolved from AWS's public SSM parameter once (``ignore_changes``), so the
repository's policy pack passes it.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# Amazon Linux 2023 ships SSM Agent: nothing to install through user data.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
HTTPS = 443

config = pulumi.Config()
infra = pulumi.StackReference(config.require("infraStack"))
vpc_id = infra.require_output("vpcId")
subnet_ids = infra.require_output("privateSubnetIds")
endpoint_sg_id = infra.require_output("endpointSecurityGroupId")
profile_name = infra.require_output("instanceProfileName")
workload = infra.require_output("workload")
environment = infra.require_output("environmentTag")
role = config.get("instanceRole") or "AppServer"

# The inventory association targets tag:Environment AND tag:Workload: these two values are
# what makes it pick this instance up.
fleet_tags = pulumi.Output.all(environment, workload).apply(
    lambda values: {"Environment": str(values[0]), "Workload": str(values[1])}
)

security_group = aws.ec2.SecurityGroup(
    "consumer",
    aws.ec2.SecurityGroupArgs(
        vpc_id=vpc_id,
        description="Consumer instance: no ingress, HTTPS to the SSM interface endpoints only",
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                description="SSM Agent to the interface endpoints",
                protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                security_groups=[endpoint_sg_id],
            )
        ],
        tags=fleet_tags,
    ),
)

ami = aws.ssm.get_parameter(name=AMI_PARAMETER).value

instance = aws.ec2.Instance(
    "consumer",
    aws.ec2.InstanceArgs(
        ami=ami,
        instance_type=config.get("instanceType") or "t3.micro",
        subnet_id=subnet_ids.apply(lambda ids: str(ids[0])),
        vpc_security_group_ids=[security_group.id],
        iam_instance_profile=profile_name,
        associate_public_ip_address=False,
        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
        ),
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3"),
        tags=fleet_tags.apply(
            lambda tags: {
                **tags,
                "Name": f"{tags['Workload']}-Consumer1",
                "InstanceRole": role,
                "Patch Group": config.get("patchGroup") or "Critical",
                "SSMManaged": "True",
                "OS": "amazon-linux-2023",
                "AmiSsmParameter": AMI_PARAMETER,
            }
        ),
    ),
    # A new AMI release must not replace the instance; patching is Patch Manager's job.
    opts=pulumi.ResourceOptions(ignore_changes=["ami"]),
)

pulumi.export("instanceId", instance.id)
pulumi.export("privateIp", instance.private_ip)
pulumi.export("subnetId", instance.subnet_id)
