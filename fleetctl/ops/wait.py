"""``fleetctl check --wait DURATION``: poll until the new fleet is managed and inventoried.

Each instance moves through three steps: its SSM Agent is **Online**
(DescribeInstanceInformation), the inventory **association** succeeded on it (the latest
execution's target status), its ``AWS:Application`` **inventory** is present
(ListInventoryEntries, one call per instance). The wait ends when every instance is past
the last step (exit 0) or at the deadline (exit 3, with each stuck instance, its step and
the likely cause).

Poll cadence: none of these change faster than the services update them. The agent sends
its health ping every 5 minutes (amazon-ssm-agent configuration, ``Ssm.HealthFrequencyMinutes``,
default 5) and registers at start, State Manager applies a new association within about 10
minutes (the agent looks for associations every 10 minutes), and inventory arrives when the
association runs (schedule at least every 30 minutes). So the first poll is immediate, the
next after :data:`POLL_FLOOR` (60 s: new instances register at different times, and a
fleet-wide poll is about N/10 read calls plus one inventory read per registered instance
whose inventory has not arrived yet: ``fleetctl check`` remembers the ones it found), then
doubling up to :data:`POLL_CEILING` (300 s, the ping cadence), never past the deadline.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fleetctl.ops.report import CheckReport, InstanceRow

# The wait's clock and sleep, looked up at call time so tests can replace them.
monotonic = time.monotonic
pause = time.sleep

POLL_FLOOR = 60.0
POLL_CEILING = 300.0
POLL_FACTOR = 2.0

Step = Literal["online", "association", "inventory", "done"]
STEPS: tuple[Step, ...] = ("online", "association", "inventory")
STEP_TITLES = {
    "online": "SSM Agent Online",
    "association": "association succeeded",
    "inventory": "inventory present",
}
# Which report section explains an instance stuck at a step.
_SECTION = {"online": "registration", "association": "association", "inventory": "inventory"}
_FALLBACK_CAUSE = {
    "online": "SSM Agent has not registered yet: it registers when it starts, then pings every "
    "5 minutes; check the VPC endpoints, the instance profile and that the agent runs",
    "association": "State Manager has not run the association on it yet (a new association "
    "or newly registered node can take about 10 minutes)",
    "inventory": "no AWS:Application inventory yet: it arrives when the association runs "
    "(its schedule, at least every 30 minutes)",
}

_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*$")


def parse_duration(text: str) -> float:
    """``10m``, ``90s``, ``1h30m``, ``45`` (seconds) -> seconds; ValueError otherwise."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r} (e.g. 10m, 90s, 1h30m)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    return float(total)


def step_of(row: InstanceRow) -> Step:
    """The first step this instance has not passed."""
    if not row.registered or row.ping_status != "Online":
        return "online"
    if row.association_status != "Success":
        return "association"
    if row.application_capture_time is None:
        return "inventory"
    return "done"


def passed_counts(report: CheckReport) -> dict[Step, int]:
    """How many instances are past each step."""
    order = {step: n for n, step in enumerate((*STEPS, "done"))}
    steps = [order[step_of(row)] for row in report.instances]
    return {step: sum(1 for s in steps if s > n) for n, step in enumerate(STEPS)}


def likely_cause(report: CheckReport, instance_id: str, step: Step) -> str:
    """The check's own finding for this instance and step, else the step's usual cause."""
    for finding in report.findings:
        if finding.instance_id == instance_id and finding.section == _SECTION[step]:
            return finding.message
    return _FALLBACK_CAUSE[step]


@dataclass(frozen=True)
class StuckInstance:
    instance_id: str
    name: str | None
    step: Step
    cause: str


@dataclass(frozen=True)
class WaitResult:
    report: CheckReport
    done: bool
    polls: int
    waited_seconds: float
    stuck: tuple[StuckInstance, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return 0 if self.done else 3

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "polls": self.polls,
            "waited_seconds": round(self.waited_seconds, 1),
            "stuck": [
                {"instance_id": s.instance_id, "name": s.name, "step": s.step, "cause": s.cause}
                for s in self.stuck
            ],
        }


def stuck_instances(report: CheckReport) -> tuple[StuckInstance, ...]:
    result = []
    for row in report.instances:
        step = step_of(row)
        if step != "done":
            cause = likely_cause(report, row.instance_id, step)
            result.append(StuckInstance(row.instance_id, row.name, step, cause))
    return tuple(result)


def wait_for_fleet(
    poll: Callable[[], CheckReport],
    timeout: float,
    on_poll: Callable[[CheckReport, float | None], None] = lambda report, next_in: None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> WaitResult:
    """Polls until every instance is done or ``timeout`` seconds have passed. A fleet with no
    instances is not done: the instances may not have been launched yet. ``clock`` and
    ``sleep`` default to this module's :data:`monotonic` / :data:`pause` (tests replace them)."""
    clock = clock or monotonic
    sleep = sleep or pause
    start = clock()
    deadline = start + timeout
    interval = POLL_FLOOR
    polls = 0
    while True:
        report = poll()
        polls += 1
        done = bool(report.instances) and all(step_of(r) == "done" for r in report.instances)
        remaining = deadline - clock()
        if done or remaining <= 0:
            on_poll(report, None)
            return WaitResult(report, done, polls, clock() - start, () if done else stuck_instances(report))
        delay = min(interval, remaining)
        on_poll(report, delay)
        sleep(delay)
        interval = min(interval * POLL_FACTOR, POLL_CEILING)


class ProgressView:
    """Progress on stderr: rich bars (one per step) on a terminal, a line per poll otherwise,
    so stdout keeps only the report (and ``--json`` stays parseable)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        self.progress: Progress | None = None
        self.tasks: dict[Step, Any] = {}

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            self.progress = Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                console=self.console,
                transient=False,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, report: CheckReport, next_in: float | None) -> None:
        total = len(report.instances)
        counts = passed_counts(report)
        note = f"next poll in {next_in:.0f} s" if next_in is not None else ""
        if self.progress is None:
            parts = ", ".join(f"{counts[s]}/{total} {STEP_TITLES[s]}" for s in STEPS)
            line = f"wait: {parts}" + (f" ({note})" if note else "")
            self.console.print(line, highlight=False, soft_wrap=True)  # one line per poll in logs
            return
        for step in STEPS:
            if step not in self.tasks:
                self.tasks[step] = self.progress.add_task(STEP_TITLES[step], total=total, note="")
            self.progress.update(
                self.tasks[step], total=total, completed=counts[step], note=note if step == STEPS[-1] else ""
            )
