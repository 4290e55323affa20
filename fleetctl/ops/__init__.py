"""Fleet checks against a deployed fleet, in boto3: ``fleetctl check`` and
``fleetctl inventory query``.

``fleetctl check (--workload Test | --stack NAME | --outputs FILE) [--environment OELabIPM]
[--association-name NAME] [--max-inventory-age-hours 24] [--wait DURATION]
[--region R] [--profile P] [--read-timeout 15] [--json]``

``--stack`` / ``--outputs`` fill workload, environment, association name and region from
the stack (:mod:`fleetctl.ops.stack`); explicit flags win. ``--wait`` polls until every
instance is Online, the association succeeded on it and its inventory is present
(:mod:`fleetctl.ops.wait`): exit 0 when all are, 3 at the deadline.

Without ``--association-name`` the association ``InventoryAllInstances-<Workload>`` (the
program's naming) is looked up, then ``InventoryAllInstances`` (the lab's).

Checks, in order: (1) registration: EC2 instances tagged Environment/Workload (any state
but terminated) against SSM managed nodes with the same tags (PingStatus, agent version,
platform), with likely causes for those missing (for a running instance whose ``OS`` tag
says user data installs its agent, the ``SSM_AGENT_INSTALL_FAILED`` line of its console
output, ``ec2:GetConsoleOutput``); (2) association: the State Manager
association of that name (status, overview counts, latest execution and its per-instance
targets, failure detail per instance); (3) inventory: the ``AWS:Application`` capture time
per registered instance (``ListInventoryEntries``, one call per instance, eight at a time:
GetInventory answers no ``AWS:Application`` result type); (4) compliance: per-instance
``Association`` and ``Patch`` compliance summaries and the non-compliant items.

Exit codes: 0 healthy (warnings allowed); 1 at least one problem (an instance not
registered or not Online, association missing/Failed or failed on an instance, no or stale
``AWS:Application`` inventory, NON_COMPLIANT); 2 usage, credential, network or API error
(an endpoint that never answers: within about 42 s), one line on stderr, nothing on stdout;
3 ``--wait`` deadline passed.

``--json`` prints one object::

    {
      "schema": "fleetctl.check/1",
      "healthy": true, "exit_code": 0,
      "region": "us-east-1",
      "selector": {"Environment": "OELabIPM", "Workload": "Test"},
      "association_name": "InventoryAllInstances-Test",
      "generated_at": "2025-01-01T00:00:00+00:00",
      "max_inventory_age_hours": 24.0,
      "instances": [{
        "instance_id": "i-...", "name": "Test-Web1", "state": "running",
        "auto_scaling_group": "fleet-web-asg-..." | null,
        "instance_profile_arn": "arn:aws:iam::...:instance-profile/..." | null,
        "registered": true, "ping_status": "Online" | "ConnectionLost" | null,
        "agent_version": "3.3.987.0" | null, "agent_is_latest": true | null,
        "platform": "Amazon Linux 2023" | null,
        "association_status": "Success" | "Failed" | "Pending" | null,
        "inventory_capture_time": ISO-8601 | null,  (same as application_capture_time)
        "application_capture_time": ISO-8601 | null,
        "compliance": {"Association": "COMPLIANT", "Patch": "NON_COMPLIANT"}
      }],
      "association": null | {
        "association_id": "...", "association_name": "...",
        "document_name": "AWS-GatherSoftwareInventory", "schedule": "rate(30 minutes)",
        "targets": [{"key": "tag:Workload", "values": ["Test"]}],
        "status": "Success", "detailed_status": "Success", "status_counts": {"Success": 4},
        "last_execution_date": ISO-8601 | null, "last_successful_execution_date": ISO | null,
        "latest_execution": null | {"execution_id": "...", "status": "Success",
          "detailed_status": "...", "created_time": ISO-8601 | null,
          "resource_count_by_status": "{Success=4}"}
      },
      "non_compliant_items": [{"instance_id": "i-...", "compliance_type": "Patch",
                               "id": "KB... | package", "title": "...",
                               "severity": "CRITICAL" | ... | "UNSPECIFIED" | null,
                               "status": "NON_COMPLIANT",
                               "patch_state": "Missing" | "Failed" |
                                 "InstalledPendingReboot" | "InstalledRejected" | null,
                               "details": {"Classification": "...", "PatchSeverity": "...",
                                           "PatchState": "...", "PatchBaselineId": "..."}}],
                              (most severe first)
      "findings": [{"level": "problem" | "warning",
                    "section": "registration" | "association" | "inventory" | "compliance",
                    "instance_id": "i-..." | null, "message": "..."}],
      "wait": {"done": false, "polls": 4, "waited_seconds": 600.0,      (only with --wait)
               "stuck": [{"instance_id": "i-...", "name": "Test-Web1",
                          "step": "online" | "association" | "inventory", "cause": "..."}]}
    }

``fleetctl inventory query (--workload Test | --stack NAME | --outputs FILE) [--environment OELabIPM]
[--type AWS:Application] [--name-filter nginx] [--attribute Name] [--columns a,b]
[--region R] [--profile P] [--json]``

Queries inventory of one type on the fleet's instances, optionally only entries whose
``--attribute`` (default ``Name``) begins with ``--name-filter`` (case-sensitive prefix, as
the service's ``BeginWith``). ``AWS:InstanceInformation`` and ``AWS:PatchSummary``: GetInventory
with that result type, 40 instance ids a call. Any other type (GetInventory refuses it as a
result type): GetInventory with the default result type and the ``--name-filter`` as a filter
names the managed nodes that have a match, then one ``ListInventoryEntries`` per such node
(``read_with`` and ``nodes_read`` in ``--json``). Exit codes: 0 at
least one entry matched, 1 nothing matched (like grep), 2 errors as above. ``--json``::

    {
      "schema": "fleetctl.inventory-query/1",
      "region": "us-east-1",
      "selector": {"Environment": "OELabIPM", "Workload": "Test"},
      "type_name": "AWS:Application", "attribute": "Name", "prefix": "nginx" | null,
      "instances_queried": ["i-..."],
      "instances_without_match": ["i-..."],
      "read_with": "GetInventory" | "ListInventoryEntries", "nodes_read": 0,
      "matches": [{"instance_id": "i-...", "name": "Test-Web1",
                   "capture_time": ISO-8601 | null,
                   "attributes": {"Name": "nginx", "Version": "1.24.0", ...}}]
    }

AWS access: region from ``--region``, else the stack's, else the profile /
``AWS_DEFAULT_REGION``, else ``AWS_REGION``; ``AWS_ENDPOINT_URL_SSM`` /
``AWS_ENDPOINT_URL_EC2`` redirect the clients (botocore-native). Retries: standard mode,
``max_attempts`` 10; connect timeout 5 s, read timeout ``--read-timeout`` (15 s), a timed-out
call tried twice in all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetctl.ops import timeouts
from fleetctl.ops.models import APPLICATION, FleetSelector, InventoryRecord
from fleetctl.ops.stack import StackError, resolve_stack

# boto3, botocore and rich are imported where a check runs, not here: every fleetctl
# command builds this module's parsers, and `fleetctl plan` needs none of them (boto3 alone
# adds about 0.3 s and 10 MB to each plan).
if TYPE_CHECKING:
    from rich.console import Console

    from fleetctl.ops.report import CheckReport

__all__ = ["register", "run_check", "run_inventory_query"]

DEFAULT_ENVIRONMENT = "OELabIPM"
# The program names its association InventoryAllInstances-<Workload> (Pulumi.<stack>.yaml);
# the lab's console walkthrough names it InventoryAllInstances. Without
# --association-name both are tried, in that order.
DEFAULT_ASSOCIATION_NAME = "InventoryAllInstances"
DEFAULT_COLUMNS = {APPLICATION: ["Name", "Version", "Release", "Architecture"]}
_ASSOCIATION_NAME = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
_TYPE_NAME = re.compile(r"^(AWS|Custom):.{1,96}$")


def _console() -> Console:
    """Rich console on stdout; when piped (no terminal, no COLUMNS) use 160 columns so that
    instance ids and timestamps are not folded."""
    from rich.console import Console

    console = Console(file=sys.stdout)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = 160
    return console


def _fail(message: str) -> int:
    print(f"fleetctl: error: {message}", file=sys.stderr)
    return 2


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Maps AWS/usage failures to exit code 2 with one line on stderr."""

    def wrapper(args: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        from fleetctl.ops import aws

        try:
            _apply_stack(args)
            return run(args)
        except StackError as exc:
            return _fail(str(exc))
        except (aws.OpsError, BotoCoreError, ClientError) as exc:
            return _fail(aws.describe_error(exc))

    return wrapper


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workload", help="value of the Workload tag (required without --stack)")
    parser.add_argument(
        "--environment",
        help=f"value of the Environment tag (default: the stack's, else {DEFAULT_ENVIRONMENT})",
    )
    parser.add_argument(
        "--stack",
        help="Pulumi stack whose fleet to use: workload, environment tag, association name and "
        "region from `pulumi stack output` (Pulumi CLI on PATH) or Pulumi.<stack>.yaml; "
        "explicit flags win",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="the JSON of `pulumi stack output --json`, instead of asking the Pulumi CLI",
    )
    parser.add_argument("--region", help="AWS region (default: the stack's, profile, AWS_DEFAULT_REGION)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=timeouts.READ_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for an AWS answer (default {timeouts.READ_TIMEOUT:g}; a call that "
        f"times out is tried {timeouts.TIMEOUT_ATTEMPTS} times in all, connect timeout "
        f"{timeouts.CONNECT_TIMEOUT:g} s)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _apply_stack(args: argparse.Namespace) -> None:
    """Fills what the flags left open from ``--stack`` / ``--outputs``; flags win."""
    from fleetctl.ops import aws

    fleet = resolve_stack(args.stack, args.outputs)
    if fleet is not None:
        args.workload = args.workload or fleet.workload
        args.environment = args.environment or fleet.environment
        args.region = args.region or fleet.region
        if hasattr(args, "association_name"):
            args.association_name = args.association_name or fleet.association_name
    if not args.workload:
        raise aws.OpsError("no fleet selected: pass --workload or --stack")
    args.environment = args.environment or DEFAULT_ENVIRONMENT
    if args.read_timeout <= 0:
        raise aws.OpsError("--read-timeout must be positive")


def register(subparsers: Any) -> None:
    check = subparsers.add_parser(
        "check",
        help="fleet health after deploy: SSM registration, inventory association, inventory, compliance",
        description="Fleet health report. Exit 0 healthy, 1 problems found, 2 error.",
    )
    _add_common(check)
    check.add_argument(
        "--association-name",
        help="State Manager association name (default: "
        f"{DEFAULT_ASSOCIATION_NAME}-<workload>, then {DEFAULT_ASSOCIATION_NAME})",
    )
    check.add_argument(
        "--max-inventory-age-hours",
        type=float,
        default=24.0,
        help="AWS:Application inventory older than this is a problem (default 24)",
    )
    check.add_argument(
        "--wait",
        metavar="DURATION",
        help="poll (60 s, doubling to 5 min) until every instance is Online, the association "
        "succeeded on it and its inventory is present (e.g. 10m, 90s); exit 3 on timeout",
    )
    check.set_defaults(func=_guarded(run_check))

    inventory = subparsers.add_parser("inventory", help="query SSM inventory of the fleet")
    inv_sub = inventory.add_subparsers(dest="inventory_command", metavar="ACTION", required=True)
    query = inv_sub.add_parser(
        "query",
        help="inventory entries of one type across the fleet",
        description="Exit 0 something matched, 1 nothing matched, 2 error.",
    )
    _add_common(query)
    query.add_argument(
        "--type", dest="type_name", default=APPLICATION, help="inventory type (AWS:Application)"
    )
    query.add_argument("--name-filter", help="keep entries whose attribute begins with this")
    query.add_argument("--attribute", default="Name", help="attribute --name-filter applies to")
    query.add_argument("--columns", help="comma-separated attributes to show in the table")
    query.set_defaults(func=_guarded(run_inventory_query))


def _selector(args: argparse.Namespace) -> FleetSelector:
    return FleetSelector(environment=args.environment, workload=args.workload)


def association_names(args: argparse.Namespace) -> list[str]:
    """Names to look up, in order."""
    if args.association_name:
        return [args.association_name]
    names = [f"{DEFAULT_ASSOCIATION_NAME}-{args.workload}", DEFAULT_ASSOCIATION_NAME]
    return [n for n in names if _ASSOCIATION_NAME.match(n)]


def run_check(args: argparse.Namespace) -> int:
    from fleetctl.ops import aws
    from fleetctl.ops.render import render_check, render_wait
    from fleetctl.ops.report import check_report_to_json, evaluate
    from fleetctl.ops.wait import ProgressView, parse_duration, wait_for_fleet

    if args.association_name and not _ASSOCIATION_NAME.match(args.association_name):
        raise aws.OpsError(
            f"invalid association name {args.association_name!r} (3-128 of letters, digits, _ - .)"
        )
    if args.max_inventory_age_hours <= 0:
        raise aws.OpsError("--max-inventory-age-hours must be positive")
    wait_seconds = None
    if args.wait is not None:
        try:
            wait_seconds = parse_duration(args.wait)
        except ValueError as exc:
            raise aws.OpsError(f"--wait: {exc}") from None
    clients = aws.make_clients(region=args.region, profile=args.profile, read_timeout=args.read_timeout)

    # Inventory found by an earlier poll of --wait (one read per instance is the costly part).
    inventory_seen: dict[str, InventoryRecord] = {}

    def collect() -> CheckReport:
        snapshot = aws.collect_snapshot(
            clients, _selector(args), association_names(args), inventory_seen=inventory_seen
        )
        inventory_seen.update({record.instance_id: record for record in snapshot.inventory})
        return evaluate(
            snapshot,
            now=datetime.now(UTC),
            max_inventory_age=timedelta(hours=args.max_inventory_age_hours),
        )

    if wait_seconds is None:
        report = collect()
        if args.json:
            print(json.dumps(check_report_to_json(report), indent=2))
        else:
            render_check(report, _console())
        return report.exit_code

    with ProgressView() as view:
        result = wait_for_fleet(collect, wait_seconds, on_poll=view.update)
    if args.json:
        print(json.dumps({**check_report_to_json(result.report), "wait": result.to_json()}, indent=2))
    else:
        render_check(result.report, _console())
        render_wait(result, _console())
    return result.exit_code


def run_inventory_query(args: argparse.Namespace) -> int:
    from fleetctl.ops import aws
    from fleetctl.ops.render import render_inventory_query
    from fleetctl.ops.report import inventory_query_to_json

    if not _TYPE_NAME.match(args.type_name):
        raise aws.OpsError(f"invalid inventory type {args.type_name!r} (AWS:... or Custom:...)")
    clients = aws.make_clients(region=args.region, profile=args.profile, read_timeout=args.read_timeout)
    selector = _selector(args)
    instances = aws.fetch_instances(clients.ec2, selector)
    found = (
        aws.query_inventory(
            clients.ssm,
            [i.instance_id for i in instances],
            args.type_name,
            attribute=args.attribute,
            prefix=args.name_filter,
        )
        if instances
        else aws.InventoryQuery([], "GetInventory")
    )
    matches = found.matches
    if args.json:
        payload = inventory_query_to_json(
            selector,
            clients.region,
            args.type_name,
            args.attribute,
            args.name_filter,
            instances,
            matches,
            read_with=found.source,
            nodes_read=found.nodes_read,
        )
        print(json.dumps(payload, indent=2))
    else:
        if args.columns:
            columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        else:
            columns = (
                DEFAULT_COLUMNS.get(args.type_name)
                or sorted({k for m in matches for k in m.attributes})[:6]
                or [args.attribute]
            )
        render_inventory_query(
            instances, matches, args.type_name, columns, _console(), found.source, found.nodes_read
        )
    return 0 if matches else 1
