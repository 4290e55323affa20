"""Patch management: baselines per OS family, patch groups, ONE scan method, an install window.

- One ``aws.ssm.PatchBaseline`` per OS family in the fleet. Amazon Linux follows the lab's
  ``AmazonLinuxSecAndNonSecBaseline``: rule 1 security updates of every severity (compliance
  CRITICAL), rule 2 every update including non-security ones (compliance MEDIUM), rejected
  ``system-release.*`` (a new Amazon Linux release is an upgrade, not a patch). RHEL, Ubuntu
  and Windows get the same two tiers in their own properties (DescribePatchProperties, SSM
  API reference: RHEL PRODUCT|CLASSIFICATION|SEVERITY; UBUNTU PRODUCT|PRIORITY; WINDOWS
  PRODUCT|PRODUCT_FAMILY|CLASSIFICATION|MSRC_SEVERITY). Ubuntu rules carry no approval
  delay: "ApproveAfterDays ... Not supported for Debian Server or Ubuntu Server" (PatchRule).
- ``aws.ssm.PatchGroup`` registers each ``Patch Group`` tag value with the baseline of each
  OS family that uses it (one baseline per OS per group, lab facts §7).
- ONE scan method: a State Manager association of ``AWS-RunPatchBaseline`` (Operation=Scan)
  on the fleet's ``Environment`` AND ``Workload`` tags. Several scan methods overwrite each
  other's compliance data ("Avoiding unintentional patch compliance data overwrites").
- Optionally the lab's ``PatchTestWorkloadWebServers`` maintenance window: Run Command
  ``AWS-RunPatchBaseline`` (Operation=Install) on ``Workload`` AND ``InstanceRole``, run by its
  own service role (``ssm.amazonaws.com``, ``AmazonSSMMaintenanceWindowRole``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.amis import SUPPORTED_OS
from components.config import FleetGroup, InstallWindowConfig
from components.inventory import association_targets
from components.partition import COMMERCIAL, Partition
from components.schedule import validate_schedule

PATCH_DOCUMENT = "AWS-RunPatchBaseline"
MAINTENANCE_WINDOW_POLICY = "service-role/AmazonSSMMaintenanceWindowRole"

# Patch Manager operating system -> readable name part for baselines and resource names.
FAMILY_NAMES = {
    "AMAZON_LINUX_2023": "AmazonLinux2023",
    "AMAZON_LINUX_2": "AmazonLinux2",
    "REDHAT_ENTERPRISE_LINUX": "RHEL",
    "UBUNTU": "Ubuntu",
    "WINDOWS": "Windows",
}


@dataclass(frozen=True)
class Tier:
    """One approval rule: which patches, at which compliance level."""

    filters: dict[str, list[str]]
    compliance_level: str
    enable_non_security: bool | None = None


# Two tiers per OS family: security updates (CRITICAL), then the rest (MEDIUM).
_LINUX_TIERS = (
    Tier({"PRODUCT": ["*"], "CLASSIFICATION": ["Security"], "SEVERITY": ["*"]}, "CRITICAL"),
    Tier({"PRODUCT": ["*"], "CLASSIFICATION": ["*"], "SEVERITY": ["*"]}, "MEDIUM",
         enable_non_security=True),
)
BASELINE_RULES: dict[str, tuple[Tier, ...]] = {
    "AMAZON_LINUX_2023": _LINUX_TIERS,
    "AMAZON_LINUX_2": _LINUX_TIERS,
    "REDHAT_ENTERPRISE_LINUX": _LINUX_TIERS,
    # Ubuntu has no security classification: Debian package priorities stand in for it.
    "UBUNTU": (
        Tier({"PRODUCT": ["*"], "PRIORITY": ["Required", "Important"]}, "CRITICAL"),
        Tier({"PRODUCT": ["*"], "PRIORITY": ["Standard", "Optional", "Extra"]}, "MEDIUM"),
    ),
    "WINDOWS": (
        Tier({"PRODUCT": ["*"], "CLASSIFICATION": ["CriticalUpdates", "SecurityUpdates"],
              "MSRC_SEVERITY": ["*"]}, "CRITICAL"),
        Tier({"PRODUCT": ["*"], "CLASSIFICATION": ["Updates", "UpdateRollups", "ServicePacks"]},
             "MEDIUM"),
    ),
}
# A new Amazon Linux release is an upgrade, not a patch (the lab's rejected patch).
REJECTED_PATCHES = {"AMAZON_LINUX_2023": ["system-release.*"], "AMAZON_LINUX_2": ["system-release.*"]}
# Operating systems whose approval rules take no approval delay (PatchRule, SSM API reference).
NO_APPROVAL_DELAY = {"UBUNTU"}


def fleet_families(groups: Sequence[FleetGroup]) -> dict[str, list[str]]:
    """Patch Manager OS -> the ``Patch Group`` values its instances carry (groups with
    instances only), both in first-seen order."""
    families: dict[str, list[str]] = {}
    for group in groups:
        if not group.count:
            continue
        values = families.setdefault(SUPPORTED_OS[group.os].patch_os, [])
        if group.patch_group not in values:
            values.append(group.patch_group)
    return families


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "group"


def approval_rules(
    operating_system: str, approve_after_days: int
) -> list[aws.ssm.PatchBaselineApprovalRuleArgs]:
    delay = None if operating_system in NO_APPROVAL_DELAY else approve_after_days
    return [
        aws.ssm.PatchBaselineApprovalRuleArgs(
            approve_after_days=delay,
            compliance_level=tier.compliance_level,
            enable_non_security=tier.enable_non_security,
            patch_filters=[
                aws.ssm.PatchBaselineApprovalRulePatchFilterArgs(key=key, values=values)
                for key, values in tier.filters.items()
            ],
        )
        for tier in BASELINE_RULES[operating_system]
    ]


@dataclass
class PatchManagementArgs:
    workload: str
    groups: list[FleetGroup]
    target_tags: dict[str, str]  # the scan association's targets (Environment AND Workload)
    scan_schedule: str
    approve_after_days: int
    tags: dict[str, str]
    install_window: InstallWindowConfig = field(default_factory=InstallWindowConfig)
    scan_compliance_severity: str = "HIGH"
    log_bucket_name: pulumi.Input[str] | None = None
    log_key_prefix: str = "inventory-execution-logs/"
    region: str = "us-east-1"
    iam_path: str = "/"
    permissions_boundary: str | None = None
    partition: Partition = COMMERCIAL


class PatchManagement(pulumi.ComponentResource):
    baseline_ids: dict[str, pulumi.Output[str]]
    patch_groups: dict[str, list[str]]
    scan_association_id: pulumi.Output[str]
    scan_association_name: pulumi.Output[str]
    maintenance_window_id: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: PatchManagementArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        scan_schedule = validate_schedule(args.scan_schedule)
        super().__init__("ssm-inventory:patching:PatchManagement", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.patch_groups = fleet_families(args.groups)

        self.baseline_ids = {}
        for operating_system, group_values in self.patch_groups.items():
            family = FAMILY_NAMES[operating_system]
            baseline = aws.ssm.PatchBaseline(
                f"{name}-{family.lower()}",
                aws.ssm.PatchBaselineArgs(
                    name=f"{args.workload}-{family}-SecAndNonSecBaseline",
                    description=f"{args.workload}: {family} security updates (CRITICAL), "
                    "then all other updates (MEDIUM)",
                    operating_system=operating_system,
                    approval_rules=approval_rules(operating_system, args.approve_after_days),
                    rejected_patches=REJECTED_PATCHES.get(operating_system),
                    tags=args.tags,
                ),
                child,
            )
            self.baseline_ids[operating_system] = baseline.id
            for value in group_values:
                aws.ssm.PatchGroup(
                    f"{name}-{family.lower()}-{_slug(value)}",
                    aws.ssm.PatchGroupArgs(baseline_id=baseline.id, patch_group=value),
                    child,
                )

        output_location = None
        if args.log_bucket_name is not None:
            # Under the instance role's log prefix: the agent may write nowhere else.
            output_location = aws.ssm.AssociationOutputLocationArgs(
                s3_bucket_name=args.log_bucket_name,
                s3_key_prefix=f"{args.log_key_prefix}patch-scan",
                s3_region=args.region,
            )
        scan = aws.ssm.Association(
            f"{name}-scan",
            aws.ssm.AssociationArgs(
                name=PATCH_DOCUMENT,
                association_name=f"PatchScan-{args.workload}",
                parameters={"Operation": "Scan"},
                schedule_expression=scan_schedule,
                targets=[
                    aws.ssm.AssociationTargetArgs(key=t["key"], values=t["values"])
                    for t in association_targets(args.target_tags)
                ],
                compliance_severity=args.scan_compliance_severity,
                output_location=output_location,
                tags=args.tags,
            ),
            child,
        )
        self.scan_association_id = scan.association_id
        self.scan_association_name = scan.association_name.apply(lambda n: n or "")

        self.maintenance_window_id = None
        if args.install_window.enabled:
            self.maintenance_window_id = self._install_window(name, args)

        self.register_outputs({
            "baselineIds": self.baseline_ids,
            "scanAssociationId": self.scan_association_id,
            "maintenanceWindowId": self.maintenance_window_id,
        })

    def _install_window(self, name: str, args: PatchManagementArgs) -> pulumi.Output[str]:
        window_config = args.install_window
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-window-role",
            aws.iam.RoleArgs(
                # Only Systems Manager may assume the maintenance window's service role.
                assume_role_policy=args.partition.trust_policy("ssm"),
                description="Runs the patch install maintenance window's tasks",
                path=args.iam_path,
                permissions_boundary=args.permissions_boundary,
                tags=args.tags,
            ),
            child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-window-role-policy",
            aws.iam.RolePolicyAttachmentArgs(
                role=role.name,
                policy_arn=args.partition.aws_managed_policy(MAINTENANCE_WINDOW_POLICY),
            ),
            child,
        )
        window = aws.ssm.MaintenanceWindow(
            f"{name}-window",
            aws.ssm.MaintenanceWindowArgs(
                name=f"PatchInstall-{args.workload}",
                # At most 128 characters (MaintenanceWindowDescription): no role list here.
                description=f"Installs approved patches on {args.workload} instances",
                schedule=window_config.schedule,
                schedule_timezone=window_config.schedule_timezone,
                duration=window_config.duration_hours,
                cutoff=window_config.cutoff_hours,
                allow_unassociated_targets=False,
                tags=args.tags,
            ),
            child,
        )
        target = aws.ssm.MaintenanceWindowTarget(
            f"{name}-window-target",
            aws.ssm.MaintenanceWindowTargetArgs(
                window_id=window.id,
                resource_type="INSTANCE",
                name=f"{args.workload}-patch-install-targets",
                description="Workload AND InstanceRole",
                targets=[
                    aws.ssm.MaintenanceWindowTargetTargetArgs(key="tag:Workload", values=[args.workload]),
                    aws.ssm.MaintenanceWindowTargetTargetArgs(
                        key="tag:InstanceRole", values=list(window_config.roles)),
                ],
            ),
            child,
        )
        output: dict[str, Any] = {}
        if args.log_bucket_name is not None:
            output = {"output_s3_bucket": args.log_bucket_name,
                      "output_s3_key_prefix": f"{args.log_key_prefix}patch-install"}
        aws.ssm.MaintenanceWindowTask(
            f"{name}-window-install",
            aws.ssm.MaintenanceWindowTaskArgs(
                window_id=window.id,
                name="PatchInstall",
                description=f"{PATCH_DOCUMENT} Operation=Install",
                task_type="RUN_COMMAND",
                task_arn=PATCH_DOCUMENT,
                priority=1,
                service_role_arn=role.arn,
                max_concurrency=window_config.max_concurrency,
                max_errors=window_config.max_errors,
                targets=[aws.ssm.MaintenanceWindowTaskTargetArgs(
                    key="WindowTargetIds", values=[target.id])],
                task_invocation_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersArgs(
                    run_command_parameters=aws.ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersArgs(
                        parameters=[
                            aws.ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersParameterArgs(
                                name="Operation", values=["Install"]),
                            aws.ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersParameterArgs(
                                name="RebootOption", values=[window_config.reboot_option]),
                        ],
                        **output,
                    ),
                ),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        return window.id
