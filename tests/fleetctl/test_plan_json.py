"""``fleetctl plan --json`` of the real dev and prod stacks against what the program registers."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from fleetctl.plan.command import SCHEMA
from fleetctl.plan.mockrun import Recording

INSTANCE = "aws:ec2/instance:Instance"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _plan(stack: str, request: pytest.FixtureRequest) -> tuple[int, dict[str, Any], Recording]:
    code, doc = request.getfixturevalue(f"{stack}_plan")
    return code, doc, request.getfixturevalue(stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_json_lists_every_registration(stack: str, request: pytest.FixtureRequest) -> None:
    _, doc, rec = _plan(stack, request)
    assert doc["schema"] == SCHEMA
    assert (doc["project"], doc["stack"], doc["region"]) == ("ssm-inventory", stack, "us-east-1")
    by_urn = {r["urn"]: r for r in doc["resources"]}
    assert len(by_urn) == len(doc["resources"]) == len(rec.resources)
    assert set(by_urn) == {r.urn for r in rec.resources}
    for resource in rec.resources:
        entry = by_urn[resource.urn]
        assert entry["type"] == resource.type
        assert entry["name"] == resource.name
        assert entry["custom"] == resource.custom
        assert entry["parent"] == resource.parent
        assert entry["dependencies"] == sorted(set(resource.dependencies))
        assert entry["propertyDependencies"] == {
            k: sorted(set(v)) for k, v in resource.property_dependencies.items()
        }
        assert entry["inputs"] == resource.inputs
        assert entry["protect"] == resource.protect
        assert entry["retainOnDelete"] == resource.retain_on_delete
    assert doc["outputs"] == rec.outputs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_json_structure_is_what_the_program_builds(stack: str, request: pytest.FixtureRequest) -> None:
    """Facts about the program, independent of the recorder: the plan must show them."""
    _, doc, _ = _plan(stack, request)
    resources = doc["resources"]
    by_urn = {r["urn"]: r for r in resources}
    stack_entry = resources[0]
    assert stack_entry["type"] == "pulumi:pulumi:Stack" and stack_entry["parent"] is None
    assert stack_entry["name"] == f"ssm-inventory-{stack}"
    components = {r["name"]: r for r in resources if not r["custom"] and r["parent"]}
    core = {"network", "ssm-endpoints", "managed-instances", "fleet", "inventory", "operators"}
    assert core <= set(components)
    # prod's optional Resource Data Sync and report catalog, patching (both stacks), alerts and
    # the scheduled software policy (prod).
    assert set(components) - core <= {"reporting", "reporting-catalog", "patching", "alerts",
                                      "software-policy"}
    assert all(c["parent"] == stack_entry["urn"] for c in components.values())
    instances = [r for r in resources if r["type"] == INSTANCE]
    assert len(instances) == 4
    endpoints = {r["urn"] for r in resources if r["type"] == ENDPOINT}
    assert len(endpoints) == 5
    subnets = {r["urn"] for r in resources if r["type"] == "aws:ec2/subnet:Subnet"}
    for instance in instances:
        assert by_urn[instance["parent"]]["name"] == "fleet"
        assert endpoints <= set(instance["dependencies"])  # depends_on=[endpoints]
        assert set(instance["propertyDependencies"]["subnetId"]) <= subnets
        assert instance["inputs"]["metadataOptions"]["httpTokens"] == "required"
    assert set(doc["outputs"]["instanceIds"]) == {
        f"{doc['outputs']['workload']}-{role}{n}" for role in ("Web", "App") for n in (1, 2)
    }
    buckets = [r for r in resources if r["type"] == "aws:s3/bucket:Bucket"]
    if stack == "prod":
        (log_bucket,) = [b for b in buckets if b["name"] == "inventory-logs"]
        assert log_bucket["protect"] and log_bucket["retainOnDelete"]
    else:
        assert buckets == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_real_stacks_pass_policy(stack: str, request: pytest.FixtureRequest) -> None:
    code, doc, _ = _plan(stack, request)
    policy = doc["policy"]
    assert policy["evaluated"] is True
    assert policy["pack"] == "ssm-fleet-guard"
    assert policy["config"] == f"policy/config/{stack}.json"  # the default for the stack
    assert policy["passed"] is True
    assert [v for v in policy["violations"] if v["level"] == "mandatory"] == []
    assert code == 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_critical_path_runs_through_an_interface_endpoint_to_an_instance(
    stack: str, request: pytest.FixtureRequest
) -> None:
    _, doc, _ = _plan(stack, request)
    path = doc["criticalPath"]
    steps = path["steps"]
    types = [s["type"] for s in steps]
    # VPC (3 s) -> endpoint security group (3 s) -> interface endpoint (150 s) -> instance (45 s)
    assert types[:4] == ["aws:ec2/vpc:Vpc", "aws:ec2/securityGroup:SecurityGroup", ENDPOINT, INSTANCE]
    if stack == "dev":
        assert len(types) == 4 and path["totalSeconds"] == pytest.approx(201.0)
    else:
        # prod's alert rule matches the instance ids, then its target or the topic policy.
        assert types[4] == "aws:cloudwatch/eventRule:EventRule" and len(types) == 6
        assert types[5] in {"aws:cloudwatch/eventTarget:EventTarget", "aws:sns/topicPolicy:TopicPolicy"}
        assert path["totalSeconds"] == pytest.approx(205.0)
    by_urn = {r["urn"]: r for r in doc["resources"]}
    assert by_urn[steps[2]["urn"]]["inputs"]["vpcEndpointType"] == "Interface"
    for earlier, later in itertools.pairwise(steps):
        assert earlier["urn"] in by_urn[later["urn"]]["dependencies"]
        assert later["startSeconds"] == pytest.approx(earlier["finishSeconds"])
    assert steps[-1]["finishSeconds"] == pytest.approx(path["totalSeconds"])
