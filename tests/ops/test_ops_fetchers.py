"""The AWS-calling functions against Stubber: pagination, GetInventory chunking, per-node
inventory reads, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ops_fakes import (
    ASSOCIATION_ID,
    EXECUTION_ID,
    NOW,
    OTHER_ASSOCIATION_ID,
    TAG_FILTERS,
    application_entries,
    association_description,
    compliance_summary,
    execution,
    execution_target,
    inventory_entity,
    inventory_filter,
    node,
    refuse_unsupported_result_types,
)

from fleetctl.compliance import inventory
from fleetctl.ops import aws
from fleetctl.ops.models import FleetSelector
from fleetctl.ops.report import choose_association

SELECTOR = FleetSelector(environment="OELabIPM", workload="Test")


def ids(n: int, start: int = 0) -> list[str]:
    return [f"i-{k:017x}" for k in range(start, start + n)]


@pytest.fixture
def ssm(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    client = refuse_unsupported_result_types(
        boto3.client("ssm", region_name="us-east-1", config=aws.RETRY_CONFIG)
    )
    monkeypatch.setattr(inventory, "READ_WORKERS", 1)  # the Stubber answers in queue order
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_managed_nodes_consume_every_page(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    pages = [ids(50, 0), ids(50, 50), ids(7, 100)]
    for number, page in enumerate(pages):
        expected: dict[str, Any] = {"Filters": TAG_FILTERS, "MaxResults": 50}
        if number:
            expected["NextToken"] = f"token-{number}"
        response: dict[str, Any] = {"InstanceInformationList": [node(i) for i in page]}
        if number < len(pages) - 1:
            response["NextToken"] = f"token-{number + 1}"
        stub.add_response("describe_instance_information", response, expected)

    nodes = aws.fetch_managed_nodes(client, SELECTOR)

    assert [n.instance_id for n in nodes] == ids(107)
    assert all(n.ping_status == "Online" for n in nodes)


def test_application_capture_times_one_list_call_per_instance(ssm: tuple[Any, Stubber]) -> None:
    """GetInventory answers no AWS:Application result type (API Reference, ResultAttribute;
    aws/aws-sdk#640), and no filter or group says which nodes have that type or when it was
    captured (user guide, "Aggregating inventory data"): one ListInventoryEntries per
    instance, MaxResults 1, its CaptureTime; a node without the type answers no CaptureTime."""
    client, stub = ssm
    fleet = ids(3)
    for instance_id in fleet:
        captured = instance_id != fleet[-1]
        stub.add_response(
            "list_inventory_entries",
            application_entries(instance_id, [("bash", "5.2.15")] if captured else []),
            {"InstanceId": instance_id, "TypeName": "AWS:Application", "MaxResults": 1},
        )

    records = aws.fetch_inventory(client, list(reversed(fleet)))

    assert [r.instance_id for r in records] == fleet
    assert all(r.application_capture_time is not None for r in records[:-1])
    assert records[-1].application_capture_time is None


def test_get_inventory_refuses_application_as_result_type(ssm: tuple[Any, Stubber]) -> None:
    """The rule every stand-in follows: API Reference, ResultAttribute.TypeName "Valid value:
    AWS:InstanceInformation"; the service's answer to anything else, quoted in aws/aws-sdk#640
    and turbot/steampipe-plugin-aws#1972, word for word."""
    from botocore.exceptions import ClientError

    client, _ = ssm
    with pytest.raises(ClientError) as refused:
        client.get_inventory(ResultAttributes=[{"TypeName": "AWS:Application"}])
    assert inventory.refuses_result_type(refused.value)
    assert refused.value.response["Error"]["Message"] == (
        "Result type name AWS:Application is not supported. Supported type names are: "
        "AWS:InstanceInformation, AWS:PatchSummary. Default result type name is "
        "AWS:InstanceInformation."
    )


def test_get_inventory_chunks_40_ids_per_filter_and_pages(ssm: tuple[Any, Stubber]) -> None:
    """botocore's SSM model (service-2.json): InventoryFilterValueList max 40,
    ResultAttributeList exactly 1, GetInventory MaxResults 1..50; a result type the
    service answers (AWS:InstanceInformation)."""
    client, stub = ssm
    fleet = ids(85)
    chunks = [fleet[:40], fleet[40:80], fleet[80:]]
    base = {"ResultAttributes": [{"TypeName": "AWS:InstanceInformation"}], "MaxResults": 50}
    stub.add_response(
        "get_inventory",
        {"Entities": [inventory_entity(i) for i in chunks[0][:25]], "NextToken": "p2"},
        {"Filters": inventory_filter(chunks[0]), **base},
    )
    stub.add_response(
        "get_inventory",
        {"Entities": [inventory_entity(i) for i in chunks[0][25:]]},
        {"Filters": inventory_filter(chunks[0]), **base, "NextToken": "p2"},
    )
    for chunk in chunks[1:]:
        stub.add_response(
            "get_inventory",
            {"Entities": [inventory_entity(i) for i in chunk if i != fleet[-1]]},
            {"Filters": inventory_filter(chunk), **base},
        )

    found = inventory.get_inventory(client, list(reversed(fleet)), "AWS:InstanceInformation")

    assert sorted(found) == fleet[:-1]
    assert found[fleet[0]].entries[0]["InstanceId"] == fleet[0]


def test_batch_limits_match_botocore_model() -> None:
    """The chunk and page sizes are the limits of botocore's SSM model
    (botocore/data/ssm/2014-11-06/service-2.json): InventoryFilterValueList max 40,
    GetInventory MaxResults max 50, InstanceInformationFilterValueSet max 100, and
    MaxResults max 50 for the list calls the check pages through."""
    model = boto3.client("ssm", region_name="us-east-1").meta.service_model
    shape = model.shape_for
    assert shape("InventoryFilterValueList").metadata["max"] == aws.INVENTORY_FILTER_VALUES == 40
    assert shape("ResultAttributeList").metadata["max"] == 1
    assert shape("InstanceInformationFilterValueSet").metadata["max"] == aws.INSTANCE_INFO_FILTER_VALUES
    assert shape("MaxResultsEC2Compatible").metadata["max"] == aws.PAGE_SIZE
    for operation in (
        "GetInventory",
        "DescribeAssociationExecutionTargets",
        "ListResourceComplianceSummaries",
        "ListComplianceItems",
        "DescribeInstanceAssociationsStatus",
    ):
        members = model.operation_model(operation).input_shape.members
        assert members["MaxResults"].metadata["max"] == aws.PAGE_SIZE, operation
    doc = model.operation_model("ListComplianceItems").input_shape.members["ResourceIds"].documentation
    assert "only specify one resource ID" in doc


NGINX = {"Key": "AWS:Application.Name", "Values": ["nginx"], "Type": "BeginWith"}


def test_query_application_narrows_nodes_then_reads_each(ssm: tuple[Any, Stubber]) -> None:
    """A type GetInventory refuses as a result type: GetInventory with the default result
    type and the prefix as a filter on the type's attribute names the nodes with a match
    (user guide, "Querying an inventory collection by using filters": AWS:Application.Name
    Begin with), 40 instance ids a call; then ListInventoryEntries per such node, every page,
    the same filter, re-checked client-side."""
    client, stub = ssm
    fleet = ids(41)
    stub.add_response(
        "get_inventory",
        {"Entities": [inventory_entity(fleet[0]), inventory_entity(fleet[1])]},
        {"Filters": [*inventory_filter(fleet[:40]), NGINX], "MaxResults": 50},
    )
    stub.add_response(
        "get_inventory",
        {"Entities": []},
        {"Filters": [*inventory_filter(fleet[40:]), NGINX], "MaxResults": 50},
    )
    first = application_entries(fleet[0], [("nginx", "1.24.0")])
    stub.add_response(
        "list_inventory_entries",
        {**first, "NextToken": "p2"},
        {"InstanceId": fleet[0], "TypeName": "AWS:Application", "MaxResults": 50, "Filters": [NGINX]},
    )
    stub.add_response(
        "list_inventory_entries",
        application_entries(fleet[0], [("nginx-filesystem", "1.24.0")]),
        {
            "InstanceId": fleet[0], "TypeName": "AWS:Application", "MaxResults": 50, "Filters": [NGINX],
            "NextToken": "p2",
        },
    )
    stub.add_response(
        "list_inventory_entries",
        # an answer the service did not narrow: re-checked client-side
        application_entries(fleet[1], [("nginx", "1.22.1"), ("openssl", "3.0.8")]),
        {"InstanceId": fleet[1], "TypeName": "AWS:Application", "MaxResults": 50, "Filters": [NGINX]},
    )

    found = aws.query_inventory(client, fleet, "AWS:Application", prefix="nginx")

    assert (found.source, found.nodes_read) == ("ListInventoryEntries", 2)
    assert [(m.instance_id, m.attributes["Name"], m.attributes["Version"]) for m in found.matches] == [
        (fleet[0], "nginx", "1.24.0"),
        (fleet[0], "nginx-filesystem", "1.24.0"),
        (fleet[1], "nginx", "1.22.1"),
    ]


def test_query_instance_information_stays_batched(ssm: tuple[Any, Stubber]) -> None:
    """AWS:InstanceInformation is a result type GetInventory answers: 40 ids a call, no
    per-node read."""
    client, stub = ssm
    fleet = ids(2)
    stub.add_response(
        "get_inventory",
        {"Entities": [inventory_entity(i) for i in fleet]},
        {
            "Filters": inventory_filter(fleet),
            "ResultAttributes": [{"TypeName": "AWS:InstanceInformation"}],
            "MaxResults": 50,
        },
    )

    found = aws.query_inventory(client, fleet, "AWS:InstanceInformation", attribute="PlatformType")

    assert (found.source, found.nodes_read) == ("GetInventory", 0)
    assert [m.attributes["PlatformType"] for m in found.matches] == ["Linux", "Linux"]


def test_execution_targets_and_compliance_paginate(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    fleet = ids(60)
    base = {"AssociationId": ASSOCIATION_ID, "ExecutionId": EXECUTION_ID, "MaxResults": 50}
    stub.add_response(
        "describe_association_execution_targets",
        {"AssociationExecutionTargets": [execution_target(i) for i in fleet[:50]], "NextToken": "n"},
        base,
    )
    stub.add_response(
        "describe_association_execution_targets",
        {"AssociationExecutionTargets": [execution_target(i, "Failed") for i in fleet[50:]]},
        {**base, "NextToken": "n"},
    )
    comp = {
        "Filters": [{"Key": "ComplianceType", "Values": ["Association", "Patch"], "Type": "EQUAL"}],
        "MaxResults": 50,
    }
    stub.add_response(
        "list_resource_compliance_summaries",
        {
            "ResourceComplianceSummaryItems": [compliance_summary(i) for i in fleet[:50]],
            "NextToken": "c",
        },
        comp,
    )
    stub.add_response(
        "list_resource_compliance_summaries",
        {
            "ResourceComplianceSummaryItems": [
                compliance_summary(fleet[55], "Patch", "NON_COMPLIANT"),
                compliance_summary("i-0fffffffffffffff0"),  # not ours
            ]
        },
        {**comp, "NextToken": "c"},
    )

    targets = aws.fetch_execution_targets(client, ASSOCIATION_ID, EXECUTION_ID)
    summaries = aws.fetch_compliance_summaries(client, fleet, ("Association", "Patch"))

    assert [t.resource_id for t in targets] == fleet
    assert {t.status for t in targets[50:]} == {"Failed"}
    assert len(summaries) == 51
    assert summaries[-1].compliance_type == "Patch" and summaries[-1].status == "NON_COMPLIANT"


def test_latest_execution_is_newest_of_first_page(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    older = {**execution("Failed"), "ExecutionId": "00000000-1111-2222-3333-444455556666"}
    older["CreatedTime"] = NOW - timedelta(hours=2)
    stub.add_response(
        "describe_association_executions",
        {"AssociationExecutions": [older, execution("Success")]},
        {"AssociationId": ASSOCIATION_ID, "MaxResults": 10},
    )

    latest = aws.fetch_latest_execution(client, ASSOCIATION_ID)

    assert latest is not None
    assert latest.execution_id == EXECUTION_ID and latest.status == "Success"


def test_same_name_associations_pick_the_fleet_one(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    stub.add_response(
        "list_associations",
        {
            "Associations": [
                {"AssociationId": OTHER_ASSOCIATION_ID, "AssociationName": "InventoryAllInstances"},
                {"AssociationId": ASSOCIATION_ID, "AssociationName": "InventoryAllInstances"},
                # the service filter is not trusted to be exact
                {"AssociationId": ASSOCIATION_ID, "AssociationName": "InventoryAllInstances-X"},
            ]
        },
        {
            "AssociationFilterList": [{"key": "AssociationName", "value": "InventoryAllInstances"}],
            "MaxResults": 50,
        },
    )
    stub.add_response(
        "describe_association",
        association_description(
            name="InventoryAllInstances", association_id=OTHER_ASSOCIATION_ID, workload="Prod"
        ),
        {"AssociationId": OTHER_ASSOCIATION_ID},
    )
    stub.add_response(
        "describe_association",
        association_description(name="InventoryAllInstances"),
        {"AssociationId": ASSOCIATION_ID},
    )

    found = [
        aws.describe_association(client, a) for a in aws.find_associations(client, "InventoryAllInstances")
    ]
    chosen = choose_association(found, SELECTOR)

    assert len(found) == 2
    assert chosen is not None and chosen.association_id == ASSOCIATION_ID
    assert chosen.targets[1].key == "tag:Workload" and chosen.targets[1].values == ("Test",)
