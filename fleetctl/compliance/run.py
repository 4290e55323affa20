"""The one code path of the software policy: read the fleet and its inventory, evaluate, and
optionally write the verdicts as compliance type ``Custom:SoftwarePolicy``.

``fleetctl compliance evaluate`` and the Lambda function (:mod:`.handler`) both call
:func:`run_policy`; they differ only in where the rules, the fleet's tags and the clients
come from and in how the :class:`RunResult` is shown. Packaged into the Lambda function:
standard library and :mod:`fleetctl.compliance` only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fleetctl.compliance import aws
from fleetctl.compliance.evaluate import evaluate
from fleetctl.compliance.model import COMPLIANCE_TYPE, InstanceVerdict, Rule

SCHEMA = "fleetctl.compliance-evaluate/1"


@dataclass(frozen=True)
class RunResult:
    """What one run found and wrote. ``puts`` is empty when nothing was written."""

    tags: dict[str, str]
    nodes: tuple[aws.FleetNode, ...]
    verdicts: tuple[InstanceVerdict, ...]
    inventory_source: str
    execution_id: str
    execution_time: datetime
    put: bool = False
    puts: tuple[aws.PutOutcome, ...] = field(default_factory=tuple)

    @property
    def without_inventory(self) -> list[str]:
        return [v.instance_id for v in self.verdicts if not v.has_inventory]

    @property
    def non_compliant(self) -> list[InstanceVerdict]:
        return [v for v in self.verdicts if not v.compliant]

    @property
    def failed_puts(self) -> list[aws.PutOutcome]:
        return [p for p in self.puts if p.error is not None]

    @property
    def exit_code(self) -> int:
        """2 when a write failed, 1 when a node breaks a rule or has no inventory, else 0
        (a fleet with no managed node is not compliant either: nothing was judged)."""
        if self.failed_puts:
            return 2
        if self.non_compliant or not self.verdicts:
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        platforms = {n.instance_id: n.platform_type for n in self.nodes}
        return {
            "schema": SCHEMA,
            "compliance_type": COMPLIANCE_TYPE,
            "compliant": self.exit_code == 0,
            "exit_code": self.exit_code,
            "selector": dict(self.tags),
            "inventory_source": self.inventory_source,
            "execution_id": self.execution_id,
            "execution_time": self.execution_time.isoformat(),
            "put": self.put,
            "instances": [
                {
                    "instance_id": v.instance_id,
                    "platform": platforms.get(v.instance_id),
                    "has_inventory": v.has_inventory,
                    "compliant": v.compliant,
                    "items": [
                        {
                            "id": item.rule_id,
                            "title": item.title,
                            "severity": item.severity,
                            "status": item.status,
                            "details": dict(item.details),
                        }
                        for item in v.items
                    ],
                }
                for v in self.verdicts
            ],
            "without_inventory": self.without_inventory,
            "puts": [
                {
                    "instance_id": p.instance_id,
                    "items": p.item_count,
                    "item_content_hash": p.content_hash,
                    "error": p.error,
                }
                for p in self.puts
            ],
        }


def run_policy(
    ssm: Any,
    tags: Mapping[str, str],
    rules: Sequence[Rule],
    *,
    put: bool = False,
    execution_id: str | None = None,
    execution_type: str = COMPLIANCE_TYPE,
    now: datetime | None = None,
    workers: int = aws.PUT_WORKERS,
) -> RunResult:
    """Fleet (by ``tags``) -> inventory -> :func:`evaluate` -> with ``put``, one
    PutComplianceItems per node. ``execution_id`` defaults to a fresh UUID (the Lambda passes
    its request id); ``now`` is the ``ExecutionTime`` written."""
    nodes = aws.discover_fleet(ssm, tags)
    software, source = aws.read_inventory(ssm, nodes)
    verdicts = evaluate(rules, software)
    execution_id = execution_id or str(uuid.uuid4())
    execution_time = now or datetime.now(UTC)
    puts: list[aws.PutOutcome] = []
    if put:
        puts = aws.put_verdicts(ssm, verdicts, execution_id, execution_time, execution_type, workers)
    return RunResult(
        tags=dict(tags),
        nodes=tuple(nodes),
        verdicts=tuple(verdicts),
        inventory_source=source,
        execution_id=execution_id,
        execution_time=execution_time,
        put=put,
        puts=tuple(puts),
    )
