"""Rich tables for people. Machines use ``--json`` (see :mod:`fleetctl.ops`)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleetctl.ops.models import Ec2Instance, InventoryMatch
from fleetctl.ops.report import CheckReport
from fleetctl.ops.wait import STEP_TITLES, WaitResult


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _mark(ok: bool | None, text: str) -> str:
    if ok is None:
        return text
    return f"[green]{text}[/green]" if ok else f"[red]{text}[/red]"


def render_check(report: CheckReport, console: Console) -> None:
    sel = report.selector
    console.print(
        f"[bold]Fleet Environment={sel.environment} Workload={sel.workload}[/bold] "
        f"in {report.region} ({len(report.instances)} instance(s))"
    )

    table = Table(title="Instances", show_lines=False)
    for column in (
        "Instance",
        "Name",
        "State",
        "SSM",
        "Agent",
        "Platform",
        "Association",
        "Inventory (AWS:Application)",
        "Compliance",
    ):
        table.add_column(column, overflow="fold")
    for row in report.instances:
        ssm = (
            _mark(row.ping_status == "Online", row.ping_status or "?")
            if row.registered
            else ("[red]not registered[/red]")
        )
        agent = row.agent_version or "-"
        if row.agent_is_latest is False:
            agent += " (update)"
        compliance = ", ".join(
            _mark(status == "COMPLIANT", f"{kind}:{status}")
            for kind, status in sorted(row.compliance.items())
        )
        table.add_row(
            row.instance_id,
            escape(row.name or "-")
            + (f" (group {escape(row.auto_scaling_group)})" if row.auto_scaling_group else ""),
            _mark(row.state == "running", row.state),
            ssm,
            agent,
            escape(row.platform or "-"),
            _mark(row.association_status == "Success", row.association_status)
            if row.association_status
            else "-",
            _ts(row.application_capture_time),
            compliance or "-",
        )
    console.print(table)

    assoc = report.association
    if assoc is not None:
        info = Table(title=f"Association {report.association_name}", show_header=False)
        info.add_column("Field")
        info.add_column("Value", overflow="fold")
        info.add_row("Id", assoc.association_id)
        info.add_row("Document", assoc.document_name)
        info.add_row("Schedule", assoc.schedule or "-")
        info.add_row(
            "Targets",
            escape("; ".join(f"{t.key}={','.join(t.values)}" for t in assoc.targets) or "-"),
        )
        info.add_row(
            "Status",
            _mark(assoc.status == "Success", assoc.status or "unknown")
            + (f" ({escape(assoc.detailed_status)})" if assoc.detailed_status else ""),
        )
        info.add_row("Counts", ", ".join(f"{k}={v}" for k, v in sorted(assoc.status_counts.items())) or "-")
        ex = report.latest_execution
        if ex is not None:
            info.add_row(
                "Latest execution",
                f"{ex.execution_id} {ex.status} at {_ts(ex.created_time)} "
                f"({ex.resource_count_by_status or ''})",
            )
        info.add_row("Last success", _ts(assoc.last_successful_execution_date))
        console.print(info)

    if report.non_compliant_items:
        render_non_compliant_items(report, console)

    if report.findings:
        console.print("[bold]Findings[/bold]")
        for f in report.findings:
            colour = "red" if f.level == "problem" else "yellow"
            subject = f"{f.instance_id}: " if f.instance_id else ""
            console.print(
                f"[{colour}]{f.level.upper()}[/{colour}] {escape(f'[{f.section}]')} "
                f"{escape(subject + f.message)}",
                soft_wrap=True,
                highlight=False,
            )
    verdict = (
        "[green]HEALTHY[/green]"
        if report.healthy
        else (f"[red]UNHEALTHY[/red] ({len(report.problems)} problem(s))")
    )
    console.print(f"Result: {verdict}")


def _severity(value: str | None) -> str:
    shown = value or "UNSPECIFIED"
    colour = {"CRITICAL": "red", "HIGH": "red", "MEDIUM": "yellow"}.get(shown)
    return f"[{colour}]{shown}[/{colour}]" if colour else shown


def render_non_compliant_items(report: CheckReport, console: Console) -> None:
    """Every non-compliant item (missing or failed patches, failed associations), most
    severe first: the finding names the first few only."""
    table = Table(title="Non-compliant items")
    for column in ("Instance", "Type", "Id", "Title", "Severity", "State", "Classification"):
        table.add_column(column, overflow="fold")
    for item in report.non_compliant_items:
        table.add_row(
            item.resource_id,
            item.compliance_type,
            escape(item.item_id or "-"),
            escape(item.title or "-"),
            _severity(item.severity),
            _mark(False, escape(item.patch_state)) if item.patch_state else "-",
            escape(item.details.get("Classification") or "-"),
        )
    console.print(table)


def render_inventory_query(
    instances: list[Ec2Instance],
    matches: list[InventoryMatch],
    type_name: str,
    attributes: list[str],
    console: Console,
    read_with: str = "GetInventory",
    nodes_read: int = 0,
) -> None:
    names = {i.instance_id: i.name for i in instances}
    table = Table(title=f"{type_name} across {len(instances)} instance(s)")
    table.add_column("Instance", overflow="fold")
    table.add_column("Name")
    for attribute in attributes:
        table.add_column(attribute, overflow="fold")
    table.add_column("Captured")
    for m in sorted(matches, key=lambda m: (m.instance_id, m.attributes.get(attributes[0], ""))):
        table.add_row(
            m.instance_id,
            escape(names.get(m.instance_id) or "-"),
            *(escape(str(m.attributes.get(a, "-"))) for a in attributes),
            _ts(m.capture_time),
        )
    console.print(table)
    missing = sorted(set(names) - {m.instance_id for m in matches})
    if missing:
        console.print(f"No match on: {escape(', '.join(missing))}", soft_wrap=True, highlight=False)
    if read_with == "ListInventoryEntries":
        # GetInventory answers no other result type than AWS:InstanceInformation/PatchSummary
        console.print(
            f"Read with ListInventoryEntries, one call per managed node ({nodes_read} node(s)).",
            highlight=False,
        )


def render_wait(result: WaitResult, console: Console) -> None:
    """After ``--wait``: done, or which instances are stuck at which step and why."""
    minutes = result.waited_seconds / 60
    if result.done:
        console.print(
            f"[green]Fleet ready[/green] after {minutes:.1f} min ({result.polls} poll(s)): every "
            "instance Online, association succeeded, inventory present."
        )
        return
    table = Table(title=f"Stuck after {minutes:.1f} min ({result.polls} poll(s))")
    for column in ("Instance", "Name", "Waiting for", "Likely cause"):
        table.add_column(column, overflow="fold")
    for stuck in result.stuck:
        table.add_row(
            stuck.instance_id, escape(stuck.name or "-"), STEP_TITLES[stuck.step], escape(stuck.cause)
        )
    console.print(table)
    if not result.report.instances:
        console.print("[red]TIMEOUT[/red]: no instance of the fleet was found.")
    else:
        total = len(result.report.instances)
        console.print(f"[red]TIMEOUT[/red]: {len(result.stuck)} of {total} instance(s) not ready.")
