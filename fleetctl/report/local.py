"""Run a report with DuckDB over a local copy of the sync bucket (no Athena, no AWS).

``aws s3 sync s3://<bucket>/<prefix> DIR`` gives ``DIR/<type>/accountid=/region=/
resourcetype=/<instance>.json``. Each Glue table becomes a DuckDB view with the same columns
(read from components/inventory_tables.py) over those files, partition columns from the
directory names (DuckDB prunes files on them, as Athena prunes partitions). The report's one
SQL text is translated from Athena (Trino) to DuckDB with sqlglot.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import sqlglot

from components.inventory_tables import INVENTORY_TABLES, PARTITION_KEYS, InventoryTable
from fleetctl.report.athena import ReportError, ReportResult

HIVE_TYPES = "{" + ", ".join(f"'{key}': 'VARCHAR'" for key in PARTITION_KEYS) + "}"


def to_duckdb(sql: str) -> str:
    """Athena's dialect (Trino) -> DuckDB's, one statement."""
    try:
        [statement] = sqlglot.transpile(sql, read="trino", write="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ReportError(f"the report's SQL does not parse as Athena (Trino) SQL: {exc}") from None
    return statement


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_sql(table: InventoryTable, root: Path) -> str:
    # Each JSON key is read as text, as the Glue columns are all strings; a key may be absent.
    columns = [f"json_extract_string(json, {_quote('$.' + key)}) AS {column}"
               for column, key in table.json_keys.items()]
    directory = root / table.type_name
    if not any(directory.glob("*/*/*/*.json")):
        # A type the sync has not written yet: an empty view, so reports still run.
        nulls = [f"CAST(NULL AS VARCHAR) AS {c}" for c in (*table.columns, *PARTITION_KEYS)]
        return f"CREATE VIEW {table.name} AS SELECT {', '.join(nulls)} WHERE false"
    pattern = _quote(str(directory / "*" / "*" / "*" / "*.json"))
    return (
        f"CREATE VIEW {table.name} AS SELECT {', '.join(columns)}, {', '.join(PARTITION_KEYS)} "
        f"FROM read_json({pattern}, format='newline_delimited', records=false, "
        f"hive_partitioning=true, hive_types={HIVE_TYPES})"
    )


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    if not root.is_dir():
        raise ReportError(f"{root} is not a directory (aws s3 sync s3://<bucket>/<prefix> {root})")
    con = duckdb.connect()
    for table in INVENTORY_TABLES:
        con.execute(_view_sql(table, root))
    return con


def run_local(sql: str, root: Path) -> ReportResult:
    con = connect(root)
    try:
        cursor = con.execute(to_duckdb(sql))
    except duckdb.Error as exc:
        raise ReportError(f"DuckDB could not run the report: {exc}") from None
    columns = [d[0] for d in cursor.description or []]
    rows = [[None if v is None else str(v) for v in row] for row in cursor.fetchall()]
    return ReportResult(columns, rows, None)
