"""Plain data of the software policy: rules in, per-instance compliance items out.

No behaviour beyond trivial properties, so the evaluator, the AWS layer, the CLI and the
Lambda handler all agree on one shape. Standard library only (the Lambda function imports
this module as packaged from the repo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# The compliance type the results are written as (PutComplianceItems ``ComplianceType``:
# ``Custom:<name>``; at most 10 custom types per managed node).
COMPLIANCE_TYPE = "Custom:SoftwarePolicy"

# PutComplianceItems ``Severity`` values, most severe first (botocore's SSM model,
# ComplianceSeverity).
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")

# ``platforms`` filter values: DescribeInstanceInformation ``PlatformType`` (PlatformType
# enum: Windows | Linux | MacOS).
PLATFORMS = ("Linux", "Windows", "MacOS")

RuleKind = Literal["required", "forbidden"]
Status = Literal["COMPLIANT", "NON_COMPLIANT"]


@dataclass(frozen=True)
class Rule:
    """One rule of the policy, as validated from ``softwarePolicy.rules``.

    ``name`` is an exact package name or a glob (``fnmatch``, case-sensitive);
    ``versions`` a constraint such as ``>=3.3.0`` or ``>=1.2,<1.3`` (None: any version);
    ``platforms`` empty means every platform.
    """

    id: str
    kind: RuleKind
    name: str
    versions: str | None = None
    platforms: tuple[str, ...] = ()
    severity: str = "MEDIUM"
    title: str | None = None


@dataclass(frozen=True)
class InstanceSoftware:
    """What is known about one managed node: its platform and its ``AWS:Application``
    inventory entries (the raw attribute maps GetInventory returns: ``Name``, ``Version``,
    ``Release``, ``Epoch``, ``PackageId``, ``Publisher``, ...).

    ``applications`` is None when the node has no ``AWS:Application`` inventory yet: such a
    node is reported, never judged compliant.
    """

    instance_id: str
    platform_type: str | None = None  # Linux | Windows | MacOS
    platform_name: str | None = None  # "Amazon Linux", "Ubuntu", "Microsoft Windows Server 2022 ..."
    applications: tuple[dict[str, str], ...] | None = None
    capture_time: str | None = None  # AWS:Application CaptureTime, as GetInventory returns it


@dataclass(frozen=True)
class ItemResult:
    """One compliance item: the verdict of one rule on one node (PutComplianceItems
    ``ComplianceItemEntry``: Id, Title, Severity, Status, Details)."""

    rule_id: str
    title: str
    severity: str
    status: Status
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceVerdict:
    """Every rule's item for one node; ``has_inventory`` False when it had none to judge."""

    instance_id: str
    items: tuple[ItemResult, ...]
    has_inventory: bool = True

    @property
    def compliant(self) -> bool:
        return self.has_inventory and all(item.status == "COMPLIANT" for item in self.items)
