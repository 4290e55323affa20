"""Each component alone under mocks, its properties asserted by engine name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi

from components.config import FleetGroup
from components.endpoints import SSM_REGIONAL_BUCKETS, SsmEndpoints, SsmEndpointsArgs, s3_endpoint_policy
from components.fleet import WorkloadFleet, WorkloadFleetArgs
from components.instance_role import SSM_CORE_POLICY, InstanceRole, InstanceRoleArgs
from components.inventory import InventoryCollection, InventoryCollectionArgs
from components.network import Network, NetworkArgs
from components.operator_access import (
    COMPLIANCE_READ_ACTIONS,
    COMPLIANCE_WRITE_ACTIONS,
    FLEET_READ_ACTIONS,
    OperatorAccess,
    OperatorAccessArgs,
)
from components.partition import Partition
from components.reporting import InventoryReporting, InventoryReportingArgs
from fleetctl.plan.mockrun import Recording, record
from fleetctl.project import StackSettings

TAGS = {"Environment": "OELabIPM", "Workload": "Test"}
SETTINGS = StackSettings(project="ssm-inventory", stack="unit", config={"aws:region": "eu-west-1"})


def run(program: Callable[[], object]) -> Recording:
    return record(program, SETTINGS)


def test_network_private_subnets_only() -> None:
    rec = run(lambda: Network("net", NetworkArgs(vpc_cidr="10.2.0.0/16", az_count=3, tags=TAGS)))
    (component,) = rec.by_type("ssm-inventory:network:Network")
    vpc = rec.one("aws:ec2/vpc:Vpc", "net-vpc")
    assert vpc.parent == component.urn
    assert vpc.inputs["cidrBlock"] == "10.2.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    subnets = sorted(rec.by_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
    assert [s.inputs["cidrBlock"] for s in subnets] == ["10.2.0.0/19", "10.2.32.0/19", "10.2.64.0/19"]
    assert [s.inputs["availabilityZone"] for s in subnets] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    tables = rec.by_type("aws:ec2/routeTable:RouteTable")
    assert len(tables) == 3 and all(not t.inputs.get("routes") for t in tables)
    assert len(rec.by_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 3
    for absent in ("internetGateway:InternetGateway", "natGateway:NatGateway", "route:Route"):
        assert not rec.by_type(f"aws:ec2/{absent}")
    assert all(r.inputs["tags"]["Workload"] == "Test" for r in [vpc, *subnets, *tables])


def test_network_nat_option_adds_public_subnet_and_default_routes() -> None:
    rec = run(lambda: Network(
        "net", NetworkArgs(vpc_cidr="10.2.0.0/16", az_count=2, tags=TAGS, nat_gateway=True)
    ))
    public = rec.one("aws:ec2/subnet:Subnet", "net-public")
    assert public.inputs["cidrBlock"] == "10.2.224.0/19"
    assert public.inputs["mapPublicIpOnLaunch"] is False
    (nat,) = rec.by_type("aws:ec2/natGateway:NatGateway")
    routes = rec.by_type("aws:ec2/route:Route")
    assert len(routes) == 2
    assert {r.inputs["destinationCidrBlock"] for r in routes} == {"0.0.0.0/0"}
    assert {r.inputs["natGatewayId"] for r in routes} == {nat.outputs["id"]}


def test_endpoints_interface_and_s3_gateway() -> None:
    def program() -> None:
        SsmEndpoints("ep", SsmEndpointsArgs(
            vpc_id="vpc-1", vpc_cidr="10.0.0.0/16",
            subnet_ids=[pulumi.Output.from_input("subnet-a"), pulumi.Output.from_input("subnet-b")],
            route_table_ids=[pulumi.Output.from_input("rtb-a"), pulumi.Output.from_input("rtb-b")],
            services=["ssm", "ec2messages", "ec2", "ssmmessages"], region="eu-west-1",
            log_bucket_name=pulumi.Output.from_input("my-logs"), tags=TAGS,
        ))

    rec = run(program)
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", "ep-sg")
    assert sg.inputs["description"]
    (rule,) = sg.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)
    assert rule["cidrBlocks"] == ["10.0.0.0/16"] and rule["description"]
    assert not sg.inputs.get("egress")
    interfaces = [r for r in rec.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                  if r.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(r.inputs["serviceName"] for r in interfaces) == sorted(
        f"com.amazonaws.eu-west-1.{s}" for s in ("ssm", "ec2messages", "ec2", "ssmmessages"))
    for endpoint in interfaces:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
        assert endpoint.inputs["securityGroupIds"] == [sg.outputs["id"]]
    s3 = rec.one("aws:ec2/vpcEndpoint:VpcEndpoint", "ep-s3")
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert s3.inputs["routeTableIds"] == ["rtb-a", "rtb-b"]
    policy = json.loads(s3.inputs["policy"])
    resources = [res for st in policy["Statement"] for res in st["Resource"]]
    assert "arn:aws:s3:::amazon-ssm-eu-west-1/*" in resources
    assert "arn:aws:s3:::my-logs/*" in resources
    # Nothing but the SSM buckets of the region and ours.
    allowed = {f"arn:aws:s3:::{b.format(region='eu-west-1')}/*" for b in SSM_REGIONAL_BUCKETS}
    assert set(resources) - allowed == {"arn:aws:s3:::my-logs", "arn:aws:s3:::my-logs/*"}


def test_instance_role_core_policy_and_scoped_log_writer() -> None:
    def program() -> None:
        InstanceRole("mi", InstanceRoleArgs(
            tags=TAGS, path="/ssm/", permissions_boundary="arn:aws:iam::123456789012:policy/B",
            log_bucket_arn="arn:aws:s3:::logs", log_key_prefix="inventory/",
        ))

    rec = run(program)
    role = rec.one("aws:iam/role:Role", "mi-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::123456789012:policy/B"
    assert role.inputs["path"] == "/ssm/"
    attachments = rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a.inputs["policyArn"] for a in attachments] == [SSM_CORE_POLICY]
    assert all("AmazonEC2RoleforSSM" not in json.dumps(r.inputs) for r in rec.resources)
    inline = rec.one("aws:iam/rolePolicy:RolePolicy", "mi-execution-logs")
    statements = json.loads(inline.inputs["policy"])["Statement"]
    assert {(s["Action"], s["Resource"]) for s in statements} == {
        ("s3:PutObject", "arn:aws:s3:::logs/inventory/*"),
        ("s3:GetEncryptionConfiguration", "arn:aws:s3:::logs"),
    }
    profile = rec.one("aws:iam/instanceProfile:InstanceProfile", "mi-profile")
    assert profile.inputs["role"] == role.outputs["name"]
    assert {attachments[0].urn, inline.urn} <= set(profile.dependencies)


def test_instance_role_without_logs_has_no_inline_policy() -> None:
    rec = run(lambda: InstanceRole("mi", InstanceRoleArgs(tags=TAGS)))
    assert not rec.by_type("aws:iam/rolePolicy:RolePolicy")


def _fleet_program(groups: list[FleetGroup], internet: bool = False) -> Callable[[], None]:
    def program() -> None:
        WorkloadFleet("fleet", WorkloadFleetArgs(
            workload="Prod", groups=groups, vpc_id="vpc-1", vpc_cidr="10.1.0.0/16",
            subnet_ids=[pulumi.Output.from_input("subnet-a"), pulumi.Output.from_input("subnet-b")],
            s3_prefix_list_id="pl-1234", instance_profile_name="profile-1", region="eu-west-1",
            internet_egress=internet, tags=TAGS,
        ))
    return program


def test_fleet_instances_and_security_group() -> None:
    rec = run(_fleet_program([FleetGroup(role="WebServer", count=3), FleetGroup(
        role="AppServer", count=1, os="rhel-9", instance_type="m7i.large", patch_group="NonCritical")]))
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", "fleet-sg")
    assert not sg.inputs.get("ingress")
    egress = sg.inputs["egress"]
    assert {(e["fromPort"], tuple(e.get("cidrBlocks", [])), tuple(e.get("prefixListIds", [])))
            for e in egress} == {(443, ("10.1.0.0/16",), ()), (443, (), ("pl-1234",))}
    instances = {r.inputs["tags"]["Name"]: r for r in rec.by_type("aws:ec2/instance:Instance")}
    assert sorted(instances) == ["Prod-App1", "Prod-Web1", "Prod-Web2", "Prod-Web3"]
    assert [instances[f"Prod-Web{n}"].inputs["subnetId"] for n in (1, 2, 3)] == [
        "subnet-a", "subnet-b", "subnet-a"]
    web, app = instances["Prod-Web1"], instances["Prod-App1"]
    assert web.inputs["ami"].startswith("ami-") and web.inputs["ami"] != app.inputs["ami"]
    assert "userData" not in web.inputs  # Amazon Linux ships the agent
    assert "amazon-ssm-agent" in app.inputs["userData"]  # RHEL gets it from the regional bucket
    assert "amazon-ssm-eu-west-1" in app.inputs["userData"]
    assert "--disablerepo='*'" in app.inputs["userData"]  # works without a NAT
    assert app.inputs["instanceType"] == "m7i.large"
    assert app.inputs["tags"]["Patch Group"] == "NonCritical"
    assert app.inputs["tags"]["InstanceRole"] == "AppServer"
    assert web.inputs["tags"]["AmiSsmParameter"].startswith("/aws/service/ami-amazon-linux-latest/")
    assert app.inputs["tags"]["AmiSsmParameter"] == "ec2-image:309956199498:RHEL-9"
    for instance in instances.values():
        assert instance.inputs["iamInstanceProfile"] == "profile-1"
        assert instance.inputs["vpcSecurityGroupIds"] == [sg.outputs["id"]]
        assert instance.ignore_changes == ["ami"]


def test_fleet_nat_option_opens_package_egress() -> None:
    rec = run(_fleet_program([FleetGroup(role="WebServer", count=1)], internet=True))
    egress = rec.one("aws:ec2/securityGroup:SecurityGroup", "fleet-sg").inputs["egress"]
    assert {e["fromPort"] for e in egress if e.get("cidrBlocks") == ["0.0.0.0/0"]} == {80, 443}


def _inventory_program(logs: bool, protect: bool = False) -> Callable[[], None]:
    def program() -> None:
        InventoryCollection("inv", InventoryCollectionArgs(
            association_name="InventoryAllInstances", schedule="rate(1 hour)",
            parameters={"applications": "Enabled", "files": '[{"Path": "/etc"}]'},
            target_tags={"Environment": "OELabIPM", "Workload": "Test"}, region="eu-west-1",
            tags=TAGS, execution_logs=logs, log_retention_days=30, protect_log_bucket=protect,
        ))
    return program


def test_inventory_association_without_logs() -> None:
    rec = run(_inventory_program(logs=False))
    (association,) = rec.by_type("aws:ssm/association:Association")
    i = association.inputs
    assert i["name"] == "AWS-GatherSoftwareInventory"
    assert i["associationName"] == "InventoryAllInstances"
    assert i["scheduleExpression"] == "rate(1 hour)"
    assert i["parameters"] == {"applications": "Enabled", "files": '[{"Path": "/etc"}]'}
    assert i["targets"] == [
        {"key": "tag:Environment", "values": ["OELabIPM"]},
        {"key": "tag:Workload", "values": ["Test"]},
    ]
    assert "outputLocation" not in i
    assert i["tags"] == TAGS
    assert not rec.by_type("aws:s3/bucket:Bucket")


def test_inventory_log_bucket_is_locked_down() -> None:
    rec = run(_inventory_program(logs=True, protect=True))
    bucket = rec.one("aws:s3/bucket:Bucket", "inv-logs")
    assert bucket.protect and bucket.retain_on_delete
    assert bucket.inputs["forceDestroy"] is False
    name = bucket.outputs["bucket"]
    block = rec.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "inv-logs-public-access")
    assert all(block.inputs[k] is True for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = rec.by_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = rec.by_type("aws:s3/bucketVersioning:BucketVersioning")[0]
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    lifecycle = rec.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]
    assert lifecycle.inputs["rules"][0]["expiration"]["days"] == 30
    policy = json.loads(rec.by_type("aws:s3/bucketPolicy:BucketPolicy")[0].inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{name}/*" in deny["Resource"]
    for child in (block, sse, versioning, lifecycle):
        assert child.inputs["bucket"] == name
    (association,) = rec.by_type("aws:ssm/association:Association")
    assert association.inputs["outputLocation"] == {
        "s3BucketName": name, "s3KeyPrefix": "inventory-execution-logs", "s3Region": "eu-west-1"}
    # Logs are only written once the bucket is private, encrypted and TLS-only.
    assert block.urn in association.dependencies


def test_component_type_tokens_follow_the_convention(dev: Recording) -> None:
    components = [r for r in dev.resources[1:] if not r.custom]
    assert {r.type for r in components} == {
        "ssm-inventory:network:Network", "ssm-inventory:endpoints:SsmEndpoints",
        "ssm-inventory:iam:InstanceRole", "ssm-inventory:fleet:WorkloadFleet",
        "ssm-inventory:inventory:InventoryCollection", "ssm-inventory:iam:OperatorAccess",
        "ssm-inventory:patching:PatchManagement",
    }


def test_reporting_bucket_policy_lets_ssm_deliver_only_for_this_account() -> None:
    rec = run(lambda: InventoryReporting("rep", InventoryReportingArgs(
        sync_name="ssm-inventory-test", region="eu-west-1", account_id="111122223333", tags=TAGS,
    )))
    bucket = rec.one("aws:s3/bucket:Bucket", "rep-bucket")
    arn = bucket.outputs["arn"]
    policy = json.loads(rec.by_type("aws:s3/bucketPolicy:BucketPolicy")[0].inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"DenyInsecureTransport", "SSMBucketPermissionsCheck", "SSMBucketDelivery"}
    delivery = by_sid["SSMBucketDelivery"]
    assert delivery["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert delivery["Resource"] == f"{arn}/inventory/*/accountid=111122223333/*"
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == "111122223333"
    assert by_sid["SSMBucketPermissionsCheck"]["Action"] == "s3:GetBucketAcl"
    (sync,) = rec.by_type("aws:ssm/resourceDataSync:ResourceDataSync")
    assert sync.inputs["s3Destination"] == {
        "bucketName": bucket.outputs["bucket"], "region": "eu-west-1", "prefix": "inventory",
        "syncFormat": "JsonSerDe"}
    assert "tags" not in sync.inputs  # the type takes none
    policy_urn = rec.by_type("aws:s3/bucketPolicy:BucketPolicy")[0].urn
    assert policy_urn in sync.dependencies


def test_arns_and_service_names_follow_the_partition() -> None:
    gov = Partition("aws-us-gov", "amazonaws.com", "com.amazonaws")

    def program() -> None:
        InstanceRole("mi", InstanceRoleArgs(tags=TAGS, partition=gov))
        SsmEndpoints("ep", SsmEndpointsArgs(
            vpc_id="vpc-1", vpc_cidr="10.0.0.0/16", subnet_ids=[pulumi.Output.from_input("s")],
            route_table_ids=[pulumi.Output.from_input("r")], services=["ssm"],
            region="us-gov-west-1", tags=TAGS, partition=gov,
        ))

    rec = run(program)
    (attachment,) = rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == (
        "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore")
    policy = json.loads(rec.one("aws:ec2/vpcEndpoint:VpcEndpoint", "ep-s3").inputs["policy"])
    assert all(r.startswith("arn:aws-us-gov:s3:::") for s in policy["Statement"] for r in s["Resource"])
    names = {e.inputs["serviceName"] for e in rec.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert names == {"com.amazonaws.us-gov-west-1.ssm", "com.amazonaws.us-gov-west-1.s3"}
    china = Partition("aws-cn", "amazonaws.com.cn", "cn.com.amazonaws")
    assert china.endpoint_service("cn-north-1", "ssm") == "cn.com.amazonaws.cn-north-1.ssm"
    assert china.service_principal("ssm") == "ssm.amazonaws.com.cn"


def _operator_statements(region: str = "eu-west-1", partition: str = "aws") -> list[dict[str, Any]]:
    rec = run(lambda: OperatorAccess("ops", OperatorAccessArgs(
        region=region, tags=TAGS, path="/ssm/", account_id="111122223333", partition=partition,
    )))
    (policy,) = rec.by_type("aws:iam/policy:Policy")
    assert policy.inputs["path"] == "/ssm/" and policy.inputs["tags"] == TAGS
    statements: list[dict[str, Any]] = json.loads(policy.inputs["policy"])["Statement"]
    return statements


def test_operator_policy_is_read_only_and_regional() -> None:
    statements = _operator_statements()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
        # Read-only: every action only describes, lists or gets.
        assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in statement["Action"])


def test_operator_policy_scopes_what_takes_resource_level_permissions() -> None:
    """Service Authorization Reference ("Actions, resources, and condition keys for AWS Systems
    Manager" / "... for Amazon EC2"): ssm:DescribeAssociation takes association ARNs,
    ssm:DescribeInstanceAssociationsStatus instance ARNs, ec2:GetConsoleOutput requires an
    instance ARN; the user guide's "Working with associations using IAM" says State Manager
    checks only the resources a request names. The rest has no resource types: "*"."""
    resources = {a: s["Resource"] for s in _operator_statements(partition="aws-cn") for a in s["Action"]}
    assert resources["ssm:DescribeAssociation"] == "arn:aws-cn:ssm:eu-west-1:111122223333:association/*"
    for action in ("ec2:GetConsoleOutput", "ssm:DescribeInstanceAssociationsStatus"):
        assert resources[action] == "arn:aws-cn:ec2:eu-west-1:111122223333:instance/*"
    unscoped = {a for a, r in resources.items() if r == "*"}
    assert unscoped == {
        "ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "ssm:ListAssociations",
        "ssm:DescribeAssociationExecutions", "ssm:DescribeAssociationExecutionTargets",
        "ssm:GetInventory", "ssm:ListInventoryEntries", "ssm:ListResourceComplianceSummaries",
        "ssm:ListComplianceItems",
    }


def test_operator_policy_covers_every_call_of_the_fleet_checks() -> None:
    """The policy grants exactly the reads `fleetctl check`, `inventory query` and
    `compliance evaluate|report` call; the one write, `compliance evaluate --put`'s, is the
    writer policy's and nothing else."""
    import re
    from pathlib import Path

    import boto3

    root = Path(__file__).parent.parent / "fleetctl"
    # the fleet checks' own calls, the inventory reads they share with the software policy,
    # and the software policy's own reads and write
    source = "\n".join(
        (root / module).read_text()
        for module in ("ops/aws.py", "compliance/inventory.py", "compliance/aws.py")
    )
    calls = set(re.findall(r'\b(ssm|ec2)\.(?:get_paginator\("([a-z_]+)"\)|([a-z_]+)\()', source))
    assert len(calls) >= 12
    called = set()
    for service, paginated, direct in calls:
        client = boto3.client(service, region_name="us-east-1")
        called.add(f"{service}:{client.meta.method_to_api_mapping[paginated or direct]}")
    assert "ec2:GetConsoleOutput" in called and "ssm:ListInventoryEntries" in called
    writes = {c for c in called if not c.split(":")[1].startswith(("Describe", "Get", "List"))}
    assert writes == set(COMPLIANCE_WRITE_ACTIONS) == {"ssm:PutComplianceItems"}
    granted = [a for s in _operator_statements() for a in s["Action"]]
    assert len(granted) == len(set(granted))  # each action in one statement only
    assert called - writes == set(granted) == set(FLEET_READ_ACTIONS)
    assert set(COMPLIANCE_READ_ACTIONS) <= set(granted)


def test_s3_endpoint_lets_workloads_reach_only_the_listed_buckets() -> None:
    """The gateway endpoint's route wins over 0.0.0.0/0 for S3 in the region (VPC user guide,
    "Gateway endpoints"), so its policy decides every S3 request of the fleet."""
    from fleetctl.plan.mockrun import run_program

    rec = run_program("dev", overrides={
        "aws:region": "eu-west-1",
        "s3EndpointAllowedBuckets": ["app-data", "arn:aws:s3:::reports.example.com"],
    })
    (s3,) = [r for r in rec.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
             if r.inputs["vpcEndpointType"] == "Gateway"]
    statements = {s["Sid"]: s for s in json.loads(s3.inputs["policy"])["Statement"]}
    objects, buckets = statements["WorkloadBucketObjects"], statements["WorkloadBuckets"]
    assert objects["Resource"] == ["arn:aws:s3:::app-data/*", "arn:aws:s3:::reports.example.com/*"]
    assert buckets["Resource"] == ["arn:aws:s3:::app-data", "arn:aws:s3:::reports.example.com"]
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                      "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
    assert set(buckets["Action"]) == {"s3:ListBucket", "s3:GetBucketLocation",
                                      "s3:ListBucketMultipartUploads"}
    # No wildcard anywhere: every resource names one bucket.
    for statement in statements.values():
        resources = statement["Resource"]
        for arn in [resources] if isinstance(resources, str) else resources:
            assert arn.split(":::")[1].split("/")[0] not in {"", "*"}
    assert "s3:*" not in {a for s in statements.values() for a in s["Action"]}


def test_s3_endpoint_without_allowed_buckets_has_no_workload_statement() -> None:
    policy = json.loads(s3_endpoint_policy("eu-west-1", None))
    assert [s["Sid"] for s in policy["Statement"]] == ["SsmRegionalBuckets"]
