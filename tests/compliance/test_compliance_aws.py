"""The software policy's AWS layer against a local SSM endpoint (JSON protocol): what is sent,
how it is batched and paged, and the PutComplianceItems limits pinned to their sources."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest

from fleetctl.compliance import aws, clients
from fleetctl.compliance.model import COMPLIANCE_TYPE, InstanceVerdict, ItemResult
from tests.compliance.sw_fakes import (
    TAG_FILTERS,
    TAGS,
    app,
    entity,
    fake_credentials,
    iid,
    node,
    ssm_client,
)
from tests.ops.ops_server import FakeAws

WHEN = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    fake_credentials(monkeypatch, tmp_path)
    with FakeAws() as server:
        yield server


def _ssm_shape(name: str) -> Any:
    return botocore.session.get_session().get_service_model("ssm").shape_for(name)


# --- limits, pinned to their sources --------------------------------------------------------


def test_limits_match_botocores_ssm_model() -> None:
    """botocore/data/ssm/2014-11-06/service-2.json, the same limits the API Reference pages
    "PutComplianceItems", "ComplianceItemEntry", "GetInventory" and
    "DescribeInstanceInformation" list."""
    assert _ssm_shape("ComplianceItemEntryList").metadata["max"] == aws.MAX_ITEMS_PER_CALL == 10_000
    assert _ssm_shape("ComplianceItemTitle").metadata["max"] == aws.MAX_TITLE == 500
    assert _ssm_shape("AttributeName").metadata["max"] == aws.MAX_DETAIL_KEY == 64
    assert _ssm_shape("AttributeValue").metadata["max"] == aws.MAX_DETAIL_VALUE == 4096
    assert _ssm_shape("ComplianceExecutionId").metadata["max"] == aws.MAX_EXECUTION_ID == 100
    assert _ssm_shape("ComplianceExecutionType").metadata["max"] == aws.MAX_EXECUTION_TYPE == 50
    assert _ssm_shape("ComplianceItemContentHash").metadata["max"] == aws.MAX_CONTENT_HASH == 256
    assert _ssm_shape("ComplianceUploadType").enum == ["COMPLETE", "PARTIAL"]
    assert _ssm_shape("ComplianceExecutionSummary").required_members == ["ExecutionTime"]
    assert _ssm_shape("InventoryFilterValueList").metadata["max"] == aws.INVENTORY_FILTER_VALUES == 40
    assert (
        _ssm_shape("MaxResults").metadata["max"] == aws.PAGE_SIZE == 50
    )  # GetInventory, ListInventoryEntries
    assert (
        _ssm_shape("MaxResultsEC2Compatible").metadata["max"] == aws.PAGE_SIZE
    )  # DescribeInstanceInformation
    assert _ssm_shape("ResultAttributeList").metadata["max"] == 1  # one result type per GetInventory
    # ComplianceTypeName pattern: Custom:<name> (API Reference, ComplianceItem.ComplianceType)
    import re

    assert re.match(_ssm_shape("ComplianceTypeName").metadata["pattern"], COMPLIANCE_TYPE)


# --- reads ----------------------------------------------------------------------------------


def test_fleet_is_found_by_its_tags_50_a_page_with_platforms(fake: FakeAws) -> None:
    fake.add(
        "DescribeInstanceInformation",
        {"InstanceInformationList": [node(iid(2)), node(iid(1))], "NextToken": "t"},
    )
    fake.add(
        "DescribeInstanceInformation",
        {"InstanceInformationList": [node(iid(3), "Windows", "Microsoft Windows Server 2022 Datacenter")]},
    )

    nodes = aws.discover_fleet(ssm_client(fake.url), TAGS)

    assert [(n.instance_id, n.platform_type) for n in nodes] == [
        (iid(1), "Linux"),
        (iid(2), "Linux"),
        (iid(3), "Windows"),
    ]
    assert fake.requests == [
        ("DescribeInstanceInformation", {"Filters": TAG_FILTERS, "MaxResults": 50}),
        ("DescribeInstanceInformation", {"Filters": TAG_FILTERS, "MaxResults": 50, "NextToken": "t"}),
    ]


def test_inventory_is_read_40_nodes_a_call_with_pages(fake: FakeAws) -> None:
    """90 nodes: GetInventory for ids 1-40 (two pages), 41-80, 81-90; no call per node, where
    an endpoint answers AWS:Application as a result type (the opted-in permissive stand-in;
    the service refuses it, see the next test)."""
    fake.accept_any_result_type = True
    ids = [iid(n) for n in range(1, 91)]
    fake.add(
        "GetInventory",
        {"Entities": [entity(i, [app("bash", "5.2.15", "1.amzn2023")]) for i in ids[:20]], "NextToken": "p2"},
    )
    fake.add("GetInventory", {"Entities": [entity(i, [app("bash", "5.2.15")]) for i in ids[20:40]]})
    # 41..80: node 41 has no AWS:Application data in its entity, node 42 is not returned at all
    fake.add("GetInventory", {"Entities": [entity(ids[40], None)] + [entity(i, []) for i in ids[42:80]]})
    fake.add("GetInventory", {"Entities": [entity(i, [app("curl", "8.5.0")]) for i in ids[80:]]})

    software, source = aws.read_inventory(ssm_client(fake.url), [aws.FleetNode(i, "Linux") for i in ids])

    assert source == "GetInventory"
    sent = [params for op, params in fake.requests]
    assert [op for op, _ in fake.requests] == ["GetInventory"] * 4
    assert [len(p["Filters"][0]["Values"]) for p in sent] == [40, 40, 40, 10]
    assert sent[0] == {
        "Filters": [{"Key": "AWS:InstanceInformation.InstanceId", "Values": ids[:40], "Type": "Equal"}],
        "ResultAttributes": [{"TypeName": "AWS:Application"}],
        "MaxResults": 50,
    }
    assert sent[1]["NextToken"] == "p2" and sent[1]["Filters"] == sent[0]["Filters"]
    by_id = {s.instance_id: s for s in software}
    assert [s.instance_id for s in software] == ids  # in the fleet's order
    assert by_id[ids[0]].applications == (
        {"Name": "bash", "Version": "5.2.15", "PackageId": "bash-5.2.15", "Release": "1.amzn2023"},
    )
    assert by_id[ids[0]].capture_time == "2026-11-25T23:40:00Z"
    assert by_id[ids[40]].applications is None  # entity without AWS:Application data
    assert by_id[ids[41]].applications is None  # not returned
    assert by_id[ids[42]].applications == ()  # inventory present, no packages
    assert by_id[ids[89]].platform_type == "Linux"


def test_inventory_falls_back_to_one_node_a_call_when_the_result_type_is_refused(
    fake: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accounts report GetInventory refusing AWS:Application as a result type
    (aws/aws-sdk#640, turbot/steampipe-plugin-aws#1972: "InvalidResultAttributeException:
    Result type name AWS:Application is not supported. Supported type names are:
    AWS:InstanceInformation, AWS:PatchSummary."): then ListInventoryEntries per node, pages
    followed (API Reference "ListInventoryEntries": MaxResults 1..50)."""
    # the stand-in refuses AWS:Application as the service does (ops_server.result_type_refusal)
    fake.add(
        "ListInventoryEntries",
        {
            "InstanceId": iid(1),
            "TypeName": "AWS:Application",
            "CaptureTime": "2026-11-25T23:40:00Z",
            "Entries": [app("bash", "5.2.15")],
            "NextToken": "n",
        },
    )
    fake.add(
        "ListInventoryEntries",
        {"InstanceId": iid(1), "TypeName": "AWS:Application", "Entries": [app("curl", "8.5.0")]},
    )
    fake.add("ListInventoryEntries", {"InstanceId": iid(2), "TypeName": "AWS:Application", "Entries": []})

    monkeypatch.setattr(aws, "READ_WORKERS", 1)  # the queued answers are in the nodes' order
    nodes = [aws.FleetNode(iid(1), "Linux"), aws.FleetNode(iid(2), "Linux")]
    software, source = aws.read_inventory(ssm_client(fake.url), nodes)

    assert source == "ListInventoryEntries"
    lists = [p for op, p in fake.requests if op == "ListInventoryEntries"]
    assert {"InstanceId": iid(1), "TypeName": "AWS:Application", "MaxResults": 50} in lists
    assert {"InstanceId": iid(1), "TypeName": "AWS:Application", "MaxResults": 50, "NextToken": "n"} in lists
    assert len(lists) == 3
    by_id = {s.instance_id: s for s in software}
    assert [e["Name"] for e in by_id[iid(1)].applications or ()] == ["bash", "curl"]
    assert by_id[iid(2)].applications is None  # no capture time, no entries: no inventory


def test_other_inventory_errors_are_not_swallowed(fake: FakeAws) -> None:
    from botocore.exceptions import ClientError

    fake.accept_any_result_type = True  # so that the queued denial is the answer
    fake.add("GetInventory", (400, "AccessDeniedException", "not allowed"))
    with pytest.raises(ClientError):
        aws.read_inventory(ssm_client(fake.url), [aws.FleetNode(iid(1))])
    assert fake.ops() == ["GetInventory"]


# --- writes ---------------------------------------------------------------------------------


def _verdict(instance_id: str, *items: ItemResult, has_inventory: bool = True) -> InstanceVerdict:
    return InstanceVerdict(instance_id, tuple(items), has_inventory=has_inventory)


AGENT_OK = ItemResult(
    "ssm-agent",
    "required amazon-ssm-agent >=3.3.0",
    "HIGH",
    "COMPLIANT",
    {"Result": "satisfied", "Found": "amazon-ssm-agent 3.3.987.0"},
)
TELNET_BAD = ItemResult(
    "no-telnet",
    "forbidden telnet*",
    "CRITICAL",
    "NON_COMPLIANT",
    {"Result": "installed", "Found": "telnet-server 0.17"},
)


def test_put_request_is_one_complete_custom_type_upload_per_node() -> None:
    request = aws.put_request(_verdict(iid(1), AGENT_OK, TELNET_BAD), "run-1", WHEN, COMPLIANCE_TYPE)
    items = [
        {
            "Id": "ssm-agent",
            "Title": "required amazon-ssm-agent >=3.3.0",
            "Severity": "HIGH",
            "Status": "COMPLIANT",
            "Details": {"Found": "amazon-ssm-agent 3.3.987.0", "Result": "satisfied"},
        },
        {
            "Id": "no-telnet",
            "Title": "forbidden telnet*",
            "Severity": "CRITICAL",
            "Status": "NON_COMPLIANT",
            "Details": {"Found": "telnet-server 0.17", "Result": "installed"},
        },
    ]
    assert request == {
        "ResourceId": iid(1),
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:SoftwarePolicy",
        "ExecutionSummary": {
            "ExecutionTime": WHEN,
            "ExecutionId": "run-1",
            "ExecutionType": "Custom:SoftwarePolicy",
        },
        "Items": items,
        "ItemContentHash": aws.content_hash(items),
        "UploadType": "COMPLETE",
    }


def test_content_hash_depends_on_the_items_only() -> None:
    """API Reference "PutComplianceItems", ItemContentHash: "MD5 or SHA-256 content hash ...
    If the content hashes match, the request to put compliance information is ignored" (max
    256 characters): a rerun with the same findings must hash the same, whatever its time."""
    first = aws.put_request(_verdict(iid(1), AGENT_OK), "run-1", WHEN, COMPLIANCE_TYPE)
    rerun = aws.put_request(_verdict(iid(1), AGENT_OK), "run-2", datetime(2027, 1, 1, tzinfo=UTC), "Lambda")
    changed = aws.put_request(_verdict(iid(1), TELNET_BAD), "run-1", WHEN, COMPLIANCE_TYPE)
    assert first["ItemContentHash"] == rerun["ItemContentHash"]
    assert first["ItemContentHash"] != changed["ItemContentHash"]
    assert len(first["ItemContentHash"]) == 64 <= aws.MAX_CONTENT_HASH  # SHA-256, hex


def test_entries_are_kept_within_the_apis_lengths() -> None:
    """ComplianceItemEntry: Title at most 500; Details keys 1..64, values at most 4,096;
    ComplianceExecutionSummary: ExecutionId at most 100, ExecutionType at most 50."""
    long = ItemResult("r", "t" * 600, "LOW", "NON_COMPLIANT", {"k" * 70: "v" * 5000, "": "dropped"})
    request = aws.put_request(_verdict(iid(1), long), "x" * 150, WHEN, "y" * 60)
    (entry,) = request["Items"]
    assert len(entry["Title"]) == 500
    ((key, value),) = entry["Details"].items()
    assert len(key) == 64 and len(value) == 4096
    assert len(request["ExecutionSummary"]["ExecutionId"]) == 100
    assert len(request["ExecutionSummary"]["ExecutionType"]) == 50


def test_more_items_than_one_call_takes_is_refused() -> None:
    """PutComplianceItems Items: at most 10,000 (ComplianceItemEntryList max)."""
    many = [ItemResult(f"r{n}", "t", "LOW", "COMPLIANT") for n in range(10_001)]
    with pytest.raises(ValueError, match="at most 10,000"):
        aws.compliance_entries(_verdict(iid(1), *many))


def test_a_node_without_inventory_is_never_written_compliant() -> None:
    entries = aws.compliance_entries(_verdict(iid(1), AGENT_OK, has_inventory=False))
    assert [e["Status"] for e in entries] == ["NON_COMPLIANT"]


def test_puts_are_retried_when_throttled_and_failures_stay_per_node(fake: FakeAws) -> None:
    fake.add("PutComplianceItems", (400, "ThrottlingException", "Rate exceeded"))
    fake.add("PutComplianceItems", {})
    fake.add("PutComplianceItems", (400, "InvalidResourceId", "not a managed node"))
    verdicts = [_verdict(iid(1), AGENT_OK), _verdict(iid(2), AGENT_OK)]

    outcomes = aws.put_verdicts(ssm_client(fake.url), verdicts, "run-1", WHEN, workers=1)

    assert fake.ops() == ["PutComplianceItems"] * 3
    assert [o.instance_id for o in outcomes] == [iid(1), iid(2)]
    assert outcomes[0].error is None
    assert outcomes[1].error == "ssm:PutComplianceItems failed: InvalidResourceId not a managed node"
    sent = fake.requests[-1][1]
    assert sent["ResourceId"] == iid(2)
    assert sent["ExecutionSummary"] == {
        "ExecutionTime": WHEN.timestamp(),
        "ExecutionId": "run-1",
        "ExecutionType": "Custom:SoftwarePolicy",
    }


def test_bounded_never_runs_more_than_its_workers_at_once() -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return n * 2

    assert clients.bounded(work, list(range(40)), workers=3) == [n * 2 for n in range(40)]
    assert peak == 3
