"""The inventory types a Resource Data Sync writes, as Glue/Athena tables (pure data).

One place for the columns: the Glue catalog (components/report_catalog.py), the local DuckDB
runner (fleetctl/report/local.py) and the tests read these definitions.

Columns are the attributes of "Metadata collected by inventory" (SSM user guide,
sysman-inventory-schema.html; the page's source is awsdocs' ``sysman-inventory-schema.md``),
every attribute of each type in the page's order, optional ones included
(tests/test_inventory_schema.py pins them). Every record the sync
writes also carries ``resourceId``, ``captureTime`` and ``schemaVersion``.

The sync layout (lab facts §4): ``<prefix>/<type>/accountid=<id>/region=<r>/
resourcetype=ManagedInstanceInventory/<instance>.json``, one JSON object per line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARTITION_KEYS = ("accountid", "region", "resourcetype")
RESOURCE_TYPE = "ManagedInstanceInventory"
SYNC_FIELDS = ("resourceId", "captureTime", "schemaVersion")
OPENX_SERDE = "org.openx.data.jsonserde.JsonSerDe"


@dataclass(frozen=True)
class InventoryTable:
    type_name: str  # AWS:Application
    attributes: tuple[str, ...]  # JSON keys as the schema spells them
    # Column name -> JSON key, for keys whose lower-cased name cannot be the column:
    # AWS:InstanceInformation's own ResourceType would collide with the partition key.
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Glue table name: AWS:Application -> aws_application (lowercase, no colon)."""
        return self.type_name.lower().replace(":", "_")

    @property
    def json_keys(self) -> dict[str, str]:
        """Column -> JSON key, in column order (the sync's own fields last)."""
        by_key = {json_key: column for column, json_key in self.renamed.items()}
        keys = [*self.attributes, *SYNC_FIELDS]
        return {by_key.get(key, key.lower()): key for key in keys}

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.json_keys)

    def location(self, bucket: str, prefix: str) -> str:
        return f"s3://{bucket}/{prefix}/{self.type_name}/"


INVENTORY_TABLES = (
    InventoryTable("AWS:Application", (
        "Name", "ApplicationType", "Publisher", "Version", "Release", "Epoch", "InstalledTime",
        "Architecture", "URL", "Summary", "PackageId",
    )),
    InventoryTable(
        "AWS:InstanceInformation",
        ("AgentType", "AgentVersion", "ComputerName", "IamRole", "InstanceId", "IpAddress",
         "PlatformName", "PlatformType", "PlatformVersion", "ResourceType", "AgentStatus",
         "InstanceStatus"),
        renamed={"instanceresourcetype": "ResourceType"},
    ),
    InventoryTable("AWS:Network", (
        "Name", "SubnetMask", "Gateway", "DHCPServer", "DNSServer", "MacAddress", "IPV4", "IPV6",
    )),
    InventoryTable("AWS:Tag", ("Key", "Value")),
    InventoryTable("AWS:PatchSummary", (
        "PatchGroup", "BaselineId", "SnapshotId", "OwnerInformation", "InstalledCount",
        "InstalledPendingRebootCount", "InstalledOtherCount", "InstalledRejectedCount",
        "NotApplicableCount", "UnreportedNotApplicableCount", "MissingCount", "FailedCount",
        "OperationType", "OperationStartTime", "OperationEndTime", "InstallOverrideList",
        "RebootOption", "LastNoRebootInstallOperationTime", "ExecutionId", "NonCompliantSeverity",
        "SecurityNonCompliantCount", "CriticalNonCompliantCount", "OtherNonCompliantCount",
    )),
    InventoryTable("AWS:ComplianceItem", (
        "ComplianceType", "ExecutionId", "ExecutionType", "ExecutionTime", "Id", "Title",
        "Status", "Severity", "DocumentName", "DocumentVersion", "Classification",
        "PatchBaselineId", "PatchSeverity", "PatchState", "PatchGroup", "InstalledTime",
        "InstallOverrideList", "DetailedText", "DetailedLink", "CVEIds",
    )),
    InventoryTable("AWS:ComplianceSummary", (
        "ComplianceType", "PatchGroup", "PatchBaselineId", "Status", "OverallSeverity",
        "ExecutionId", "ExecutionType", "ExecutionTime", "CompliantCriticalCount",
        "CompliantHighCount", "CompliantMediumCount", "CompliantLowCount",
        "CompliantInformationalCount", "CompliantUnspecifiedCount", "NonCompliantCriticalCount",
        "NonCompliantHighCount", "NonCompliantMediumCount", "NonCompliantLowCount",
        "NonCompliantInformationalCount", "NonCompliantUnspecifiedCount",
    )),
    InventoryTable("AWS:Service", (
        "Name", "DisplayName", "ServiceType", "Status", "DependentServices",
        "ServicesDependedOn", "StartType",
    )),
    InventoryTable("AWS:WindowsUpdate", ("HotFixId", "Description", "InstalledTime", "InstalledBy")),
)

TABLES_BY_NAME = {table.name: table for table in INVENTORY_TABLES}


def projection_parameters(
    table: InventoryTable, bucket: str, prefix: str, accounts: list[str], regions: list[str]
) -> dict[str, str]:
    """Glue table parameters for partition projection (Athena user guide, "Partition
    projection with Amazon Athena": projection.enabled, projection.<col>.type/values,
    storage.location.template): new accounts and regions need no MSCK REPAIR."""
    return {
        "classification": "json",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "projection.accountid.type": "enum",
        "projection.accountid.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.resourcetype.type": "enum",
        "projection.resourcetype.values": RESOURCE_TYPE,
        "storage.location.template": (
            f"{table.location(bucket, prefix)}accountid=${{accountid}}/region=${{region}}/"
            "resourcetype=${resourcetype}/"
        ),
    }


def serde_parameters(table: InventoryTable) -> dict[str, str]:
    """OpenX JSON SerDe parameters: case-insensitive keys (the default, said out loud), bad
    lines skipped, and ``mapping.<column>`` for renamed keys (lower-cased, as the SerDe
    compares them when case.insensitive is true)."""
    params = {"case.insensitive": "TRUE", "ignore.malformed.json": "TRUE"}
    for column, json_key in table.renamed.items():
        params[f"mapping.{column}"] = json_key.lower()
    return params
