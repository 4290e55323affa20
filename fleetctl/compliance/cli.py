"""``fleetctl compliance evaluate`` and ``fleetctl compliance report``.

``fleetctl compliance evaluate (--stack NAME | --workload W --policy FILE) [--put] [--json]``
reads the fleet's managed nodes (``Environment``/``Workload`` tags), their ``AWS:Application``
inventory (ListInventoryEntries per node, since GetInventory answers no such result type:
:mod:`fleetctl.compliance.inventory`), judges them by the software policy and prints which
node breaks which rule; ``--put`` writes the verdicts as compliance type
``Custom:SoftwarePolicy`` (one PutComplianceItems per node). The same code path as the
scheduled Lambda function (:func:`fleetctl.compliance.run.run_policy`). The policy: ``--policy
FILE`` (``{"rules": [...]}``), else ``softwarePolicy`` of ``Pulumi.<stack>.yaml`` read through
the program's config model. Exit 0 every node compliant; 1 a node breaks a rule, has no
inventory yet, or the fleet has no managed node; 2 usage, credential, API error or a write
that failed.

``fleetctl compliance report (--stack NAME | --workload W) [--type T] [--fail-on SEVERITY]``
lists every compliance type (Association, Patch, Custom:*) per node of the fleet
(ListResourceComplianceSummaries) and exits 1 when a node has non-compliant items at or
above ``--fail-on`` (default UNSPECIFIED: any; ``none``: never), or, with ``--type``, has no
data of that type at all. The CI gate.

``--stack``/``--outputs``/``--workload``/``--environment``/``--region``/``--profile``/
``--read-timeout`` work as for ``fleetctl check`` (docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetctl.compliance.model import COMPLIANCE_TYPE, SEVERITIES
from fleetctl.ops import _add_common, _console, _guarded

if TYPE_CHECKING:
    from fleetctl.compliance.aws import ComplianceSummary
    from fleetctl.compliance.model import Rule
    from fleetctl.compliance.run import RunResult

__all__ = ["register"]

REPORT_SCHEMA = "fleetctl.compliance-report/1"
FAIL_NEVER = "NONE"
_COMPLIANCE_TYPE_NAME = r"^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$"  # ComplianceTypeName


def register(subparsers: Any) -> None:
    compliance = subparsers.add_parser(
        "compliance", help="software policy as SSM compliance: evaluate the fleet, report compliance"
    )
    sub = compliance.add_subparsers(dest="compliance_command", metavar="ACTION", required=True)

    evaluate = sub.add_parser(
        "evaluate",
        help=f"judge the fleet's inventory by the software policy ({COMPLIANCE_TYPE})",
        description="Exit 0 compliant, 1 non-compliant or no inventory, 2 error.",
    )
    _add_common(evaluate)
    evaluate.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help='the policy as JSON {"rules": [...]} (default: softwarePolicy of Pulumi.<stack>.yaml)',
    )
    evaluate.add_argument(
        "--put",
        action="store_true",
        help=f"write the verdicts as compliance type {COMPLIANCE_TYPE} (ssm:PutComplianceItems)",
    )
    evaluate.set_defaults(func=_guarded(run_evaluate))

    report = sub.add_parser(
        "report",
        help="compliance of every type per node of the fleet (the CI gate)",
        description="Exit 0 nothing at or above --fail-on, 1 otherwise, 2 error.",
    )
    _add_common(report)
    report.add_argument("--type", dest="compliance_type", help="only this compliance type (e.g. Patch)")
    report.add_argument(
        "--fail-on",
        default="UNSPECIFIED",
        type=str.upper,
        choices=[*SEVERITIES, FAIL_NEVER],
        metavar="SEVERITY",
        help="exit 1 on a non-compliant item of this severity or worse: "
        f"{', '.join(SEVERITIES)} (default UNSPECIFIED: any), or NONE",
    )
    report.set_defaults(func=_guarded(run_report))


# --- policy --------------------------------------------------------------------------------


def _policy_from_file(path: Path) -> list[Rule]:
    from fleetctl.compliance.rules import rules_from_json
    from fleetctl.ops.aws import OpsError

    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise OpsError(f"--policy {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise OpsError(f"--policy {path}: not JSON ({exc})") from None
    try:
        return rules_from_json(data)
    except ValueError as exc:
        raise OpsError(f"--policy {path}: {exc}") from None


def _policy_from_stack(stack: str) -> list[Rule]:
    """``softwarePolicy`` of Pulumi.<stack>.yaml over the project defaults, validated by the
    program's config model (as ``--stack`` reads the fleet when no Pulumi CLI answers)."""
    from components.config import ConfigError, parse_stack_config
    from fleetctl.ops.stack import StackError
    from fleetctl.project import ProjectError, find_project_dir, load_stack_settings

    try:
        settings = load_stack_settings(stack, find_project_dir())
        config = parse_stack_config(settings.config)
    except (ProjectError, ConfigError) as exc:
        raise StackError(f"stack {stack!r}: {exc}") from exc
    return config.software_rules()


def load_policy(args: argparse.Namespace) -> list[Rule]:
    from fleetctl.ops.aws import OpsError

    if args.policy is not None:
        rules = _policy_from_file(args.policy)
        source = f"--policy {args.policy}"
    elif args.stack:
        rules = _policy_from_stack(args.stack)
        source = f"Pulumi.{args.stack}.yaml"
    else:
        raise OpsError("no software policy: pass --stack NAME (its softwarePolicy) or --policy FILE")
    if not rules:
        raise OpsError(f"{source}: the software policy has no rules (softwarePolicy.rules)")
    return rules


# --- evaluate ------------------------------------------------------------------------------


def run_evaluate(args: argparse.Namespace) -> int:
    from fleetctl.compliance.run import run_policy
    from fleetctl.ops import aws as ops_aws

    rules = load_policy(args)
    clients = ops_aws.make_clients(region=args.region, profile=args.profile, read_timeout=args.read_timeout)
    tags = {"Environment": args.environment, "Workload": args.workload}
    result = run_policy(clients.ssm, tags, rules, put=args.put)
    if args.json:
        print(json.dumps({**result.to_json(), "region": clients.region}, indent=2))
    else:
        render_evaluate(result, clients.region)
    for failed in result.failed_puts:
        print(f"fleetctl: error: {failed.instance_id}: {failed.error}", file=sys.stderr)
    return result.exit_code


def render_evaluate(result: RunResult, region: str) -> None:
    from rich.table import Table

    console = _console()
    selector = ", ".join(f"{k}={v}" for k, v in result.tags.items())
    console.print(
        f"[bold]{COMPLIANCE_TYPE}[/bold] on {len(result.verdicts)} managed nodes ({selector}, {region}); "
        f"inventory read with {result.inventory_source}"
    )
    table = Table("Instance", "Platform", "Rule", "Severity", "Result")
    platforms = {n.instance_id: n.platform_type or "-" for n in result.nodes}
    for verdict in result.non_compliant:
        for item in verdict.items:
            if item.status == "COMPLIANT":
                continue
            reason = item.details.get("Result", "")
            found = item.details.get("Found")
            table.add_row(
                verdict.instance_id,
                platforms.get(verdict.instance_id, "-"),
                f"{item.rule_id}: {item.title}",
                item.severity,
                reason + (f" (found: {found})" if found else ""),
            )
    if table.rows:
        console.print(table)
    compliant = len(result.verdicts) - len(result.non_compliant)
    console.print(
        f"{compliant} compliant, {len(result.non_compliant)} non-compliant "
        f"({len(result.without_inventory)} without inventory yet)"
    )
    if not result.verdicts:
        console.print("no managed node carries these tags: nothing was judged")
    if result.put:
        written = len(result.puts) - len(result.failed_puts)
        console.print(
            f"written: {written} of {len(result.puts)} nodes as {COMPLIANCE_TYPE} "
            f"(execution {result.execution_id})"
        )


# --- report --------------------------------------------------------------------------------


def failing(summary: ComplianceSummary, fail_on: str) -> bool:
    """Non-compliant with an item at ``fail_on`` or more severe."""
    if fail_on == FAIL_NEVER or summary.status != "NON_COMPLIANT":
        return False
    at_or_above = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    counted = summary.non_compliant_by_severity
    if not any(counted.values()):
        # No severity breakdown in the answer: the summary's status is all there is.
        return True
    return any(counted.get(severity, 0) for severity in at_or_above)


def run_report(args: argparse.Namespace) -> int:
    import re

    from fleetctl.compliance import aws
    from fleetctl.ops import aws as ops_aws

    if args.compliance_type and not re.match(_COMPLIANCE_TYPE_NAME, args.compliance_type):
        raise ops_aws.OpsError(
            f"--type {args.compliance_type!r}: not a compliance type (Association, Patch, Custom:<name>)"
        )
    clients = ops_aws.make_clients(region=args.region, profile=args.profile, read_timeout=args.read_timeout)
    tags = {"Environment": args.environment, "Workload": args.workload}
    nodes = aws.discover_fleet(clients.ssm, tags)
    ids = [n.instance_id for n in nodes]
    summaries = aws.read_compliance(clients.ssm, ids, args.compliance_type) if ids else []
    by_node: dict[str, list[ComplianceSummary]] = {i: [] for i in ids}
    for summary in summaries:
        by_node[summary.instance_id].append(summary)
    failures = [s for s in summaries if failing(s, args.fail_on)]
    missing = (
        [i for i, found in by_node.items() if not found]
        if args.compliance_type and args.fail_on != FAIL_NEVER
        else []
    )
    exit_code = 1 if failures or missing else 0
    if args.json:
        print(json.dumps(_report_json(args, clients.region, by_node, failures, missing, exit_code), indent=2))
    else:
        _render_report(args, clients.region, by_node, failures, missing)
    return exit_code


def _report_json(
    args: argparse.Namespace,
    region: str,
    by_node: dict[str, list[ComplianceSummary]],
    failures: list[ComplianceSummary],
    missing: list[str],
    exit_code: int,
) -> dict[str, Any]:
    return {
        "schema": REPORT_SCHEMA,
        "region": region,
        "selector": {"Environment": args.environment, "Workload": args.workload},
        "compliance_type": args.compliance_type,
        "fail_on": args.fail_on,
        "exit_code": exit_code,
        "instances": [
            {
                "instance_id": instance_id,
                "compliance": [
                    {
                        "type": s.compliance_type,
                        "status": s.status,
                        "compliant_count": s.compliant_count,
                        "non_compliant_count": s.non_compliant_count,
                        "non_compliant_by_severity": s.non_compliant_by_severity,
                        "execution_time": s.execution_time.isoformat() if s.execution_time else None,
                    }
                    for s in found
                ],
            }
            for instance_id, found in by_node.items()
        ],
        "failing": [{"instance_id": s.instance_id, "type": s.compliance_type} for s in failures],
        "missing": missing,
    }


def _render_report(
    args: argparse.Namespace,
    region: str,
    by_node: dict[str, list[ComplianceSummary]],
    failures: list[ComplianceSummary],
    missing: list[str],
) -> None:
    from rich.table import Table

    console = _console()
    table = Table("Instance", "Type", "Status", "Non-compliant items by severity")
    for instance_id, found in by_node.items():
        if not found:
            table.add_row(instance_id, args.compliance_type or "-", "no data", "")
        for s in found:
            counts = ", ".join(f"{k} {v}" for k, v in s.non_compliant_by_severity.items() if v)
            table.add_row(instance_id, s.compliance_type, s.status, counts)
    console.print(f"Compliance of {len(by_node)} managed nodes ({region})")
    console.print(table)
    console.print(
        f"{len(failures)} non-compliant summaries at or above {args.fail_on}"
        + (f", {len(missing)} nodes without {args.compliance_type} data" if missing else "")
    )
