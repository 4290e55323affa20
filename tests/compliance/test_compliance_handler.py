"""The Lambda entry point against the local SSM endpoint, configured as the stack configures
the function: environment variables and ``software_policy.json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fleetctl.compliance import handler as lambda_handler

# These tests queue batched GetInventory answers (AWS:Application as the result type), which
# the real service refuses: they opt in to the permissive stand-in. The refused path (one
# ListInventoryEntries per node) is tested in test_compliance_aws.py and
# test_compliance_scale.py.
from tests.compliance.sw_fakes import TAG_FILTERS, app, entity, fake_credentials, iid, node
from tests.ops.ops_server import REPO, FakeAws, clean_env

POLICY = {
    "rules": [
        {
            "id": "ssm-agent-minimum",
            "kind": "required",
            "name": "amazon-ssm-agent",
            "versions": ">=3.3.40.0",
            "severity": "HIGH",
        }
    ]
}
REQUEST_ID = "c0ffee00-1111-2222-3333-444455556666"


def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> Path:
    fake_credentials(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # what the Lambda runtime sets
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", url)
    monkeypatch.setenv("FLEET_WORKLOAD", "Test")
    monkeypatch.setenv("FLEET_ENVIRONMENT", "OELabIPM")
    policy = tmp_path / "software_policy.json"
    policy.write_text(json.dumps(POLICY))
    monkeypatch.setenv("SOFTWARE_POLICY_FILE", str(policy))
    return policy


def queue(fake: FakeAws, put_answer: Any = None) -> None:
    fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1)), node(iid(2))]})
    fake.add("GetInventory", {"Entities": [entity(iid(1), [app("amazon-ssm-agent", "3.3.987.0")])]})
    fake.add("PutComplianceItems", {})
    fake.add("PutComplianceItems", {} if put_answer is None else put_answer)


def test_handler_evaluates_and_writes_with_its_request_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        lambda_env(monkeypatch, tmp_path, fake.url)
        queue(fake)
        result = lambda_handler.handler({}, SimpleNamespace(aws_request_id=REQUEST_ID))

    assert result == {
        "selector": {"Environment": "OELabIPM", "Workload": "Test"},
        "instances": 2,
        "compliant": 1,
        "non_compliant": [iid(2)],
        "without_inventory": [iid(2)],
        "inventory_source": "GetInventory",
        "execution_id": REQUEST_ID,
        "puts": 2,
        "failed_puts": {},
    }
    assert fake.requests[0][1] == {"Filters": TAG_FILTERS, "MaxResults": 50}
    sent = sorted((p for op, p in fake.requests if op == "PutComplianceItems"), key=lambda p: p["ResourceId"])
    assert [p["ExecutionSummary"]["ExecutionId"] for p in sent] == [REQUEST_ID, REQUEST_ID]
    assert [[i["Status"] for i in p["Items"]] for p in sent] == [["COMPLIANT"], ["NON_COMPLIANT"]]
    assert {p["UploadType"] for p in sent} == {"COMPLETE"}


def test_a_failed_write_fails_the_invocation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        lambda_env(monkeypatch, tmp_path, fake.url)
        queue(fake, put_answer=(400, "InvalidResourceId", "gone"))
        with pytest.raises(
            RuntimeError, match=r"PutComplianceItems failed on 1 of 2 nodes: i-\w+: ssm:PutCompl"
        ):
            lambda_handler.handler({}, SimpleNamespace(aws_request_id=REQUEST_ID))
    assert [op for op, _ in fake.requests].count("PutComplianceItems") == 2  # the other node was written


def test_missing_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lambda_env(monkeypatch, tmp_path, "http://127.0.0.1:9")
    monkeypatch.delenv("FLEET_WORKLOAD")
    with pytest.raises(lambda_handler.HandlerConfigError, match="FLEET_WORKLOAD is not set"):
        lambda_handler.handler({}, SimpleNamespace(aws_request_id=REQUEST_ID))


def test_policy_file_defaults_to_the_package_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack puts software_policy.json beside fleetctl/ at the root of the archive."""
    monkeypatch.delenv("SOFTWARE_POLICY_FILE", raising=False)
    assert lambda_handler.PACKAGE_ROOT == REPO
    with pytest.raises(lambda_handler.HandlerConfigError, match=rf"{REPO}/software_policy.json not found"):
        lambda_handler.load_rules()


def test_a_bad_policy_file_names_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = lambda_env(monkeypatch, tmp_path, "http://127.0.0.1:9")
    policy.write_text(json.dumps({"rules": [{"id": "a", "kind": "sometimes", "name": "x"}]}))
    with pytest.raises(lambda_handler.HandlerConfigError, match=r"rules\[0\]\.kind"):
        lambda_handler.load_rules()


# The modules the Lambda package does not contain.
BLOCKER = """
import importlib.abc, sys
BLOCKED = ("pulumi", "pulumi_aws", "pydantic", "rich", "components",
           "fleetctl.ops", "fleetctl.compliance.cli")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} is not in the Lambda package")
        return None
sys.meta_path.insert(0, Block())
import json, types
from fleetctl.compliance.handler import handler
print(json.dumps(handler({}, types.SimpleNamespace(aws_request_id="req-1"))))
print(json.dumps(sorted(m for m in sys.modules if m.startswith("fleetctl"))))
"""


def test_handler_runs_without_the_cli_side_modules(tmp_path: Path) -> None:
    """In a process where pulumi, pydantic, rich, components, fleetctl.ops and the CLI cannot
    be imported, as in the function's package."""
    policy = tmp_path / "software_policy.json"
    policy.write_text(json.dumps(POLICY))
    with FakeAws(accept_any_result_type=True) as fake:
        queue(fake)
        env = clean_env(
            tmp_path,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL_SSM=fake.url,
            FLEET_WORKLOAD="Test",
            FLEET_ENVIRONMENT="OELabIPM",
            SOFTWARE_POLICY_FILE=str(policy),
        )
        done = subprocess.run(
            [sys.executable, "-c", BLOCKER],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert done.returncode == 0, done.stderr
    summary_line, modules_line = done.stdout.strip().splitlines()[-2:]
    assert json.loads(summary_line)["execution_id"] == "req-1"
    assert set(json.loads(modules_line)) == {
        "fleetctl",
        "fleetctl.compliance",
        "fleetctl.compliance.aws",
        "fleetctl.compliance.clients",
        "fleetctl.compliance.evaluate",
        "fleetctl.compliance.handler",
        "fleetctl.compliance.inventory",
        "fleetctl.compliance.model",
        "fleetctl.compliance.rules",
        "fleetctl.compliance.run",
        "fleetctl.compliance.versions",
    }
