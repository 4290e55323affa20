"""Estimated deploy critical path: the longest chain of dependent creates.

The engine creates a resource as soon as everything it depends on exists, so a fresh
``pulumi up`` takes about as long as the heaviest chain of dependencies, weighted by how
long each resource type typically takes to create. Components are bookkeeping (the engine
registers them instantly) and weigh 0; they stay in the graph so a dependency on a
component still orders its dependents after it.

``CREATE_SECONDS`` is the one table of weights (typical create times observed in us-east-1
with the AWS provider, rounded; they are estimates for comparing plans, not promises).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Typical create time in seconds per resource type. Types not listed weigh
# DEFAULT_CREATE_SECONDS (custom resources) or 0 (components and the stack).
CREATE_SECONDS: dict[str, float] = {
    "aws:ec2/natGateway:NatGateway": 120.0,  # ~1.5-2.5 min until "available"
    "aws:ec2/vpcEndpoint:VpcEndpoint": 150.0,  # interface: ENIs + private DNS, ~2-3 min
    "aws:ec2/instance:Instance": 45.0,  # until "running" (30-60 s)
    "aws:ec2/launchTemplate:LaunchTemplate": 2.0,  # a metadata record, no capacity
    # The provider waits for the desired capacity to be InService (wait_for_capacity_timeout,
    # 10 min by default): launch plus EC2 status, longer than one instance.
    "aws:autoscaling/group:Group": 90.0,
    "aws:ec2/vpc:Vpc": 3.0,
    "aws:ec2/subnet:Subnet": 2.0,
    "aws:ec2/routeTable:RouteTable": 2.0,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 1.0,
    "aws:ec2/route:Route": 2.0,
    "aws:ec2/securityGroup:SecurityGroup": 3.0,
    "aws:ec2/internetGateway:InternetGateway": 2.0,
    "aws:ec2/eip:Eip": 2.0,
    "aws:iam/role:Role": 3.0,
    "aws:iam/rolePolicy:RolePolicy": 2.0,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 2.0,
    "aws:iam/instanceProfile:InstanceProfile": 10.0,  # includes IAM propagation
    "aws:s3/bucket:Bucket": 3.0,
    "aws:s3/bucketPolicy:BucketPolicy": 2.0,
    "aws:s3/bucketVersioning:BucketVersioning": 2.0,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1.0,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1.0,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1.0,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 2.0,
    "aws:ssm/association:Association": 3.0,
    "aws:ssm/resourceDataSync:ResourceDataSync": 3.0,
    "aws:cloudwatch/logGroup:LogGroup": 1.0,
    # Patch management and alerts: API calls without a wait (estimates, not measured here).
    "aws:ssm/patchBaseline:PatchBaseline": 2.0,
    "aws:ssm/patchGroup:PatchGroup": 1.0,
    "aws:ssm/maintenanceWindow:MaintenanceWindow": 2.0,
    "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget": 1.0,
    "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask": 2.0,
    "aws:kms/key:Key": 3.0,
    "aws:sns/topic:Topic": 2.0,
    "aws:sns/topicPolicy:TopicPolicy": 2.0,
    "aws:sns/topicSubscription:TopicSubscription": 2.0,
    "aws:cloudwatch/eventRule:EventRule": 2.0,
    "aws:cloudwatch/eventTarget:EventTarget": 2.0,
}
DEFAULT_CREATE_SECONDS = 5.0

# Interface endpoints are the slow kind; a gateway endpoint (S3, DynamoDB) is a route entry.
GATEWAY_ENDPOINT_SECONDS = 5.0


@dataclass(frozen=True)
class Node:
    """One vertex of the plan graph."""

    urn: str
    type: str
    name: str
    custom: bool
    dependencies: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    seconds: float
    start: float
    finish: float


@dataclass(frozen=True)
class CriticalPath:
    total_seconds: float
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "totalSeconds": self.total_seconds,
            "steps": [
                {"urn": s.urn, "type": s.type, "name": s.name, "seconds": s.seconds,
                 "startSeconds": s.start, "finishSeconds": s.finish}
                for s in self.steps
            ],
        }


def create_seconds(type_token: str, custom: bool, inputs: Mapping[str, object] | None = None) -> float:
    """Typical create time of one resource (0 for components)."""
    if not custom:
        return 0.0
    if (type_token == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs is not None
            and inputs.get("vpcEndpointType") == "Gateway"):
        return GATEWAY_ENDPOINT_SECONDS
    return CREATE_SECONDS.get(type_token, DEFAULT_CREATE_SECONDS)


def critical_path(nodes: Iterable[Node]) -> CriticalPath:
    """Longest weighted chain through the dependency DAG.

    ``finish(n) = seconds(n) + max(finish(d) for d in deps(n))``. Dependencies outside the
    graph are ignored. Ties are broken by registration order (the earliest wins), so the
    result is deterministic. Zero-weight nodes (components) are left out of the steps.
    Raises ValueError on a cycle (the engine would refuse one too).
    """
    ordered: Sequence[Node] = list(nodes)
    by_urn = {n.urn: n for n in ordered}
    index = {n.urn: i for i, n in enumerate(ordered)}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}

    # Iterative DFS (fleets of thousands would overflow recursion).
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for root in ordered:
        if root.urn in state:
            continue
        stack: list[tuple[str, int]] = [(root.urn, 0)]
        while stack:
            urn, pos = stack.pop()
            node = by_urn[urn]
            deps = [d for d in node.dependencies if d in by_urn]
            if pos == 0:
                if state.get(urn) == 2:
                    continue
                state[urn] = 1
            if pos < len(deps):
                stack.append((urn, pos + 1))
                dep = deps[pos]
                if state.get(dep) == 1:
                    raise ValueError(f"dependency cycle through {dep}")
                if state.get(dep) != 2:
                    stack.append((dep, 0))
                continue
            best: str | None = None
            for dep in deps:
                if best is None or finish[dep] > finish[best] or (
                    finish[dep] == finish[best] and index[dep] < index[best]
                ):
                    best = dep
            finish[urn] = node.seconds + (finish[best] if best else 0.0)
            via[urn] = best
            state[urn] = 2

    if not ordered:
        return CriticalPath(0.0, ())
    end = min(ordered, key=lambda n: (-finish[n.urn], index[n.urn]))
    chain: list[Node] = []
    cursor: str | None = end.urn
    while cursor is not None:
        chain.append(by_urn[cursor])
        cursor = via[cursor]
    chain.reverse()
    steps = tuple(
        Step(n.urn, n.type, n.name, n.seconds, finish[n.urn] - n.seconds, finish[n.urn])
        for n in chain
        if n.seconds > 0
    )
    return CriticalPath(finish[end.urn], steps)


def format_seconds(seconds: float) -> str:
    """``125`` -> ``2m05s``; ``45`` -> ``45s``."""
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
