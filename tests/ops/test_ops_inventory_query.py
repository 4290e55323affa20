"""``fleetctl inventory query``: which instances have a package, and which version."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ops_fakes import application_entries, inventory_entity, inventory_filter
from ops_fleet import Fleet

from fleetctl.cli import main


def expect_query(fleet: Fleet, ids: list[str], found: dict[str, list[tuple[str, str]]], prefix: str | None):
    """AWS:Application, which GetInventory refuses as a result type: GetInventory with the
    default result type (narrowed by the prefix) names the nodes ``found`` has, then one
    ListInventoryEntries per node (in id order: the fixture reads one node at a time)."""
    wanted = [{"Key": "AWS:Application.Name", "Values": [prefix], "Type": "BeginWith"}] if prefix else []
    fleet.stub.add_response(
        "get_inventory",
        {"Entities": [inventory_entity(i) for i in sorted(found)]},
        {"Filters": [*inventory_filter(sorted(ids)), *wanted], "MaxResults": 50},
    )
    for instance_id in sorted(found):
        expected: dict[str, Any] = {
            "InstanceId": instance_id, "TypeName": "AWS:Application", "MaxResults": 50
        }
        if wanted:
            expected["Filters"] = wanted
        fleet.stub.add_response(
            "list_inventory_entries", application_entries(instance_id, found[instance_id]), expected
        )


def test_query_json_names_versions_and_misses(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    web = fleet.launch(1, name="Test-Web1")
    app = fleet.launch(1, name="Test-App1")
    expect_query(fleet, web + app, {web[0]: [("nginx", "1.24.0")]}, "nginx")

    rc = main(["inventory", "query", "--workload", "Test", "--name-filter", "nginx", "--json"])

    out = capsys.readouterr()
    fleet.stub.assert_no_pending_responses()
    assert rc == 0 and out.err == ""
    payload = json.loads(out.out)
    assert payload["schema"] == "fleetctl.inventory-query/1"
    assert payload["instances_without_match"] == app
    [match] = payload["matches"]
    assert match["instance_id"] == web[0] and match["name"] == "Test-Web1"
    assert match["attributes"]["Version"] == "1.24.0"
    assert match["capture_time"].endswith("+00:00")
    assert (payload["read_with"], payload["nodes_read"]) == ("ListInventoryEntries", 1)


def test_query_table_and_no_match_exit_1(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fleet.launch(2)
    expect_query(fleet, ids, {ids[0]: [("httpd", "2.4.58"), ("openssl", "3.0.8")]}, None)
    rc = main(["inventory", "query", "--workload", "Test"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "httpd" in out and "2.4.58" in out and ids[0] in out

    expect_query(fleet, ids, {}, "nginx")
    rc = main(["inventory", "query", "--workload", "Test", "--name-filter", "nginx"])
    out = capsys.readouterr().out
    fleet.stub.assert_no_pending_responses()
    assert rc == 1
    assert "No match on" in out and all(i in out for i in ids)


def test_query_rejects_bad_type_name(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["inventory", "query", "--workload", "Test", "--type", "Application"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "invalid inventory type 'Application'" in err
    assert fleet.calls == []  # rejected before any AWS client was made
