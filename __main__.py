"""ssm-inventory: Systems Manager inventory for a tagged EC2 fleet in private subnets.

Reads and validates the stack config, builds the components, exports the outputs other
stacks consume through stack references. Nothing is registered when the config is invalid.
"""

import json

import pulumi
import pulumi_aws as aws

from components.alerts import ComplianceAlerts, ComplianceAlertsArgs
from components.config import load_stack_config
from components.endpoints import SsmEndpoints, SsmEndpointsArgs, empty_fleet_warning
from components.fleet import WorkloadFleet, WorkloadFleetArgs
from components.instance_role import InstanceRole, InstanceRoleArgs
from components.inventory import InventoryCollection, InventoryCollectionArgs
from components.lambda_package import lambda_archive
from components.network import Network, NetworkArgs
from components.operator_access import ComplianceWriterAccess, OperatorAccess, OperatorAccessArgs
from components.partition import current_partition, require_same_partition
from components.patch_buckets import patching_buckets
from components.patching import PatchManagement, PatchManagementArgs
from components.report_catalog import ReportingCatalog, ReportingCatalogArgs
from components.reporting import (
    InventoryReporting,
    InventoryReportingArgs,
    InventorySyncs,
    InventorySyncsArgs,
)
from components.software_compliance import SoftwarePolicySchedule, SoftwarePolicyScheduleArgs
from components.zones import choose_zones
from fleetctl.compliance.rules import rules_to_json

config = load_stack_config()
region = aws.get_region().region
partition = current_partition(region)  # aws or aws-us-gov; others stop here
require_same_partition("ssm-inventory:permissionsBoundary", config.permissions_boundary, partition)
# Zones offering every launched instance type and interface endpoint, checked before
# anything is registered.
zones = choose_zones(
    config.az_count,
    region,
    instance_types=[group.instance_type for group in config.fleet if group.count],
    endpoint_services={s: partition.endpoint_service(region, s) for s in config.endpoints},
)
# The buckets patching reads in this region for the fleet's OS families (a region the
# table does not know stops here, before anything is registered).
patch_buckets = (
    patching_buckets(region, [group.os for group in config.fleet if group.count])
    if config.patching.enabled
    else []
)
# The scheduled function's code, gathered now: a dependency missing from this environment
# stops the run before anything is registered.
software_schedule = config.software_policy.schedule if config.software_policy else None
software_policy_code = (
    lambda_archive(json.dumps(rules_to_json(config.software_rules()), indent=2))
    if software_schedule
    else None
)
tags = config.common_tags
if not any(group.count for group in config.fleet):
    pulumi.log.warn(empty_fleet_warning(len(config.endpoints), config.az_count))

inventory = InventoryCollection(
    "inventory",
    InventoryCollectionArgs(
        association_name=config.inventory.association_name,
        schedule=config.inventory.schedule,
        parameters=config.inventory.parameters.as_document_parameters(),
        target_tags={"Environment": config.environment_tag, "Workload": config.workload},
        region=region,
        tags=tags,
        compliance_severity=config.inventory.compliance_severity,
        execution_logs=config.inventory.execution_logs,
        log_retention_days=config.inventory.log_retention_days,
        protect_log_bucket=config.inventory.protect_log_bucket,
    ),
)

network = Network(
    "network",
    NetworkArgs(
        vpc_cidr=config.vpc_cidr,
        az_count=config.az_count,
        nat_gateway=config.nat_gateway,
        availability_zones=[zone.name for zone in zones],
        tags=tags,
    ),
)

endpoints = SsmEndpoints(
    "ssm-endpoints",
    SsmEndpointsArgs(
        vpc_id=network.vpc_id,
        vpc_cidr=network.vpc_cidr,
        subnet_ids=network.private_subnet_ids,
        route_table_ids=network.private_route_table_ids,
        services=config.endpoints,
        region=region,
        log_bucket_name=inventory.log_bucket_name,
        partition=partition,
        workload_buckets=config.s3_endpoint_allowed_buckets,
        patch_buckets=patch_buckets,
        tags=tags,
    ),
)

instance_role = InstanceRole(
    "managed-instances",
    InstanceRoleArgs(
        path=config.iam_path,
        permissions_boundary=config.permissions_boundary,
        log_bucket_arn=inventory.log_bucket_arn,
        log_key_prefix=inventory.log_key_prefix,
        partition=partition,
        patch_buckets=patch_buckets,
        tags=tags,
    ),
)

fleet = WorkloadFleet(
    "fleet",
    WorkloadFleetArgs(
        workload=config.workload,
        groups=config.fleet,
        vpc_id=network.vpc_id,
        vpc_cidr=network.vpc_cidr,
        subnet_ids=network.private_subnet_ids,
        s3_prefix_list_id=endpoints.s3_prefix_list_id,
        instance_profile_name=instance_role.instance_profile_name,
        region=region,
        internet_egress=config.nat_gateway,
        partition=partition,
        depends_on=[endpoints],
        tags=tags,
    ),
)

reporting = None
report_syncs = None
report_catalog = None
account_id = aws.get_caller_identity().account_id
sync_regions = config.sync_regions(region)
if config.reporting_central:
    reporting = InventoryReporting(
        "reporting",
        InventoryReportingArgs(
            sync_name=config.sync_name,
            region=region,
            account_id=account_id,
            retention_days=config.inventory.log_retention_days,
            protect=config.inventory.protect_log_bucket,
            partition=partition,
            tags=tags,
            prefix=config.reporting.prefix,
            source_accounts=config.reporting.source_accounts,
            sync_regions=sync_regions,
        ),
    )
    report_catalog = ReportingCatalog(
        "reporting-catalog",
        ReportingCatalogArgs(
            bucket_name=reporting.bucket_name,
            prefix=config.reporting.prefix,
            database=config.reporting.database,
            workgroup=config.sync_name,
            accounts=[account_id, *config.reporting.source_accounts],
            regions=sorted({region, *sync_regions, *config.reporting.regions}),
            bytes_scanned_cutoff=config.reporting.bytes_scanned_cutoff,
            results_retention_days=config.reporting.results_retention_days,
            tags=tags,
        ),
    )
elif config.reporting.destination_bucket and config.reporting.destination_region:
    report_syncs = InventorySyncs(
        "reporting-syncs",
        InventorySyncsArgs(
            sync_name=config.sync_name,
            region=region,
            destination_bucket=config.reporting.destination_bucket,
            destination_region=config.reporting.destination_region,
            sync_regions=sync_regions,
            prefix=config.reporting.prefix,
        ),
    )

patching = alerts = None
if config.patching.enabled:
    patching = PatchManagement(
        "patching",
        PatchManagementArgs(
            workload=config.workload,
            groups=config.fleet,
            target_tags={"Environment": config.environment_tag, "Workload": config.workload},
            scan_schedule=config.patching.scan_schedule,
            approve_after_days=config.patching.approve_after_days,
            install_window=config.patching.install_window,
            log_bucket_name=inventory.log_bucket_name,
            log_key_prefix=inventory.log_key_prefix,
            region=region,
            iam_path=config.iam_path,
            permissions_boundary=config.permissions_boundary,
            partition=partition,
            tags=tags,
        ),
    )
    if config.patching.alerts.enabled:
        alerts = ComplianceAlerts(
            "alerts",
            ComplianceAlertsArgs(
                workload=config.workload,
                emails=list(config.patching.alerts.emails),
                instance_ids=fleet.instance_ids.apply(lambda ids: list(ids.values())),
                association_ids=[inventory.association_id, patching.scan_association_id],
                account_id=account_id,
                partition=partition,
                tags=tags,
            ),
        )

operators = (
    OperatorAccess("operators", OperatorAccessArgs(
        region=region, path=config.iam_path, tags=tags,
        account_id=account_id, partition=partition.name,
    ))
    if config.operator_policy
    else None
)
# `fleetctl compliance evaluate --put`'s one write, in a policy of its own (attach it next to
# the read-only one to whoever writes the verdicts).
compliance_writers = (
    ComplianceWriterAccess("compliance", OperatorAccessArgs(
        region=region, path=config.iam_path, tags=tags,
        account_id=account_id, partition=partition.name,
    ))
    if config.compliance_writer_policy
    else None
)

# The software policy evaluated in AWS on its schedule (without one, `fleetctl compliance
# evaluate` is the only evaluator): the repo's engine and this stack's rules, packaged.
software_policy = (
    SoftwarePolicySchedule("software-policy", SoftwarePolicyScheduleArgs(
        workload=config.workload,
        environment_tag=config.environment_tag,
        schedule=software_schedule,
        code=software_policy_code,
        region=region,
        account_id=account_id,
        log_retention_days=config.inventory.log_retention_days,
        tags=tags,
        iam_path=config.iam_path,
        permissions_boundary=config.permissions_boundary,
        partition=partition,
    ))
    if software_schedule and software_policy_code
    else None
)

pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("availabilityZones", network.availability_zones)
pulumi.export("availabilityZoneIds", [zone.zone_id for zone in zones])
pulumi.export("region", region)  # fleetctl --stack reads it (docs/outputs.md)
pulumi.export("endpointSecurityGroupId", endpoints.security_group_id)
pulumi.export("endpointIds", endpoints.endpoint_ids)
pulumi.export("instanceRoleArn", instance_role.role_arn)
pulumi.export("instanceRoleName", instance_role.role_name)
pulumi.export("instanceProfileName", instance_role.instance_profile_name)
pulumi.export("fleetSecurityGroupId", fleet.security_group_id)
pulumi.export("instanceIds", fleet.instance_ids)
pulumi.export("autoScalingGroupNames", fleet.auto_scaling_group_names)
pulumi.export("associationId", inventory.association_id)
pulumi.export("associationName", inventory.association_name)
pulumi.export("inventoryTargets", inventory.targets)
pulumi.export("logBucketName", inventory.log_bucket_name)
pulumi.export("inventorySyncBucketName", reporting.bucket_name if reporting else None)
sync_owner = reporting or report_syncs
pulumi.export("resourceDataSyncName", sync_owner.sync_name if sync_owner else None)
pulumi.export("reportDatabaseName", report_catalog.database_name if report_catalog else None)
pulumi.export("reportWorkgroupName", report_catalog.workgroup_name if report_catalog else None)
pulumi.export("reportResultsBucketName", report_catalog.results_bucket_name if report_catalog else None)
pulumi.export("operatorPolicyArn", operators.policy_arn if operators else None)
pulumi.export("complianceWriterPolicyArn", compliance_writers.policy_arn if compliance_writers else None)
pulumi.export("patchBaselineIds", patching.baseline_ids if patching else None)
pulumi.export("patchGroups", patching.patch_groups if patching else None)
pulumi.export("patchScanAssociationId", patching.scan_association_id if patching else None)
pulumi.export("maintenanceWindowId", patching.maintenance_window_id if patching else None)
pulumi.export("alertTopicArn", alerts.topic_arn if alerts else None)
pulumi.export("softwarePolicyFunctionName", software_policy.function_name if software_policy else None)
pulumi.export("softwarePolicyFunctionArn", software_policy.function_arn if software_policy else None)
pulumi.export("softwarePolicyLogGroupName", software_policy.log_group_name if software_policy else None)
pulumi.export("workload", config.workload)
pulumi.export("environmentTag", config.environment_tag)
