"""The critical path on small graphs whose answer is worked out by hand."""

from __future__ import annotations

import pytest

from fleetctl.plan.critical_path import (
    CREATE_SECONDS,
    DEFAULT_CREATE_SECONDS,
    GATEWAY_ENDPOINT_SECONDS,
    Node,
    create_seconds,
    critical_path,
    format_seconds,
)


def node(urn: str, seconds: float, *deps: str, custom: bool = True) -> Node:
    return Node(urn=urn, type=f"test:index:{urn}", name=urn, custom=custom,
                dependencies=tuple(deps), seconds=seconds)


def test_longest_weighted_chain_wins_over_the_longest_by_count() -> None:
    #   vpc(3) -> sg(3) -> endpoint(150) -> instance(45)           = 201
    #   role(3) -> attach(2) -> policy(2) -> profile(10) -> instance = 17 + 45 = 62
    #   vpc(3) -> subnet(2) -> instance                               = 50
    #   bucket(3) alone
    nodes = [
        node("vpc", 3), node("role", 3), node("bucket", 3),
        node("subnet", 2, "vpc"), node("sg", 3, "vpc"),
        node("attach", 2, "role"), node("policy", 2, "attach"), node("profile", 10, "policy", "role"),
        node("endpoint", 150, "vpc", "subnet", "sg"),
        node("instance", 45, "subnet", "endpoint", "profile"),
    ]
    path = critical_path(nodes)
    assert [s.urn for s in path.steps] == ["vpc", "sg", "endpoint", "instance"]
    assert path.total_seconds == 201
    assert [(s.start, s.finish) for s in path.steps] == [(0, 3), (3, 6), (6, 156), (156, 201)]


def test_components_weigh_nothing_but_still_order_their_dependents() -> None:
    # A resource that depends on a component (which depends on a slow resource) waits for it;
    # the component itself is not listed as a step.
    nodes = [
        node("nat", 120),
        node("network", 0, "nat", custom=False),
        node("instance", 45, "network"),
        node("bucket", 100),
    ]
    path = critical_path(nodes)
    assert [s.urn for s in path.steps] == ["nat", "instance"]
    assert path.total_seconds == 165


def test_ties_go_to_the_earliest_registered_and_dangling_deps_are_ignored() -> None:
    nodes = [node("a", 10), node("b", 10), node("c", 5, "b", "a", "urn:not-in-graph")]
    path = critical_path(nodes)
    assert [s.urn for s in path.steps] == ["a", "c"]
    assert path.total_seconds == 15


def test_empty_graph_and_cycles() -> None:
    assert critical_path([]).total_seconds == 0
    assert critical_path([]).steps == ()
    with pytest.raises(ValueError, match="cycle"):
        critical_path([node("a", 1, "b"), node("b", 1, "a")])


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    nodes = [node("n0", 1)] + [node(f"n{i}", 1, f"n{i - 1}") for i in range(1, 5000)]
    path = critical_path(reversed(nodes))  # worst order: every node waits on a later one
    assert path.total_seconds == 5000
    assert path.steps[0].urn == "n0" and path.steps[-1].urn == "n4999"


def test_weights_table() -> None:
    assert create_seconds("aws:ec2/natGateway:NatGateway", True) == 120
    assert create_seconds("aws:ec2/vpcEndpoint:VpcEndpoint", True, {"vpcEndpointType": "Interface"}) == 150
    assert (create_seconds("aws:ec2/vpcEndpoint:VpcEndpoint", True, {"vpcEndpointType": "Gateway"})
            == GATEWAY_ENDPOINT_SECONDS)
    assert 30 <= create_seconds("aws:ec2/instance:Instance", True) <= 60
    assert create_seconds("aws:iam/instanceProfile:InstanceProfile", True) == 10
    assert create_seconds("ssm-inventory:fleet:WorkloadFleet", False) == 0
    assert create_seconds("aws:unknown/thing:Thing", True) == DEFAULT_CREATE_SECONDS
    assert all(v > 0 for v in CREATE_SECONDS.values())


def test_format_seconds() -> None:
    assert format_seconds(45) == "45s"
    assert format_seconds(201) == "3m21s"
    assert format_seconds(120) == "2m00s"
