"""A stack whose fleet groups are Auto Scaling groups passes the pack through the protocol
(prod config), and seeded mutations of its launch templates and groups are each caught."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fleetctl.plan.analyzer_client import PolicyPackServer, load_config_file, mandatory
from fleetctl.plan.mockrun import RecordedResource, Recording, run_program
from tests.policy.test_e2e import PACK_DIR, _both, _first, _summary, deprecated_policy

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"
FLEET = [
    {"role": "WebServer", "count": 3, "mode": "autoscaling", "minCount": 1, "maxCount": 10},
    {"role": "AppServer", "count": 2, "mode": "autoscaling", "os": "rhel-9"},
]


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[PolicyPackServer]:
    config = load_config_file(PACK_DIR / "config" / "prod.json")
    with PolicyPackServer(PACK_DIR, config, project="ssm-inventory", stack="prod") as server:
        yield server


@pytest.fixture(scope="module")
def scaled() -> Recording:
    return run_program("dev", overrides={"fleet": FLEET, "natGateway": True})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_autoscaling_stack_passes_under_prod_config(stack: str,
                                                    prod_pack: PolicyPackServer) -> None:
    recording = run_program(stack, overrides={"fleet": FLEET, "natGateway": True})
    assert len(recording.by_type(GROUP)) == 2
    diagnostics = prod_pack.check(recording.resources)
    assert diagnostics == [], _summary(diagnostics)


Mutation = Callable[[list[RecordedResource]], str]


def _template(resources: list[RecordedResource], update: Callable[[dict[str, Any]], Any]) -> str:
    template = _first(resources, TEMPLATE)
    _both(template, update)
    return template.urn


def lt_imdsv1(resources: list[RecordedResource]) -> str:
    return _template(resources, lambda p: p["metadataOptions"].update(httpTokens="optional"))


def lt_public_ip(resources: list[RecordedResource]) -> str:
    return _template(resources, lambda p: p["networkInterfaces"][0].update(
        associatePublicIpAddress="true"))


def lt_key_pair(resources: list[RecordedResource]) -> str:
    return _template(resources, lambda p: p.update(keyName="lab-key"))


def lt_unencrypted(resources: list[RecordedResource]) -> str:
    return _template(resources, lambda p: p["blockDeviceMappings"][0]["ebs"].update(
        encrypted="false"))


def lt_no_profile(resources: list[RecordedResource]) -> str:
    return _template(resources, lambda p: p.pop("iamInstanceProfile"))


def lt_unsupported_ami(resources: list[RecordedResource]) -> str:
    debian = "/aws/service/debian/release/12/latest/amd64"
    return _template(resources, lambda p: [
        spec["tags"].update(AmiSsmParameter=debian) for spec in p["tagSpecifications"]
        if spec["resourceType"] == "instance"])


def deprecated_policy_on_template(resources: list[RecordedResource]) -> str:
    deprecated_policy(resources)  # the role loses its core policy: the template is named
    return _first(resources, TEMPLATE).urn


def unpropagated_workload(resources: list[RecordedResource]) -> str:
    group = _first(resources, GROUP)
    _both(group, lambda p: [tag.update(propagateAtLaunch=False) for tag in p["tags"]
                            if tag["key"] == "Workload"])
    return group.urn


def group_without_environment(resources: list[RecordedResource]) -> str:
    group = _first(resources, GROUP)
    _both(group, lambda p: p.update(tags=[t for t in p["tags"] if t["key"] != "Environment"]))
    return group.urn


MUTATIONS: list[tuple[Mutation, set[str]]] = [
    (lt_imdsv1, {"ec2-imdsv2-required"}),
    (lt_public_ip, {"ec2-no-public-ip"}),
    (lt_key_pair, {"ec2-no-key-pair"}),
    (lt_unencrypted, {"ebs-encrypted"}),
    (lt_no_profile, {"instance-has-profile"}),
    (lt_unsupported_ami, {"supported-os-ami"}),
    (deprecated_policy_on_template, {"no-deprecated-ssm-policy", "instance-role-ssm-core"}),
    (unpropagated_workload, {"autoscaling-propagates-inventory-tags"}),
    # The group's own Environment tag is required too, so both policies speak.
    (group_without_environment, {"autoscaling-propagates-inventory-tags", "required-tags"}),
]


@pytest.mark.parametrize("mutation, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_mutation_is_caught(mutation: Mutation, expected: set[str], scaled: Recording,
                            prod_pack: PolicyPackServer) -> None:
    resources = copy.deepcopy(scaled.resources)
    urn = mutation(resources)
    diagnostics = mandatory(prod_pack.check(resources))
    assert {d.policy_name for d in diagnostics} == expected, _summary(diagnostics)
    assert urn in {d.urn for d in diagnostics}
