"""The AWS side of the fleet checks: session/client factory, small fetchers, error mapping.

Every fetcher takes a boto3 client and returns dataclasses from :mod:`fleetctl.ops.models`;
none of them judge what they fetched. Paginators are used for every operation that has one.
Limits come from botocore's SSM model (``botocore/data/ssm/2014-11-06/service-2.json``):

* ``DescribeInstanceInformation``: MaxResults 5..50, filter values at most 100; tag filters
  (``tag:<key>``) cannot be combined with other filter keys. Stopped and terminated nodes
  are not returned.
* ``GetInventory``: MaxResults 1..50, at most 5 filters, at most 40 values per filter,
  exactly one ``ResultAttributes`` type, and only ``AWS:InstanceInformation`` (the default)
  or ``AWS:PatchSummary`` is answered: any other type is refused with
  ``InvalidResultAttributeException`` (:mod:`fleetctl.compliance.inventory`, sources there).
* ``ListInventoryEntries``: one node and one type per call (any type), MaxResults 1..50.
* ``ListAssociations``, ``DescribeAssociationExecutions``,
  ``DescribeAssociationExecutionTargets``, ``DescribeInstanceAssociationsStatus``,
  ``ListResourceComplianceSummaries``, ``ListComplianceItems``: MaxResults 1..50.
  Compliance filter values at most 20. ``ListComplianceItems`` takes one resource id per
  call (``ComplianceResourceIdList``: "Currently, you can only specify one resource ID").

Calls per check grow with the fleet through pages: DescribeInstanceInformation and
DescribeAssociationExecutionTargets (50 instances a page), ListResourceComplianceSummaries
(50 a page); and through ONE call per registered instance: ``ListInventoryEntries``
(``AWS:Application``, ``MaxResults=1``: its ``CaptureTime`` says whether and when inventory
arrived), on :data:`~fleetctl.compliance.inventory.READ_WORKERS` threads, since no
GetInventory form can say it for many nodes at once. Other per-instance calls are made only
for instances already known to be in trouble (a failed association run, NON_COMPLIANT,
an agent installed by user data that never registered), at most
:data:`MAX_DETAIL_LOOKUPS` of each kind, on :data:`DETAIL_WORKERS` threads.
* ``ec2:GetConsoleOutput``: one instance per call; the API returns ``Output``
  base64-encoded and botocore decodes it (``botocore.handlers.decode_console_output``, an
  ``after-call`` handler), so the client hands back text. ``Latest=True`` (the live serial
  console, not the boot-time buffer) is for Nitro instances only, so other instances fall
  back to the buffered output.

Endpoints are not configured here: botocore honours ``AWS_ENDPOINT_URL_SSM`` and
``AWS_ENDPOINT_URL_EC2`` (and ``AWS_ENDPOINT_URL``) natively.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ProfileNotFound

# Retries, timeouts and chunking live in fleetctl.compliance.clients (shared with the
# software-policy Lambda function); re-exported here under their old names.
from fleetctl.compliance import aws as compliance_aws
from fleetctl.compliance import inventory
from fleetctl.compliance.clients import MAX_RETRIES as MAX_RETRIES
from fleetctl.compliance.clients import TIMEOUT_ATTEMPTS as TIMEOUT_ATTEMPTS
from fleetctl.compliance.clients import bound_timeouts as bound_timeouts
from fleetctl.compliance.clients import bounded, describe_aws_error
from fleetctl.compliance.clients import chunked as chunked
from fleetctl.compliance.clients import client_config as _client_config
from fleetctl.ops.models import (
    AGENT_INSTALL_FAILURE_MARKER,
    APPLICATION,
    Association,
    AssociationExecution,
    AssociationTarget,
    ComplianceItem,
    ComplianceSummary,
    ConsoleDiagnosis,
    Ec2Instance,
    ExecutionTarget,
    FleetSelector,
    FleetSnapshot,
    InstanceAssociationStatus,
    InventoryMatch,
    InventoryRecord,
    ManagedNode,
)
from fleetctl.ops.report import choose_association
from fleetctl.ops.timeouts import CONNECT_TIMEOUT, READ_TIMEOUT

RETRY_CONFIG = _client_config()

PAGE_SIZE = 50  # the maximum for every SSM list call used here
INVENTORY_FILTER_VALUES = inventory.INVENTORY_FILTER_VALUES  # GetInventory: values per filter
INSTANCE_INFO_FILTER_VALUES = 100  # DescribeInstanceInformation: values per filter
LATEST_EXECUTIONS_SCANNED = 10
# Per-instance look-ups (why an association failed, which items are non-compliant, the
# console of an instance whose agent install gave up): only for instances in trouble, at
# most this many of each kind, a few at a time (SSM read APIs are rate limited per account).
MAX_DETAIL_LOOKUPS = 25
DETAIL_WORKERS = 4

# GetConsoleOutput with Latest=True on an instance that is not on Nitro: the API reference
# names no error code for it, so the generic EC2 codes for an unsupported request fall back
# to the buffered output.
_LATEST_UNSUPPORTED = frozenset({"UnsupportedOperation", "InvalidParameterCombination",
                                 "InvalidParameterValue"})


_Key = TypeVar("_Key")
_Result = TypeVar("_Result")


class OpsError(Exception):
    """A usage, credential or API error: exit code 2, ``str(self)`` goes to stderr."""


@dataclass(frozen=True)
class Clients:
    ec2: Any
    ssm: Any
    region: str


def client_config(read_timeout: float = READ_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT) -> Config:
    """:data:`RETRY_CONFIG` with other timeouts (``--read-timeout``)."""
    return _client_config(read_timeout=read_timeout, connect_timeout=connect_timeout)


def make_clients(
    region: str | None = None, profile: str | None = None, read_timeout: float = READ_TIMEOUT
) -> Clients:
    """Session factory: ``--profile``, then ``--region`` / the profile's or
    ``AWS_DEFAULT_REGION`` region / ``AWS_REGION``; both clients use :data:`RETRY_CONFIG`
    (with ``read_timeout``) and give up on a silent endpoint after
    :data:`TIMEOUT_ATTEMPTS` timeouts."""
    try:
        session = boto3.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise OpsError(f"AWS profile not found: {profile}") from exc
    resolved = region or session.region_name or os.environ.get("AWS_REGION")
    if not resolved:
        raise OpsError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    config = client_config(read_timeout)
    ec2 = bound_timeouts(session.client("ec2", region_name=resolved, config=config))
    ssm = bound_timeouts(session.client("ssm", region_name=resolved, config=config))
    return Clients(ec2=ec2, ssm=ssm, region=resolved)


def describe_error(exc: Exception) -> str:
    """One clear line for an AWS failure (no traceback)."""
    if isinstance(exc, OpsError):
        return str(exc)
    return describe_aws_error(exc)


def for_each_bounded(lookup: Callable[[_Key], _Result], keys: Sequence[_Key]) -> list[_Result]:
    """``lookup`` for the first :data:`MAX_DETAIL_LOOKUPS` keys on :data:`DETAIL_WORKERS`
    threads, results in the order of ``keys``."""
    return bounded(lookup, list(keys)[:MAX_DETAIL_LOOKUPS], DETAIL_WORKERS)


def _parse_capture_time(value: str | None) -> datetime | None:
    """Inventory capture times are strings like ``2024-05-01T10:20:30Z``."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- EC2 -----------------------------------------------------------------------------------


def fetch_instances(ec2: Any, selector: FleetSelector) -> list[Ec2Instance]:
    """Instances tagged Environment/Workload, any state but terminated."""
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in selector.tags.items()]
    filters.append(
        {
            "Name": "instance-state-name",
            "Values": ["pending", "running", "stopping", "stopped", "shutting-down"],
        }
    )
    result: list[Ec2Instance] = []
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=filters, PaginationConfig={"PageSize": 1000}
    ):
        for reservation in page.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                result.append(
                    Ec2Instance(
                        instance_id=inst["InstanceId"],
                        state=inst.get("State", {}).get("Name", "unknown"),
                        name=tags.get("Name"),
                        instance_profile_arn=inst.get("IamInstanceProfile", {}).get("Arn"),
                        launch_time=inst.get("LaunchTime"),
                        private_ip=inst.get("PrivateIpAddress"),
                        os=tags.get("OS"),
                        auto_scaling_group=tags.get("aws:autoscaling:groupName"),
                    )
                )
    return sorted(result, key=lambda i: (i.name or "", i.instance_id))


def _console_text(ec2: Any, instance_id: str) -> str | None:
    try:
        response = ec2.get_console_output(InstanceId=instance_id, Latest=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _LATEST_UNSUPPORTED:
            raise
        response = ec2.get_console_output(InstanceId=instance_id)
    output = response.get("Output")  # already decoded from base64 by botocore
    return str(output) if output else None


def fetch_console_diagnosis(ec2: Any, instance_id: str) -> ConsoleDiagnosis:
    """The install-failure marker line from the instance's console output, if any. A console
    that cannot be read (no permission, no output yet) is reported, not raised: it only
    refines why an instance is not registered."""
    try:
        text = _console_text(ec2, instance_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        return ConsoleDiagnosis(instance_id, error=f"ec2:GetConsoleOutput failed: {code}")
    if text is None:
        return ConsoleDiagnosis(instance_id, error="no console output yet")
    lines = [line.strip() for line in text.splitlines() if AGENT_INSTALL_FAILURE_MARKER in line]
    if not lines:
        return ConsoleDiagnosis(instance_id)
    # The marker may follow other text on the line (console timestamps): keep it from there.
    last = lines[-1]
    return ConsoleDiagnosis(instance_id, marker_line=last[last.index(AGENT_INSTALL_FAILURE_MARKER):])


# --- SSM: registration ---------------------------------------------------------------------


def fetch_managed_nodes(ssm: Any, selector: FleetSelector) -> list[ManagedNode]:
    """Managed nodes carrying both fleet tags (the list the software policy reads too)."""
    return [
        ManagedNode(
            instance_id=info["InstanceId"],
            ping_status=info.get("PingStatus", "Unknown"),
            agent_version=info.get("AgentVersion"),
            is_latest_version=info.get("IsLatestVersion"),
            platform_type=info.get("PlatformType"),
            platform_name=info.get("PlatformName"),
            platform_version=info.get("PlatformVersion"),
            last_ping=info.get("LastPingDateTime"),
            association_status=info.get("AssociationStatus"),
            resource_type=info.get("ResourceType"),
        )
        for info in compliance_aws.managed_node_infos(ssm, selector.tags)
    ]


# --- SSM: association ----------------------------------------------------------------------


def find_associations(ssm: Any, association_name: str) -> list[str]:
    """Ids of the associations with exactly this name (names are not unique in SSM)."""
    ids: list[str] = []
    for page in ssm.get_paginator("list_associations").paginate(
        AssociationFilterList=[{"key": "AssociationName", "value": association_name}],
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        for assoc in page.get("Associations", []):
            if assoc.get("AssociationName") == association_name and "AssociationId" in assoc:
                ids.append(assoc["AssociationId"])
    return ids


def describe_association(ssm: Any, association_id: str) -> Association:
    desc = ssm.describe_association(AssociationId=association_id)["AssociationDescription"]
    overview = desc.get("Overview", {})
    return Association(
        association_id=desc.get("AssociationId", association_id),
        association_name=desc.get("AssociationName"),
        document_name=desc.get("Name", ""),
        schedule=desc.get("ScheduleExpression"),
        targets=tuple(
            AssociationTarget(key=t.get("Key", ""), values=tuple(t.get("Values", [])))
            for t in desc.get("Targets", [])
        ),
        status=overview.get("Status"),
        detailed_status=overview.get("DetailedStatus"),
        status_counts=dict(overview.get("AssociationStatusAggregatedCount", {})),
        last_execution_date=desc.get("LastExecutionDate"),
        last_successful_execution_date=desc.get("LastSuccessfulExecutionDate"),
    )


def fetch_latest_execution(ssm: Any, association_id: str) -> AssociationExecution | None:
    """The newest execution among the first few the service returns (newest first)."""
    executions: list[AssociationExecution] = []
    for page in ssm.get_paginator("describe_association_executions").paginate(
        AssociationId=association_id,
        PaginationConfig={
            "PageSize": LATEST_EXECUTIONS_SCANNED,
            "MaxItems": LATEST_EXECUTIONS_SCANNED,
        },
    ):
        for ex in page.get("AssociationExecutions", []):
            executions.append(
                AssociationExecution(
                    execution_id=ex.get("ExecutionId", ""),
                    status=ex.get("Status"),
                    detailed_status=ex.get("DetailedStatus"),
                    created_time=ex.get("CreatedTime"),
                    resource_count_by_status=ex.get("ResourceCountByStatus"),
                )
            )
    if not executions:
        return None
    floor = datetime.min.replace(tzinfo=UTC)
    return max(executions, key=lambda e: e.created_time or floor)


def fetch_execution_targets(ssm: Any, association_id: str, execution_id: str) -> list[ExecutionTarget]:
    result: list[ExecutionTarget] = []
    for page in ssm.get_paginator("describe_association_execution_targets").paginate(
        AssociationId=association_id,
        ExecutionId=execution_id,
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        for tgt in page.get("AssociationExecutionTargets", []):
            result.append(
                ExecutionTarget(
                    resource_id=tgt.get("ResourceId", ""),
                    status=tgt.get("Status"),
                    detailed_status=tgt.get("DetailedStatus"),
                    resource_type=tgt.get("ResourceType"),
                    last_execution_date=tgt.get("LastExecutionDate"),
                )
            )
    return result


def fetch_instance_association_status(
    ssm: Any, instance_id: str, association_id: str
) -> InstanceAssociationStatus | None:
    """Why our association failed on one instance (execution summary, agent error code)."""
    for page in ssm.get_paginator("describe_instance_associations_status").paginate(
        InstanceId=instance_id, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        for info in page.get("InstanceAssociationStatusInfos", []):
            if info.get("AssociationId") == association_id:
                return InstanceAssociationStatus(
                    instance_id=instance_id,
                    status=info.get("Status"),
                    detailed_status=info.get("DetailedStatus"),
                    execution_summary=info.get("ExecutionSummary"),
                    error_code=info.get("ErrorCode"),
                    execution_date=info.get("ExecutionDate"),
                )
    return None


# --- SSM: inventory ------------------------------------------------------------------------
# GetInventory answers only AWS:InstanceInformation / AWS:PatchSummary as its result type
# (fleetctl.compliance.inventory): AWS:Application is read per node with
# ListInventoryEntries, the node list narrowed by GetInventory where a filter can do it.


def fetch_inventory(ssm: Any, instance_ids: Sequence[str]) -> list[InventoryRecord]:
    """Whether and when ``AWS:Application`` inventory arrived, per instance: one
    ``ListInventoryEntries`` (``MaxResults=1``, its ``CaptureTime``) per instance,
    :data:`~fleetctl.compliance.inventory.READ_WORKERS` at a time. No GetInventory form
    can say it for 40 at once: the result type is refused, the ``Exists`` filter needs
    aggregators, and aggregator groups only count nodes."""
    ids = sorted(set(instance_ids))
    found = inventory.list_entries_per_node(
        ssm, ids, APPLICATION, capture_time_only=True, workers=inventory.READ_WORKERS
    )
    return [
        InventoryRecord(
            instance_id=i,
            application_capture_time=_parse_capture_time(found[i].capture_time) if i in found else None,
        )
        for i in ids
    ]


@dataclass(frozen=True)
class InventoryQuery:
    """What ``inventory query`` found and how it read it (``source``: ``GetInventory`` or
    ``ListInventoryEntries``; ``nodes_read``: the nodes read one by one)."""

    matches: list[InventoryMatch]
    source: str
    nodes_read: int = 0


def query_inventory(
    ssm: Any,
    instance_ids: Sequence[str],
    type_name: str,
    attribute: str = "Name",
    prefix: str | None = None,
) -> InventoryQuery:
    """Entries of ``type_name`` on the instances, optionally those whose ``attribute``
    begins with ``prefix`` (server-side ``BeginWith``, re-checked client-side).

    ``AWS:InstanceInformation`` / ``AWS:PatchSummary``: GetInventory with that result type,
    40 instances a call. Any other type: GetInventory with the default result type names the
    managed nodes among the instances (with ``prefix``: only those with a matching entry),
    then one ``ListInventoryEntries`` (every page, the same filter) per such node. A
    GetInventory that refuses the result type falls back to the per-node reads."""
    wanted = [inventory.prefix_filter(type_name, attribute, prefix)] if prefix else []
    ids = sorted(set(instance_ids))
    found: dict[str, inventory.NodeInventory] | None = None
    source, nodes_read = "GetInventory", 0
    if type_name in inventory.GET_INVENTORY_RESULT_TYPES:
        try:
            found = inventory.get_inventory(ssm, ids, type_name, wanted)
        except ClientError as exc:
            if not inventory.refuses_result_type(exc):
                raise
    if found is None:
        candidates = sorted(inventory.get_inventory(ssm, ids, None, wanted))
        found = inventory.list_entries_per_node(
            ssm, candidates, type_name, wanted, workers=inventory.READ_WORKERS
        )
        source, nodes_read = "ListInventoryEntries", len(candidates)
    matches: list[InventoryMatch] = []
    for instance_id in sorted(found):
        read = found[instance_id]
        captured = _parse_capture_time(read.capture_time)
        for entry in read.entries:
            if prefix and not str(entry.get(attribute, "")).startswith(prefix):
                continue
            matches.append(InventoryMatch(instance_id, type_name, captured, dict(entry)))
    return InventoryQuery(matches, source, nodes_read)


# --- SSM: compliance -----------------------------------------------------------------------


def fetch_compliance_summaries(
    ssm: Any, instance_ids: Iterable[str], compliance_types: Sequence[str]
) -> list[ComplianceSummary]:
    """Per-resource compliance of the given types, kept to ``instance_ids`` (the list
    ``fleetctl compliance report`` reads too)."""
    return [
        ComplianceSummary(
            resource_id=item["ResourceId"],
            compliance_type=item.get("ComplianceType", ""),
            status=item.get("Status", "UNKNOWN"),
            overall_severity=item.get("OverallSeverity"),
            compliant_count=item.get("CompliantSummary", {}).get("CompliantCount", 0),
            non_compliant_count=item.get("NonCompliantSummary", {}).get("NonCompliantCount", 0),
            execution_time=item.get("ExecutionSummary", {}).get("ExecutionTime"),
        )
        for item in compliance_aws.compliance_summary_items(ssm, instance_ids, compliance_types)
    ]


def fetch_non_compliant_items(ssm: Any, instance_id: str, compliance_type: str) -> list[ComplianceItem]:
    """The non-compliant items of one type on one instance (one resource id per call)."""
    result: list[ComplianceItem] = []
    for page in ssm.get_paginator("list_compliance_items").paginate(
        ResourceIds=[instance_id],
        ResourceTypes=["ManagedInstance"],
        Filters=[{"Key": "ComplianceType", "Values": [compliance_type], "Type": "EQUAL"}],
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        for item in page.get("ComplianceItems", []):
            if item.get("Status") != "NON_COMPLIANT":
                continue
            result.append(
                ComplianceItem(
                    resource_id=item.get("ResourceId", instance_id),
                    compliance_type=item.get("ComplianceType", compliance_type),
                    item_id=item.get("Id"),
                    title=item.get("Title"),
                    status=item["Status"],
                    severity=item.get("Severity"),
                    details=dict(item.get("Details") or {}),
                )
            )
    return result


# --- orchestration -------------------------------------------------------------------------


def collect_snapshot(
    clients: Clients,
    selector: FleetSelector,
    association_names: Sequence[str],
    compliance_types: Sequence[str] = ("Association", "Patch"),
    inventory_seen: Mapping[str, InventoryRecord] | None = None,
) -> FleetSnapshot:
    """Runs the fetchers in a fixed order (EC2, registration, association, inventory,
    compliance) and bundles the results; no judgement here. ``association_names`` are tried
    in order; the first name that exists is used. ``inventory_seen``: records of an earlier
    poll of the same wait; an instance whose inventory had arrived then is not read again
    (inventory does not go away, and reading it is one call per instance)."""
    ec2, ssm = clients.ec2, clients.ssm
    instances = fetch_instances(ec2, selector)
    nodes = fetch_managed_nodes(ssm, selector)
    fleet_ids = [i.instance_id for i in instances]
    node_ids = {n.instance_id for n in nodes}
    registered = [i for i in fleet_ids if i in node_ids]
    # Instances whose agent user data installs, not registered: their console says whether
    # the install gave up.
    consoles: list[ConsoleDiagnosis] = for_each_bounded(
        lambda instance_id: fetch_console_diagnosis(ec2, instance_id),
        [
            i.instance_id
            for i in instances
            if i.agent_from_user_data and i.state == "running" and i.instance_id not in registered
        ],
    )

    association_name = association_names[0]
    found: tuple[Association, ...] = ()
    for name in association_names:
        ids = find_associations(ssm, name)
        if ids:
            association_name = name
            found = tuple(describe_association(ssm, a) for a in ids)
            break
    association = choose_association(found, selector)
    latest = None
    targets: list[ExecutionTarget] = []
    statuses: list[InstanceAssociationStatus] = []
    if association is not None:
        latest = fetch_latest_execution(ssm, association.association_id)
        if latest is not None:
            targets = fetch_execution_targets(ssm, association.association_id, latest.execution_id)
        failed = {t.resource_id for t in targets if t.status == "Failed"}
        association_id = association.association_id
        looked_up = for_each_bounded(
            lambda instance_id: fetch_instance_association_status(ssm, instance_id, association_id),
            [i for i in registered if i in failed],
        )
        statuses = [s for s in looked_up if s is not None]

    # Unregistered instances have no inventory to read: only registered ones are asked, and
    # of those only the ones an earlier poll did not already find inventory for.
    seen = {
        i: record
        for i, record in (inventory_seen or {}).items()
        if i in registered and record.application_capture_time is not None
    }
    inventory = [*seen.values(), *fetch_inventory(ssm, [i for i in registered if i not in seen])]
    inventory.sort(key=lambda record: record.instance_id)

    compliance: list[ComplianceSummary] = []
    items: list[ComplianceItem] = []
    if registered:
        compliance = fetch_compliance_summaries(ssm, registered, compliance_types)
        for found_items in for_each_bounded(
            lambda s: fetch_non_compliant_items(ssm, s.resource_id, s.compliance_type),
            [s for s in compliance if s.status == "NON_COMPLIANT"],
        ):
            items.extend(found_items)

    return FleetSnapshot(
        selector=selector,
        association_name=association_name,
        association_names_tried=tuple(association_names),
        region=clients.region,
        instances=tuple(instances),
        nodes=tuple(nodes),
        associations_found=found,
        association=association,
        latest_execution=latest,
        execution_targets=tuple(targets),
        instance_association_statuses=tuple(statuses),
        inventory=tuple(inventory),
        compliance=tuple(compliance),
        compliance_items=tuple(items),
        console_diagnoses=tuple(consoles),
    )
