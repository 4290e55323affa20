"""``fleetctl check --wait``: the poll loop with an injected clock, and the real CLI in-process
against the stateful local stand-in (``ops_standin.py``) through ``AWS_ENDPOINT_URL_*``,
with the wait's sleep replaced by a fake clock that also moves the fleet along."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ops_standin import FleetModel, FleetStandIn

from fleetctl.cli import main
from fleetctl.ops import wait
from fleetctl.ops.models import FleetSelector
from fleetctl.ops.report import CheckReport, InstanceRow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def report_of(*rows: InstanceRow) -> CheckReport:
    return CheckReport(
        selector=FleetSelector("OELabIPM", "Test"),
        region="us-east-1",
        association_name="InventoryAllInstances-Test",
        generated_at=datetime.now(UTC),
        max_inventory_age=timedelta(hours=24),
        instances=rows,
        association=None,
        latest_execution=None,
        findings=(),
    )


def row(
    instance_id: str, online: bool = True, association: str | None = "Success", inventory: bool = True
) -> InstanceRow:
    return InstanceRow(
        instance_id=instance_id,
        name=None,
        state="running",
        instance_profile_arn=None,
        registered=online,
        ping_status="Online" if online else None,
        association_status=association,
        application_capture_time=datetime.now(UTC) if inventory else None,
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600), ("90s", 90), ("1h30m", 5400), ("45", 45), ("2h", 7200)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert wait.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "0s", "5x", "m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        wait.parse_duration(text)


def test_steps_in_order() -> None:
    assert wait.step_of(row("i-1", online=False, association=None, inventory=False)) == "online"
    assert wait.step_of(row("i-1", association="Pending", inventory=False)) == "association"
    assert wait.step_of(row("i-1", association="Failed")) == "association"
    assert wait.step_of(row("i-1", inventory=False)) == "inventory"
    assert wait.step_of(row("i-1")) == "done"
    counts = wait.passed_counts(report_of(row("a", online=False), row("b", inventory=False), row("c")))
    assert counts == {"online": 2, "association": 2, "inventory": 1}


def test_poll_backs_off_from_the_floor_to_the_ceiling_and_stops_at_the_deadline() -> None:
    clock = FakeClock()
    stuck = report_of(row("i-1", online=False))
    result = wait.wait_for_fleet(lambda: stuck, timeout=1000, clock=clock, sleep=clock.sleep)

    assert not result.done and result.exit_code == 3
    # 60 s floor, doubling, capped at the 5-minute ping cadence, the last pause cut to the deadline
    assert clock.sleeps == [60, 120, 240, 300, 280]
    assert result.polls == 6
    assert [(s.instance_id, s.step) for s in result.stuck] == [("i-1", "online")]


def test_poll_ends_as_soon_as_all_are_done() -> None:
    clock = FakeClock()
    reports = iter(
        [report_of(row("a", online=False)), report_of(row("a", inventory=False)), report_of(row("a"))]
    )
    result = wait.wait_for_fleet(lambda: next(reports), timeout=3600, clock=clock, sleep=clock.sleep)
    assert result.done and result.exit_code == 0 and result.polls == 3
    assert clock.sleeps == [60, 120]


def test_an_empty_fleet_is_not_ready() -> None:
    clock = FakeClock()
    result = wait.wait_for_fleet(lambda: report_of(), timeout=30, clock=clock, sleep=clock.sleep)
    assert not result.done and result.polls == 2


@pytest.fixture
def endpoint_env(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("COLUMNS", raising=False)  # the report's 160 columns: no folded cells

    def point_at(url: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", url)

    return point_at


def test_wait_until_new_instances_come_online(
    endpoint_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = FleetModel.healthy(4)
    for inst in model.instances[2:]:  # just launched: not registered, no association run, no inventory
        inst.online, inst.association, inst.inventory = False, None, False
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        # first pause: the agents register; second: the association runs and inventory arrives
        for inst in model.instances[2:]:
            if inst.online:
                inst.association, inst.inventory = "Success", True
            inst.online = True

    monkeypatch.setattr(wait, "monotonic", clock)
    monkeypatch.setattr(wait, "pause", sleep)
    with FleetStandIn(model) as aws:
        endpoint_env(aws.url)
        rc = main(["check", "--workload", "Test", "--wait", "10m", "--json"])
    out = capsys.readouterr()

    assert rc == 0
    report = json.loads(out.out)
    assert report["wait"] == {"done": True, "polls": 3, "waited_seconds": 180.0, "stuck": []}
    assert all(r["ping_status"] == "Online" for r in report["instances"])
    # progress went to stderr, a line per poll (no terminal here)
    progress = [line for line in out.err.splitlines() if line.startswith("wait:")]
    assert progress[0].startswith(
        "wait: 2/4 SSM Agent Online, 2/4 association succeeded, 2/4 inventory present (next poll in 60 s)"
    )
    assert progress[-1].startswith("wait: 4/4 SSM Agent Online, 4/4 association succeeded, 4/4 inventory")
    assert aws.calls["DescribeInstanceInformation"] == 3
    # Inventory is read once per instance per poll only until it has arrived: polls read
    # 2 (the two registered), then 4 - 2 already seen, then the 2 new ones again (inventory
    # arrived after the second pause); 2 + 4 + 4 = 10 without remembering.
    assert aws.calls["ListInventoryEntries"] == 2 + 2 + 2


def test_wait_times_out_naming_stuck_instances_and_cause(
    endpoint_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = FleetModel.healthy(3)
    never = model.instances[0]
    never.online, never.association, never.inventory = False, None, False
    pending = model.instances[1]
    pending.association, pending.inventory = None, False
    clock = FakeClock()
    monkeypatch.setattr(wait, "monotonic", clock)
    monkeypatch.setattr(wait, "pause", clock.sleep)
    with FleetStandIn(model) as aws:
        endpoint_env(aws.url)
        rc = main(["check", "--workload", "Test", "--wait", "90s"])
    out = capsys.readouterr().out

    assert rc == 3
    assert clock.sleeps == [60, 30]
    assert "TIMEOUT" in out and "2 of 3 instance(s) not ready" in out
    assert never.instance_id in out and pending.instance_id in out
    assert "not registered with Systems Manager" in out  # the check's own cause for the lost one
    assert "association succeeded" in out  # the step the pending one waits for


def test_wait_json_lists_stuck_steps(
    endpoint_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = FleetModel.healthy(2)
    model.instances[1].inventory = False
    clock = FakeClock()
    monkeypatch.setattr(wait, "monotonic", clock)
    monkeypatch.setattr(wait, "pause", clock.sleep)
    with FleetStandIn(model) as aws:
        endpoint_env(aws.url)
        rc = main(["check", "--workload", "Test", "--wait", "1m", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert rc == 3
    assert report["wait"]["done"] is False
    [stuck] = report["wait"]["stuck"]
    assert stuck["instance_id"] == model.instances[1].instance_id
    assert stuck["step"] == "inventory"
    assert stuck["cause"] == "no AWS:Application inventory"


def test_wait_refuses_a_bad_duration(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--workload", "Test", "--wait", "soon"])
    assert rc == 2
    assert capsys.readouterr().err.startswith("fleetctl: error: --wait: invalid duration 'soon'")


def test_progress_bars_on_a_terminal() -> None:
    """On a terminal: one rich bar per step, how many instances are past it."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with wait.ProgressView(console) as view:
        view.update(report_of(row("a", online=False), row("b", inventory=False), row("c")), 60)
        assert view.progress is not None
        first = {t.description: t.completed for t in view.progress.tasks}
        view.update(report_of(row("a"), row("b"), row("c")), None)
        tasks = {t.description: (t.completed, t.total) for t in view.progress.tasks}
    assert first == {"SSM Agent Online": 2, "association succeeded": 2, "inventory present": 1}
    assert tasks == {
        "SSM Agent Online": (3, 3),
        "association succeeded": (3, 3),
        "inventory present": (3, 3),
    }
    assert "3/3" in buffer.getvalue()
