"""The pure report logic: FleetSnapshot in, CheckReport out (no AWS, no stubs)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

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
from fleetctl.ops.report import Finding, check_report_to_json, evaluate

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SEL = FleetSelector(environment="OELabIPM", workload="Test")
IDS = ("i-00000000000000001", "i-00000000000000002")
PROFILE = "arn:aws:iam::123456789012:instance-profile/fleet"


def snapshot(**changes: Any) -> FleetSnapshot:
    base = FleetSnapshot(
        selector=SEL,
        association_name="InventoryAllInstances-Test",
        region="us-east-1",
        instances=tuple(
            Ec2Instance(i, "running", f"Test-Web{n}", PROFILE, NOW - timedelta(days=1))
            for n, i in enumerate(IDS, 1)
        ),
        nodes=tuple(ManagedNode(i, "Online", "3.3.987.0", True, "Linux") for i in IDS),
        association=Association(
            association_id="a",
            association_name="InventoryAllInstances-Test",
            document_name="AWS-GatherSoftwareInventory",
            targets=(
                AssociationTarget("tag:Environment", ("OELabIPM",)),
                AssociationTarget("tag:Workload", ("Test",)),
            ),
            status="Success",
        ),
        latest_execution=AssociationExecution("e", "Success", "Success", NOW),
        execution_targets=tuple(ExecutionTarget(i, "Success") for i in IDS),
        inventory=tuple(InventoryRecord(i, NOW - timedelta(minutes=30)) for i in IDS),
        compliance=tuple(ComplianceSummary(i, "Association", "COMPLIANT") for i in IDS),
    )
    return replace(base, **changes)


def messages(findings: Iterable[Finding]) -> list[tuple[str, str, str | None, str]]:
    return [(f.level, f.section, f.instance_id, f.message) for f in findings]


def test_healthy() -> None:
    report = evaluate(snapshot(), NOW)
    assert report.findings == ()
    assert report.healthy and report.exit_code == 0


def test_outdated_agent_is_only_a_warning() -> None:
    nodes = (ManagedNode(IDS[0], "Online", "3.1.0.0", False), ManagedNode(IDS[1], "Online"))
    report = evaluate(snapshot(nodes=nodes), NOW)
    assert report.exit_code == 0
    assert messages(report.findings) == [
        ("warning", "registration", IDS[0], "SSM Agent 3.1.0.0 is not the latest version")
    ]


def test_connection_lost_is_a_problem() -> None:
    nodes = (ManagedNode(IDS[0], "ConnectionLost", last_ping=NOW), ManagedNode(IDS[1], "Online"))
    report = evaluate(snapshot(nodes=nodes), NOW)
    assert report.exit_code == 1
    [(_level, section, instance, message)] = messages(report.problems)
    assert (section, instance) == ("registration", IDS[0])
    assert message.startswith("PingStatus ConnectionLost")


def test_missing_instance_causes() -> None:
    fresh = Ec2Instance(IDS[1], "running", "x", PROFILE, NOW - timedelta(minutes=3))
    old = Ec2Instance(IDS[1], "running", "x", PROFILE, NOW - timedelta(days=2))
    nodes = (ManagedNode(IDS[0], "Online"),)
    for inst, expected in (
        (fresh, "launched 3 min ago"),
        (old, "VPC endpoints"),
    ):
        report = evaluate(snapshot(instances=(snapshot().instances[0], inst), nodes=nodes), NOW)
        [problem] = report.problems
        assert problem.instance_id == IDS[1]
        assert expected in problem.message
    # an unregistered instance is not also blamed for missing inventory or compliance
    assert all(f.section == "registration" for f in report.problems)


def test_node_outside_the_ec2_fleet_is_a_warning() -> None:
    nodes = (*snapshot().nodes, ManagedNode("mi-0123456789abcdef0", "Online"))
    report = evaluate(snapshot(nodes=nodes), NOW)
    assert report.exit_code == 0
    assert [f.instance_id for f in report.findings] == ["mi-0123456789abcdef0"]


def test_pending_association_and_broad_targets_warn() -> None:
    base = snapshot().association
    assert base is not None
    assoc = replace(
        base,
        status="Pending",
        targets=(AssociationTarget("tag:Environment", ("OELabIPM",)),),
    )
    report = evaluate(snapshot(association=assoc, latest_execution=None, execution_targets=()), NOW)
    assert report.exit_code == 0
    found = [f.message for f in report.findings]
    assert any("do not pin tag:Workload=Test" in m for m in found)
    assert any(m.startswith("association status Pending") for m in found)
    assert "association has no execution yet" in found


def test_failed_execution_target_is_a_problem() -> None:
    targets = (ExecutionTarget(IDS[0], "Success"), ExecutionTarget(IDS[1], "Failed"))
    report = evaluate(snapshot(execution_targets=targets), NOW)
    [problem] = report.problems
    assert (problem.section, problem.instance_id) == ("association", IDS[1])


def test_inventory_age_limit() -> None:
    limit = timedelta(hours=2)
    at_limit = tuple(InventoryRecord(i, NOW - limit) for i in IDS)
    assert evaluate(snapshot(inventory=at_limit), NOW, limit).exit_code == 0
    stale = (InventoryRecord(IDS[0], NOW - limit - timedelta(seconds=1)), at_limit[1])
    [problem] = evaluate(snapshot(inventory=stale), NOW, limit).problems
    assert (problem.section, problem.instance_id) == ("inventory", IDS[0])
    missing = (InventoryRecord(IDS[0]), at_limit[1])
    [problem] = evaluate(snapshot(inventory=missing), NOW, limit).problems
    assert problem.message == "no AWS:Application inventory"


def test_patch_non_compliance_lists_items() -> None:
    compliance = (
        *snapshot().compliance,
        ComplianceSummary(IDS[0], "Patch", "NON_COMPLIANT", "CRITICAL", 10, 2),
    )
    items = (
        ComplianceItem(IDS[0], "Patch", "KB1", "openssl-3.0.8", "NON_COMPLIANT", "CRITICAL"),
        ComplianceItem(IDS[0], "Patch", "KB2", "kernel-6.1", "NON_COMPLIANT", "CRITICAL"),
    )
    report = evaluate(snapshot(compliance=compliance, compliance_items=items), NOW)
    [problem] = report.problems
    assert problem.message == (
        "Patch NON_COMPLIANT (2 item(s), severity CRITICAL): openssl-3.0.8 [CRITICAL], "
        "kernel-6.1 [CRITICAL]"
    )
    row = report.instances[0]
    assert row.compliance == {"Association": "COMPLIANT", "Patch": "NON_COMPLIANT"}


def test_json_shape() -> None:
    report = evaluate(snapshot(association=None, associations_found=()), NOW)
    payload = json.loads(json.dumps(check_report_to_json(report)))
    assert set(payload) == {
        "schema",
        "healthy",
        "exit_code",
        "region",
        "selector",
        "association_name",
        "generated_at",
        "max_inventory_age_hours",
        "instances",
        "association",
        "non_compliant_items",
        "findings",
    }
    assert payload["healthy"] is False and payload["exit_code"] == 1
    assert payload["association"] is None
    assert payload["findings"] == [
        {
            "level": "problem",
            "section": "association",
            "instance_id": None,
            "message": "no State Manager association named 'InventoryAllInstances-Test'",
        }
    ]
    assert payload["instances"][0]["application_capture_time"] == "2025-06-01T11:30:00+00:00"
