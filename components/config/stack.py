"""``StackConfig``: the whole ``ssm-inventory:`` namespace. Holds the top-level keys (workload,
network, endpoints, tags, IAM) with their limits, and the sections from the sibling modules;
field order here is the order pydantic validates (and reports) them in.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from components.config._base import _Model, _repeated
from components.config._types import TAG_KEY, TAG_VALUE, BucketName
from components.config.fleet import FleetGroup, _default_fleet
from components.config.inventory import InventoryConfig
from components.config.patching import PatchingConfig
from components.config.reporting import ReportingConfig
from components.config.software_policy import SoftwarePolicyConfig
from fleetctl.compliance.model import Rule

# Interface endpoint services an SSM-managed fleet in private subnets may need
# (lab facts §2): the three the docs call required, Session Manager, and the optional ones.
KNOWN_ENDPOINT_SERVICES = ("ssm", "ec2messages", "ec2", "ssmmessages", "kms", "logs")
DEFAULT_ENDPOINTS = ["ssm", "ec2messages", "ec2", "ssmmessages"]

# The smallest VPC allowed: cut into eight blocks (components/network.py) it still gives /27
# subnets, above AWS's /28 minimum.
MIN_VPC_PREFIX_MAX = 24

# The workload names things: the Resource Data Sync "ssm-inventory-<workload>" (SSM API
# reference, CreateResourceDataSync SyncName: 1 to 64 characters), instance Name tags
# "<workload>-Web1" and the fleet security group's description (EC2 API reference,
# CreateSecurityGroup Description: up to 255 of a-z A-Z 0-9 spaces ._-:/()#,@[]+=&;{}!$*).
# So it keeps to SSM's own name alphabet (that of association names) and leaves room for
# the sync name's prefix: 64 - len("ssm-inventory-") = 50.
SYNC_NAME_PREFIX = "ssm-inventory-"
SYNC_NAME_MAX = 64
WORKLOAD_MAX = SYNC_NAME_MAX - len(SYNC_NAME_PREFIX)
WORKLOAD_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{WORKLOAD_MAX - 1}}}$"

# Tags the program sets itself (a stack tag of the same key would be silently overridden).
_PROGRAM_TAG_KEYS = {
    "Environment", "Workload", "InstanceRole", "Patch Group", "SSMManaged", "Name", "OS",
    "AmiSsmParameter", "Tier",
}


class StackConfig(_Model):
    workload: Annotated[str, StringConstraints(pattern=WORKLOAD_PATTERN)]
    environment_tag: Annotated[TAG_VALUE, StringConstraints(min_length=1)] = "OELabIPM"
    vpc_cidr: str = "10.0.0.0/16"
    az_count: Annotated[int, Field(ge=1, le=6)] = 2
    nat_gateway: bool = False
    endpoints: list[str] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS))
    # Buckets the workloads may use through the S3 gateway endpoint (names; ARNs are reduced
    # to names). Every one is reachable from every instance of the VPC.
    s3_endpoint_allowed_buckets: list[BucketName] = Field(default_factory=list)
    fleet: list[FleetGroup] = Field(default_factory=_default_fleet)
    inventory: InventoryConfig = InventoryConfig()
    patching: PatchingConfig = PatchingConfig()
    reporting: ReportingConfig = ReportingConfig()
    tags: dict[TAG_KEY, TAG_VALUE] = Field(default_factory=dict)
    # A read-only IAM policy for operators (what `fleetctl check` needs); grants nothing
    # until attached.
    operator_policy: bool = True
    # A separate policy allowing only what `fleetctl compliance evaluate --put` writes
    # (ssm:PutComplianceItems on this account's nodes in the region); off unless asked for.
    compliance_writer_policy: bool = False
    iam_path: Annotated[str, StringConstraints(pattern=r"^/([\w+=,.@\-]+/)*$", max_length=512)] = "/"
    permissions_boundary: Annotated[
        str | None, StringConstraints(pattern=r"^arn:aws[a-z\-]*:iam::(aws|\d{12}):policy/.+$")
    ] = None
    # The software policy; absent: no policy (no compliance type, no function).
    software_policy: SoftwarePolicyConfig | None = None

    @model_validator(mode="after")
    def _one_sync_destination(self) -> StackConfig:
        if self.inventory.resource_data_sync and self.reporting.destination_bucket:
            raise ValueError(
                "inventory.resourceDataSync already syncs this account and region into this "
                "stack's bucket and reporting.destinationBucket would add a second sync there "
                "(one per account and region); use one of them"
            )
        return self

    def software_rules(self) -> list[Rule]:
        """The software policy's rules (empty when ``softwarePolicy`` is not set)."""
        return self.software_policy.to_rules() if self.software_policy else []

    @property
    def reporting_central(self) -> bool:
        """This stack owns the report bucket and catalog (``inventory.resourceDataSync`` is the
        original spelling of ``reporting.central``)."""
        return self.reporting.central or self.inventory.resource_data_sync

    def sync_regions(self, stack_region: str) -> list[str]:
        """Regions this stack creates a Resource Data Sync in (one each)."""
        if self.inventory.resource_data_sync and not self.reporting.sends:
            return [stack_region]
        return self.reporting.syncs(stack_region)

    @property
    def sync_name(self) -> str:
        """The Resource Data Sync's name (at most 64 characters, as the pattern ensures)."""
        return f"{SYNC_NAME_PREFIX}{self.workload.lower()}"

    @field_validator("vpc_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not an IPv4 CIDR block like 10.0.0.0/16 ({exc})") from None
        if not network.is_private:
            raise ValueError(f"{value} is not a private (RFC 1918) range")
        if not 16 <= network.prefixlen <= MIN_VPC_PREFIX_MAX:
            raise ValueError(
                f"/{network.prefixlen} is outside the allowed VPC sizes /16 to /{MIN_VPC_PREFIX_MAX}"
            )
        return str(network)

    @field_validator("endpoints")
    @classmethod
    def _known_endpoints(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in KNOWN_ENDPOINT_SERVICES]
        if unknown:
            raise ValueError(
                f"unknown endpoint service {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(KNOWN_ENDPOINT_SERVICES)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("lists a service twice")
        return value

    @field_validator("s3_endpoint_allowed_buckets")
    @classmethod
    def _buckets_once(cls, value: list[str]) -> list[str]:
        twice = _repeated(value)
        if twice:
            raise ValueError(f"lists bucket {', '.join(twice)} more than once")
        return value

    @field_validator("tags")
    @classmethod
    def _no_reserved_tags(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = [k for k in value if k.lower().startswith("aws:") or k in _PROGRAM_TAG_KEYS]
        if reserved:
            raise ValueError(
                f"tag keys {', '.join(reserved)} are reserved (aws: prefix, or set by the program)"
            )
        return value

    @field_validator("fleet")
    @classmethod
    def _unique_roles(cls, fleet: list[FleetGroup]) -> list[FleetGroup]:
        roles = [group.role for group in fleet]
        duplicates = _repeated(roles)
        if duplicates:
            raise ValueError(f"lists role {', '.join(duplicates)} more than once")
        short = [group.short_role for group in fleet]
        if len(set(short)) != len(short):
            raise ValueError("roles must differ after dropping 'Server' (used in Name tags)")
        return fleet

    @property
    def common_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries in its own ``tags``."""
        return {**self.tags, "Environment": self.environment_tag, "Workload": self.workload}
