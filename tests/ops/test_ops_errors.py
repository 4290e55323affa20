"""Exit code 2 with one clear line on stderr (no traceback) for usage, credential, network
and API errors; and the retry configuration, with a real retry over HTTP.

Why retries are not tested with Stubber: Stubber answers on botocore's ``before-call``
event, before the endpoint's retry loop runs, so a stubbed ThrottlingException is raised
immediately whatever the retry config (``test_stubber_bypasses_retries`` pins that down).
The retry behaviour is therefore tested against a local HTTP endpoint instead.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from ops_fakes import TAG_FILTERS, node
from ops_fleet import REGION, Fleet
from ops_server import REPO, FakeAws, clean_env

from fleetctl.cli import main
from fleetctl.compliance import clients
from fleetctl.ops import aws
from fleetctl.ops.models import FleetSelector


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetctl", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_credentials_exit_2_one_line_no_traceback(tmp_path: Path) -> None:
    result = run_cli(["check", "--workload", "Test", "--region", REGION], clean_env(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("fleetctl: error: no usable AWS credentials")


def test_no_region_exit_2(tmp_path: Path) -> None:
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_cli(["inventory", "query", "--workload", "Test"], env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "fleetctl: error: no AWS region: pass --region or set AWS_DEFAULT_REGION"
    )


def test_unknown_profile_exit_2(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--workload", "Test", "--profile", "nope"])
    assert rc == 2
    assert capsys.readouterr().err.strip() == "fleetctl: error: AWS profile not found: nope"


def test_access_denied_names_the_action(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    fleet.launch(1)
    fleet.stub.add_client_error(
        "describe_instance_information",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/op is not authorized",
        http_status_code=400,
    )
    rc = main(["check", "--workload", "Test", "--json"])
    out = capsys.readouterr()
    assert rc == 2
    assert out.out == ""
    assert out.err.startswith(
        "fleetctl: error: access denied: the caller is not allowed ssm:DescribeInstanceInformation"
    )
    assert "Traceback" not in out.err


def test_ec2_unauthorized_names_ec2_action(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    monkeypatch.setattr(aws, "make_clients", lambda **_: aws.Clients(ec2, ssm, REGION))
    with Stubber(ec2) as stub:
        stub.add_client_error(
            "describe_instances", service_error_code="UnauthorizedOperation", http_status_code=403
        )
        rc = main(["inventory", "query", "--workload", "Test"])
    assert rc == 2
    assert "ec2:DescribeInstances" in capsys.readouterr().err


def test_endpoint_unreachable_exit_2(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A port nobody listens on; retries off here only so the test does not wait for backoff.
    no_retry = Config(retries={"total_max_attempts": 1}, connect_timeout=2)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url="http://127.0.0.1:9", config=no_retry)
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url="http://127.0.0.1:9", config=no_retry)
    monkeypatch.setattr(aws, "make_clients", lambda **_: aws.Clients(ec2, ssm, REGION))
    rc = main(["check", "--workload", "Test"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("fleetctl: error: cannot reach the AWS endpoint")
    assert "127.0.0.1:9" in err


def test_clients_use_standard_retries_timeouts_and_region(aws_env: None) -> None:
    """botocore's defaults are 60 s connect and read timeouts (lab facts section 7)."""
    clients = aws.make_clients(region="eu-west-1", read_timeout=7)
    for client in (clients.ec2, clients.ssm):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 11}
        assert client.meta.config.connect_timeout == aws.CONNECT_TIMEOUT == 5
        assert client.meta.config.read_timeout == 7
        assert client.meta.region_name == "eu-west-1"
    assert aws.make_clients().ssm.meta.config.read_timeout == aws.READ_TIMEOUT
    assert aws.make_clients().region == REGION  # from AWS_DEFAULT_REGION


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server that accepts every connection and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)  # held open, never read from or written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_silent_endpoint_fails_fast_with_one_message(
    tmp_path: Path, silent_endpoint: tuple[str, list[socket.socket]]
) -> None:
    """The real CLI against an endpoint that accepts and never answers: exit 2 after
    TIMEOUT_ATTEMPTS read timeouts, one line on stderr, not 11 attempts x 60 s."""
    url, accepted = silent_endpoint
    env = clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_EC2=url,
        AWS_ENDPOINT_URL_SSM=url,
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "fleetctl", "check", "--workload", "Test", "--read-timeout", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fleetctl: error: the AWS endpoint did not answer in time")
    assert "Read timeout" in lines[0] and "--read-timeout" in lines[0]
    assert len(accepted) == aws.TIMEOUT_ATTEMPTS  # the first call, tried twice, then no more
    # two 1 s read timeouts and one backoff (at most 2 s), plus interpreter start-up
    assert elapsed < 15


def test_stubber_bypasses_retries(aws_env: None) -> None:
    client = aws.make_clients().ssm
    with Stubber(client) as stub:
        stub.add_client_error("describe_instance_information", "ThrottlingException")
        stub.add_response("describe_instance_information", {"InstanceInformationList": []})
        with pytest.raises(ClientError, match="ThrottlingException"):
            client.describe_instance_information()


def test_throttling_still_gets_every_retry_after_a_timeout_hook(aws_env: None) -> None:
    """The timeout hook ends only timed-out calls: other failures keep botocore's decision."""
    clients._stop_retrying_timeouts(caught_exception=None, attempts=5)
    clients._stop_retrying_timeouts(caught_exception=ConnectionError("reset"), attempts=5)
    with pytest.raises(ReadTimeoutError):
        clients._stop_retrying_timeouts(caught_exception=ReadTimeoutError(endpoint_url="x"), attempts=2)
    clients._stop_retrying_timeouts(caught_exception=ReadTimeoutError(endpoint_url="x"), attempts=1)


def test_throttling_is_retried_over_http(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeAws() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", fake.url)
        fake.add("DescribeInstanceInformation", (400, "ThrottlingException", "Rate exceeded"))
        fake.add(
            "DescribeInstanceInformation",
            {"InstanceInformationList": [node("i-0123456789abcdef0")]},
        )
        clients = aws.make_clients()
        assert clients.ssm.meta.endpoint_url == fake.url

        nodes = aws.fetch_managed_nodes(clients.ssm, FleetSelector(environment="OELabIPM", workload="Test"))

    assert [n.instance_id for n in nodes] == ["i-0123456789abcdef0"]
    assert fake.ops() == ["DescribeInstanceInformation", "DescribeInstanceInformation"]
    assert fake.requests[1][1] == {"Filters": TAG_FILTERS, "MaxResults": 50}
