"""The RHEL user data script, run for real under bash with curl, dnf, systemctl and sleep
stubbed on PATH: retries with exponential backoff, succeeds after a blip, and when every
attempt fails writes the console marker and exits non-zero (lab facts §7: user data runs
once, so one failed `dnf install` would leave the instance unmanaged for good)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.amis import AGENT_INSTALL_FAILURE_MARKER, SUPPORTED_OS, agent_user_data
from fleetctl.ops.models import AGENT_INSTALL_FAILURE_MARKER as CHECKED_MARKER
from fleetctl.ops.models import USER_DATA_AGENT_OS

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

REGION = "eu-west-1"
RPM_URL = f"https://s3.{REGION}.amazonaws.com/amazon-ssm-{REGION}/latest/linux_amd64/amazon-ssm-agent.rpm"

# Each stub logs its arguments, then fails while its ".fail" counter is above zero.
STUB = """#!/bin/bash
echo "$*" >> "$STUB_DIR/{name}.calls"
left=$(cat "$STUB_DIR/{name}.fail" 2>/dev/null || echo 0)
if [ "$left" -gt 0 ]; then
    echo $((left - 1)) > "$STUB_DIR/{name}.fail"
    exit 1
fi
{on_success}
exit 0
"""
# curl "downloads" the rpm: writes the file named after --output.
CURL_SUCCESS = """while [ $# -gt 0 ]; do
    if [ "$1" = "--output" ]; then echo rpm > "$2"; fi
    shift
done"""


class Instance:
    """A scratch directory standing in for the instance: stubs, console, temp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stubs = root / "bin"
        self.stubs.mkdir()
        self.console = root / "console"
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        for name in ("curl", "dnf", "systemctl", "sleep"):
            stub = self.stubs / name
            stub.write_text(STUB.format(name=name, on_success=CURL_SUCCESS if name == "curl" else ""))
            stub.chmod(0o755)

    def fail(self, command: str, times: int) -> None:
        (self.stubs / f"{command}.fail").write_text(str(times))

    def calls(self, command: str) -> list[str]:
        path = self.stubs / f"{command}.calls"
        return path.read_text().splitlines() if path.exists() else []

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        script = agent_user_data(SUPPORTED_OS["rhel-9"], REGION)
        assert script is not None
        (self.root / "user-data").write_text(script)
        environment = {
            "PATH": f"{self.stubs}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "STUB_DIR": str(self.stubs),
            "TMPDIR": str(self.tmp),
            "SSM_AGENT_INSTALL_CONSOLES": str(self.console),
            **env,
        }
        assert BASH is not None
        return subprocess.run(
            [BASH, str(self.root / "user-data")], env=environment, capture_output=True,
            text=True, timeout=60, check=False,
        )


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    return Instance(tmp_path)


def test_installs_from_the_regional_bucket_first_time(instance: Instance) -> None:
    result = instance.run()

    assert result.returncode == 0, result.stdout + result.stderr
    assert instance.calls("curl") and instance.calls("curl")[0].endswith(RPM_URL)
    rpm = instance.tmp / "amazon-ssm-agent.rpm"
    # --disablerepo: without a NAT the vendor repositories are unreachable.
    assert instance.calls("dnf") == [f"install -y --disablerepo=* {rpm}"]
    assert instance.calls("systemctl") == ["enable --now amazon-ssm-agent"]
    assert instance.calls("sleep") == []
    assert not instance.console.exists()


def test_a_blip_is_retried_with_exponential_backoff(instance: Instance) -> None:
    instance.fail("curl", 2)  # endpoint not answering yet
    instance.fail("dnf", 1)

    result = instance.run()

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(instance.calls("curl")) == 4  # 2 failed downloads, 1 failed install, 1 success
    assert len(instance.calls("dnf")) == 2
    assert instance.calls("systemctl") == ["enable --now amazon-ssm-agent"]
    assert instance.calls("sleep") == ["10", "20", "40"]
    assert "attempt 4 of 6" in result.stdout
    assert not instance.console.exists()


def test_a_failing_service_start_is_retried_too(instance: Instance) -> None:
    instance.fail("systemctl", 1)

    result = instance.run()

    assert result.returncode == 0
    assert len(instance.calls("systemctl")) == 2 and instance.calls("sleep") == ["10"]


def test_gives_up_after_six_attempts_with_a_console_marker(instance: Instance) -> None:
    instance.fail("curl", 100)

    result = instance.run()

    assert result.returncode != 0
    assert len(instance.calls("curl")) == 6
    assert instance.calls("dnf") == [] and instance.calls("systemctl") == []
    assert instance.calls("sleep") == ["10", "20", "40", "80", "160"]  # bounded: about 5 min
    (line,) = instance.console.read_text().splitlines()
    assert line.startswith(f"{AGENT_INSTALL_FAILURE_MARKER}: the download step failed 6 times")
    assert RPM_URL in line


def test_marker_names_the_failing_step(instance: Instance) -> None:
    instance.fail("dnf", 100)

    result = instance.run(SSM_AGENT_INSTALL_ATTEMPTS="3", SSM_AGENT_INSTALL_FIRST_DELAY="1")

    assert result.returncode != 0
    assert instance.calls("sleep") == ["1", "2"]
    assert instance.console.read_text().startswith(
        f"{AGENT_INSTALL_FAILURE_MARKER}: the install step failed 3 times"
    )


def test_fleetctl_looks_for_the_marker_the_script_writes() -> None:
    """fleetctl does not import the program (Pulumi is heavy to load): the copies must agree."""
    assert CHECKED_MARKER == AGENT_INSTALL_FAILURE_MARKER
    assert frozenset(
        key for key, os_ in SUPPORTED_OS.items() if not os_.agent_preinstalled
    ) == USER_DATA_AGENT_OS
