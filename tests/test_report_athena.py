"""`fleetctl report run` through Athena, every call stubbed with botocore's Stubber:
start in the workgroup, poll until done, page the results (header row once), failure and
cancellation (Athena API reference: StartQueryExecution, GetQueryExecution,
GetQueryResults, StopQueryExecution); then the real CLI, against moto and as a whole process
against a local endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from components.named_queries import load_queries
from fleetctl.cli import main
from fleetctl.report import athena as athena_mod
from fleetctl.report.athena import ReportError, run_query
from tests.ops.ops_server import REPO, FakeAws, clean_env

QID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def athena() -> Any:
    return boto3.client("athena", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


def _state(state: str, reason: str | None = None, scanned: int = 0) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {"QueryExecution": {"QueryExecutionId": QID, "Status": status,
                               "Statistics": {"DataScannedInBytes": scanned}}}


def _page(rows: list[list[str]], token: str | None = None, header: bool = False) -> dict[str, Any]:
    page: dict[str, Any] = {"ResultSet": {
        "Rows": [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
        "ResultSetMetadata": {"ColumnInfo": [{"Name": n, "Type": "varchar"} for n in ("a", "b")]},
    }}
    if token:
        page["NextToken"] = token
    return page


def _start(stub: Stubber, sql: str) -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": QID}, {
        "QueryString": sql, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"}})


def test_start_poll_and_page(athena: Any) -> None:
    states: list[str] = []
    with Stubber(athena) as stub:
        _start(stub, "SELECT 1")
        for state in ("QUEUED", "RUNNING"):
            stub.add_response("get_query_execution", _state(state), {"QueryExecutionId": QID})
        stub.add_response("get_query_execution", _state("SUCCEEDED", scanned=2048), {"QueryExecutionId": QID})
        stub.add_response("get_query_results", _page([["a", "b"], ["1", "2"]], token="t1"),
                          {"QueryExecutionId": QID, "MaxResults": 1000})
        stub.add_response("get_query_results", _page([["3", "4"]]),
                          {"QueryExecutionId": QID, "MaxResults": 1000, "NextToken": "t1"})
        result = run_query(athena, "SELECT 1", "wg", "db",
                           progress=lambda s, _: states.append(s), sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert states == ["QUEUED", "RUNNING"]
    assert result.columns == ["a", "b"] and result.rows == [["1", "2"], ["3", "4"]]
    assert result.bytes_scanned == 2048


@pytest.mark.parametrize(("state", "word"), [("FAILED", "failed"), ("CANCELLED", "cancelled")])
def test_failed_and_cancelled_queries_are_errors_with_the_reason(athena: Any, state: str, word: str) -> None:
    with Stubber(athena) as stub:
        _start(stub, "SELECT 1")
        stub.add_response("get_query_execution", _state(state, "Query exhausted resources"),
                          {"QueryExecutionId": QID})
        with pytest.raises(ReportError, match=f"{QID} {word}: Query exhausted resources"):
            run_query(athena, "SELECT 1", "wg", "db", sleep=lambda _: None)


def test_interrupt_stops_the_query(athena: Any) -> None:
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with Stubber(athena) as stub:
        _start(stub, "SELECT 1")
        stub.add_response("get_query_execution", _state("RUNNING"), {"QueryExecutionId": QID})
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": QID})
        with pytest.raises(KeyboardInterrupt):
            run_query(athena, "SELECT 1", "wg", "db", sleep=interrupt)
        stub.assert_no_pending_responses()


def test_cli_runs_in_the_stacks_workgroup_and_shows_data_scanned(
    athena: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stack prod: workgroup ssm-inventory-prod, database ssm_inventory, the stack's region."""
    sql = load_queries()["fleet_summary"].render({"account": "123456789012"})
    seen: dict[str, Any] = {}

    class Session:
        def __init__(self, profile_name: str | None = None) -> None:
            pass

        def client(self, service: str, region_name: str | None = None) -> Any:
            seen["region"] = region_name
            return athena

    monkeypatch.setattr(boto3, "Session", Session)
    monkeypatch.setattr(athena_mod.time, "sleep", lambda _: None)
    with Stubber(athena) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, {
            "QueryString": sql, "WorkGroup": "ssm-inventory-prod",
            "QueryExecutionContext": {"Database": "ssm_inventory"}})
        stub.add_response("get_query_execution", _state("SUCCEEDED", scanned=3 * 1024 * 1024),
                          {"QueryExecutionId": QID})
        stub.add_response("get_query_results", _page([["a", "b"], ["x", "y"]]),
                          {"QueryExecutionId": QID, "MaxResults": 1000})
        code = main(["report", "run", "fleet_summary", "--stack", "prod",
                     "--param", "account=123456789012", "--csv"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.splitlines() == ["a,b", "x,y"]
    assert "Data scanned: 3.0 MB" in captured.err
    assert seen["region"] == "us-east-1"


def test_a_stack_without_reporting_has_no_workgroup(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "run", "fleet_summary", "--stack", "dev", "--json"]) == 2
    err = capsys.readouterr().err
    assert "not a central reporting stack" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(capsys.readouterr().out or "")


def test_the_real_cli_against_moto(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole CLI path with real boto3 clients, Athena served in-process by moto."""
    from moto import mock_aws
    from moto.athena.models import QueryResults, athena_backends

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("athena", region_name="eu-west-1")
        client.create_work_group(Name="ssm-inventory-prod")
        rows = [{"Data": [{"VarCharValue": "accountid"}]},
                {"Data": [{"VarCharValue": "123456789012"}]}]
        athena_backends["123456789012"]["eu-west-1"].query_results_queue.append(
            QueryResults(rows=rows, column_info=[{"Name": "accountid", "Type": "varchar"}]))
        code = main(["report", "run", "stale_inventory", "--workgroup", "ssm-inventory-prod",
                     "--region", "eu-west-1", "--param", "hours=48", "--json"])
        [query_id] = client.list_query_executions(WorkGroup="ssm-inventory-prod")["QueryExecutionIds"]
        execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["rows"] == [{"accountid": "123456789012"}]
    assert doc["query_id"] == query_id
    assert "INTERVAL '48' HOUR" in execution["Query"]
    assert execution["QueryExecutionContext"]["Database"] == "ssm_inventory"


def test_the_real_cli_process_against_a_local_endpoint(tmp_path: Path) -> None:
    """``fleetctl report run`` as a whole process, its Athena client pointed at a local HTTP
    endpoint through ``AWS_ENDPOINT_URL_ATHENA`` (the JSON 1.1 protocol on the wire, botocore's
    retries included): a throttled start is retried, the query is polled until it succeeds,
    and both result pages are read."""
    with FakeAws() as fake:
        fake.add("StartQueryExecution", (400, "ThrottlingException", "Rate exceeded"))
        fake.add("StartQueryExecution", {"QueryExecutionId": QID})
        fake.add("GetQueryExecution", _state("RUNNING"))
        fake.add("GetQueryExecution", _state("SUCCEEDED", scanned=2 * 1024 * 1024))
        fake.add("GetQueryResults", _page([["a", "b"], ["1", "2"]], token="next"))
        fake.add("GetQueryResults", _page([["3", "4"]]))
        env = clean_env(tmp_path, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                        AWS_ENDPOINT_URL_ATHENA=fake.url)
        proc = subprocess.run(
            [sys.executable, "-m", "fleetctl", "report", "run", "stale_inventory",
             "--workgroup", "wg", "--database", "db", "--region", "eu-west-1",
             "--param", "hours=48", "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
        requests = list(fake.requests)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows"] == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert [op for op, _ in requests] == [
        "StartQueryExecution", "StartQueryExecution", "GetQueryExecution", "GetQueryExecution",
        "GetQueryResults", "GetQueryResults"]
    start = requests[1][1]
    assert start["WorkGroup"] == "wg"
    assert start["QueryExecutionContext"] == {"Database": "db"}
    assert "INTERVAL '48' HOUR" in start["QueryString"]
    assert requests[-1][1].get("NextToken") == "next"
