"""``fleetctl compliance evaluate`` and ``report``: the real CLI in a subprocess against the local
SSM endpoint (``AWS_ENDPOINT_URL_SSM``), asserting the exact PutComplianceItems payloads and the
exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from fleetctl.compliance.aws import content_hash

# These tests queue batched GetInventory answers (AWS:Application as the result type), which
# the real service refuses: they opt in to the permissive stand-in. The refused path (one
# ListInventoryEntries per node) is tested in test_compliance_aws.py and
# test_compliance_scale.py.
from tests.compliance.sw_fakes import TAG_FILTERS, app, entity, iid, node, summary
from tests.ops.ops_server import REPO, FakeAws, clean_env

POLICY = {
    "rules": [
        {
            "id": "ssm-agent-minimum",
            "kind": "required",
            "name": "amazon-ssm-agent",
            "versions": ">=3.3.40.0",
            "platforms": ["Linux"],
            "severity": "HIGH",
        },
        {"id": "no-telnet-server", "kind": "forbidden", "name": "telnet-server", "severity": "CRITICAL"},
    ]
}
AGENT_TITLE = "required amazon-ssm-agent >=3.3.40.0"
TELNET_TITLE = "forbidden telnet-server"
NO_INVENTORY = (
    "no AWS:Application inventory for this node yet (the inventory association has not "
    "reported it): not judged, never compliant"
)
GOOD = [app("amazon-ssm-agent", "3.3.987.0", "1.amzn2023")]
BAD = [app("amazon-ssm-agent", "3.2.582.0", "1"), app("telnet-server", "0.17", "85.amzn2023", epoch="1")]


def run(tmp_path: Path, fake: FakeAws, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_SSM=fake.url,
        AWS_ENDPOINT_URL_EC2=fake.url,
    )
    return subprocess.run(
        [sys.executable, "-m", "fleetctl", "compliance", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def policy_file(tmp_path: Path, policy: dict[str, Any] = POLICY) -> str:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return str(path)


def puts(fake: FakeAws) -> list[dict[str, Any]]:
    return sorted((p for op, p in fake.requests if op == "PutComplianceItems"), key=lambda p: p["ResourceId"])


def expected_put(instance_id: str, items: list[dict[str, Any]], sent: dict[str, Any]) -> dict[str, Any]:
    """The payload for ``items``; the run's own execution id and time are taken from ``sent``
    (checked separately: one UUID and one time for the whole run)."""
    return {
        "ResourceId": instance_id,
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:SoftwarePolicy",
        "ExecutionSummary": {
            "ExecutionTime": sent["ExecutionSummary"]["ExecutionTime"],
            "ExecutionId": sent["ExecutionSummary"]["ExecutionId"],
            "ExecutionType": "Custom:SoftwarePolicy",
        },
        "Items": items,
        "ItemContentHash": content_hash(items),
        "UploadType": "COMPLETE",
    }


def test_evaluate_put_writes_one_complete_upload_per_node_and_exits_1(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add(
            "DescribeInstanceInformation",
            {
                "InstanceInformationList": [
                    node(iid(1)),
                    node(iid(2)),
                    node(iid(3), "Windows", "Microsoft Windows Server 2022 Datacenter"),
                ]
            },
        )
        fake.add("GetInventory", {"Entities": [entity(iid(1), GOOD), entity(iid(2), BAD)]})
        for _ in range(3):
            fake.add("PutComplianceItems", {})
        done = run(
            tmp_path,
            fake,
            "evaluate",
            "--workload",
            "Test",
            "--policy",
            policy_file(tmp_path),
            "--put",
            "--json",
        )

    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert fake.ops()[:2] == ["DescribeInstanceInformation", "GetInventory"]
    assert fake.requests[0][1] == {"Filters": TAG_FILTERS, "MaxResults": 50}
    sent = puts(fake)
    assert [p["ResourceId"] for p in sent] == [iid(1), iid(2), iid(3)]
    assert sent[0] == expected_put(
        iid(1),
        [
            {
                "Id": "ssm-agent-minimum",
                "Title": AGENT_TITLE,
                "Severity": "HIGH",
                "Status": "COMPLIANT",
                "Details": {
                    "Constraint": ">=3.3.40.0",
                    "Found": "amazon-ssm-agent 3.3.987.0-1.amzn2023",
                    "Ordering": "rpm",
                    "Result": "installed: amazon-ssm-agent 3.3.987.0-1.amzn2023 satisfies "
                    "amazon-ssm-agent >=3.3.40.0",
                },
            },
            {
                "Id": "no-telnet-server",
                "Title": TELNET_TITLE,
                "Severity": "CRITICAL",
                "Status": "COMPLIANT",
                "Details": {"Result": "telnet-server is not installed"},
            },
        ],
        sent[0],
    )
    assert sent[1] == expected_put(
        iid(2),
        [
            {
                "Id": "ssm-agent-minimum",
                "Title": AGENT_TITLE,
                "Severity": "HIGH",
                "Status": "NON_COMPLIANT",
                "Details": {
                    "Constraint": ">=3.3.40.0",
                    "Found": "amazon-ssm-agent 3.2.582.0-1",
                    "Ordering": "rpm",
                    "Result": "no installed version satisfies amazon-ssm-agent >=3.3.40.0",
                },
            },
            {
                "Id": "no-telnet-server",
                "Title": TELNET_TITLE,
                "Severity": "CRITICAL",
                "Status": "NON_COMPLIANT",
                "Details": {
                    "Found": "telnet-server 1:0.17-85.amzn2023",
                    "Ordering": "rpm",
                    "Result": "forbidden telnet-server is installed: telnet-server 1:0.17-85.amzn2023",
                },
            },
        ],
        sent[1],
    )
    # no inventory: reported and written, never COMPLIANT
    assert sent[2] == expected_put(
        iid(3),
        [
            {
                "Id": "ssm-agent-minimum",
                "Title": AGENT_TITLE,
                "Severity": "HIGH",
                "Status": "NON_COMPLIANT",
                "Details": {"Result": NO_INVENTORY},
            },
            {
                "Id": "no-telnet-server",
                "Title": TELNET_TITLE,
                "Severity": "CRITICAL",
                "Status": "NON_COMPLIANT",
                "Details": {"Result": NO_INVENTORY},
            },
        ],
        sent[2],
    )
    # one execution for the whole run: a UUID and one time
    assert len({p["ExecutionSummary"]["ExecutionId"] for p in sent}) == 1
    assert uuid.UUID(sent[0]["ExecutionSummary"]["ExecutionId"])
    assert len({p["ExecutionSummary"]["ExecutionTime"] for p in sent}) == 1

    report = json.loads(done.stdout)
    assert report["schema"] == "fleetctl.compliance-evaluate/1"
    assert (report["exit_code"], report["compliant"], report["put"]) == (1, False, True)
    assert report["without_inventory"] == [iid(3)]
    assert report["inventory_source"] == "GetInventory"
    assert [i["compliant"] for i in report["instances"]] == [True, False, False]
    assert report["execution_id"] == sent[0]["ExecutionSummary"]["ExecutionId"]
    assert [p["error"] for p in report["puts"]] == [None, None, None]


def test_evaluate_of_a_compliant_fleet_exits_0_and_writes_nothing_without_put(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1))]})
        fake.add("GetInventory", {"Entities": [entity(iid(1), GOOD)]})
        done = run(tmp_path, fake, "evaluate", "--workload", "Test", "--policy", policy_file(tmp_path))

    assert done.returncode == 0, done.stderr
    assert fake.ops() == ["DescribeInstanceInformation", "GetInventory"]
    assert "1 compliant, 0 non-compliant" in done.stdout


def test_evaluate_prints_who_breaks_which_rule(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(2))]})
        fake.add("GetInventory", {"Entities": [entity(iid(2), BAD)]})
        done = run(tmp_path, fake, "evaluate", "--workload", "Test", "--policy", policy_file(tmp_path))

    assert done.returncode == 1
    assert iid(2) in done.stdout
    assert "no-telnet-server" in done.stdout and "forbidden telnet-server is installed" in done.stdout
    assert "0 compliant, 1 non-compliant (0 without inventory yet)" in done.stdout


def test_evaluate_reads_the_policy_from_the_stack_file(tmp_path: Path) -> None:
    """--stack dev without a Pulumi CLI: workload, environment and softwarePolicy from
    Pulumi.dev.yaml through the program's config model; its rules are what is written."""
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1))]})
        fake.add("GetInventory", {"Entities": [entity(iid(1), GOOD)]})
        fake.add("PutComplianceItems", {})
        done = run(tmp_path, fake, "evaluate", "--stack", "dev", "--region", "us-east-1", "--put", "--json")

    assert done.returncode == 0, done.stderr
    (sent,) = puts(fake)
    assert [item["Id"] for item in sent["Items"]] == ["ssm-agent-minimum", "no-telnet-server"]
    assert json.loads(done.stdout)["selector"] == {"Environment": "OELabIPM", "Workload": "Test"}


def test_a_refused_write_is_exit_2_with_one_line_per_node(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1))]})
        fake.add("GetInventory", {"Entities": [entity(iid(1), GOOD)]})
        fake.add("PutComplianceItems", (400, "AccessDeniedException", "no"))
        done = run(
            tmp_path, fake, "evaluate", "--workload", "Test", "--policy", policy_file(tmp_path), "--put"
        )

    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"fleetctl: error: {iid(1)}: access denied: the caller is not allowed ssm:PutComplianceItems (no)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--workload", "Test"],
            "no software policy: pass --stack NAME (its softwarePolicy) or --policy FILE",
        ),
        (["--workload", "Test", "--policy", "missing.json"], "--policy missing.json: no such file"),
    ],
)
def test_usage_errors_are_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        done = run(tmp_path, fake, "evaluate", *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == f"fleetctl: error: {message}"
    assert fake.requests == []


def test_a_bad_policy_file_names_the_rule_and_key(tmp_path: Path) -> None:
    bad = {"rules": [{"id": "x", "kind": "required", "name": "bash", "versions": ">=banana!"}]}
    with FakeAws(accept_any_result_type=True) as fake:
        done = run(tmp_path, fake, "evaluate", "--workload", "Test", "--policy", policy_file(tmp_path, bad))
    assert done.returncode == 2
    assert done.stderr.startswith(f"fleetctl: error: --policy {tmp_path / 'policy.json'}: rules[0].versions:")
    assert "Traceback" not in done.stderr


# --- report -----------------------------------------------------------------------------------


def queue_report(fake: FakeAws) -> None:
    fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1)), node(iid(2))]})
    fake.add(
        "ListResourceComplianceSummaries",
        {
            "ResourceComplianceSummaryItems": [
                summary(iid(1), "Association", "COMPLIANT"),
                summary(iid(1), "Patch", "NON_COMPLIANT", {"MediumCount": 2}),
                summary(
                    "i-0ffffffffffffffff", "Patch", "NON_COMPLIANT", {"CriticalCount": 9}
                ),  # not this fleet
            ],
            "NextToken": "p2",
        },
    )
    fake.add(
        "ListResourceComplianceSummaries",
        {
            "ResourceComplianceSummaryItems": [
                summary(iid(2), "Custom:SoftwarePolicy", "NON_COMPLIANT", {"LowCount": 1}),
            ]
        },
    )


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("CRITICAL", 0), ("HIGH", 0), ("MEDIUM", 1), ("low", 1), ("UNSPECIFIED", 1), ("NONE", 0)],
)
def test_report_fails_at_or_above_the_severity(tmp_path: Path, fail_on: str, code: int) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        queue_report(fake)
        done = run(tmp_path, fake, "report", "--workload", "Test", "--fail-on", fail_on, "--json")

    assert done.returncode == code, done.stderr
    report = json.loads(done.stdout)
    assert report["exit_code"] == code
    assert [(i["instance_id"], [c["type"] for c in i["compliance"]]) for i in report["instances"]] == [
        (iid(1), ["Association", "Patch"]),
        (iid(2), ["Custom:SoftwarePolicy"]),
    ]
    assert [p for op, p in fake.requests if op == "ListResourceComplianceSummaries"] == [
        {"MaxResults": 50},
        {"MaxResults": 50, "NextToken": "p2"},
    ]


def test_report_without_fail_on_fails_on_any_non_compliance(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        queue_report(fake)
        done = run(tmp_path, fake, "report", "--workload", "Test")
    assert done.returncode == 1
    assert "Custom:SoftwarePolicy" in done.stdout and "LOW 1" in done.stdout


def test_report_of_one_type_counts_nodes_without_it(tmp_path: Path) -> None:
    """--type Custom:SoftwarePolicy: a node never evaluated has no data of the type, which is
    not compliance."""
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1)), node(iid(2))]})
        fake.add(
            "ListResourceComplianceSummaries",
            {"ResourceComplianceSummaryItems": [summary(iid(2), "Custom:SoftwarePolicy", "COMPLIANT")]},
        )
        done = run(
            tmp_path, fake, "report", "--workload", "Test", "--type", "Custom:SoftwarePolicy", "--json"
        )

    assert done.returncode == 1
    assert json.loads(done.stdout)["missing"] == [iid(1)]
    assert fake.requests[1][1] == {
        "Filters": [{"Key": "ComplianceType", "Values": ["Custom:SoftwarePolicy"], "Type": "EQUAL"}],
        "MaxResults": 50,
    }


def test_report_of_a_compliant_fleet_exits_0(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(iid(1))]})
        fake.add(
            "ListResourceComplianceSummaries",
            {
                "ResourceComplianceSummaryItems": [
                    summary(iid(1), "Association", "COMPLIANT"),
                    summary(iid(1), "Custom:SoftwarePolicy", "COMPLIANT"),
                ]
            },
        )
        done = run(tmp_path, fake, "report", "--workload", "Test", "--type", "Custom:SoftwarePolicy")
    assert done.returncode == 0, done.stderr


def test_report_refuses_a_malformed_type(tmp_path: Path) -> None:
    with FakeAws(accept_any_result_type=True) as fake:
        done = run(tmp_path, fake, "report", "--workload", "Test", "--type", "Custom:")
    assert done.returncode == 2
    assert "not a compliance type" in done.stderr
    assert fake.requests == []


def test_a_fleet_without_managed_nodes_is_not_compliant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing judged is not compliance: exit 1, and nothing is written."""
    from fleetctl.cli import main
    from tests.compliance.sw_fakes import fake_credentials

    fake_credentials(monkeypatch, tmp_path)
    with FakeAws(accept_any_result_type=True) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", fake.url)
        fake.add("DescribeInstanceInformation", {"InstanceInformationList": []})
        code = main(
            ["compliance", "evaluate", "--workload", "Test", "--policy", policy_file(tmp_path), "--put"]
        )

    assert code == 1
    assert fake.ops() == ["DescribeInstanceInformation"]
    assert "no managed node carries these tags: nothing was judged" in capsys.readouterr().out
