"""Fleet-wide reporting: Resource Data Syncs, Athena workgroups and Glue tables.

- one sync per account and region, at most 5 in a stack (SSM user guide, "Configuring
  resource data sync for Inventory"; lab facts §4): a second one fails at deploy time;
- Athena workgroups enforce their configuration and encrypt query results (otherwise a
  client may write unencrypted results anywhere);
- partitioned Glue tables project their partitions (no crawler, no MSCK REPAIR: a new
  account or region is queryable at once).
"""

from __future__ import annotations

from collections import defaultdict

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity, StackValidationArgs

from ._base import resource_policy, stack_policy
from ._props import get, is_unknown, items

SYNC = "aws:ssm/resourceDataSync:ResourceDataSync"
WORKGROUP = "aws:athena/workgroup:Workgroup"
TABLE = "aws:glue/catalogTable:CatalogTable"
MAX_SYNCS = 5
ENCRYPTION_OPTIONS = ("SSE_S3", "SSE_KMS", "CSE_KMS")


def _sync_region(resource: object) -> str:
    """The region a sync lives in: its own ``region``, else its provider's, else the default."""
    own = get(getattr(resource, "props", None), "region")
    if isinstance(own, str) and own and not is_unknown(own):
        return own
    provider = getattr(resource, "provider", None)
    region = get(getattr(provider, "props", None), "region") if provider else None
    return region if isinstance(region, str) and not is_unknown(region) else "(the stack's region)"


def _validate_syncs(args: StackValidationArgs, report: ReportViolation) -> None:
    syncs = [r for r in args.resources if r.resource_type == SYNC]
    by_region = defaultdict(list)
    for sync in syncs:
        by_region[_sync_region(sync)].append(sync)
    for region, same in by_region.items():
        for extra in same[1:]:
            report(f"A second Resource Data Sync in {region} ({extra.name}): Systems Manager "
                   "allows one per account and region.", extra.urn)
    if len(syncs) > MAX_SYNCS:
        report(f"{len(syncs)} Resource Data Syncs: Systems Manager allows at most {MAX_SYNCS} "
               "per account.", syncs[MAX_SYNCS].urn)


one_sync_per_region = stack_policy(
    name="one-sync-per-account-region",
    description="A stack creates at most one Resource Data Sync per region and at most 5 in all.",
    severity=Severity.HIGH,
    remediation_steps="List each region once in reporting.syncRegions (at most 5), and do not "
    "combine inventory.resourceDataSync with reporting.destinationBucket.",
    url="https://docs.aws.amazon.com/systems-manager/latest/userguide/inventory-create-resource-data-sync.html",
    validate=_validate_syncs,
    tags=["reporting"],
)


def _validate_workgroup(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != WORKGROUP:
        return
    config = get(args.props, "configuration")
    if is_unknown(config):
        return
    if get(config, "enforceWorkgroupConfiguration") is not True:
        report("Workgroup does not enforce its configuration (enforceWorkgroupConfiguration): "
               "clients could choose their own results location and encryption.", None)
    option = get(config, "resultConfiguration", "encryptionConfiguration", "encryptionOption")
    if not is_unknown(option) and option not in ENCRYPTION_OPTIONS:
        report("Workgroup query results are not encrypted (resultConfiguration."
               f"encryptionConfiguration.encryptionOption: one of {', '.join(ENCRYPTION_OPTIONS)}).",
               None)


athena_workgroup_enforced = resource_policy(
    name="athena-workgroup-enforced",
    description="Athena workgroups enforce their configuration and encrypt query results.",
    severity=Severity.HIGH,
    remediation_steps="Set configuration.enforceWorkgroupConfiguration = true and "
    "configuration.resultConfiguration.encryptionConfiguration.encryptionOption = SSE_S3.",
    url="https://docs.aws.amazon.com/athena/latest/ug/workgroups-settings-override.html",
    validate=_validate_workgroup,
    tags=["reporting"],
)


def _validate_table(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TABLE:
        return
    keys = [get(k, "name") for k in items(get(args.props, "partitionKeys"))]
    if not keys or any(is_unknown(k) for k in keys):
        return
    params = get(args.props, "parameters")
    if is_unknown(params):
        return  # computed in preview: judged at update
    params = params or {}
    missing = []
    if str(get(params, "projection.enabled")).lower() != "true":
        missing.append("projection.enabled=true")
    missing += [f"projection.{k}.type" for k in keys if not get(params, f"projection.{k}.type")]
    # In preview the template, like the location, may name a bucket not created yet.
    location_pending = is_unknown(get(args.props, "storageDescriptor", "location"))
    if not get(params, "storage.location.template") and not location_pending:
        missing.append("storage.location.template")
    if missing:
        report(f"Partitioned Glue table without partition projection (missing {', '.join(missing)}): "
               "new accounts and regions would need MSCK REPAIR TABLE or a crawler.", None)


glue_table_projection = resource_policy(
    name="glue-table-projection",
    description="Partitioned Glue tables use partition projection (no crawler, no repair step).",
    severity=Severity.MEDIUM,
    remediation_steps="Set table parameters projection.enabled=true, projection.<key>.type (and "
    "values) for every partition key, and storage.location.template.",
    url="https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html",
    validate=_validate_table,
    tags=["reporting"],
)

POLICIES = [one_sync_per_region, athena_workgroup_enforced, glue_table_projection]
