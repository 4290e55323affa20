"""Calls at fleet scale: the check's cost grows with pages and with one inventory read per
registered instance (GetInventory answers no AWS:Application result type), and the
per-instance look-ups for instances in trouble are capped and run a few at a time."""

from __future__ import annotations

import threading
import time

import pytest
from ops_standin import FleetModel, FleetStandIn

from fleetctl.cli import main
from fleetctl.ops import aws


@pytest.fixture
def endpoint(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("COLUMNS", raising=False)
    return monkeypatch


def run_against(model: FleetModel, monkeypatch: pytest.MonkeyPatch) -> FleetStandIn:
    with FleetStandIn(model) as stand_in:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", stand_in.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", stand_in.url)
        assert main(["check", "--workload", "Test", "--json"]) in (0, 1)
    return stand_in


def test_healthy_fleet_costs_pages_and_one_inventory_read_per_node(
    endpoint: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in = run_against(FleetModel.healthy(230), endpoint)
    capsys.readouterr()

    assert dict(stand_in.calls) == {
        "DescribeInstances": 1,
        "DescribeInstanceInformation": 5,  # 50 a page
        "ListAssociations": 1,
        "DescribeAssociation": 1,
        "DescribeAssociationExecutions": 1,
        "DescribeAssociationExecutionTargets": 5,  # 50 a page
        "ListInventoryEntries": 230,  # one per registered instance, MaxResults 1
        "ListResourceComplianceSummaries": 5,  # 50 a page
    }
    assert stand_in.ssm_calls() <= 230 + 230 // 10 + 30  # benchmarks/check_bench.py's budget


def test_per_instance_lookups_only_for_trouble_and_capped(
    endpoint: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = FleetModel.healthy(120)
    for inst in model.instances[:40]:
        inst.association = "Failed"
    for inst in model.instances[100:103]:
        inst.compliant = False
    stand_in = run_against(model, endpoint)
    capsys.readouterr()

    assert stand_in.calls["DescribeInstanceAssociationsStatus"] == aws.MAX_DETAIL_LOOKUPS == 25
    assert stand_in.calls["ListComplianceItems"] == 3
    assert stand_in.calls["ListInventoryEntries"] == 120  # registered instances, not capped
    assert "GetInventory" not in stand_in.calls  # its AWS:Application result type is refused


def test_bounded_lookups_keep_order_and_concurrency() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def lookup(key: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return key * 2

    results = aws.for_each_bounded(lookup, list(range(40)))

    assert results == [k * 2 for k in range(aws.MAX_DETAIL_LOOKUPS)]
    assert 1 < peak <= aws.DETAIL_WORKERS
    assert aws.for_each_bounded(lookup, []) == []
