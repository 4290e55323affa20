"""A scanned fleet's missing and failed patches, with their severity and patch state, from
ListComplianceItems (Stubber) through the report to the human table and --json.

Item shapes: ComplianceItem in botocore's SSM model; ``Details`` keys (PatchState,
PatchSeverity, Classification, PatchBaselineId) as in the AWS CLI reference's
list-compliance-items example. Missing, Failed, InstalledPendingReboot and
InstalledRejected patches are NON_COMPLIANT ("About patch compliance", Systems Manager
user guide)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ops_fakes import compliance_summary
from rich.console import Console

from fleetctl.ops import aws
from fleetctl.ops.models import (
    Association,
    AssociationExecution,
    AssociationTarget,
    ComplianceItem,
    ComplianceSummary,
    Ec2Instance,
    ExecutionTarget,
    FleetSelector,
    FleetSnapshot,
    InventoryRecord,
    ManagedNode,
)
from fleetctl.ops.render import render_check
from fleetctl.ops.report import MAX_ITEMS_IN_FINDING, check_report_to_json, evaluate

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
INSTANCE = "i-0123456789abcdef0"
OTHER = "i-0fedcba9876543210"


def patch_item(item_id: str, title: str, severity: str, state: str,
               status: str = "NON_COMPLIANT", classification: str = "Security") -> dict[str, Any]:
    return {
        "ComplianceType": "Patch",
        "ResourceType": "ManagedInstance",
        "ResourceId": INSTANCE,
        "Id": item_id,
        "Title": title,
        "Status": status,
        "Severity": severity,
        "ExecutionSummary": {"ExecutionTime": NOW - timedelta(hours=1),
                             "ExecutionId": "cmd-1", "ExecutionType": "Command"},
        "Details": {"Classification": classification, "PatchBaselineId": "pb-0a1b2c3d4e5f60718",
                    "PatchSeverity": "Important", "PatchState": state},
    }


SCANNED = [
    patch_item("kernel.x86_64", "kernel.x86_64:0:6.1.90-99.173.amzn2023", "MEDIUM",
               "InstalledPendingReboot", classification="Bugfix"),
    patch_item("openssl.x86_64", "openssl.x86_64:1:3.0.8-1.amzn2023.0.12", "CRITICAL", "Missing"),
    patch_item("KB5034439", "2024-01 Security Update for Windows Server 2022 (KB5034439)",
               "HIGH", "Failed", classification="SecurityUpdates"),
    patch_item("bash.x86_64", "bash.x86_64:0:5.2.15-1.amzn2023", "CRITICAL", "Installed",
               status="COMPLIANT"),
]


@pytest.fixture
def ssm(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ssm", region_name="us-east-1", config=aws.RETRY_CONFIG)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def scanned_snapshot(items: list[ComplianceItem]) -> FleetSnapshot:
    return FleetSnapshot(
        selector=FleetSelector("OELabIPM", "Test"),
        association_name="InventoryAllInstances-Test",
        region="us-east-1",
        instances=(Ec2Instance(INSTANCE, "running", "Test-Web1", None, NOW - timedelta(days=1)),),
        nodes=(ManagedNode(INSTANCE, "Online", "3.3.987.0", True, "Linux"),),
        association=Association("a-1", "InventoryAllInstances-Test", "AWS-GatherSoftwareInventory",
                                targets=(AssociationTarget("tag:Workload", ("Test",)),),
                                status="Success"),
        latest_execution=AssociationExecution("e-1", "Success", "Success", NOW),
        execution_targets=(ExecutionTarget(INSTANCE, "Success"),),
        inventory=(InventoryRecord(INSTANCE, NOW - timedelta(minutes=30)),),
        compliance=(ComplianceSummary(INSTANCE, "Association", "COMPLIANT"),
                    ComplianceSummary(INSTANCE, "Patch", "NON_COMPLIANT", "CRITICAL", 1,
                                      len(items))),
        compliance_items=tuple(items),
    )


def fetch_scanned(client: Any, stub: Stubber) -> list[ComplianceItem]:
    stub.add_response(
        "list_resource_compliance_summaries",
        {"ResourceComplianceSummaryItems": [
            {**compliance_summary(INSTANCE, "Patch", "NON_COMPLIANT")},
            compliance_summary(OTHER, "Patch", "NON_COMPLIANT"),  # not in this fleet
        ]},
        {"Filters": [{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}],
         "MaxResults": 50},
    )
    stub.add_response(
        "list_compliance_items",
        {"ComplianceItems": SCANNED},
        {"ResourceIds": [INSTANCE], "ResourceTypes": ["ManagedInstance"],
         "Filters": [{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}],
         "MaxResults": 50},
    )
    [summary] = aws.fetch_compliance_summaries(client, [INSTANCE], ["Patch"])
    assert summary.status == "NON_COMPLIANT"
    return aws.fetch_non_compliant_items(client, INSTANCE, "Patch")


def test_fetch_keeps_patch_state_and_details(ssm: tuple[Any, Stubber]) -> None:
    items = fetch_scanned(*ssm)
    assert [(i.item_id, i.severity, i.patch_state) for i in items] == [
        ("kernel.x86_64", "MEDIUM", "InstalledPendingReboot"),
        ("openssl.x86_64", "CRITICAL", "Missing"),
        ("KB5034439", "HIGH", "Failed"),
    ]  # the Installed (COMPLIANT) one is left out
    assert items[1].details["Classification"] == "Security"
    assert items[1].details["PatchSeverity"] == "Important"


def test_finding_names_items_most_severe_first_with_state(ssm: tuple[Any, Stubber]) -> None:
    report = evaluate(scanned_snapshot(fetch_scanned(*ssm)), NOW)
    [problem] = report.problems
    assert problem.section == "compliance" and problem.instance_id == INSTANCE
    assert problem.message == (
        "Patch NON_COMPLIANT (3 item(s), severity CRITICAL): "
        "openssl.x86_64:1:3.0.8-1.amzn2023.0.12 [CRITICAL, Missing], "
        "2024-01 Security Update for Windows Server 2022 (KB5034439) [HIGH, Failed], "
        "kernel.x86_64:0:6.1.90-99.173.amzn2023 [MEDIUM, InstalledPendingReboot]"
    )
    assert report.exit_code == 1


def test_json_lists_every_item_with_severity_state_and_details(
        ssm: tuple[Any, Stubber]) -> None:
    report = evaluate(scanned_snapshot(fetch_scanned(*ssm)), NOW)
    payload = json.loads(json.dumps(check_report_to_json(report)))
    items = payload["non_compliant_items"]
    assert [(i["id"], i["severity"], i["patch_state"], i["status"]) for i in items] == [
        ("openssl.x86_64", "CRITICAL", "Missing", "NON_COMPLIANT"),
        ("KB5034439", "HIGH", "Failed", "NON_COMPLIANT"),
        ("kernel.x86_64", "MEDIUM", "InstalledPendingReboot", "NON_COMPLIANT"),
    ]
    assert items[1]["details"]["Classification"] == "SecurityUpdates"
    assert items[0]["instance_id"] == INSTANCE and items[0]["compliance_type"] == "Patch"


def test_human_output_has_the_items_table(ssm: tuple[Any, Stubber]) -> None:
    report = evaluate(scanned_snapshot(fetch_scanned(*ssm)), NOW)
    console = Console(record=True, width=240, color_system=None)
    render_check(report, console)
    text = console.export_text()
    assert "Non-compliant items" in text
    rows = [line for line in text.splitlines() if INSTANCE in line and "│ Patch │" in line]
    assert len(rows) == 3
    for item_id, severity, state in (("openssl.x86_64", "CRITICAL", "Missing"),
                                     ("KB5034439", "HIGH", "Failed"),
                                     ("kernel.x86_64", "MEDIUM", "InstalledPendingReboot")):
        assert any(item_id in r and severity in r and state in r for r in rows), (item_id, text)
    # most severe first in the table too
    assert text.index("openssl.x86_64 ") < text.index("KB5034439 ") < text.index("kernel.x86_64 ")


def test_long_item_lists_are_cut_in_the_finding_only() -> None:
    items = [ComplianceItem(INSTANCE, "Patch", f"pkg{n}", f"pkg{n}-1.0", "NON_COMPLIANT", "LOW",
                            {"PatchState": "Missing"}) for n in range(MAX_ITEMS_IN_FINDING + 2)]
    report = evaluate(scanned_snapshot(items), NOW)
    [problem] = report.problems
    assert problem.message.endswith("pkg9-1.0 [LOW, Missing] and 2 more")
    assert len(check_report_to_json(report)["non_compliant_items"]) == MAX_ITEMS_IN_FINDING + 2


def test_items_without_details_still_show_their_severity() -> None:
    association = ComplianceItem(INSTANCE, "Association", "a-1", "AWS-GatherSoftwareInventory",
                                 "NON_COMPLIANT", None)
    snapshot = replace(scanned_snapshot([association]), compliance=(
        ComplianceSummary(INSTANCE, "Association", "NON_COMPLIANT", "MEDIUM", 0, 1),))
    [problem] = evaluate(snapshot, NOW).problems
    assert problem.message.endswith(": AWS-GatherSoftwareInventory [UNSPECIFIED]")
