"""Reporting policies: one sync per account and region (at most 5), enforced and encrypted
Athena workgroups, projected Glue tables. Unit tests, then seeded mutations of the prod
recording (which has the reporting catalog) through the protocol.

Sources: SSM user guide "Configuring resource data sync for Inventory" (one sync per account
and region, 5 per account; lab facts §4); Athena user guide "Workgroup settings override
client-side settings" and "Partition projection with Amazon Athena".
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ssm_policies.reporting import athena_workgroup_enforced, glue_table_projection, one_sync_per_region

from fleetctl.plan.analyzer_client import PolicyPackServer, load_config_file, mandatory
from fleetctl.plan.mockrun import Recording
from tests.policy.helpers import stack_violations, urn, violations

SYNC = "aws:ssm/resourceDataSync:ResourceDataSync"
WORKGROUP = "aws:athena/workgroup:Workgroup"
TABLE = "aws:glue/catalogTable:CatalogTable"
PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
GOOD_WG: dict[str, Any] = {"configuration": {
    "enforceWorkgroupConfiguration": True,
    "resultConfiguration": {"encryptionConfiguration": {"encryptionOption": "SSE_S3"}}}}
PROJECTED: dict[str, Any] = {
    "partitionKeys": [{"name": "accountid"}, {"name": "region"}],
    "parameters": {"projection.enabled": "true", "projection.accountid.type": "enum",
                   "projection.region.type": "enum", "storage.location.template": "s3://b/${accountid}/"},
}


def test_one_sync_per_region_and_five_in_all() -> None:
    two_regions = [(SYNC, "a", {"region": "us-east-1"}), (SYNC, "b", {"region": "eu-west-1"})]
    assert stack_violations(one_sync_per_region, two_regions) == []
    twins = [(SYNC, "a", {}), (SYNC, "b", {})]  # both in the stack's region
    [(where, message)] = stack_violations(one_sync_per_region, twins)
    assert where == urn(SYNC, "b") and "one per account and region" in message
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2"]
    six = [(SYNC, f"s{n}", {"region": r}) for n, r in enumerate(regions)]
    [(where, message)] = stack_violations(one_sync_per_region, six)
    assert where == urn(SYNC, "s5") and "at most 5" in message


def test_workgroup_must_enforce_and_encrypt() -> None:
    assert violations(athena_workgroup_enforced, WORKGROUP, GOOD_WG) == []
    loose = copy.deepcopy(GOOD_WG)
    loose["configuration"]["enforceWorkgroupConfiguration"] = False
    assert "enforce" in violations(athena_workgroup_enforced, WORKGROUP, loose)[0]
    plain = copy.deepcopy(GOOD_WG)
    del plain["configuration"]["resultConfiguration"]["encryptionConfiguration"]
    assert "not encrypted" in violations(athena_workgroup_enforced, WORKGROUP, plain)[0]


def test_partitioned_tables_must_project() -> None:
    assert violations(glue_table_projection, TABLE, PROJECTED) == []
    assert violations(glue_table_projection, TABLE, {"partitionKeys": []}) == []  # nothing to project
    repair = {**PROJECTED, "parameters": {"classification": "json"}}
    [message] = violations(glue_table_projection, TABLE, repair)
    assert "projection.enabled=true" in message and "projection.region.type" in message
    assert "storage.location.template" in message


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="prod") as server:
        yield server


def _first(resources: list[Any], type_: str) -> Any:
    return next(r for r in resources if r.type == type_)


def _second_sync(resources: list[Any]) -> str:
    sync = _first(resources, SYNC)
    twin = copy.deepcopy(sync)
    twin.name, twin.urn = "reporting-sync-twin", sync.urn.replace(sync.name, "reporting-sync-twin")
    resources.append(twin)
    return str(twin.urn)


def _unenforced_workgroup(resources: list[Any]) -> str:
    workgroup = _first(resources, WORKGROUP)
    for props in (workgroup.inputs, workgroup.outputs):
        props["configuration"]["enforceWorkgroupConfiguration"] = False
    return str(workgroup.urn)


def _unprojected_table(resources: list[Any]) -> str:
    table = _first(resources, TABLE)
    for props in (table.inputs, table.outputs):
        props["parameters"] = {"classification": "json"}
    return str(table.urn)


@pytest.mark.parametrize(("mutation", "expected"), [
    (_second_sync, "one-sync-per-account-region"),
    (_unenforced_workgroup, "athena-workgroup-enforced"),
    (_unprojected_table, "glue-table-projection"),
])
def test_mutation_of_prod_is_caught(mutation: Any, expected: str, prod: Recording,
                                    prod_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(prod.resources)
    assert not mandatory(prod_pack.check(copy.deepcopy(resources)))
    where = mutation(resources)
    diagnostics = mandatory(prod_pack.check(resources))
    assert {d.policy_name for d in diagnostics} == {expected}
    assert where in {d.urn for d in diagnostics}


def test_a_template_pending_with_its_bucket_is_not_a_violation() -> None:
    """In a first preview the bucket name, and so location and template, are unknown."""
    from tests.policy.helpers import UNKNOWN

    params = {k: v for k, v in PROJECTED["parameters"].items() if k != "storage.location.template"}
    pending = {**PROJECTED, "parameters": params, "storageDescriptor": {"location": UNKNOWN}}
    assert violations(glue_table_projection, TABLE, pending) == []
    known = {**pending, "storageDescriptor": {"location": "s3://b/inventory/AWS:Tag/"}}
    assert "storage.location.template" in violations(glue_table_projection, TABLE, known)[0]
