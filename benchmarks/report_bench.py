"""Benchmark of ``fleetctl report run --local``: each named report over a generated fleet.

Generates the Resource Data Sync layout (tests/reporting_fleet.py) for ``--instances``
instances with ``--packages`` applications each over ``--accounts`` accounts and
``--regions`` regions, then runs each report through the same path as ``fleetctl report run
--local`` (render, sqlglot Trino -> DuckDB, DuckDB views over the JSON files), twice: with the
partition filter (``account=`` and ``region=`` set to one account and region) and without.

Printed per report: wall time of each run (best of ``--repeat``), rows, the files DuckDB
itself reports reading (``EXPLAIN ANALYZE`` of the same query: "Total Files Read" summed over
its scans, so partition pruning is measured, not assumed), and the megabytes of the
partitions the filter selects (the ``<type>/accountid=/region=/`` directories of the tables
the query names). DuckDB's own "Data Read" figure is not used: for JSON scans it reported
0 bytes for queries that read hundreds of files.

    .venv/bin/python benchmarks/report_bench.py [--instances 10000] [--packages 200] [--smoke]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.inventory_tables import TABLES_BY_NAME
from components.named_queries import load_queries
from fleetctl.report.local import connect, to_duckdb
from tests.reporting_fleet import make_fleet, write_sync_tree

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]


def files_read(con: Any, duck: str) -> int:
    """The files DuckDB reports reading for ``duck`` (summed over its scans)."""
    profile = "\n".join(str(row[-1]) for row in con.execute("EXPLAIN ANALYZE " + duck).fetchall())
    return sum(int(n) for n in re.findall(r"Total Files Read: (\d+)", profile))


def partition_megabytes(root: Path, sql: str, account: str | None, region: str | None) -> float:
    """Size of the partitions of the query's tables that the account/region filter selects."""
    tables = {t.name for t in sqlglot.parse_one(sql, read="trino").find_all(exp.Table)}
    pattern = f"accountid={account or '*'}/region={region or '*'}/*/*.json"
    return sum(path.stat().st_size for name in tables
               for path in (root / TABLES_BY_NAME[name].type_name).glob(pattern)) / 1e6


def run_report(root: Path, sql: str, repeat: int) -> tuple[float, int, int]:
    """Best wall time, rows, and the files DuckDB read for one query."""
    con = connect(root)
    duck = to_duckdb(sql)
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = len(con.execute(duck).fetchall())
        best = min(best, time.perf_counter() - started)
    return best, rows, files_read(con, duck)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="60 instances, 20 packages, once")
    args = parser.parse_args()
    if args.smoke:
        args.instances, args.packages, args.repeat = 60, 20, 1
    accounts = [f"{n:012d}" for n in range(111111111111, 111111111111 * (args.accounts + 1), 111111111111)]
    regions = REGIONS[: args.regions]
    per_region = args.instances // (len(accounts) * len(regions))
    tmp = Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        root = tmp / "inventory"
        started = time.perf_counter()
        fleet = make_fleet(accounts, regions, per_region, packages=args.packages)
        write_sync_tree(root, fleet)
        total_files = sum(1 for _ in root.rglob("*.json"))
        total_bytes = sum(p.stat().st_size for p in root.rglob("*.json"))
        print(f"fleet: {len(fleet)} instances x {args.packages} packages, {len(accounts)} accounts x "
              f"{len(regions)} regions: {total_files} files, {total_bytes / 1e6:.1f} MB "
              f"(generated in {time.perf_counter() - started:.1f} s)")
        print(f"{'report':30} {'filter':>7} {'time s':>8} {'rows':>7} {'files read':>10} "
              f"{'MB':>8}")
        for name, query in load_queries().items():
            for label, params in (("none", {}), ("1 of " + str(len(accounts) * len(regions)),
                                                 {"account": accounts[0], "region": regions[0]})):
                sql = query.render(params)
                seconds, rows, files = run_report(root, sql, args.repeat)
                size = partition_megabytes(root, sql, params.get("account"), params.get("region"))
                print(f"{name:30} {label:>7} {seconds:8.3f} {rows:7d} {files:7d} {size:8.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
