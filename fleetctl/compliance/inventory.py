"""SSM inventory reads that work in a real account, shared by ``fleetctl check`` /
``fleetctl inventory query`` (:mod:`fleetctl.ops.aws`) and the software policy
(:mod:`fleetctl.compliance.aws`, packaged into the Lambda function: standard library and
botocore only, imported lazily).

What the service allows (Systems Manager API Reference and botocore's SSM model):

* ``GetInventory`` returns, per managed node, the data of ONE result type, and that type
  can only be ``AWS:InstanceInformation`` (the default) or ``AWS:PatchSummary``.
  ``ResultAttribute.TypeName``: "Valid value: AWS:InstanceInformation. Default Value:
  AWS:InstanceInformation" (API Reference, ResultAttribute); any other type is answered
  ``InvalidResultAttributeException: Result type name AWS:Application is not supported.
  Supported type names are: AWS:InstanceInformation, AWS:PatchSummary. Default result type
  name is AWS:InstanceInformation.`` (aws/aws-sdk#640, turbot/steampipe-plugin-aws#1972).
  Its filters may name another type's attribute (``AWS:Application.Name`` BeginWith ...)
  to choose WHICH nodes come back (the console's inventory filter, user guide "Querying an
  inventory collection by using filters"); at most 5 filters, 40 values each.
* The ``Exists`` filter type "must be used with aggregators" (API Reference,
  InventoryFilter), and aggregator groups only count: "you can't drill-down into the
  results to see the IDs of instances that are or aren't configured to collect the
  inventory type" (user guide, "Aggregating inventory data"). So no GetInventory call says
  which nodes have ``AWS:Application`` data, nor when it was captured.
* ``ListInventoryEntries`` reads one node's entries of any type (``CaptureTime`` with
  them), MaxResults 1..50, its own filters (at most 5), no botocore paginator: the only
  per-node source of ``AWS:Application``. One call per node (``MaxResults=1`` when only
  the capture time is wanted), :data:`READ_WORKERS` at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetctl.compliance.clients import bounded, chunked

INSTANCE_INFORMATION = "AWS:InstanceInformation"
PATCH_SUMMARY = "AWS:PatchSummary"
APPLICATION = "AWS:Application"
INSTANCE_ID_KEY = f"{INSTANCE_INFORMATION}.InstanceId"
# The result types GetInventory answers (the service's own refusal names these two).
GET_INVENTORY_RESULT_TYPES = frozenset({INSTANCE_INFORMATION, PATCH_SUMMARY})
UNSUPPORTED_RESULT_TYPE = "InvalidResultAttributeException"

PAGE_SIZE = 50  # GetInventory, ListInventoryEntries: MaxResults maximum
INVENTORY_FILTER_VALUES = 40  # InventoryFilter.Values maximum
# Per-node reads in flight at once: well under botocore's default pool of 10 connections,
# and a few requests a second per thread, so SSM's per-account throttling stays rare (the
# retries of botocore's standard mode absorb the rest).
READ_WORKERS = 8


@dataclass(frozen=True)
class NodeInventory:
    """One node's entries of one type and their capture time (as the API spells it,
    ``2024-05-01T10:20:30Z``)."""

    entries: tuple[dict[str, str], ...]
    capture_time: str | None


def refuses_result_type(exc: Exception) -> bool:
    """Whether ``exc`` is GetInventory refusing the requested result type."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    return exc.response.get("Error", {}).get("Code") == UNSUPPORTED_RESULT_TYPE


def prefix_filter(type_name: str, attribute: str, prefix: str) -> dict[str, Any]:
    """``<type>.<attribute>`` begins with ``prefix`` (case-sensitive, the service's
    ``BeginWith``)."""
    return {"Key": f"{type_name}.{attribute}", "Values": [prefix], "Type": "BeginWith"}


def _id_filter(chunk: list[str]) -> dict[str, Any]:
    return {"Key": INSTANCE_ID_KEY, "Values": chunk, "Type": "Equal"}


def get_inventory(
    ssm: Any,
    instance_ids: Iterable[str],
    type_name: str | None = None,
    filters: Sequence[Mapping[str, Any]] = (),
) -> dict[str, NodeInventory]:
    """GetInventory over ``instance_ids``, 40 a call plus pages, narrowed by ``filters``:
    the nodes it returns, with their data of ``type_name``; a node returned without data of
    that type is left out. ``type_name`` None: the default result type
    (``AWS:InstanceInformation``), every node returned is kept (what a filter on another
    type's attribute selected). Only :data:`GET_INVENTORY_RESULT_TYPES` are answered: any
    other raises the service's refusal (:func:`refuses_result_type`)."""
    shown = type_name or INSTANCE_INFORMATION
    found: dict[str, NodeInventory] = {}
    for chunk in chunked(sorted(set(instance_ids)), INVENTORY_FILTER_VALUES):
        kwargs: dict[str, Any] = {
            "Filters": [_id_filter(chunk), *(dict(f) for f in filters)],
            "PaginationConfig": {"PageSize": PAGE_SIZE},
        }
        if type_name:
            kwargs["ResultAttributes"] = [{"TypeName": type_name}]
        for page in ssm.get_paginator("get_inventory").paginate(**kwargs):
            for entity in page.get("Entities", []):
                if "Id" not in entity:
                    continue
                data = (entity.get("Data") or {}).get(shown)
                if data is None and type_name:
                    continue  # returned, but without data of the type asked for
                data = data or {}
                found[entity["Id"]] = NodeInventory(
                    tuple(dict(entry) for entry in data.get("Content") or []), data.get("CaptureTime")
                )
    return found


def list_entries(
    ssm: Any,
    instance_id: str,
    type_name: str,
    filters: Sequence[Mapping[str, Any]] = (),
    capture_time_only: bool = False,
) -> NodeInventory | None:
    """One node's ``type_name`` entries, every page (ListInventoryEntries has no paginator),
    or only the capture time (one call, ``MaxResults=1``). None: the node has no data of
    the type (or none matching ``filters``)."""
    entries: list[dict[str, str]] = []
    capture_time: str | None = None
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "InstanceId": instance_id,
            "TypeName": type_name,
            "MaxResults": 1 if capture_time_only else PAGE_SIZE,
        }
        if filters:
            kwargs["Filters"] = [dict(f) for f in filters]
        if token:
            kwargs["NextToken"] = token
        page = ssm.list_inventory_entries(**kwargs)
        capture_time = capture_time or page.get("CaptureTime")
        entries.extend(dict(entry) for entry in page.get("Entries") or [])
        token = page.get("NextToken")
        if capture_time_only or not token:
            break
    if capture_time is None and not entries:
        return None
    return NodeInventory(tuple(entries), capture_time)


def list_entries_per_node(
    ssm: Any,
    instance_ids: Sequence[str],
    type_name: str,
    filters: Sequence[Mapping[str, Any]] = (),
    capture_time_only: bool = False,
    workers: int = READ_WORKERS,
) -> dict[str, NodeInventory]:
    """:func:`list_entries` for each node, ``workers`` at a time; nodes without data of the
    type are absent."""
    ids = list(dict.fromkeys(instance_ids))
    def read_one(instance_id: str) -> NodeInventory | None:
        return list_entries(ssm, instance_id, type_name, filters, capture_time_only)

    read = bounded(read_one, ids, workers)
    return {instance_id: found for instance_id, found in zip(ids, read, strict=True) if found is not None}
