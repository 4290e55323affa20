"""Why an instance whose SSM Agent comes from user data (RHEL) is not registered: its console
output, read with ``ec2:GetConsoleOutput`` (``Latest=True``), holds the marker line the
install script writes when it gave up (components/ssm_agent_install.sh).

Source: EC2 API reference, GetConsoleOutput ("Output: the console output, base64-encoded";
"Latest: when enabled, retrieves the latest console output"; the latest output only on
instance types built on the Nitro System). The stubs answer base64 as the API does; botocore
decodes it before the client returns (``botocore.handlers.decode_console_output``)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.ec2.responses import general
from ops_fakes import stub_fleet
from ops_fleet import Fleet
from test_ops_check import problems, run_json

from fleetctl.ops import aws
from fleetctl.ops.models import AGENT_INSTALL_FAILURE_MARKER

INSTANCE = "i-0123456789abcdef0"
MARKER_LINE = (
    f"{AGENT_INSTALL_FAILURE_MARKER}: the download step failed 6 times; SSM Agent is not "
    "running (https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/linux_amd64/"
    "amazon-ssm-agent.rpm)"
)
BOOT_LOG = "[    0.000000] Linux version 5.14.0\ncloud-init: running user data\n"


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def ec2(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ec2", region_name="us-east-1", config=aws.RETRY_CONFIG)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_marker_is_found_in_the_base64_console_output(ec2: tuple[Any, Stubber]) -> None:
    client, stub = ec2
    # Long enough that decoding it twice would not fail loudly but yield garbage.
    console = BOOT_LOG * 3 + f"[  312.52] cloud-init[1201]: {MARKER_LINE}\n"
    stub.add_response(
        "get_console_output",
        {"InstanceId": INSTANCE, "Output": encoded(console)},
        {"InstanceId": INSTANCE, "Latest": True},
    )

    diagnosis = aws.fetch_console_diagnosis(client, INSTANCE)

    assert diagnosis.marker_line == MARKER_LINE  # from the marker on, without the prefix
    assert diagnosis.error is None


def test_no_marker_and_no_output(ec2: tuple[Any, Stubber]) -> None:
    client, stub = ec2
    stub.add_response("get_console_output", {"InstanceId": INSTANCE, "Output": encoded(BOOT_LOG)},
                      {"InstanceId": INSTANCE, "Latest": True})
    stub.add_response("get_console_output", {"InstanceId": INSTANCE},
                      {"InstanceId": INSTANCE, "Latest": True})

    assert aws.fetch_console_diagnosis(client, INSTANCE) == aws.ConsoleDiagnosis(INSTANCE)
    assert aws.fetch_console_diagnosis(client, INSTANCE).error == "no console output yet"


def test_latest_unsupported_falls_back_to_the_buffered_output(ec2: tuple[Any, Stubber]) -> None:
    client, stub = ec2
    stub.add_client_error("get_console_output", "UnsupportedOperation",
                          "Latest console output is supported on Nitro instances only",
                          expected_params={"InstanceId": INSTANCE, "Latest": True})
    stub.add_response("get_console_output",
                      {"InstanceId": INSTANCE, "Output": encoded(MARKER_LINE + "\n")},
                      {"InstanceId": INSTANCE})

    assert aws.fetch_console_diagnosis(client, INSTANCE).marker_line == MARKER_LINE


def test_denied_console_is_reported_not_raised(ec2: tuple[Any, Stubber]) -> None:
    client, stub = ec2
    stub.add_client_error("get_console_output", "UnauthorizedOperation", "not allowed",
                          expected_params={"InstanceId": INSTANCE, "Latest": True})

    diagnosis = aws.fetch_console_diagnosis(client, INSTANCE)

    assert diagnosis.marker_line is None
    assert diagnosis.error == "ec2:GetConsoleOutput failed: UnauthorizedOperation"


def test_check_reports_the_marker_of_a_rhel_instance(
    fleet: Fleet, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto serves the console output (base64) of its instances; give it our marker."""
    monkeypatch.setattr(general, "SAMPLE_CONSOLE_OUTPUT", BOOT_LOG + MARKER_LINE + "\n")
    ok = fleet.launch(1)
    [rhel] = fleet.launch(1, name="Test-App1", os="rhel-9")
    stub_fleet(fleet.stub, [*ok, rhel], registered=ok)

    rc, report = run_json(capsys)

    assert rc == 1
    [problem] = problems(report)
    assert problem["instance_id"] == rhel and problem["section"] == "registration"
    assert MARKER_LINE in problem["message"]
    assert "gave up" in problem["message"]


def test_check_says_where_to_look_without_a_marker(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    [rhel] = fleet.launch(1, name="Test-App1", os="rhel-9")
    [amazon_linux] = fleet.launch(1, name="Test-Web1", os="amazon-linux-2023")
    stub_fleet(fleet.stub, [rhel, amazon_linux], registered=[])

    rc, report = run_json(capsys)

    assert rc == 1
    messages = {p["instance_id"]: p["message"] for p in problems(report)
                if p["section"] == "registration"}
    assert f"aws ec2 get-console-output --instance-id {rhel} --latest" in messages[rhel]
    assert f"no {AGENT_INSTALL_FAILURE_MARKER} line" in messages[rhel]
    # The agent is preinstalled on Amazon Linux: its console is not read, nor named.
    assert "get-console-output" not in messages[amazon_linux]
