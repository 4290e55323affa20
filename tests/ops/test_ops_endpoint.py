"""The real CLI, in a subprocess, pointed at a local endpoint through the standard
``AWS_ENDPOINT_URL_EC2`` / ``AWS_ENDPOINT_URL_SSM`` variables (botocore-native overrides),
including one throttled call that the standard retry mode absorbs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from ops_fakes import (
    ASSOCIATION_ID,
    NOW,
    application_entries,
    association_description,
    compliance_summary,
    execution,
    execution_target,
    inventory_entity,
    node,
)
from ops_server import REPO, FakeAws, clean_env, ec2_instances_xml

IDS = ["i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"]
PROFILE = "arn:aws:iam::123456789012:instance-profile/fleet"
TAGS = {"Environment": "OELabIPM", "Workload": "Test"}


def queue_fleet(fake: FakeAws) -> None:
    fake.add(
        "DescribeInstances",
        ec2_instances_xml(
            [
                {"id": i, "profile": PROFILE, "tags": {**TAGS, "Name": f"Test-Web{n}"}}
                for n, i in enumerate(IDS, 1)
            ]
        ),
    )
    fake.add("DescribeInstanceInformation", (400, "ThrottlingException", "Rate exceeded"))
    fake.add("DescribeInstanceInformation", {"InstanceInformationList": [node(i) for i in IDS]})
    fake.add(
        "ListAssociations",
        {
            "Associations": [
                {"AssociationId": ASSOCIATION_ID, "AssociationName": "InventoryAllInstances-Test"}
            ]
        },
    )
    fake.add("DescribeAssociation", association_description(counts={"Success": 2}))
    fake.add("DescribeAssociationExecutions", {"AssociationExecutions": [execution()]})
    fake.add(
        "DescribeAssociationExecutionTargets",
        {"AssociationExecutionTargets": [execution_target(i) for i in IDS]},
    )
    # one ListInventoryEntries per instance (GetInventory refuses AWS:Application); the two
    # answers are alike, so the order the concurrent reads take them in does not matter
    for instance_id in IDS:
        fake.add(
            "ListInventoryEntries",
            application_entries(instance_id, [("amazon-ssm-agent", "3.3.987.0")], NOW - timedelta(minutes=5)),
        )
    fake.add(
        "ListResourceComplianceSummaries",
        {"ResourceComplianceSummaryItems": [compliance_summary(i) for i in IDS]},
    )


def run(args: list[str], fake: FakeAws, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_EC2=fake.url,
        AWS_ENDPOINT_URL_SSM=fake.url,
    )
    return subprocess.run(
        [sys.executable, "-m", "fleetctl", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_end_to_end_through_endpoint_override(tmp_path: Path) -> None:
    with FakeAws() as fake:
        queue_fleet(fake)
        result = run(["check", "--workload", "Test", "--json"], fake, tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert [r["instance_id"] for r in report["instances"]] == IDS
    assert {r["instance_profile_arn"] for r in report["instances"]} == {PROFILE}
    assert fake.ops() == [
        "DescribeInstances",
        "DescribeInstanceInformation",  # throttled
        "DescribeInstanceInformation",  # retried
        "ListAssociations",
        "DescribeAssociation",
        "DescribeAssociationExecutions",
        "DescribeAssociationExecutionTargets",
        "ListInventoryEntries",
        "ListInventoryEntries",
        "ListResourceComplianceSummaries",
    ]
    assert sorted(
        (p["InstanceId"], p["TypeName"], p["MaxResults"])
        for op, p in fake.requests
        if op == "ListInventoryEntries"
    ) == [(i, "AWS:Application", 1) for i in IDS]
    assert all(r["application_capture_time"] for r in report["instances"])
    ec2_request = fake.requests[0][1]
    assert ec2_request["Filter.1.Name"] == "tag:Environment"
    assert ec2_request["Filter.2.Name"] == "tag:Workload"
    assert ec2_request["Filter.2.Value.1"] == "Test"


def test_inventory_query_end_to_end(tmp_path: Path) -> None:
    with FakeAws() as fake:
        fake.add(
            "DescribeInstances",
            ec2_instances_xml([{"id": i, "tags": {**TAGS, "Name": "Test-Web"}} for i in IDS]),
        )
        # the default result type, narrowed to the nodes with an nginx entry
        fake.add("GetInventory", {"Entities": [inventory_entity(IDS[1])]})
        fake.add("ListInventoryEntries", application_entries(IDS[1], [("nginx", "1.24.0")]))
        result = run(["inventory", "query", "--workload", "Test", "--name-filter", "nginx"], fake, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "nginx" in result.stdout and "1.24.0" in result.stdout
    assert f"No match on: {IDS[0]}" in result.stdout
    assert "Read with ListInventoryEntries, one call per managed node (1 node(s))." in result.stdout
    nginx = {"Key": "AWS:Application.Name", "Values": ["nginx"], "Type": "BeginWith"}
    get_inventory = dict(fake.requests)["GetInventory"]
    assert "ResultAttributes" not in get_inventory  # AWS:InstanceInformation, the default
    assert get_inventory["Filters"][1] == nginx
    assert dict(fake.requests)["ListInventoryEntries"] == {
        "InstanceId": IDS[1], "TypeName": "AWS:Application", "MaxResults": 50, "Filters": [nginx],
    }
