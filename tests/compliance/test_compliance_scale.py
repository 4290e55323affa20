"""Calls per run at fleet scale, against the stateful stand-in (tests/ops/ops_standin.py) with
throttled answers: reads grow with the fleet only through 40-node batches and 50-node pages,
writes are one per node."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fleetctl.compliance.rules import rules_from_json
from fleetctl.compliance.run import run_policy
from tests.compliance.sw_fakes import TAGS, fake_credentials, ssm_client
from tests.ops.ops_standin import FleetModel, FleetStandIn

RULES = rules_from_json(
    {
        "rules": [
            {
                "id": "agent",
                "kind": "required",
                "name": "amazon-ssm-agent",
                "versions": ">=3.3.40.0",
                "severity": "HIGH",
            }
        ]
    }
)
SIZE = 90


def answered(stand_in: FleetStandIn, op: str) -> int:
    return stand_in.calls[op] - stand_in.throttled[op]


@pytest.mark.parametrize("per_node", [False, True])
def test_reads_are_batched_and_writes_one_per_node(
    per_node: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    fake_credentials(monkeypatch, tmp_path)
    model = FleetModel.healthy(SIZE)
    model.instances[5].inventory = False
    stand_in = FleetStandIn(model, throttle=0.1, seed=3)
    stand_in.accept_any_result_type = not per_node
    with stand_in:
        result = run_policy(ssm_client(stand_in.url), TAGS, RULES, put=True)

    assert sum(stand_in.throttled.values()) > 0  # the run absorbed throttling
    assert answered(stand_in, "DescribeInstanceInformation") == math.ceil(SIZE / 50)
    if per_node:
        assert result.inventory_source == "ListInventoryEntries"
        assert answered(stand_in, "ListInventoryEntries") == SIZE
    else:
        assert result.inventory_source == "GetInventory"
        assert answered(stand_in, "GetInventory") == math.ceil(SIZE / 40)
        assert "ListInventoryEntries" not in stand_in.calls
    assert answered(stand_in, "PutComplianceItems") == SIZE
    assert sorted(stand_in.compliance) == sorted(i.instance_id for i in model.instances)
    assert result.without_inventory == [model.instances[5].instance_id]
    assert result.exit_code == 1
    written = stand_in.compliance[model.instances[5].instance_id]
    assert [item["Status"] for item in written["Items"]] == ["NON_COMPLIANT"]
