"""The Lambda entry point of the scheduled software policy: ``fleetctl.compliance.handler.handler``.

Same code path as ``fleetctl compliance evaluate --put`` (:func:`.run.run_policy`):

* the rules: ``software_policy.json`` at the root of the function's package (the JSON form
  ``{"rules": [...]}`` the stack writes with ``rules_to_json``), or the file named by
  ``SOFTWARE_POLICY_FILE``;
* the fleet: managed nodes tagged ``Workload`` = ``FLEET_WORKLOAD`` and ``Environment`` =
  ``FLEET_ENVIRONMENT``;
* the region: the Lambda environment's own (``AWS_REGION``, set by the runtime);
* ``ExecutionId``: the invocation's request id, ``ExecutionType`` ``Custom:SoftwarePolicy``.

Returns a small JSON summary (logged by Lambda). A failed write raises after every node was
tried, so the invocation counts as an error in the function's metrics and logs.
Imports only the standard library, boto3/botocore and :mod:`fleetctl.compliance`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fleetctl.compliance.clients import bound_timeouts, client_config
from fleetctl.compliance.model import Rule
from fleetctl.compliance.rules import rules_from_json
from fleetctl.compliance.run import RunResult, run_policy

POLICY_FILE_NAME = "software_policy.json"
# The package root: the directory holding fleetctl/ (/var/task in the function).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class HandlerConfigError(RuntimeError):
    """The function's environment or policy file is wrong: one line naming what."""


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise HandlerConfigError(f"environment variable {name} is not set (the stack sets it)")
    return value


def load_rules() -> list[Rule]:
    path = Path(os.environ.get("SOFTWARE_POLICY_FILE") or PACKAGE_ROOT / POLICY_FILE_NAME)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise HandlerConfigError(f"policy file {path} not found (SOFTWARE_POLICY_FILE)") from None
    except json.JSONDecodeError as exc:
        raise HandlerConfigError(f"policy file {path} is not JSON: {exc}") from None
    try:
        return rules_from_json(data)
    except ValueError as exc:
        raise HandlerConfigError(f"policy file {path}: {exc}") from None


def summary(result: RunResult) -> dict[str, Any]:
    return {
        "selector": result.tags,
        "instances": len(result.verdicts),
        "compliant": sum(1 for v in result.verdicts if v.compliant),
        "non_compliant": [v.instance_id for v in result.non_compliant],
        "without_inventory": result.without_inventory,
        "inventory_source": result.inventory_source,
        "execution_id": result.execution_id,
        "puts": len(result.puts),
        "failed_puts": {p.instance_id: p.error for p in result.failed_puts},
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    import boto3

    rules = load_rules()
    tags = {"Environment": _required_env("FLEET_ENVIRONMENT"), "Workload": _required_env("FLEET_WORKLOAD")}
    # The runtime sets AWS_REGION (and AWS_DEFAULT_REGION); boto3 reads only the latter.
    region = os.environ.get("AWS_REGION") or None
    ssm = bound_timeouts(boto3.client("ssm", region_name=region, config=client_config()))
    request_id = getattr(context, "aws_request_id", None)
    result = run_policy(ssm, tags, rules, put=True, execution_id=request_id)
    outcome = summary(result)
    print(json.dumps(outcome))
    if result.failed_puts:
        raise RuntimeError(
            f"PutComplianceItems failed on {len(result.failed_puts)} of {len(result.puts)} nodes: "
            + "; ".join(f"{p.instance_id}: {p.error}" for p in result.failed_puts[:5])
        )
    return outcome
