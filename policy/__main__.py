"""Entry point the Pulumi CLI runs (``python -m pulumi.policy <engine> <this dir>``).

Kept thin: ``PolicyPack`` starts the analyzer gRPC server, prints its port and blocks.
The policies live in ``ssm_policies`` so tests can import them without a server.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from ssm_policies import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Gate for Pulumi programs deploying AWS Systems Manager managed fleets: "
    "tags, SSM prerequisites (profile, endpoints, OS), inventory associations, security basics.",
    display_name="SSM fleet guard",
    provider="aws",
    tags=["aws", "ssm", "inventory"],
)
