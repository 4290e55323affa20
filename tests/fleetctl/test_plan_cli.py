"""``fleetctl plan`` as a process: exit codes, errors on stderr, human output, graph files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fleetctl.conftest import DEV_POLICY, PROD_POLICY, fleetctl, make_project, plan_in_process

STAGING = {
    "aws:region": "us-east-1",
    "ssm-inventory:workload": "Staging",  # not in the packs' Workload allow-list (Test, Prod)
    "ssm-inventory:inventory": {"associationName": "InventoryAllInstances-Staging"},
    "ssm-inventory:tags": {"Owner": "platform-team"},
}


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("staging"), "staging", STAGING)


def test_mandatory_violation_exits_1(staging: Path) -> None:
    result = fleetctl("plan", "--stack", "staging", "--project-dir", str(staging),
                      "--policy-config", str(PROD_POLICY), "--json")
    assert result.code == 1, result.stderr
    doc = result.doc
    policy = doc["policy"]
    assert policy["evaluated"] is True and policy["passed"] is False
    bad = [v for v in policy["violations"] if v["policy"] == "allowed-tag-values"]
    assert bad and all(v["level"] == "mandatory" for v in bad)
    assert all("Staging" in v["message"] for v in bad)
    # Every taggable custom resource carries Workload=Staging, so each one is reported.
    instances = {r["urn"] for r in doc["resources"] if r["type"] == "aws:ec2/instance:Instance"}
    assert instances <= {v["urn"] for v in bad}


def test_same_stack_under_advisory_config_exits_0_and_still_reports(staging: Path) -> None:
    result = fleetctl("plan", "--stack", "staging", "--project-dir", str(staging),
                      "--policy-config", str(DEV_POLICY), "--json")
    assert result.code == 0, result.stderr
    policy = result.doc["policy"]
    assert policy["passed"] is True
    levels = {v["level"] for v in policy["violations"] if v["policy"] == "allowed-tag-values"}
    assert levels == {"advisory"}


def test_human_output_groups_the_violations_by_level(staging: Path) -> None:
    result = fleetctl("plan", "--stack", "staging", "--project-dir", str(staging),
                      "--policy-config", str(PROD_POLICY))
    assert result.code == 1
    out = result.stdout
    assert "Policy: FAILED: 20 mandatory violations (ssm-fleet-guard, config " in out
    assert "mandatory (20)" in out
    # The description once, then the findings, grouped by message, naming the resources.
    assert out.count("Tag values are drawn from the configured allow-lists") == 1
    assert "allowed-tag-values (20): Tag values are drawn" in out
    assert ("fleet-app1, fleet-app2, fleet-sg and 17 more: "
            "Tag 'Workload' is 'Staging'; allowed: Test, Prod.") in out
    # ... and where the verdict is decided.
    assert "decided by " in out and "prod.json: allowed-tag-values.allowedValues.Workload" in out


def test_no_policy_skips_the_gate(staging: Path) -> None:
    code, out = plan_in_process("--stack", "staging", "--project-dir", str(staging), "--no-policy", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["policy"] == {"evaluated": False, "pack": None, "config": None, "passed": None,
                             "violations": []}
    assert len([r for r in doc["resources"] if r["custom"]]) == 23  # same shape as dev


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"ssm-inventory:workload": "Test", "ssm-inventory:azCount": 9}, "ssm-inventory:azCount"),
        ({"ssm-inventory:workload": "Test", "ssm-inventory:vpcCidr": "8.8.0.0/16"}, "ssm-inventory:vpcCidr"),
        ({"ssm-inventory:azCount": 2}, "ssm-inventory:workload"),
        ({"ssm-inventory:workload": "Test", "ssm-inventory:fleet": [{"role": "Web", "count": 1001}]},
         "ssm-inventory:fleet[0].count"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, config: dict[str, object], key: str) -> None:
    project = make_project(tmp_path, "bad", {"aws:region": "us-east-1", **config})
    result = fleetctl("plan", "--stack", "bad", "--project-dir", str(project))
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid stack config")
    assert key in result.stderr
    assert "Traceback" not in result.stderr


def test_config_override_error_names_the_key() -> None:
    result = fleetctl("plan", "--stack", "dev", "--config", "aws:region=eu-west-1", "--config", "azCount=4")
    assert result.code == 2
    assert "ssm-inventory:azCount: 4 AZs requested but the region has 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_stack_exits_2() -> None:
    result = fleetctl("plan", "--stack", "nope", "--no-policy")
    assert result.code == 2
    assert result.stderr.strip().startswith("error: stack 'nope' has no Pulumi.nope.yaml")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("raise KeyError('subnetIds')\n", "program failed: KeyError: 'subnetIds'"),
        (
            "import pulumi\n"
            "import pulumi_aws as aws\n"
            "vpc = aws.ec2.Vpc('v', cidr_block='10.0.0.0/16')\n"
            "pulumi.export('x', vpc.id.apply(lambda i: int(i)))\n",
            "program failed: ValueError: invalid literal for int()",
        ),
    ],
)
def test_program_error_exits_2_without_traceback(tmp_path: Path, program: str, expected: str) -> None:
    project = make_project(tmp_path, "dev", {"ssm-inventory:workload": "Test"}, program=program)
    result = fleetctl("plan", "--stack", "dev", "--project-dir", str(project), "--no-policy")
    assert result.code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_human_output_for_dev() -> None:
    result = fleetctl("plan", "--stack", "dev")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "Plan ssm-inventory/dev (us-east-1): 27 resources to create in 7 components" in out
    for name in ("network-vpc", "ssm-endpoints-ssm", "managed-instances-profile", "fleet-web1",
                 "inventory-association"):
        assert name in out
    assert "Name=Test-Web1" in out
    assert "Resources by type" in out
    assert "Estimated critical path: 3m21s" in out
    assert "Policy: passed, no findings (ssm-fleet-guard, config policy/config/dev.json)" in out
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("suffix", [".mmd", ".dot", ".svg"])
def test_graph_files(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"dev{suffix}"
    code, _ = plan_in_process("--stack", "dev", "--no-policy", "--json", "--graph", str(target))
    assert code == 0
    text = target.read_text()
    if suffix == ".mmd":
        assert text.startswith("flowchart LR")
        assert 'subgraph n' in text and '["fleet-web1<br/>aws:ec2/instance:Instance"]' in text
        assert "==>" in text  # the critical path is drawn bold
    elif suffix == ".dot":
        assert text.startswith('digraph "ssm-inventory-dev"')
        assert "cluster_" in text and 'label="fleet-web1\\naws:ec2/instance:Instance"' in text
        assert text.count("->") >= 40
    else:
        root = ET.fromstring(text)
        ns = "{http://www.w3.org/2000/svg}"
        labels = [t.text for t in root.iter(f"{ns}text")]
        assert "fleet-web1" in labels and "network-vpc" in labels
        assert len(list(root.iter(f"{ns}rect"))) == 27  # one box per custom resource


def test_graph_with_unknown_suffix_exits_2(tmp_path: Path) -> None:
    result = fleetctl("plan", "--stack", "dev", "--no-policy", "--graph", str(tmp_path / "g.png"))
    assert result.code == 2
    assert "--graph" in result.stderr and ".mmd" in result.stderr


def test_missing_policy_config_exits_2(tmp_path: Path) -> None:
    result = fleetctl("plan", "--stack", "dev", "--policy-config", str(tmp_path / "none.json"))
    assert result.code == 2
    assert "none.json" in result.stderr and "Traceback" not in result.stderr
