"""``fleetctl report``: the fleet reports of components/queries/ through Athena or DuckDB.

``fleetctl report list`` names each report, what it shows and its parameters.

``fleetctl report run NAME [--param k=v ...] [--stack S | --workgroup W --database D]
[--region R] [--profile P] [--csv | --json]`` runs the report in the stack's Athena workgroup
(``--stack``: workgroup ``ssm-inventory-<workload>``, database ``reporting.database`` and
region of ``Pulumi.<S>.yaml``), waits (progress on stderr), pages the results and prints a
table, CSV or JSON; the data Athena scanned goes to stderr (JSON: ``bytes_scanned``).

``fleetctl report run NAME --local DIR`` runs the same SQL with DuckDB over a local copy of
the sync bucket (``aws s3 sync s3://<bucket>/<prefix> DIR``).

Exit codes: 0 the report ran (empty or not); 2 usage, credential, network, query error.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from components.named_queries import QueryParameterError, load_queries
from fleetctl.report.athena import ReportError, ReportResult

EXIT_OK, EXIT_ERROR = 0, 2


def _params(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ReportError(f"--param {pair!r}: expected NAME=VALUE")
        values[key] = value
    return values


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def _athena_target(args: argparse.Namespace) -> tuple[str, str, str | None]:
    """(workgroup, database, region) from --stack, overridden by explicit options."""
    workgroup, database, region = args.workgroup, args.database, args.region
    if args.stack:
        from components.config import ConfigError, parse_stack_config
        from fleetctl.project import ProjectError, find_project_dir, load_stack_settings

        try:
            settings = load_stack_settings(args.stack, find_project_dir())
            config = parse_stack_config(settings.config)
        except (ProjectError, ConfigError) as exc:
            raise ReportError(str(exc)) from None
        if not config.reporting_central:
            raise ReportError(f"stack {args.stack!r} is not a central reporting stack "
                              "(reporting.central or inventory.resourceDataSync): it has no workgroup")
        workgroup = workgroup or config.sync_name
        database = database or config.reporting.database
        region = region or settings.region
    if not workgroup:
        raise ReportError("which workgroup? pass --stack S or --workgroup W (or --local DIR)")
    return workgroup, database or "ssm_inventory", region


def _progress(state: str, elapsed: float) -> None:
    if sys.stderr.isatty():
        print(f"\r{state.lower()} {elapsed:5.1f}s", end="", file=sys.stderr, flush=True)


def _athena(args: argparse.Namespace, sql: str) -> ReportResult:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from fleetctl.report.athena import run_query

    workgroup, database, region = _athena_target(args)
    try:
        athena = boto3.Session(profile_name=args.profile).client("athena", region_name=region)
        result = run_query(athena, sql, workgroup, database, progress=_progress)
    except (BotoCoreError, ClientError) as exc:
        raise ReportError(f"Athena: {exc}") from None
    finally:
        if sys.stderr.isatty():
            print("\r", end="", file=sys.stderr)
    return result


def _print(result: ReportResult, fmt: str) -> None:
    if fmt == "json":
        doc: dict[str, Any] = {
            "columns": result.columns,
            "rows": [dict(zip(result.columns, row, strict=True)) for row in result.rows],
            "bytes_scanned": result.bytes_scanned,
            "query_id": result.query_id,
        }
        print(json.dumps(doc, indent=2))
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*["" if v is None else v for v in row])
        Console().print(table)
        print(f"{len(result.rows)} rows", file=sys.stderr)
    if result.bytes_scanned is not None:
        print(f"Data scanned: {_human_bytes(result.bytes_scanned)}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    for name, query in load_queries().items():
        params = ", ".join(f"{k}={v!r}" for k, v in query.defaults.items())
        print(f"{name}\n    {query.description}\n    params: {params or 'none'}")
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    try:
        queries = load_queries()
        if args.name not in queries:
            raise ReportError(f"no report {args.name!r}; reports: {', '.join(queries)}")
        sql = queries[args.name].render(_params(args.param))
        if args.local:
            from fleetctl.report.local import run_local

            result = run_local(sql, Path(args.local))
        else:
            result = _athena(args, sql)
    except (ReportError, QueryParameterError) as exc:
        print(f"fleetctl report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    _print(result, "json" if args.json else "csv" if args.csv else "table")
    return EXIT_OK


def register(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="fleet-wide reports (Athena, or DuckDB on a local copy)")
    actions = report.add_subparsers(dest="report_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the reports and their parameters")
    listing.set_defaults(func=run_list)
    run = actions.add_parser("run", help="run one report",
                             description="Exit 0 the report ran, 2 error.")
    run.add_argument("name", metavar="NAME")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="a report parameter (see `fleetctl report list`)")
    run.add_argument("--stack", help="the central stack whose workgroup runs the report")
    run.add_argument("--workgroup", help="Athena workgroup (default from --stack)")
    run.add_argument("--database", help="Glue database (default from --stack, else ssm_inventory)")
    run.add_argument("--region", help="AWS region (default from --stack)")
    run.add_argument("--profile", help="AWS profile")
    run.add_argument("--local", metavar="DIR", help="run with DuckDB over a local copy of the sync bucket")
    output = run.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="CSV on stdout")
    output.add_argument("--json", action="store_true", help="JSON on stdout")
    run.set_defaults(func=run_report)
