"""The Glue tables' columns are the attributes AWS documents for each inventory type.

Source: AWS Systems Manager user guide, "Metadata collected by inventory"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-inventory-schema.html),
the schema sample listing every attribute per type; copied here per type, in the page's order.
"""

from __future__ import annotations

import pytest

from components.inventory_tables import INVENTORY_TABLES, SYNC_FIELDS, InventoryTable

DOCUMENTED = {
    "AWS:InstanceInformation": (
        "AgentType", "AgentVersion", "ComputerName", "IamRole", "InstanceId", "IpAddress",
        "PlatformName", "PlatformType", "PlatformVersion", "ResourceType", "AgentStatus",
        "InstanceStatus"),
    "AWS:Application": (
        "Name", "ApplicationType", "Publisher", "Version", "Release", "Epoch", "InstalledTime",
        "Architecture", "URL", "Summary", "PackageId"),
    "AWS:WindowsUpdate": ("HotFixId", "Description", "InstalledTime", "InstalledBy"),
    "AWS:Network": (
        "Name", "SubnetMask", "Gateway", "DHCPServer", "DNSServer", "MacAddress", "IPV4", "IPV6"),
    "AWS:PatchSummary": (
        "PatchGroup", "BaselineId", "SnapshotId", "OwnerInformation", "InstalledCount",
        "InstalledPendingRebootCount", "InstalledOtherCount", "InstalledRejectedCount",
        "NotApplicableCount", "UnreportedNotApplicableCount", "MissingCount", "FailedCount",
        "OperationType", "OperationStartTime", "OperationEndTime", "InstallOverrideList",
        "RebootOption", "LastNoRebootInstallOperationTime", "ExecutionId",
        "NonCompliantSeverity", "SecurityNonCompliantCount", "CriticalNonCompliantCount",
        "OtherNonCompliantCount"),
    "AWS:ComplianceItem": (
        "ComplianceType", "ExecutionId", "ExecutionType", "ExecutionTime", "Id", "Title",
        "Status", "Severity", "DocumentName", "DocumentVersion", "Classification",
        "PatchBaselineId", "PatchSeverity", "PatchState", "PatchGroup", "InstalledTime",
        "InstallOverrideList", "DetailedText", "DetailedLink", "CVEIds"),
    "AWS:ComplianceSummary": (
        "ComplianceType", "PatchGroup", "PatchBaselineId", "Status", "OverallSeverity",
        "ExecutionId", "ExecutionType", "ExecutionTime", "CompliantCriticalCount",
        "CompliantHighCount", "CompliantMediumCount", "CompliantLowCount",
        "CompliantInformationalCount", "CompliantUnspecifiedCount", "NonCompliantCriticalCount",
        "NonCompliantHighCount", "NonCompliantMediumCount", "NonCompliantLowCount",
        "NonCompliantInformationalCount", "NonCompliantUnspecifiedCount"),
    "AWS:Service": (
        "Name", "DisplayName", "ServiceType", "Status", "DependentServices", "ServicesDependedOn",
        "StartType"),
    "AWS:Tag": ("Key", "Value"),
}


@pytest.mark.parametrize("table", INVENTORY_TABLES, ids=lambda t: t.type_name)
def test_table_holds_every_documented_attribute(table: InventoryTable) -> None:
    assert table.attributes == DOCUMENTED[table.type_name]
    # Every attribute is a column (one renamed, none lost), plus the sync's own fields.
    assert sorted(table.json_keys.values()) == sorted([*DOCUMENTED[table.type_name], *SYNC_FIELDS])


def test_every_issue_13_type_has_a_table() -> None:
    assert {t.type_name for t in INVENTORY_TABLES} == set(DOCUMENTED)
