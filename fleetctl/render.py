"""Human output of ``fleetctl plan``: resource tree, counts, critical path, policy results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from fleetctl.critical_path import CriticalPath, format_seconds
from fleetctl.graph import short_type
from fleetctl.mockrun import RecordedResource, Recording

# Levels in the order a reader cares about them.
LEVEL_ORDER = ("mandatory", "remediate", "advisory")
LEVEL_STYLE = {"mandatory": "bold red", "remediate": "yellow", "advisory": "yellow"}


def _join(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def key_properties(resource: RecordedResource) -> dict[str, str]:
    """The few inputs a reviewer looks at first, per type (Name tag for the rest)."""
    i = resource.inputs
    t = resource.type
    props: dict[str, str] = {}

    def take(*keys: str) -> None:
        for key in keys:
            value = i.get(key)
            if value not in (None, "", [], {}):
                props[key] = _join(value)

    if t == "aws:ec2/vpc:Vpc":
        take("cidrBlock")
    elif t == "aws:ec2/subnet:Subnet":
        take("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch")
    elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
        take("serviceName", "vpcEndpointType", "privateDnsEnabled")
    elif t == "aws:ec2/instance:Instance":
        take("instanceType", "ami")
        props["az"] = _join(resource.outputs.get("availabilityZone") or "")
        if not props["az"]:
            del props["az"]
        tags = i.get("tags") or {}
        for key in ("InstanceRole", "Patch Group"):
            if key in tags:
                props[key] = str(tags[key])
    elif t == "aws:ec2/securityGroup:SecurityGroup":
        props["ingress"] = str(len(i.get("ingress") or []))
        props["egress"] = str(len(i.get("egress") or []))
    elif t in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
        take("path", "permissionsBoundary")
    elif t == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        take("policyArn")
    elif t == "aws:s3/bucket:Bucket":
        take("bucket", "forceDestroy")
    elif t == "aws:ssm/association:Association":
        take("associationName", "name", "scheduleExpression", "complianceSeverity")
        targets = i.get("targets") or []
        if targets:
            props["targets"] = " & ".join(
                f"{t_['key']}={_join(t_['values'])}" for t_ in targets if isinstance(t_, Mapping)
            )
    name_tag = (i.get("tags") or {}).get("Name") if isinstance(i.get("tags"), Mapping) else None
    if name_tag and t != "aws:ec2/instance:Instance":
        props.setdefault("Name", str(name_tag))
    elif name_tag:
        props = {"Name": str(name_tag), **props}
    return props


def _label(resource: RecordedResource) -> str:
    flags = []
    if resource.protect:
        flags.append("protect")
    if resource.retain_on_delete:
        flags.append("retain")
    flag_text = f" [magenta]\\[{', '.join(flags)}][/magenta]" if flags else ""
    kind = "bold cyan" if not resource.custom else "green"
    props = key_properties(resource) if resource.custom else {}
    prop_text = (
        " [dim]" + escape("  ".join(f"{k}={v}" for k, v in props.items())) + "[/dim]" if props else ""
    )
    return (f"[{kind}]{escape(resource.name)}[/{kind}] "
            f"[dim]{escape(short_type(resource.type))}[/dim]{flag_text}{prop_text}")


def resource_tree(recording: Recording) -> Tree:
    children: dict[str | None, list[RecordedResource]] = {}
    for r in recording.resources:
        children.setdefault(r.parent, []).append(r)
    stack = recording.resources[0]
    root = Tree(f"[bold]{escape(stack.name)}[/bold] [dim]{escape(stack.type)}[/dim]")

    def add(node: Tree, parent: str) -> None:
        # Components first, then resources, each in registration order.
        members = sorted(children.get(parent, []), key=lambda r: r.custom)
        for r in members:
            add(node.add(_label(r)), r.urn)

    add(root, stack.urn)
    return root


def counts_table(recording: Recording) -> Table:
    counts = Counter(r.type for r in recording.resources if r.parent is not None)
    table = Table(title="Resources by type", title_justify="left")
    table.add_column("Type")
    table.add_column("Count", justify="right")
    for type_token, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(escape(type_token), str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{sum(counts.values())}[/bold]")
    return table


def critical_path_table(path: CriticalPath) -> Table:
    table = Table(
        title=f"Estimated critical path: {format_seconds(path.total_seconds)} (typical create times)",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("Resource")
    table.add_column("Type")
    table.add_column("Create", justify="right")
    table.add_column("Starts", justify="right")
    table.add_column("Done", justify="right")
    for n, step in enumerate(path.steps, 1):
        table.add_row(str(n), escape(step.name), escape(short_type(step.type)),
                      format_seconds(step.seconds), format_seconds(step.start),
                      format_seconds(step.finish))
    return table


def render_policy(policy: Mapping[str, Any], console: Console) -> None:
    if not policy.get("evaluated"):
        console.print("[dim]Policy: not evaluated (--no-policy)[/dim]")
        return
    violations = list(policy.get("violations") or [])
    pack = policy.get("pack") or "policy pack"
    if not violations:
        console.print(f"[bold green]Policy: passed[/bold green] ({escape(str(pack))}, no violations)")
        return
    by_level: dict[str, list[Mapping[str, Any]]] = {}
    for v in violations:
        by_level.setdefault(str(v["level"]), []).append(v)
    verdict = "[bold green]passed[/bold green]" if policy.get("passed") else "[bold red]FAILED[/bold red]"
    console.print(f"Policy: {verdict} ({escape(str(pack))}, {len(violations)} violation(s))")
    levels = [lv for lv in LEVEL_ORDER if lv in by_level] + sorted(set(by_level) - set(LEVEL_ORDER))
    for level in levels:
        style = LEVEL_STYLE.get(level, "")
        console.print(f"  [{style or 'bold'}]{level}[/{style or 'bold'}] ({len(by_level[level])})")
        for v in by_level[level]:
            target = v.get("urn") or "(stack)"
            console.print(f"    {escape(str(v['policy']))}: {escape(str(target).split('::')[-1])} "
                          f"- {escape(str(v['message']).strip())}", soft_wrap=True)


def render_plan(recording: Recording, path: CriticalPath, policy: Mapping[str, Any],
                console: Console) -> None:
    custom = sum(1 for r in recording.resources if r.custom)
    components = sum(1 for r in recording.resources if not r.custom and r.parent is not None)
    console.print(
        f"[bold]Plan[/bold] {escape(recording.project)}/{escape(recording.stack)} "
        f"({recording.region}): "
        f"{custom} resources to create in {components} components"
    )
    console.print(resource_tree(recording))
    console.print(counts_table(recording))
    console.print(critical_path_table(path))
    if recording.outputs:
        outputs = Table(title="Stack outputs", title_justify="left")
        outputs.add_column("Output")
        outputs.add_column("Value", overflow="fold")
        for key, value in sorted(recording.outputs.items()):
            outputs.add_row(escape(key), escape(_format_output(value)))
        console.print(outputs)
    render_policy(policy, console)


def _format_output(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_format_output(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_format_output(v) for v in value)
    return "null" if value is None else str(value)
