"""Run one report through Athena with boto3: start it in the workgroup, wait, page the rows.

StartQueryExecution, GetQueryExecution (states QUEUED, RUNNING, SUCCEEDED, FAILED,
CANCELLED) and GetQueryResults (the first row of the first page is the header; at most 1000
rows a page, NextToken for more): Athena API reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RUNNING_STATES = ("QUEUED", "RUNNING")
PAGE_SIZE = 1000


class ReportError(Exception):
    """A failed, cancelled or unreachable query: exit code 2, the message goes to stderr."""


@dataclass(frozen=True)
class ReportResult:
    columns: list[str]
    rows: list[list[str | None]]
    bytes_scanned: int | None  # None: not measured (a local run)
    query_id: str | None = None


def run_query(
    athena: Any, sql: str, workgroup: str, database: str,
    progress: Callable[[str, float], None] = lambda state, elapsed: None,
    sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 1.0,
) -> ReportResult:
    query_id = athena.start_query_execution(
        QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": database},
    )["QueryExecutionId"]
    started = time.monotonic()
    try:
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state not in RUNNING_STATES:
                break
            progress(state, time.monotonic() - started)
            sleep(poll_seconds)
    except KeyboardInterrupt:
        # Ctrl-C stops the query too: it would otherwise keep scanning (and billing).
        athena.stop_query_execution(QueryExecutionId=query_id)
        raise
    if state != "SUCCEEDED":
        reason = status.get("StateChangeReason") or "no reason given"
        raise ReportError(f"Athena query {query_id} {state.lower()}: {reason}")
    columns, rows = _fetch_rows(athena, query_id)
    scanned = execution.get("Statistics", {}).get("DataScannedInBytes")
    return ReportResult(columns, rows, scanned, query_id)


def _fetch_rows(athena: Any, query_id: str) -> tuple[list[str], list[list[str | None]]]:
    columns: list[str] = []
    rows: list[list[str | None]] = []
    token: str | None = None
    first = True
    while True:
        kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": PAGE_SIZE}
        if token:
            kwargs["NextToken"] = token
        page = athena.get_query_results(**kwargs)
        result_set = page["ResultSet"]
        if first:
            columns = [c["Name"] for c in result_set["ResultSetMetadata"]["ColumnInfo"]]
        data = [[cell.get("VarCharValue") for cell in row["Data"]] for row in result_set["Rows"]]
        rows.extend(data[1:] if first else data)  # the header row comes once, first
        first = False
        token = page.get("NextToken")
        if not token:
            return columns, rows
