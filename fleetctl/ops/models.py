"""Plain data the fleet checks work on: what the AWS calls return, reduced to what we judge.

Everything here is a frozen dataclass with no behaviour beyond trivial properties, so the
report logic (:mod:`fleetctl.ops.report`) can be tested without boto3 or any AWS stub.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Inventory type names used by the checks (the AWS-GatherSoftwareInventory document
# writes these; see lab-facts section 4).
INSTANCE_INFORMATION = "AWS:InstanceInformation"
APPLICATION = "AWS:Application"

# Compliance types the check looks at: State Manager associations always, Patch Manager
# when patching has reported anything for the fleet.
COMPLIANCE_TYPES = ("Association", "Patch")

# OS keys (the instances' ``OS`` tag) whose SSM Agent comes from user data, and the line that
# user data writes to the serial console when every install attempt failed. Copies of
# components/amis.py (SUPPORTED_OS, AGENT_INSTALL_FAILURE_MARKER): fleetctl check does not
# load the Pulumi program; tests/test_agent_user_data.py keeps them equal.
USER_DATA_AGENT_OS = frozenset({"rhel-9"})
AGENT_INSTALL_FAILURE_MARKER = "SSM_AGENT_INSTALL_FAILED"


@dataclass(frozen=True)
class FleetSelector:
    """The tag pair that identifies one deployed fleet (one Pulumi stack)."""

    environment: str
    workload: str

    @property
    def tags(self) -> dict[str, str]:
        return {"Environment": self.environment, "Workload": self.workload}


@dataclass(frozen=True)
class Ec2Instance:
    instance_id: str
    state: str
    name: str | None = None
    instance_profile_arn: str | None = None
    launch_time: datetime | None = None
    private_ip: str | None = None
    os: str | None = None  # the program's OS tag (e.g. rhel-9)
    # The Auto Scaling group that launched it (EC2's aws:autoscaling:groupName tag), if any.
    auto_scaling_group: str | None = None

    @property
    def agent_from_user_data(self) -> bool:
        return self.os in USER_DATA_AGENT_OS


@dataclass(frozen=True)
class ConsoleDiagnosis:
    """What ``ec2:GetConsoleOutput`` told about an unregistered instance whose agent comes
    from user data: the failure marker line, or why nothing could be read."""

    instance_id: str
    marker_line: str | None = None
    error: str | None = None  # e.g. "UnauthorizedOperation", "no console output yet"


@dataclass(frozen=True)
class ManagedNode:
    """One entry of ``ssm:DescribeInstanceInformation``."""

    instance_id: str
    ping_status: str
    agent_version: str | None = None
    is_latest_version: bool | None = None
    platform_type: str | None = None
    platform_name: str | None = None
    platform_version: str | None = None
    last_ping: datetime | None = None
    association_status: str | None = None
    resource_type: str | None = None

    @property
    def platform(self) -> str:
        parts = [p for p in (self.platform_name, self.platform_version) if p]
        return " ".join(parts) or (self.platform_type or "")


@dataclass(frozen=True)
class AssociationTarget:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Association:
    """``ssm:DescribeAssociation`` reduced to what an operator looks at."""

    association_id: str
    association_name: str | None
    document_name: str
    schedule: str | None = None
    targets: tuple[AssociationTarget, ...] = ()
    status: str | None = None  # Overview.Status: Pending | Success | Failed
    detailed_status: str | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    last_execution_date: datetime | None = None
    last_successful_execution_date: datetime | None = None


@dataclass(frozen=True)
class AssociationExecution:
    execution_id: str
    status: str | None
    detailed_status: str | None
    created_time: datetime | None
    resource_count_by_status: str | None = None


@dataclass(frozen=True)
class ExecutionTarget:
    """One resource of ``ssm:DescribeAssociationExecutionTargets``."""

    resource_id: str
    status: str | None
    detailed_status: str | None = None
    resource_type: str | None = None
    last_execution_date: datetime | None = None


@dataclass(frozen=True)
class InstanceAssociationStatus:
    """``ssm:DescribeInstanceAssociationsStatus`` for our association on one instance."""

    instance_id: str
    status: str | None
    detailed_status: str | None = None
    execution_summary: str | None = None
    error_code: str | None = None
    execution_date: datetime | None = None


@dataclass(frozen=True)
class InventoryRecord:
    """What inventory holds for one instance: when ``AWS:Application`` was captured (None =
    no data)."""

    instance_id: str
    application_capture_time: datetime | None = None


@dataclass(frozen=True)
class ComplianceSummary:
    """One row of ``ssm:ListResourceComplianceSummaries``."""

    resource_id: str
    compliance_type: str
    status: str  # COMPLIANT | NON_COMPLIANT
    overall_severity: str | None = None
    compliant_count: int = 0
    non_compliant_count: int = 0
    execution_time: datetime | None = None


@dataclass(frozen=True)
class ComplianceItem:
    """One row of ``ssm:ListComplianceItems``.

    For ``Patch`` items ``item_id`` is the KB article or package, ``severity`` the compliance
    level the baseline gives it (CRITICAL .. UNSPECIFIED), and ``details`` carries
    ``PatchState`` (Missing, Failed, InstalledPendingReboot, InstalledRejected are the
    non-compliant states), ``PatchSeverity`` (the vendor's, e.g. Critical, Important),
    ``Classification`` and ``PatchBaselineId`` (AWS CLI reference, list-compliance-items
    example; "About patch compliance" in the Systems Manager user guide).
    """

    resource_id: str
    compliance_type: str
    item_id: str | None
    title: str | None
    status: str
    severity: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def patch_state(self) -> str | None:
        return self.details.get("PatchState")


@dataclass(frozen=True)
class FleetSnapshot:
    """Everything the check collected; input of :func:`fleetctl.ops.report.evaluate`."""

    selector: FleetSelector
    association_name: str
    region: str
    instances: tuple[Ec2Instance, ...]
    nodes: tuple[ManagedNode, ...]
    association_names_tried: tuple[str, ...] = ()
    associations_found: tuple[Association, ...] = ()
    association: Association | None = None
    latest_execution: AssociationExecution | None = None
    execution_targets: tuple[ExecutionTarget, ...] = ()
    instance_association_statuses: tuple[InstanceAssociationStatus, ...] = ()
    inventory: tuple[InventoryRecord, ...] = ()
    compliance: tuple[ComplianceSummary, ...] = ()
    compliance_items: tuple[ComplianceItem, ...] = ()
    console_diagnoses: tuple[ConsoleDiagnosis, ...] = ()


@dataclass(frozen=True)
class InventoryMatch:
    """One inventory entry (e.g. one installed package) on one instance."""

    instance_id: str
    type_name: str
    capture_time: datetime | None
    attributes: dict[str, str]
