"""Realistic SSM responses for botocore's Stubber (which validates them against the model).

Shapes follow ``botocore/data/ssm/2014-11-06/service-2.json``; moto 5 does not implement
these SSM APIs, so EC2 comes from moto and SSM from these builders.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from botocore.stub import Stubber
from ops_server import UNSUPPORTED_RESULT_TYPE, result_type_refusal

ASSOCIATION_ID = "8dfe3659-4309-493a-8755-0123456789ab"
EXECUTION_ID = "1a2b3c4d-1111-2222-3333-444455556666"
OTHER_ASSOCIATION_ID = "0aaa3659-4309-493a-8755-0123456789cd"
NOW = datetime.now(UTC)
TAG_FILTERS = [
    {"Key": "tag:Environment", "Values": ["OELabIPM"]},
    {"Key": "tag:Workload", "Values": ["Test"]},
]


def refuse_unsupported_result_types(client: Any) -> Any:
    """Makes a Stubber-backed SSM client refuse GetInventory result types as the service does
    (ops_server.result_type_refusal), before the Stubber's queue is consulted."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        message = result_type_refusal(params)
        if message:
            error = {"Error": {"Code": UNSUPPORTED_RESULT_TYPE, "Message": message}}
            raise ClientError(error, "GetInventory")

    client.meta.events.register("provide-client-params.ssm.GetInventory", refuse)
    return client


def capture(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def node(instance_id: str, ping: str = "Online", latest: bool = True) -> dict[str, Any]:
    return {
        "InstanceId": instance_id,
        "PingStatus": ping,
        "LastPingDateTime": NOW - timedelta(minutes=2),
        "AgentVersion": "3.3.987.0",
        "IsLatestVersion": latest,
        "PlatformType": "Linux",
        "PlatformName": "Amazon Linux",
        "PlatformVersion": "2023",
        "ResourceType": "EC2Instance",
        "AssociationStatus": "Success",
        "IPAddress": "10.0.1.10",
        "ComputerName": f"ip-10-0-1-10.{instance_id}.internal",
        "SourceId": instance_id,
        "SourceType": "AWS::EC2::Instance",
    }


def association_description(
    status: str = "Success",
    counts: dict[str, int] | None = None,
    name: str = "InventoryAllInstances-Test",
    association_id: str = ASSOCIATION_ID,
    workload: str = "Test",
) -> dict[str, Any]:
    return {
        "AssociationDescription": {
            "Name": "AWS-GatherSoftwareInventory",
            "AssociationId": association_id,
            "AssociationName": name,
            "AssociationVersion": "1",
            "DocumentVersion": "$DEFAULT",
            "Date": NOW - timedelta(days=1),
            "Status": {"Date": NOW, "Name": "Success", "Message": "Associated with 4 targets"},
            "Overview": {
                "Status": status,
                "DetailedStatus": status,
                "AssociationStatusAggregatedCount": counts or {status: 4},
            },
            "Targets": [
                {"Key": "tag:Environment", "Values": ["OELabIPM"]},
                {"Key": "tag:Workload", "Values": [workload]},
            ],
            "ScheduleExpression": "rate(30 minutes)",
            "Parameters": {"applications": ["Enabled"], "awsComponents": ["Enabled"]},
            "LastExecutionDate": NOW - timedelta(minutes=20),
            "LastSuccessfulExecutionDate": NOW - timedelta(minutes=20),
            "ComplianceSeverity": "MEDIUM",
            "SyncCompliance": "AUTO",
        }
    }


def execution(status: str = "Success", summary: str = "{Success=4}") -> dict[str, Any]:
    return {
        "AssociationId": ASSOCIATION_ID,
        "AssociationVersion": "1",
        "ExecutionId": EXECUTION_ID,
        "Status": status,
        "DetailedStatus": status,
        "CreatedTime": NOW - timedelta(minutes=20),
        "ResourceCountByStatus": summary,
    }


def execution_target(instance_id: str, status: str = "Success") -> dict[str, Any]:
    return {
        "AssociationId": ASSOCIATION_ID,
        "AssociationVersion": "1",
        "ExecutionId": EXECUTION_ID,
        "ResourceId": instance_id,
        "ResourceType": "ManagedInstance",
        "Status": status,
        "DetailedStatus": status,
        "LastExecutionDate": NOW - timedelta(minutes=19),
        "OutputSource": {
            "OutputSourceId": "97fff367-fc5a-4299-aed8-0123456789ab",
            "OutputSourceType": "RunCommand",
        },
    }


def inventory_entity(instance_id: str, captured: datetime | None = None) -> dict[str, Any]:
    return {
        "Id": instance_id,
        "Data": {
            "AWS:InstanceInformation": {
                "TypeName": "AWS:InstanceInformation",
                "SchemaVersion": "1.0",
                "CaptureTime": capture(captured or NOW - timedelta(minutes=18)),
                "Content": [
                    {
                        "AgentType": "amazon-ssm-agent",
                        "AgentVersion": "3.3.987.0",
                        "InstanceId": instance_id,
                        "InstanceStatus": "Active",
                        "PlatformName": "Amazon Linux",
                        "PlatformType": "Linux",
                        "PlatformVersion": "2023",
                        "ResourceType": "EC2Instance",
                    }
                ],
            }
        },
    }


def application_entity(
    instance_id: str, packages: list[tuple[str, str]], captured: datetime | None = None
) -> dict[str, Any]:
    return {
        "Id": instance_id,
        "Data": {
            "AWS:Application": {
                "TypeName": "AWS:Application",
                "SchemaVersion": "1.1",
                "CaptureTime": capture(captured or NOW - timedelta(minutes=18)),
                "Content": [
                    {
                        "Name": name,
                        "Version": version,
                        "Release": "1.amzn2023",
                        "Architecture": "x86_64",
                        "ApplicationType": "System Environment/Daemons",
                    }
                    for name, version in packages
                ],
            }
        },
    }


def application_entries(
    instance_id: str, packages: list[tuple[str, str]], captured: datetime | None = None
) -> dict[str, Any]:
    """A ListInventoryEntries answer for AWS:Application (no CaptureTime without data)."""
    if not packages and captured is None:
        return {"InstanceId": instance_id, "TypeName": "AWS:Application", "Entries": []}
    content = application_entity(instance_id, packages, captured)["Data"]["AWS:Application"]
    return {
        "InstanceId": instance_id,
        "TypeName": "AWS:Application",
        "SchemaVersion": "1.1",
        "CaptureTime": content["CaptureTime"],
        "Entries": content["Content"],
    }


def compliance_summary(
    instance_id: str, kind: str = "Association", status: str = "COMPLIANT"
) -> dict[str, Any]:
    bad = 1 if status == "NON_COMPLIANT" else 0
    return {
        "ComplianceType": kind,
        "ResourceType": "ManagedInstance",
        "ResourceId": instance_id,
        "Status": status,
        "OverallSeverity": "CRITICAL" if bad else "UNSPECIFIED",
        "ExecutionSummary": {"ExecutionTime": NOW - timedelta(minutes=19)},
        "CompliantSummary": {"CompliantCount": 1 - bad, "SeveritySummary": {}},
        "NonCompliantSummary": {"NonCompliantCount": bad, "SeveritySummary": {}},
    }


def inventory_filter(ids: list[str]) -> list[dict[str, Any]]:
    return [{"Key": "AWS:InstanceInformation.InstanceId", "Values": ids, "Type": "Equal"}]


def stub_fleet(
    stub: Stubber,
    instance_ids: list[str],
    registered: list[str] | None = None,
    association_status: str = "Success",
    failed_on: str | None = None,
    non_compliant: str | None = None,
    app_capture: datetime | None = None,
    skip_registration: bool = False,
) -> None:
    """Queues the SSM calls ``fleetctl check`` makes for one fleet, in call order
    (``skip_registration``: the caller queued DescribeInstanceInformation itself)."""
    registered = sorted(registered if registered is not None else instance_ids)
    if not skip_registration:
        stub.add_response(
            "describe_instance_information",
            {"InstanceInformationList": [node(i) for i in registered]},
            {"Filters": TAG_FILTERS, "MaxResults": 50},
        )
    stub.add_response(
        "list_associations",
        {
            "Associations": [
                {
                    "Name": "AWS-GatherSoftwareInventory",
                    "AssociationId": ASSOCIATION_ID,
                    "AssociationName": "InventoryAllInstances-Test",
                    "AssociationVersion": "1",
                    "ScheduleExpression": "rate(30 minutes)",
                }
            ]
        },
        {
            "AssociationFilterList": [{"key": "AssociationName", "value": "InventoryAllInstances-Test"}],
            "MaxResults": 50,
        },
    )
    counts = {"Success": len(registered)}
    if association_status == "Failed":
        counts = {"Success": len(registered) - 1, "Failed": 1}
    stub.add_response(
        "describe_association",
        association_description(association_status, counts),
        {"AssociationId": ASSOCIATION_ID},
    )
    stub.add_response(
        "describe_association_executions",
        {"AssociationExecutions": [execution(association_status)]},
        {"AssociationId": ASSOCIATION_ID, "MaxResults": 10},
    )
    stub.add_response(
        "describe_association_execution_targets",
        {
            "AssociationExecutionTargets": [
                execution_target(i, "Failed" if i == failed_on else "Success") for i in registered
            ]
        },
        {"AssociationId": ASSOCIATION_ID, "ExecutionId": EXECUTION_ID, "MaxResults": 50},
    )
    if failed_on:
        stub.add_response(
            "describe_instance_associations_status",
            {
                "InstanceAssociationStatusInfos": [
                    {
                        "AssociationId": ASSOCIATION_ID,
                        "Name": "AWS-GatherSoftwareInventory",
                        "DocumentVersion": "1",
                        "AssociationVersion": "1",
                        "InstanceId": failed_on,
                        "ExecutionDate": NOW - timedelta(minutes=19),
                        "Status": "Failed",
                        "DetailedStatus": "Failed",
                        "ExecutionSummary": "1 out of 1 plugin processed, 0 success, 1 failed",
                        "ErrorCode": "1",
                        "AssociationName": "InventoryAllInstances-Test",
                    }
                ]
            },
            {"InstanceId": failed_on, "MaxResults": 50},
        )
    # One ListInventoryEntries per registered instance (MaxResults 1: its CaptureTime), in id
    # order (the fixtures run the per-node reads on one thread for the Stubber's queue).
    for instance_id in sorted(registered):
        stub.add_response(
            "list_inventory_entries",
            application_entries(instance_id, [("amazon-ssm-agent", "3.3.987.0")], app_capture),
            {"InstanceId": instance_id, "TypeName": "AWS:Application", "MaxResults": 1},
        )
    if registered:
        summaries = [
            compliance_summary(i, status="NON_COMPLIANT" if i == non_compliant else "COMPLIANT")
            for i in registered
        ]
        # A resource outside the fleet: must be ignored.
        summaries.append(compliance_summary("i-0fffffffffffffff0"))
        stub.add_response(
            "list_resource_compliance_summaries",
            {"ResourceComplianceSummaryItems": summaries},
            {
                "Filters": [{"Key": "ComplianceType", "Values": ["Association", "Patch"], "Type": "EQUAL"}],
                "MaxResults": 50,
            },
        )
    if non_compliant:
        stub.add_response(
            "list_compliance_items",
            {
                "ComplianceItems": [
                    {
                        "ComplianceType": "Association",
                        "ResourceType": "ManagedInstance",
                        "ResourceId": non_compliant,
                        "Id": ASSOCIATION_ID,
                        "Title": "AWS-GatherSoftwareInventory",
                        "Status": "NON_COMPLIANT",
                        "Severity": "CRITICAL",
                        "ExecutionSummary": {"ExecutionTime": NOW - timedelta(minutes=19)},
                        "Details": {"DocumentName": "AWS-GatherSoftwareInventory"},
                    }
                ]
            },
            {
                "ResourceIds": [non_compliant],
                "ResourceTypes": ["ManagedInstance"],
                "Filters": [{"Key": "ComplianceType", "Values": ["Association"], "Type": "EQUAL"}],
                "MaxResults": 50,
            },
        )
