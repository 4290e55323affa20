"""``fleetctl check`` end to end in-process: moto EC2, Stubber SSM (validated shapes)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from ops_fakes import NOW, TAG_FILTERS, node, stub_fleet
from ops_fleet import Fleet

from fleetctl.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    rc = main(["check", "--workload", "Test", "--json", *extra])
    out = capsys.readouterr()
    assert out.err == ""
    return rc, json.loads(out.out)


def problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["level"] == "problem"]


def test_healthy_fleet_exits_0(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fleet.launch(2, name="Test-Web") + fleet.launch(2, name="Test-App")
    fleet.launch(2, workload="Prod", name="Prod-Web")  # another stack: must not be counted
    stub_fleet(fleet.stub, ids)

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 0
    assert report["healthy"] is True and report["exit_code"] == 0
    assert problems(report) == []
    assert sorted(r["instance_id"] for r in report["instances"]) == sorted(ids)
    row = report["instances"][0]
    assert row["registered"] is True and row["ping_status"] == "Online"
    assert row["agent_version"] == "3.3.987.0" and row["platform"] == "Amazon Linux 2023"
    assert row["association_status"] == "Success"
    assert row["compliance"] == {"Association": "COMPLIANT"}
    assert row["application_capture_time"] is not None
    assoc = report["association"]
    assert assoc["association_name"] == "InventoryAllInstances-Test"
    assert assoc["document_name"] == "AWS-GatherSoftwareInventory"
    assert assoc["latest_execution"]["status"] == "Success"
    assert report["selector"] == {"Environment": "OELabIPM", "Workload": "Test"}


def test_healthy_fleet_rich_output(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fleet.launch(2)
    stub_fleet(fleet.stub, ids)

    rc = main(["check", "--workload", "Test"])

    out = capsys.readouterr().out
    fleet.stub.assert_no_pending_responses()
    assert rc == 0
    assert "Result: HEALTHY" in out
    assert "InventoryAllInstances-Test" in out
    for instance_id in ids:
        assert instance_id in out


def test_unregistered_instance_exits_1_and_is_named(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ok = fleet.launch(2)
    [lost] = fleet.launch(1, name="[Test-App1]", profile=False)
    stub_fleet(fleet.stub, [*ok, lost], registered=ok)

    rc = main(["check", "--workload", "Test"])

    out = capsys.readouterr().out
    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    assert "UNHEALTHY" in out
    assert "[Test-App1]" in out  # data is not taken for rich markup
    finding_lines = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert len(finding_lines) == 1
    assert finding_lines[0].startswith(f"PROBLEM [registration] {lost}: not registered")
    assert "not registered" in finding_lines[0]
    assert "no IAM instance profile" in finding_lines[0]


def test_stopped_instance_cause(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ok = fleet.launch(1)
    [stopped] = fleet.launch(1, name="Test-Web2")
    fleet.ec2.stop_instances(InstanceIds=[stopped])
    stub_fleet(fleet.stub, [*ok, stopped], registered=ok)

    rc, report = run_json(capsys)

    assert rc == 1
    [problem] = problems(report)
    assert problem["instance_id"] == stopped
    assert problem["section"] == "registration"
    assert "instance is stopped" in problem["message"]
    row = next(r for r in report["instances"] if r["instance_id"] == stopped)
    assert row["registered"] is False and row["state"] == "stopped"


def test_association_failed_exits_1(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = sorted(fleet.launch(3))
    stub_fleet(fleet.stub, ids, association_status="Failed", failed_on=ids[1])

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    messages = [(p["section"], p["instance_id"], p["message"]) for p in problems(report)]
    assert any(s == "association" and i is None and "Failed" in m for s, i, m in messages)
    per_instance = [m for s, i, m in messages if s == "association" and i == ids[1]]
    assert per_instance and "1 out of 1 plugin processed" in per_instance[0]
    assert report["association"]["status"] == "Failed"
    assert report["association"]["status_counts"] == {"Success": 2, "Failed": 1}


def test_stale_inventory_exits_1(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fleet.launch(1)
    stub_fleet(fleet.stub, ids, app_capture=NOW - timedelta(hours=30))

    rc, report = run_json(capsys)

    assert rc == 1
    [problem] = problems(report)
    assert problem["section"] == "inventory" and problem["instance_id"] == ids[0]
    assert "h old" in problem["message"]

    # The same data passes when the operator allows 48 hours.
    stub_fleet(fleet.stub, ids, app_capture=NOW - timedelta(hours=30))
    rc, report = run_json(capsys, "--max-inventory-age-hours", "48")
    assert rc == 0


def test_non_compliant_exits_1(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = sorted(fleet.launch(2))
    stub_fleet(fleet.stub, ids, non_compliant=ids[0])

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    [problem] = problems(report)
    assert problem["section"] == "compliance" and problem["instance_id"] == ids[0]
    assert "AWS-GatherSoftwareInventory" in problem["message"]
    assert report["non_compliant_items"][0]["severity"] == "CRITICAL"


def test_no_instances_exits_1(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    fleet.launch(2, workload="Prod")
    stub_fleet(fleet.stub, [])

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    assert "no EC2 instances tagged Environment=OELabIPM, Workload=Test" in (problems(report)[0]["message"])


def test_missing_association_tries_both_names(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fleet.launch(1)
    fleet.stub.add_response(
        "describe_instance_information",
        {"InstanceInformationList": []},
    )
    for name in ("InventoryAllInstances-Test", "InventoryAllInstances"):
        fleet.stub.add_response(
            "list_associations",
            {"Associations": []},
            {"AssociationFilterList": [{"key": "AssociationName", "value": name}], "MaxResults": 50},
        )
    # nothing registered: no inventory to read, so no GetInventory call either

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    assoc_problem = next(p for p in problems(report) if p["section"] == "association")
    assert "'InventoryAllInstances-Test' or 'InventoryAllInstances'" in assoc_problem["message"]
    assert ids[0] in {p["instance_id"] for p in problems(report)}


def test_explicit_association_name_and_region(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    fleet.stub.add_response("describe_instance_information", {"InstanceInformationList": []})
    fleet.stub.add_response(
        "list_associations",
        {"Associations": []},
        {
            "AssociationFilterList": [{"key": "AssociationName", "value": "InventoryAllInstances"}],
            "MaxResults": 50,
        },
    )

    rc, report = run_json(capsys, "--association-name", "InventoryAllInstances", "--region", "us-east-1")

    fleet.stub.assert_no_pending_responses()
    assert fleet.calls == [("us-east-1", None)]
    assert rc == 1 and report["association"] is None


def test_large_fleet_pages_and_chunks(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    """45 instances: DescribeInstanceInformation over 3 pages, GetInventory in 40 + 5."""
    ids = sorted(fleet.launch(45))
    pages = [ids[:20], ids[20:40], ids[40:]]
    # stub_fleet queues one DescribeInstanceInformation page first; replace it by three.
    for number, page in enumerate(pages):
        expected: dict[str, Any] = {"Filters": TAG_FILTERS, "MaxResults": 50}
        response: dict[str, Any] = {"InstanceInformationList": [node(i) for i in page]}
        if number:
            expected["NextToken"] = f"t{number}"
        if number < 2:
            response["NextToken"] = f"t{number + 1}"
        fleet.stub.add_response("describe_instance_information", response, expected)
    stub_fleet(fleet.stub, ids, skip_registration=True)

    rc, report = run_json(capsys)

    fleet.stub.assert_no_pending_responses()
    assert rc == 0, problems(report)
    assert len(report["instances"]) == 45
    assert all(r["registered"] and r["inventory_capture_time"] for r in report["instances"])
