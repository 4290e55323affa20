"""The software policy's AWS reads and writes (boto3 SSM client in, plain data out).

Packaged into the Lambda function: standard library, botocore and :mod:`fleetctl.compliance`
only. Limits, from botocore's SSM model (``botocore/data/ssm/2014-11-06/service-2.json``) and
the Systems Manager API Reference:

* ``DescribeInstanceInformation``: MaxResults 5..50; ``tag:<key>`` filters (the fleet's
  ``Environment`` and ``Workload`` tags) -> 50 nodes a page, with their ``PlatformType``.
* ``GetInventory``: the API Reference allows only ``AWS:InstanceInformation`` as its result
  type (ResultAttribute: "Valid value: AWS:InstanceInformation") and the service answers
  ``AWS:Application`` with ``InvalidResultAttributeException`` (aws/aws-sdk#640,
  turbot/steampipe-plugin-aws#1972). It is still tried once per run, 40 nodes a call, so a
  stand-in or a service that answers it reads in batches.
* ``ListInventoryEntries``: one node per call, MaxResults 1..50, no botocore paginator: what
  the real service is read with (:mod:`.inventory`), after the refusal. The run says which it
  used (``inventory_source``).
* ``PutComplianceItems``: one resource per call; ``Items`` at most 10,000; item ``Title`` at
  most 500 characters; ``Details`` keys 1..64, values at most 4,096; ``ExecutionSummary``
  with the required ``ExecutionTime``, ``ExecutionId`` at most 100 and ``ExecutionType`` at
  most 50 characters; ``ItemContentHash`` at most 256 ("MD5 or SHA-256 content hash ... If
  the content hashes match, the request to put compliance information is ignored");
  ``UploadType`` COMPLETE replaces the node's items of the type. The call "overwrites
  existing compliance information on the resource, so you must provide a full list of
  compliance items each time".

Throttling (``ThrottlingException``, per account and region) is retried by botocore's
standard retry mode (:mod:`.clients`); writes run on :data:`PUT_WORKERS` threads (boto3
clients are thread-safe), under botocore's default pool of 10 connections.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fleetctl.compliance import inventory
from fleetctl.compliance.clients import bounded, describe_aws_error
from fleetctl.compliance.model import COMPLIANCE_TYPE, InstanceSoftware, InstanceVerdict

APPLICATION = inventory.APPLICATION
INSTANCE_ID_KEY = inventory.INSTANCE_ID_KEY
RESOURCE_TYPE = "ManagedInstance"
UPLOAD_TYPE = "COMPLETE"

PAGE_SIZE = 50  # DescribeInstanceInformation, GetInventory, ListInventoryEntries: the maximum
INVENTORY_FILTER_VALUES = inventory.INVENTORY_FILTER_VALUES  # GetInventory: values per filter
MAX_ITEMS_PER_CALL = 10_000  # PutComplianceItems: Items
MAX_TITLE = 500  # ComplianceItemEntry.Title
MAX_DETAIL_KEY = 64  # ComplianceItemDetails keys (AttributeName)
MAX_DETAIL_VALUE = 4096  # ComplianceItemDetails values (AttributeValue)
MAX_EXECUTION_ID = 100  # ComplianceExecutionSummary.ExecutionId
MAX_EXECUTION_TYPE = 50  # ComplianceExecutionSummary.ExecutionType
MAX_CONTENT_HASH = 256  # ItemContentHash
# Writes in flight at once: well under botocore's default max_pool_connections (10), and a
# few requests a second per thread at most, so SSM's per-account throttling stays rare.
PUT_WORKERS = 8
READ_WORKERS = inventory.READ_WORKERS  # ListInventoryEntries fallback only (one read per node)
UNSUPPORTED_RESULT_TYPE = inventory.UNSUPPORTED_RESULT_TYPE

@dataclass(frozen=True)
class FleetNode:
    """A managed node carrying the fleet's tags, as DescribeInstanceInformation lists it."""

    instance_id: str
    platform_type: str | None = None
    platform_name: str | None = None
    ping_status: str | None = None


@dataclass(frozen=True)
class PutOutcome:
    """One PutComplianceItems call: ``error`` is None when SSM accepted it."""

    instance_id: str
    item_count: int
    content_hash: str
    error: str | None = None


# --- reads ---------------------------------------------------------------------------------


def managed_node_infos(ssm: Any, tags: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """DescribeInstanceInformation's entries for the managed nodes carrying every tag in
    ``tags`` (``tag:<key>`` filters, 50 a page); ``fleetctl check`` reads the same list."""
    filters = [{"Key": f"tag:{key}", "Values": [value]} for key, value in tags.items()]
    for page in ssm.get_paginator("describe_instance_information").paginate(
        Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        yield from page.get("InstanceInformationList", [])


def discover_fleet(ssm: Any, tags: Mapping[str, str]) -> list[FleetNode]:
    """Managed nodes carrying every tag in ``tags``, sorted by instance id."""
    nodes = {
        info["InstanceId"]: FleetNode(
            instance_id=info["InstanceId"],
            platform_type=info.get("PlatformType"),
            platform_name=info.get("PlatformName"),
            ping_status=info.get("PingStatus"),
        )
        for info in managed_node_infos(ssm, tags)
    }
    return [nodes[key] for key in sorted(nodes)]


def read_inventory(ssm: Any, nodes: Sequence[FleetNode]) -> tuple[list[InstanceSoftware], str]:
    """Every node's ``AWS:Application`` entries: in batches of 40 where GetInventory answers
    that type, else (the real service) per node. Returns the nodes (``applications`` None: no inventory
    yet) and the operation that read them (``GetInventory`` or ``ListInventoryEntries``)."""
    from botocore.exceptions import ClientError

    ids = [node.instance_id for node in nodes]
    source = "GetInventory"
    try:
        found = inventory.get_inventory(ssm, ids, APPLICATION) if ids else {}
    except ClientError as exc:
        if not inventory.refuses_result_type(exc):
            raise
        source = "ListInventoryEntries"
        found = inventory.list_entries_per_node(ssm, ids, APPLICATION, workers=READ_WORKERS)
    software = []
    for node in nodes:
        read = found.get(node.instance_id)
        entries, capture_time = (read.entries, read.capture_time) if read else (None, None)
        software.append(
            InstanceSoftware(
                instance_id=node.instance_id,
                platform_type=node.platform_type,
                platform_name=node.platform_name,
                applications=entries,
                capture_time=capture_time,
            )
        )
    return software, source


# --- writes --------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compliance_entries(verdict: InstanceVerdict) -> list[dict[str, Any]]:
    """The verdict's items as ``ComplianceItemEntry`` maps, within the API's length limits.
    A node without inventory is never written COMPLIANT, whatever its items say."""
    entries = []
    for item in verdict.items:
        status = item.status if verdict.has_inventory else "NON_COMPLIANT"
        entry: dict[str, Any] = {
            "Id": item.rule_id,
            "Title": _clip(item.title, MAX_TITLE),
            "Severity": item.severity,
            "Status": status,
        }
        details = {
            _clip(str(key), MAX_DETAIL_KEY): _clip(str(value), MAX_DETAIL_VALUE)
            for key, value in sorted(item.details.items())
            if key
        }
        if details:
            entry["Details"] = details
        entries.append(entry)
    if len(entries) > MAX_ITEMS_PER_CALL:
        raise ValueError(
            f"{verdict.instance_id}: {len(entries)} compliance items; PutComplianceItems takes at most "
            f"{MAX_ITEMS_PER_CALL:,} per node (one per rule): shorten softwarePolicy.rules"
        )
    return entries


def content_hash(entries: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of the items as canonical JSON: the same items give the same hash whatever the
    run's time or execution id, so SSM ignores a put that would change nothing."""
    canonical = json.dumps(
        [dict(entry) for entry in entries], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{COMPLIANCE_TYPE}\n{canonical}".encode()).hexdigest()


def put_request(
    verdict: InstanceVerdict, execution_id: str, execution_time: datetime, execution_type: str
) -> dict[str, Any]:
    """The PutComplianceItems parameters for one node."""
    entries = compliance_entries(verdict)
    return {
        "ResourceId": verdict.instance_id,
        "ResourceType": RESOURCE_TYPE,
        "ComplianceType": COMPLIANCE_TYPE,
        "ExecutionSummary": {
            "ExecutionTime": execution_time,
            "ExecutionId": _clip(execution_id, MAX_EXECUTION_ID),
            "ExecutionType": _clip(execution_type, MAX_EXECUTION_TYPE),
        },
        "Items": entries,
        "ItemContentHash": content_hash(entries),
        "UploadType": UPLOAD_TYPE,
    }


def put_verdicts(
    ssm: Any,
    verdicts: Sequence[InstanceVerdict],
    execution_id: str,
    execution_time: datetime,
    execution_type: str = COMPLIANCE_TYPE,
    workers: int = PUT_WORKERS,
) -> list[PutOutcome]:
    """One PutComplianceItems per node, ``workers`` at a time. A call that fails after
    botocore's retries is recorded in its outcome (one line), not raised, so one refused node
    does not hide the others' results."""
    from botocore.exceptions import BotoCoreError, ClientError

    def put(verdict: InstanceVerdict) -> PutOutcome:
        request = put_request(verdict, execution_id, execution_time, execution_type)
        count, digest = len(request["Items"]), request["ItemContentHash"]
        try:
            ssm.put_compliance_items(**request)
        except (ClientError, BotoCoreError) as exc:
            return PutOutcome(verdict.instance_id, count, digest, error=describe_aws_error(exc))
        return PutOutcome(verdict.instance_id, count, digest)

    return bounded(put, list(verdicts), workers)


# --- compliance report ---------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceSummary:
    """One node's summary of one compliance type (ListResourceComplianceSummaries)."""

    instance_id: str
    compliance_type: str
    status: str
    non_compliant_by_severity: dict[str, int]
    compliant_count: int
    non_compliant_count: int
    execution_time: datetime | None = None


# SeveritySummary members per ComplianceSeverity value (botocore's SSM model).
_SEVERITY_COUNTS = {
    "CRITICAL": "CriticalCount",
    "HIGH": "HighCount",
    "MEDIUM": "MediumCount",
    "LOW": "LowCount",
    "INFORMATIONAL": "InformationalCount",
    "UNSPECIFIED": "UnspecifiedCount",
}


def compliance_summary_items(
    ssm: Any, instance_ids: Iterable[str], compliance_types: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """ListResourceComplianceSummaries' entries (50 a page) of the resources in
    ``instance_ids``, of ``compliance_types`` (None: every type). The API filters by type, not
    by resource: every page of the account is read and the others dropped here. ``fleetctl
    check`` reads the same list."""
    wanted = set(instance_ids)
    kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    if compliance_types:
        kwargs["Filters"] = [
            {"Key": "ComplianceType", "Values": list(compliance_types), "Type": "EQUAL"}
        ]
    for page in ssm.get_paginator("list_resource_compliance_summaries").paginate(**kwargs):
        for item in page.get("ResourceComplianceSummaryItems", []):
            if item.get("ResourceId") in wanted:
                yield item


def read_compliance(
    ssm: Any, instance_ids: Sequence[str], compliance_type: str | None = None
) -> list[ComplianceSummary]:
    """Every compliance type's summary per node (or one type), kept to ``instance_ids``."""
    summaries = []
    for item in compliance_summary_items(
        ssm, instance_ids, [compliance_type] if compliance_type else None
    ):
        non_compliant = item.get("NonCompliantSummary") or {}
        severity = non_compliant.get("SeveritySummary") or {}
        summaries.append(
            ComplianceSummary(
                instance_id=item["ResourceId"],
                compliance_type=item.get("ComplianceType", ""),
                status=item.get("Status", "UNKNOWN"),
                non_compliant_by_severity={
                    name: int(severity.get(member, 0)) for name, member in _SEVERITY_COUNTS.items()
                },
                compliant_count=int((item.get("CompliantSummary") or {}).get("CompliantCount", 0)),
                non_compliant_count=int(non_compliant.get("NonCompliantCount", 0)),
                execution_time=(item.get("ExecutionSummary") or {}).get("ExecutionTime"),
            )
        )
    return sorted(summaries, key=lambda s: (s.instance_id, s.compliance_type))
