"""Partitions: dev and prod deployed to GovCloud (us-gov-west-1) use GovCloud's ARNs, service
principals, endpoint service names, hostnames and Red Hat's GovCloud image account; the
partitions the program does not support (China, the ISO regions) stop with a config error
naming aws:region before anything is registered.

Sources: partitions, region patterns and DNS suffixes from the AWS SDK (botocore
data/partitions.json, which the mocks answer getPartition from); GovCloud keeps the commercial
service principals and ``com.amazonaws.<region>.<service>`` endpoint names and changes the ARN
partition to ``aws-us-gov`` (AWS GovCloud (US) User Guide, "Amazon Resource Names (ARNs) in
AWS GovCloud (US)" and "VPC endpoints"); Red Hat's image accounts: 309956199498 commercial,
219670896067 GovCloud (https://access.redhat.com/solutions/15356).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.config import ConfigError
from fleetctl.plan.analyzer_client import PolicyPackServer, load_config_file
from fleetctl.plan.mockrun import Recording, partial_recording, run_program
from fleetctl.plan.mocks import AwsMocks

GOV = "us-gov-west-1"
RHEL_COMMERCIAL, RHEL_GOVCLOUD = "309956199498", "219670896067"
PACK_DIR = Path(__file__).resolve().parents[1] / "policy"
ARN = re.compile(r"arn:[a-z\-]+:")


class RecordingMocks(AwsMocks):
    """The project's mocks, also keeping every invoke (token and arguments)."""

    def __init__(self, region: str) -> None:
        super().__init__(region=region)
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.invokes.append((args.token, dict(args.args)))
        return super().call(args)


def _run(stack: str, region: str) -> tuple[Recording, RecordingMocks]:
    mocks = RecordingMocks(region)
    fleet = [{"role": "WebServer", "count": 1}, {"role": "AppServer", "count": 1, "os": "rhel-9"}]
    recording = run_program(
        stack,
        # Patching is refused in GovCloud (components/patch_buckets.py: the user guide lists
        # no Patch Manager buckets there; test_patching_is_refused_in_govcloud).
        overrides={"aws:region": region, "ssm-inventory:fleet": fleet,
                   "ssm-inventory:operatorPolicy": "true",
                   "ssm-inventory:patching": {"enabled": False}},
        mocks=mocks,
    )
    return recording, mocks


@pytest.fixture(scope="module", params=["dev", "prod"])
def govcloud(request: pytest.FixtureRequest) -> tuple[Recording, RecordingMocks]:
    return _run(request.param, GOV)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a resource's properties, JSON documents (policies) opened up."""
    if isinstance(value, str):
        yield value
        if value.startswith("{"):  # the program's policy documents
            yield from _strings(json.loads(value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_arn_is_a_govcloud_arn(govcloud: tuple[Recording, RecordingMocks]) -> None:
    recording, _ = govcloud
    arns = [
        match
        for resource in recording.resources
        for text in _strings([resource.inputs, resource.outputs])
        for match in ARN.findall(text)
    ]
    arns += [m for text in _strings(recording.outputs) for m in ARN.findall(text)]
    assert arns and set(arns) == {"arn:aws-us-gov:"}


def test_the_ssm_core_policy_is_govclouds(govcloud: tuple[Recording, RecordingMocks]) -> None:
    recording, _ = govcloud
    [attachment] = recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == (
        "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore")


def _service_principals(value: Any) -> Iterator[str]:
    """Every ``Principal: {Service: ...}`` in the policy documents among the properties."""
    if isinstance(value, str) and value.startswith("{"):
        yield from _service_principals(json.loads(value))
    elif isinstance(value, dict):
        principal = value.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            service = principal["Service"]
            yield from [service] if isinstance(service, str) else service
        for item in value.values():
            yield from _service_principals(item)
    elif isinstance(value, list):
        for item in value:
            yield from _service_principals(item)


def test_service_principals(govcloud: tuple[Recording, RecordingMocks]) -> None:
    recording, _ = govcloud
    principals = {p for r in recording.resources for p in _service_principals(r.inputs)}
    expected = {"ec2.amazonaws.com"}  # the instance role's trust policy
    if recording.stack == "prod":  # the Resource Data Sync's bucket policy
        expected.add("ssm.amazonaws.com")
        expected.add("lambda.amazonaws.com")  # the software policy function's role
    assert principals == expected


def test_endpoint_service_names(govcloud: tuple[Recording, RecordingMocks]) -> None:
    recording, _ = govcloud
    names = [e.inputs["serviceName"] for e in recording.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    assert names and all(re.fullmatch(rf"com\.amazonaws\.{GOV}\.[a-z0-9]+", n) for n in names)


def test_agent_url_and_red_hat_image_account(govcloud: tuple[Recording, RecordingMocks]) -> None:
    recording, mocks = govcloud
    rhel = [i for i in recording.by_type("aws:ec2/instance:Instance") if i.inputs["tags"]["OS"] == "rhel-9"]
    assert len(rhel) == 1
    urls = re.findall(r"https://[^\s\"']+", rhel[0].inputs["userData"])
    # Every URL in the script (the download, and the marker line quoting it) is GovCloud's.
    assert urls and set(urls) == {f"https://s3.{GOV}.amazonaws.com/amazon-ssm-{GOV}/latest/linux_amd64/"
                                  "amazon-ssm-agent.rpm"}
    owners = [a["owners"] for token, a in mocks.invokes if token == "aws:ec2/getAmi:getAmi"]
    assert owners == [[RHEL_GOVCLOUD]]
    assert rhel[0].inputs["tags"]["AmiSsmParameter"] == f"ec2-image:{RHEL_GOVCLOUD}:RHEL-9"


def test_commercial_regions_keep_red_hats_commercial_account() -> None:
    recording, mocks = _run("dev", "eu-west-1")
    owners = [a["owners"] for token, a in mocks.invokes if token == "aws:ec2/getAmi:getAmi"]
    assert owners == [[RHEL_COMMERCIAL]]
    assert {m for r in recording.resources for t in _strings(r.inputs) for m in ARN.findall(t)} == {
        "arn:aws:"}


def test_govcloud_stacks_pass_the_policy_pack(govcloud: tuple[Recording, RecordingMocks]) -> None:
    """The pack's endpoint, IAM and bucket checks accept GovCloud's names and ARNs."""
    recording, _ = govcloud
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack=recording.stack) as pack:
        diagnostics = pack.check(recording.resources)
    assert [f"{d.policy_name}: {d.message}" for d in diagnostics] == []


@pytest.mark.parametrize(
    "region, partition", [("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
                          ("us-iso-east-1", "aws-iso")],
)
def test_unsupported_partitions_are_refused_before_anything_is_registered(
    region: str, partition: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"aws:region": region, "azCount": 1})
    assert str(caught.value) == (
        "invalid stack config:\n"
        f"  aws:region: {region} is in the {partition} partition, which this program does not "
        "support; supported: aws (the commercial regions) and aws-us-gov (us-gov-west-1, "
        "us-gov-east-1)"
    )
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_a_boundary_from_another_partition_is_refused() -> None:
    boundary = "arn:aws:iam::123456789012:policy/Boundary"
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"aws:region": GOV, "permissionsBoundary": boundary,
                                      "patching": {"enabled": False}})
    assert str(caught.value) == (
        "invalid stack config:\n"
        f"  ssm-inventory:permissionsBoundary: {boundary} is not an ARN of this stack's "
        "partition aws-us-gov (expected arn:aws-us-gov:...)"
    )
    recording = partial_recording(caught.value)
    assert recording is not None and len(recording.resources) == 1
    gov_boundary = "arn:aws-us-gov:iam::123456789012:policy/Boundary"
    recording = run_program("dev", overrides={"aws:region": GOV, "permissionsBoundary": gov_boundary,
                                              "patching": {"enabled": False}})
    [role] = recording.by_type("aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == gov_boundary


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_patching_is_refused_in_govcloud(stack: str) -> None:
    """The Patch Manager bucket table (user guide, "Reference: Amazon S3 buckets for
    patching operations") lists no GovCloud region: with patching on, the stack stops with
    one error naming both keys, before anything is registered."""
    with pytest.raises(ConfigError) as caught:
        run_program(stack, overrides={"aws:region": GOV})
    message = str(caught.value)
    assert f"aws:region: {GOV} has no Patch Manager buckets" in message
    assert "ssm-inventory:patching.enabled" in message
    recording = partial_recording(caught.value)
    assert recording is not None and [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]
