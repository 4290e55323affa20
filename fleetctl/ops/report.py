"""Pure judgement of a collected fleet: :class:`FleetSnapshot` in, :class:`CheckReport` out.

No AWS calls here. ``evaluate`` turns what was fetched into per-instance rows and a list of
findings; a finding of level ``problem`` makes ``fleetctl check`` exit 1, ``warning`` does
not. ``check_report_to_json`` defines the ``--json`` shape (see :mod:`fleetctl.ops`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from fleetctl.ops.models import (
    AGENT_INSTALL_FAILURE_MARKER,
    Association,
    AssociationExecution,
    ComplianceItem,
    ConsoleDiagnosis,
    Ec2Instance,
    FleetSelector,
    FleetSnapshot,
    InventoryMatch,
)

INVENTORY_DOCUMENT = "AWS-GatherSoftwareInventory"
# ComplianceSeverity values, most severe first (botocore's SSM service model).
SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
# A finding names this many items at most; the items table and --json list them all.
MAX_ITEMS_IN_FINDING = 10
REGISTRATION_GRACE = timedelta(minutes=15)
DEFAULT_MAX_INVENTORY_AGE = timedelta(hours=24)

Level = Literal["problem", "warning"]
Section = Literal["registration", "association", "inventory", "compliance"]


@dataclass(frozen=True)
class Finding:
    level: Level
    section: Section
    message: str
    instance_id: str | None = None


@dataclass(frozen=True)
class InstanceRow:
    instance_id: str
    name: str | None
    state: str
    instance_profile_arn: str | None
    registered: bool
    ping_status: str | None = None
    agent_version: str | None = None
    agent_is_latest: bool | None = None
    platform: str | None = None
    association_status: str | None = None
    application_capture_time: datetime | None = None
    compliance: dict[str, str] = field(default_factory=dict)
    auto_scaling_group: str | None = None


@dataclass(frozen=True)
class CheckReport:
    selector: FleetSelector
    region: str
    association_name: str
    generated_at: datetime
    max_inventory_age: timedelta
    instances: tuple[InstanceRow, ...]
    association: Association | None
    latest_execution: AssociationExecution | None
    findings: tuple[Finding, ...]
    non_compliant_items: tuple[ComplianceItem, ...] = ()

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "problem"]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.healthy else 1


def severity_rank(severity: str | None) -> int:
    value = (severity or "UNSPECIFIED").upper()
    return SEVERITY_ORDER.index(value) if value in SEVERITY_ORDER else len(SEVERITY_ORDER)


def by_severity(items: tuple[ComplianceItem, ...] | list[ComplianceItem]) -> list[ComplianceItem]:
    """Most severe first; the order AWS returned is kept within a severity."""
    return sorted(items, key=lambda item: severity_rank(item.severity))


def describe_item(item: ComplianceItem) -> str:
    """``openssl-3.0.8 [CRITICAL, Missing]``: what, its compliance severity, its patch state."""
    labels = [item.severity or "UNSPECIFIED", *([item.patch_state] if item.patch_state else [])]
    return f"{item.title or item.item_id or '?'} [{', '.join(labels)}]"


def choose_association(
    candidates: tuple[Association, ...] | list[Association], selector: FleetSelector
) -> Association | None:
    """The association for this fleet among those sharing the name: the only one, or the one
    whose targets name the fleet's Workload tag value."""
    if len(candidates) == 1:
        return candidates[0]
    for assoc in candidates:
        for target in assoc.targets:
            if target.key == "tag:Workload" and selector.workload in target.values:
                return assoc
    return None


def _user_data_agent_cause(inst: Ec2Instance, console: ConsoleDiagnosis | None) -> str | None:
    """For an instance whose agent user data installs: what its console output says."""
    if console is None:
        return None
    if console.marker_line:
        return f"SSM Agent install from user data gave up (console output: {console.marker_line})"
    where = (
        f"its console output (aws ec2 get-console-output --instance-id {inst.instance_id} "
        "--latest --output text) or /var/log/cloud-init-output.log on the EC2 serial console"
    )
    if console.error:
        return f"user data installs SSM Agent on {inst.os}; could not read {where}: {console.error}"
    return (
        f"user data installs SSM Agent on {inst.os} and the console output shows no "
        f"{AGENT_INSTALL_FAILURE_MARKER} line (install still retrying, or it stopped early): "
        f"look at {where}"
    )


def _missing_causes(inst: Ec2Instance, now: datetime, console: ConsoleDiagnosis | None = None) -> str:
    causes: list[str] = []
    agent = _user_data_agent_cause(inst, console)
    if agent is not None and console is not None and console.marker_line:
        return agent  # the instance said why; the generic causes would only distract
    if inst.state != "running":
        causes.append(f"instance is {inst.state} (SSM lists running instances only)")
    if not inst.instance_profile_arn:
        causes.append("no IAM instance profile attached (needs a role with AmazonSSMManagedInstanceCore)")
    if not causes and inst.launch_time and now - inst.launch_time < REGISTRATION_GRACE:
        minutes = int((now - inst.launch_time).total_seconds() // 60)
        causes.append(f"launched {minutes} min ago; registration can take a few minutes")
    if agent:
        causes.append(agent)
    if not causes or agent:
        causes.append(
            "SSM Agent is not reaching Systems Manager: check the ssm/ssmmessages/ec2messages "
            "VPC endpoints (private DNS, TCP 443 from the subnet), the instance role's "
            "AmazonSSMManagedInstanceCore policy and that the agent is running"
        )
    return "; ".join(causes)


def _fmt(ts: datetime | None) -> str:
    return ts.isoformat() if ts else "never"


def evaluate(
    snap: FleetSnapshot,
    now: datetime,
    max_inventory_age: timedelta = DEFAULT_MAX_INVENTORY_AGE,
) -> CheckReport:
    findings: list[Finding] = []
    sel = snap.selector
    tag_text = f"Environment={sel.environment}, Workload={sel.workload}"
    nodes = {n.instance_id: n for n in snap.nodes}
    fleet_ids = {i.instance_id for i in snap.instances}
    consoles = {c.instance_id: c for c in snap.console_diagnoses}

    # (1) registration
    if not snap.instances:
        findings.append(
            Finding(
                "problem",
                "registration",
                f"no EC2 instances tagged {tag_text} in {snap.region}",
            )
        )
    for inst in snap.instances:
        node = nodes.get(inst.instance_id)
        if node is None:
            findings.append(
                Finding(
                    "problem",
                    "registration",
                    "not registered with Systems Manager: "
                    + _missing_causes(inst, now, consoles.get(inst.instance_id)),
                    inst.instance_id,
                )
            )
            continue
        if node.ping_status != "Online":
            findings.append(
                Finding(
                    "problem",
                    "registration",
                    f"PingStatus {node.ping_status} (last ping {_fmt(node.last_ping)})",
                    inst.instance_id,
                )
            )
        if node.is_latest_version is False:
            findings.append(
                Finding(
                    "warning",
                    "registration",
                    f"SSM Agent {node.agent_version} is not the latest version",
                    inst.instance_id,
                )
            )
    for node_id in sorted(set(nodes) - fleet_ids):
        findings.append(
            Finding(
                "warning",
                "registration",
                "managed node carries the fleet tags but is not a live EC2 instance of the "
                "fleet (hybrid node, or terminated instance still listed)",
                node_id,
            )
        )

    # (2) association
    assoc = snap.association
    target_status = {t.resource_id: t for t in snap.execution_targets}
    if assoc is None:
        if snap.associations_found:
            findings.append(
                Finding(
                    "problem",
                    "association",
                    f"{len(snap.associations_found)} associations are named "
                    f"{snap.association_name!r} and none targets tag:Workload={sel.workload}",
                )
            )
        else:
            tried = snap.association_names_tried or (snap.association_name,)
            findings.append(
                Finding(
                    "problem",
                    "association",
                    "no State Manager association named " + " or ".join(repr(n) for n in tried),
                )
            )
    else:
        if assoc.document_name != INVENTORY_DOCUMENT:
            findings.append(
                Finding(
                    "warning",
                    "association",
                    f"association runs {assoc.document_name}, not {INVENTORY_DOCUMENT}",
                )
            )
        target_keys = {(t.key, v) for t in assoc.targets for v in t.values}
        if (
            assoc.targets
            and not any(t.key == "InstanceIds" for t in assoc.targets)
            and (("tag:Workload", sel.workload) not in target_keys)
        ):
            findings.append(
                Finding(
                    "warning",
                    "association",
                    f"targets do not pin tag:Workload={sel.workload}; another stack's "
                    "inventory association may target the same instances (only one "
                    "inventory association runs per instance)",
                )
            )
        counts = ", ".join(f"{k}={v}" for k, v in sorted(assoc.status_counts.items()))
        if assoc.status == "Failed":
            findings.append(
                Finding(
                    "problem",
                    "association",
                    f"association {assoc.association_id} status Failed "
                    f"({assoc.detailed_status or 'no detail'}; {counts or 'no counts'})",
                )
            )
        elif assoc.status != "Success":
            findings.append(
                Finding(
                    "warning",
                    "association",
                    f"association status {assoc.status or 'unknown'} "
                    f"({assoc.detailed_status or 'no detail'}); a new association can take "
                    "up to 10 minutes to run",
                )
            )
        ex = snap.latest_execution
        if ex is None:
            findings.append(Finding("warning", "association", "association has no execution yet"))
        elif ex.status == "Failed" and assoc.status != "Failed":
            findings.append(
                Finding(
                    "problem",
                    "association",
                    f"latest execution {ex.execution_id} Failed ({ex.resource_count_by_status})",
                )
            )
        details = {s.instance_id: s for s in snap.instance_association_statuses}
        for inst in snap.instances:
            if inst.instance_id not in nodes:
                continue
            tgt = target_status.get(inst.instance_id)
            detail = details.get(inst.instance_id)
            if tgt is None:
                if ex is not None:
                    findings.append(
                        Finding(
                            "warning",
                            "association",
                            f"not among the targets of the latest execution {ex.execution_id}",
                            inst.instance_id,
                        )
                    )
                continue
            if tgt.status == "Failed":
                why = ""
                if detail is not None:
                    bits = [
                        b for b in (detail.detailed_status, detail.error_code, detail.execution_summary) if b
                    ]
                    why = f": {' / '.join(bits)}" if bits else ""
                findings.append(
                    Finding(
                        "problem",
                        "association",
                        f"association run Failed on this instance{why}",
                        inst.instance_id,
                    )
                )

    # (3) inventory
    inventory = {r.instance_id: r for r in snap.inventory}
    for inst in snap.instances:
        node = nodes.get(inst.instance_id)
        if node is None:
            continue
        rec = inventory.get(inst.instance_id)
        captured = rec.application_capture_time if rec else None
        if captured is None:
            findings.append(Finding("problem", "inventory", "no AWS:Application inventory", inst.instance_id))
        elif now - captured > max_inventory_age:
            hours = (now - captured).total_seconds() / 3600
            findings.append(
                Finding(
                    "problem",
                    "inventory",
                    f"AWS:Application inventory is {hours:.1f} h old (captured "
                    f"{captured.isoformat()}, limit {max_inventory_age.total_seconds() / 3600:g} h)",
                    inst.instance_id,
                )
            )

    # (4) compliance
    compliance: dict[str, dict[str, str]] = {}
    for summary in snap.compliance:
        compliance.setdefault(summary.resource_id, {})[summary.compliance_type] = summary.status
        if summary.status == "NON_COMPLIANT":
            listed = by_severity([
                item
                for item in snap.compliance_items
                if item.resource_id == summary.resource_id and item.compliance_type == summary.compliance_type
            ])
            shown = [describe_item(item) for item in listed[:MAX_ITEMS_IN_FINDING]]
            more = len(listed) - len(shown)
            what = f": {', '.join(shown)}" if shown else ""
            what += f" and {more} more" if more else ""
            findings.append(
                Finding(
                    "problem",
                    "compliance",
                    f"{summary.compliance_type} NON_COMPLIANT "
                    f"({summary.non_compliant_count} item(s), severity "
                    f"{summary.overall_severity or 'UNSPECIFIED'}){what}",
                    summary.resource_id,
                )
            )
    for inst in snap.instances:
        if inst.instance_id in nodes and "Association" not in compliance.get(inst.instance_id, {}):
            findings.append(
                Finding(
                    "warning",
                    "compliance",
                    "no Association compliance reported yet",
                    inst.instance_id,
                )
            )

    rows = []
    for inst in snap.instances:
        node = nodes.get(inst.instance_id)
        rec = inventory.get(inst.instance_id)
        tgt = target_status.get(inst.instance_id)
        rows.append(
            InstanceRow(
                instance_id=inst.instance_id,
                name=inst.name,
                auto_scaling_group=inst.auto_scaling_group,
                state=inst.state,
                instance_profile_arn=inst.instance_profile_arn,
                registered=node is not None,
                ping_status=node.ping_status if node else None,
                agent_version=node.agent_version if node else None,
                agent_is_latest=node.is_latest_version if node else None,
                platform=node.platform if node else None,
                association_status=(tgt.status if tgt else None)
                or (node.association_status if node else None),
                application_capture_time=rec.application_capture_time if rec else None,
                compliance=compliance.get(inst.instance_id, {}),
            )
        )

    return CheckReport(
        selector=sel,
        region=snap.region,
        association_name=snap.association_name,
        generated_at=now,
        max_inventory_age=max_inventory_age,
        instances=tuple(rows),
        association=assoc,
        latest_execution=snap.latest_execution,
        findings=tuple(findings),
        non_compliant_items=tuple(by_severity(snap.compliance_items)),
    )


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def check_report_to_json(report: CheckReport) -> dict[str, Any]:
    assoc = report.association
    ex = report.latest_execution
    return {
        "schema": "fleetctl.check/1",
        "healthy": report.healthy,
        "exit_code": report.exit_code,
        "region": report.region,
        "selector": report.selector.tags,
        "association_name": report.association_name,
        "generated_at": report.generated_at.isoformat(),
        "max_inventory_age_hours": report.max_inventory_age.total_seconds() / 3600,
        "instances": [
            {
                "instance_id": row.instance_id,
                "name": row.name,
                "auto_scaling_group": row.auto_scaling_group,
                "state": row.state,
                "instance_profile_arn": row.instance_profile_arn,
                "registered": row.registered,
                "ping_status": row.ping_status,
                "agent_version": row.agent_version,
                "agent_is_latest": row.agent_is_latest,
                "platform": row.platform,
                "association_status": row.association_status,
                # schema fleetctl.check/1 kept this key; the check reads one inventory type
                # (AWS:Application, ListInventoryEntries per instance), so it is that time.
                "inventory_capture_time": _iso(row.application_capture_time),
                "application_capture_time": _iso(row.application_capture_time),
                "compliance": dict(row.compliance),
            }
            for row in report.instances
        ],
        "association": None
        if assoc is None
        else {
            "association_id": assoc.association_id,
            "association_name": assoc.association_name,
            "document_name": assoc.document_name,
            "schedule": assoc.schedule,
            "targets": [{"key": t.key, "values": list(t.values)} for t in assoc.targets],
            "status": assoc.status,
            "detailed_status": assoc.detailed_status,
            "status_counts": dict(assoc.status_counts),
            "last_execution_date": _iso(assoc.last_execution_date),
            "last_successful_execution_date": _iso(assoc.last_successful_execution_date),
            "latest_execution": None
            if ex is None
            else {
                "execution_id": ex.execution_id,
                "status": ex.status,
                "detailed_status": ex.detailed_status,
                "created_time": _iso(ex.created_time),
                "resource_count_by_status": ex.resource_count_by_status,
            },
        },
        "non_compliant_items": [
            {
                "instance_id": item.resource_id,
                "compliance_type": item.compliance_type,
                "id": item.item_id,
                "title": item.title,
                "severity": item.severity,
                "status": item.status,
                "patch_state": item.patch_state,
                "details": dict(item.details),
            }
            for item in report.non_compliant_items
        ],
        "findings": [
            {
                "level": f.level,
                "section": f.section,
                "instance_id": f.instance_id,
                "message": f.message,
            }
            for f in report.findings
        ],
    }


def inventory_query_to_json(
    selector: FleetSelector,
    region: str,
    type_name: str,
    attribute: str,
    prefix: str | None,
    instances: list[Ec2Instance],
    matches: list[InventoryMatch],
    read_with: str = "GetInventory",
    nodes_read: int = 0,
) -> dict[str, Any]:
    names = {i.instance_id: i.name for i in instances}
    matched = {m.instance_id for m in matches}
    return {
        "schema": "fleetctl.inventory-query/1",
        "region": region,
        "selector": selector.tags,
        "type_name": type_name,
        "attribute": attribute,
        "prefix": prefix,
        "instances_queried": sorted(names),
        "instances_without_match": sorted(set(names) - matched),
        # GetInventory (40 instances a call) or ListInventoryEntries (one call per node in
        # nodes_read): GetInventory answers no other type than AWS:InstanceInformation and
        # AWS:PatchSummary.
        "read_with": read_with,
        "nodes_read": nodes_read,
        "matches": [
            {
                "instance_id": m.instance_id,
                "name": names.get(m.instance_id),
                "capture_time": _iso(m.capture_time),
                "attributes": dict(m.attributes),
            }
            for m in matches
        ],
    }
