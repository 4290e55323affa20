"""The dev and prod stacks, recorded under mocks (parents, dependencies, inputs, outputs),
pass the pack through the protocol; seeded mutations of them are each caught."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetctl.plan.analyzer_client import (
    Diagnostic,
    PolicyPackServer,
    check_recording,
    load_config_file,
    mandatory,
)
from fleetctl.plan.mockrun import RecordedResource, Recording, run_program

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
INSTANCE = "aws:ec2/instance:Instance"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ASSOCIATION = "aws:ssm/association:Association"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SG = "aws:ec2/securityGroup:SecurityGroup"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
DEPRECATED = "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="prod") as server:
        yield server


@pytest.fixture(scope="module")
def dev_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "dev.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="dev") as server:
        yield server


def _summary(diagnostics: list[Diagnostic]) -> list[str]:
    return [f"{d.policy_name} {d.enforcement_level} {d.urn}: {d.message.splitlines()[-1]}"
            for d in diagnostics]


# -- the real stacks pass ------------------------------------------------------------------------

def test_recordings_carry_what_the_engine_sends(dev: Recording, prod: Recording) -> None:
    for recording in (dev, prod):
        instances = recording.by_type(INSTANCE)
        assert len(instances) == 4
        assert all(r.parent and r.dependencies for r in instances)
        assert all(r.property_dependencies.get("iamInstanceProfile") for r in instances)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_passes_under_prod_config(stack: str, dev: Recording, prod: Recording,
                                        prod_pack: PolicyPackServer) -> None:
    recording = dev if stack == "dev" else prod
    diagnostics = prod_pack.check(recording.resources)
    assert mandatory(diagnostics) == [], _summary(diagnostics)
    assert diagnostics == [], _summary(diagnostics)  # prod config: everything is mandatory


def test_dev_passes_under_dev_config(dev: Recording, dev_pack: PolicyPackServer) -> None:
    diagnostics = dev_pack.check(dev.resources)
    assert mandatory(diagnostics) == [], _summary(diagnostics)
    assert dev_pack.effective_config["required-tags"].enforcement_level == "advisory"


def test_check_recording_starts_its_own_pack(dev: Recording) -> None:
    assert check_recording(dev, load_config_file(PACK_DIR / "config" / "prod.json")) == []


def test_dev_with_nat_gateway_passes(prod_pack: PolicyPackServer) -> None:
    recording = run_program("dev", overrides={"natGateway": True})
    diagnostics = prod_pack.check(recording.resources)
    assert diagnostics == [], _summary(diagnostics)


@pytest.mark.parametrize("os", ["amazon-linux-2", "ubuntu-24.04", "ubuntu-22.04", "rhel-9", "windows-2022"])
def test_every_supported_os_passes(os: str, prod_pack: PolicyPackServer) -> None:
    # Ubuntu, RHEL and Windows patch from the internet: dev (patching on) needs a NAT for them.
    recording = run_program("dev", overrides={"fleet": [{"role": "WebServer", "count": 1, "os": os}],
                                              "natGateway": os != "amazon-linux-2"})
    diagnostics = prod_pack.check(recording.resources)
    assert diagnostics == [], _summary(diagnostics)


def test_workload_buckets_pass_the_s3_endpoint_check(prod_pack: PolicyPackServer) -> None:
    buckets = ["app-data", "reports.example.com"]
    recording = run_program("dev", overrides={"s3EndpointAllowedBuckets": buckets})
    diagnostics = prod_pack.check(recording.resources)
    assert diagnostics == [], _summary(diagnostics)


def test_prod_keeps_session_manager_so_dropping_ssmmessages_needs_the_pack_config(
        prod_pack: PolicyPackServer) -> None:
    """docs/deploying.md: prod.json keeps `sessionManager: true` on purpose (Session Manager
    replaces SSH, the fleet has no other way in); a stack that drops ssmmessages is blocked
    until its pack config sets `sessionManager: false`."""
    overrides = {"endpoints": ["ssm", "ec2messages", "ec2"]}
    recording = run_program("dev", overrides=overrides)
    blocked = mandatory(prod_pack.check(recording.resources))
    assert {d.policy_name for d in blocked} == {"private-subnet-ssm-endpoints"}, _summary(blocked)
    assert all("no interface endpoint for ssmmessages" in d.message for d in blocked)
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    config["private-subnet-ssm-endpoints"] = {**config["private-subnet-ssm-endpoints"],
                                              "sessionManager": False}
    assert check_recording(recording, config) == []


# -- seeded mutations are caught ---------------------------------------------------------------

Mutation = Callable[[list[RecordedResource]], str]  # mutates, returns the URN expected


def _both(resource: RecordedResource, update: Callable[[dict[str, Any]], None]) -> None:
    """Inputs feed Analyze, outputs feed AnalyzeStack: mutate them alike."""
    update(resource.inputs)
    update(resource.outputs)


def _first(resources: list[RecordedResource], type_: str,
           where: Callable[[RecordedResource], bool] = lambda r: True) -> RecordedResource:
    return next(r for r in resources if r.type == type_ and where(r))


def drop_tag(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)

    def update(props: dict[str, Any]) -> None:
        for key in ("tags", "tagsAll"):
            props.get(key, {}).pop("Workload", None)
    _both(web, update)
    return web.urn


def imdsv1(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: p["metadataOptions"].update(httpTokens="optional"))
    return web.urn


def public_ip(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: p.update(associatePublicIpAddress=True))
    return web.urn


def no_profile(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: p.pop("iamInstanceProfile"))
    return web.urn


def missing_endpoint(resources: list[RecordedResource]) -> str:
    endpoint = _first(resources, ENDPOINT,
                      lambda r: str(r.inputs.get("serviceName")).endswith(".ec2messages"))
    resources.remove(endpoint)
    return _first(resources, INSTANCE).urn


def deprecated_policy(resources: list[RecordedResource]) -> str:
    attachment = _first(resources, ATTACHMENT)
    _both(attachment, lambda p: p.update(policyArn=DEPRECATED))
    return attachment.urn


def ten_minute_schedule(resources: list[RecordedResource]) -> str:
    association = _first(resources, ASSOCIATION)
    _both(association, lambda p: p.update(scheduleExpression="rate(10 minutes)"))
    return association.urn


def world_ingress(resources: list[RecordedResource]) -> str:
    group = _first(resources, SG)
    rule = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
    _both(group, lambda p: p.setdefault("ingress", []).append(dict(rule)))
    return group.urn


def duplicate_association(resources: list[RecordedResource]) -> str:
    association = _first(resources, ASSOCIATION)
    twin = copy.deepcopy(association)
    twin.name, twin.urn = "inventory-twin", association.urn.replace(association.name,
                                                                    "inventory-twin")
    resources.append(twin)
    return twin.urn


def unencrypted_root(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: p["rootBlockDevice"].update(encrypted=False))
    return web.urn


def wrong_workload(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: [p[k].update(Workload="Staging") for k in ("tags", "tagsAll")
                          if k in p])
    return web.urn


def key_pair(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    _both(web, lambda p: p.update(keyName="lab-key"))
    return web.urn


def no_tls_policy(resources: list[RecordedResource]) -> str:
    policy = _first(resources, BUCKET_POLICY)
    resources.remove(policy)
    return _first(resources, "aws:s3/bucket:Bucket").urn


def unsupported_ami_source(resources: list[RecordedResource]) -> str:
    web = _first(resources, INSTANCE)
    debian = "/aws/service/debian/release/12/latest/amd64"
    _both(web, lambda p: [p[k].update(AmiSsmParameter=debian) for k in ("tags", "tagsAll")
                          if k in p])
    return web.urn


def s3_endpoint_wildcard(resources: list[RecordedResource]) -> str:
    s3 = _first(resources, ENDPOINT, lambda r: r.inputs.get("vpcEndpointType") == "Gateway")
    everything = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
                  '"Action": "s3:*", "Resource": "*"}]}')
    _both(s3, lambda p: p.update(policy=everything))
    return s3.urn


MUTATIONS: list[tuple[Mutation, set[str]]] = [
    (drop_tag, {"required-tags"}),
    (imdsv1, {"ec2-imdsv2-required"}),
    (public_ip, {"ec2-no-public-ip"}),
    (no_profile, {"instance-has-profile"}),
    (missing_endpoint, {"private-subnet-ssm-endpoints"}),
    (deprecated_policy, {"no-deprecated-ssm-policy", "instance-role-ssm-core"}),
    (ten_minute_schedule, {"ssm-association-schedule"}),
    (world_ingress, {"sg-no-world-ingress"}),
    (duplicate_association, {"single-inventory-association"}),
    (unencrypted_root, {"ebs-encrypted"}),
    (wrong_workload, {"allowed-tag-values"}),
    (key_pair, {"ec2-no-key-pair"}),
    (unsupported_ami_source, {"supported-os-ami"}),
    (s3_endpoint_wildcard, {"s3-endpoint-policy-scoped"}),
]


@pytest.mark.parametrize("mutation, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_mutation_is_caught(mutation: Mutation, expected: set[str], dev: Recording,
                            prod_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(dev.resources)
    urn = mutation(resources)
    diagnostics = mandatory(prod_pack.check(resources))
    assert {d.policy_name for d in diagnostics} == expected, _summary(diagnostics)
    assert urn in {d.urn for d in diagnostics}


def test_missing_tls_policy_is_caught_on_prod_bucket(prod: Recording,
                                                     prod_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(prod.resources)
    urn = no_tls_policy(resources)
    [diagnostic] = mandatory(prod_pack.check(resources))
    assert diagnostic.policy_name == "s3-bucket-hardening" and diagnostic.urn == urn
    assert "TLS-only policy" in diagnostic.message


def test_dev_config_advises_where_prod_blocks(dev: Recording,
                                              dev_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(dev.resources)
    drop_tag(resources)
    world_ingress(resources)
    levels = {d.policy_name: d.enforcement_level for d in dev_pack.check(resources)}
    assert levels == {"required-tags": "advisory", "sg-no-world-ingress": "mandatory"}


def test_dev_config_remediates_imdsv1_instead_of_blocking(dev: Recording,
                                                          dev_pack: PolicyPackServer) -> None:
    """The engine runs Remediate before Analyze; check() does the same."""
    resources = copy.deepcopy(dev.resources)
    urn = imdsv1(resources)
    diagnostics = dev_pack.check(resources)
    assert mandatory(diagnostics) == [], _summary(diagnostics)
    [fix] = [d for d in diagnostics if d.enforcement_level == "remediate"]
    assert fix.policy_name == "ec2-imdsv2-required" and fix.urn == urn
    # The stack policy side still sees the recorded (unremediated) outputs: nothing there
    # checks IMDS, so nothing else is reported.
    assert [d for d in diagnostics if d is not fix] == []


def test_dev_and_prod_in_one_account_keep_inventory_disjoint(
        dev: Recording, prod: Recording, prod_pack: PolicyPackServer) -> None:
    """Both stacks' resources as one set (one account and region): the two inventory
    associations target different Workload values, so no instance is inventoried twice."""
    together = [*dev.resources, *prod.resources[1:]]
    assert prod_pack.check(together) == []
    # Prod re-targeted at the Test workload would collide with dev's association.
    mutated = copy.deepcopy(together)
    association = next(r for r in mutated if r.type == ASSOCIATION and "prod" in r.urn)
    _both(association, lambda p: p["targets"][1].update(values=["Test"]))
    found = [d for d in mandatory(prod_pack.check(mutated))
             if d.policy_name == "single-inventory-association"]
    assert [d.urn for d in found] == [association.urn]


def test_bare_ami_id_is_advised_not_blocked_in_prod(dev: Recording,
                                                    prod_pack: PolicyPackServer) -> None:
    """What `aws.ec2.get_ami(...)` gives: an id and no AmiSsmParameter tag."""
    resources = copy.deepcopy(dev.resources)
    web = _first(resources, INSTANCE)
    _both(web, lambda p: [p[k].pop("AmiSsmParameter", None) for k in ("tags", "tagsAll") if k in p])
    diagnostics = prod_pack.check(resources)
    assert mandatory(diagnostics) == [], _summary(diagnostics)
    [advice] = diagnostics
    assert (advice.policy_name, advice.enforcement_level, advice.urn) == (
        "ami-os-identifiable", "advisory", web.urn)
