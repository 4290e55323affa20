"""Human output of ``fleetctl plan``: resource tree, counts, critical path, policy results.

Written to be read as a plan: values AWS assigns at deploy (ids, ARNs, account and AMI ids)
are shown as placeholders such as ``<network-vpc.id>``, never as the mocks' stand-ins; types
are spelled as Pulumi spells them (``aws:ec2/vpc:Vpc``) everywhere; each component lists its
resources in dependency order with names sorted naturally (``app2`` before ``app10``); and a
big group of alike resources (``fleet-web1`` .. ``fleet-web500``) is one summary line unless
``--full``.
"""

from __future__ import annotations

import graphlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from fleetctl.plan.critical_path import CriticalPath, format_seconds
from fleetctl.plan.mockrun import RecordedResource, Recording
from fleetctl.plan.placeholders import Placeholders

# Levels in the order a reader cares about them.
LEVEL_ORDER = ("mandatory", "remediate", "advisory")
LEVEL_STYLE = {"mandatory": "bold red", "remediate": "yellow", "advisory": "yellow"}

# Alike siblings beyond this many are summarised (count, one example, what differs).
GROUP_LIMIT = 5
# Map outputs (e.g. instanceIds) beyond this many entries are cut short.
OUTPUT_ENTRY_LIMIT = 6


@dataclass
class RenderOptions:
    full: bool = False
    placeholders: Placeholders = field(default_factory=Placeholders)
    secrets: Sequence[str] = ()
    notes: Sequence[str] = ()


def natural_key(text: str) -> tuple[Any, ...]:
    """``app2`` before ``app10``: digit runs compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


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
        az = _join(resource.outputs.get("availabilityZone") or "")
        if az:
            props["az"] = az
        tags = i.get("tags") or {}
        for key in ("InstanceRole", "Patch Group"):
            if key in tags:
                props[key] = str(tags[key])
    elif t == "aws:ec2/launchTemplate:LaunchTemplate":
        take("instanceType", "imageId")
    elif t == "aws:autoscaling/group:Group":
        # One line for the whole group: its capacity, not its (future) instances.
        for key in ("desiredCapacity", "minSize", "maxSize"):
            size = i.get(key)
            if isinstance(size, int | float):  # numbers cross the wire as floats
                props[key] = str(int(size))
        for tag in i.get("tags") or []:
            if isinstance(tag, dict) and tag.get("key") in ("InstanceRole", "Patch Group"):
                props[str(tag["key"])] = str(tag.get("value"))
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


class _PlanView:
    """The recording arranged for reading: children per parent, in dependency order."""

    def __init__(self, recording: Recording, options: RenderOptions) -> None:
        self.recording = recording
        self.options = options
        self.show = options.placeholders.show
        self.children: dict[str | None, list[RecordedResource]] = {}
        for r in recording.resources:
            self.children.setdefault(r.parent, []).append(r)
        self.depth = self._depths()

    def _depths(self) -> dict[str, int]:
        """Longest chain of dependencies below each resource; a component takes its
        earliest member's depth (so the network comes before the fleet that uses it)."""
        by_urn = self.recording.by_urn()
        graph: dict[str, set[str]] = {}
        for r in self.recording.resources:
            found = set(r.dependencies) | {u for us in r.property_dependencies.values() for u in us}
            # Dependencies on components stand for their members: follow custom ones only.
            graph[r.urn] = {u for u in found if u in by_urn and u != r.urn and by_urn[u].custom}
        depth: dict[str, int] = {}
        try:
            order = list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError:  # not from a real program; keep registration order
            order = list(graph)
        for urn in order:
            depth[urn] = 1 + max((depth.get(d, 0) for d in graph[urn]), default=-1)
        for r in self.recording.resources:
            if not r.custom:
                members = [m.urn for m in self._descendants(r.urn) if m.custom]
                depth[r.urn] = min((depth[m] for m in members), default=0)
        return depth

    def _descendants(self, urn: str) -> Iterable[RecordedResource]:
        for child in self.children.get(urn, []):
            yield child
            yield from self._descendants(child.urn)

    def ordered(self, parent: str) -> list[RecordedResource]:
        members = self.children.get(parent, [])
        return sorted(members, key=lambda r: (r.custom, self.depth.get(r.urn, 0), natural_key(r.name)))

    def props(self, r: RecordedResource) -> dict[str, str]:
        return {k: self.show(v) for k, v in key_properties(r).items()}

    def label(self, r: RecordedResource) -> str:
        flags = []
        if r.protect:
            flags.append("protect")
        if r.retain_on_delete:
            flags.append("retain")
        flag_text = f" [magenta]\\[{', '.join(flags)}][/magenta]" if flags else ""
        kind = "bold cyan" if not r.custom else "green"
        props = self.props(r) if r.custom else {}
        prop_text = (" [dim]" + escape("  ".join(f"{k}={v}" for k, v in props.items())) + "[/dim]"
                     if props else "")
        return f"[{kind}]{escape(r.name)}[/{kind}] [dim]{escape(r.type)}[/dim]{flag_text}{prop_text}"

    def group_label(self, members: list[RecordedResource]) -> str:
        first, last = members[0], members[-1]
        props = [self.props(m) for m in members]
        same = {k: v for k, v in props[0].items() if all(p.get(k) == v for p in props)}
        differ = sorted({k for p in props for k in p} - set(same))
        parts = []
        for key in differ:
            values = Counter(p.get(key, "-") for p in props)
            if len(values) <= 3:
                parts.append(f"{key}: " + ", ".join(f"{v} x{n}" for v, n in sorted(values.items())))
            else:
                ordered = sorted(values, key=natural_key)
                parts.append(f"{key}: {len(values)} values, {ordered[0]} .. {ordered[-1]}")
        text = (f"[green]{escape(first.name)} .. {escape(last.name)}[/green] [dim]{escape(first.type)}"
                f"[/dim] [bold]x{len(members)}[/bold]")
        if same:
            text += " [dim]" + escape("  ".join(f"{k}={v}" for k, v in same.items())) + "[/dim]"
        if parts:
            text += "\n[dim]differ: " + escape("; ".join(parts)) + "[/dim]"
        return text

    def tree(self) -> Tree:
        stack = self.recording.resources[0]
        root = Tree(f"[bold]{escape(stack.name)}[/bold] [dim]{escape(stack.type)}[/dim]")

        def add(node: Tree, parent: str) -> None:
            members = self.ordered(parent)
            groups: dict[tuple[str, str], list[RecordedResource]] = {}
            for r in members:
                if r.custom:
                    groups.setdefault((r.type, re.sub(r"\d+", "#", r.name)), []).append(r)
            shown: set[tuple[str, str]] = set()
            for r in members:
                key = (r.type, re.sub(r"\d+", "#", r.name))
                group = groups.get(key, [])
                if r.custom and len(group) > GROUP_LIMIT and not self.options.full:
                    if key not in shown:
                        shown.add(key)
                        node.add(self.group_label(sorted(group, key=lambda m: natural_key(m.name))))
                    continue
                add(node.add(self.label(r)), r.urn)

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
        table.add_row(str(n), escape(step.name), escape(step.type),
                      format_seconds(step.seconds), format_seconds(step.start),
                      format_seconds(step.finish))
    return table


def policy_verdict(policy: Mapping[str, Any]) -> str:
    """One line that says what happened, e.g. ``passed with 20 advisory findings``."""
    violations = list(policy.get("violations") or [])
    levels = Counter(str(v["level"]) for v in violations)
    others = ", ".join(f"{n} {level} finding{'s' if n != 1 else ''}"
                       for level, n in sorted(levels.items()) if level != "mandatory")
    if not policy.get("passed"):
        n = levels["mandatory"]
        text = f"FAILED: {n} mandatory violation{'s' if n != 1 else ''}"
        return text + (f" (and {others})" if others else "")
    return f"passed with {others}" if others else "passed, no findings"


def render_policy(policy: Mapping[str, Any], console: Console, placeholders: Placeholders | None = None,
                  full: bool = False) -> None:
    show = (placeholders or Placeholders()).show
    if not policy.get("evaluated"):
        console.print("[dim]Policy: not evaluated (--no-policy)[/dim]")
        return
    violations = list(policy.get("violations") or [])
    pack = escape(str(policy.get("pack") or "policy pack"))
    config = policy.get("config")
    source = f"config {escape(str(config))}" if config else "the pack's default config"
    verdict = policy_verdict(policy)
    style = "bold green" if policy.get("passed") else "bold red"
    console.print(f"Policy: [{style}]{escape(verdict)}[/{style}] ({pack}, {source})")
    by_level: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for v in violations:
        by_level.setdefault(str(v["level"]), {}).setdefault(str(v["policy"]), []).append(v)
    levels = [lv for lv in LEVEL_ORDER if lv in by_level] + sorted(set(by_level) - set(LEVEL_ORDER))
    for level in levels:
        lstyle = LEVEL_STYLE.get(level, "bold")
        count = sum(len(f) for f in by_level[level].values())
        console.print(f"  [{lstyle}]{level}[/{lstyle}] ({count})")
        for name, findings in sorted(by_level[level].items()):
            description = findings[0].get("description")
            head = f"    [bold]{escape(name)}[/bold] ({len(findings)})"
            if description:
                head += f": {escape(str(description).strip())}"
            console.print(head, soft_wrap=True)
            if level == "mandatory" and findings[0].get("configKey"):
                where = escape(str(config)) if config else "a policy config file (--policy-config)"
                console.print(f"      [dim]decided by {where}: {escape(str(findings[0]['configKey']))}[/dim]",
                              soft_wrap=True)
            by_message: dict[str, list[str]] = {}
            for f in findings:
                by_message.setdefault(_finding_text(f), []).append(
                    str(f.get("urn") or "(stack)").split("::")[-1])
            for message, names in by_message.items():
                targets = sorted(names, key=natural_key)
                if len(targets) > GROUP_LIMIT and not full:
                    who = f"{', '.join(targets[:3])} and {len(targets) - 3} more"
                else:
                    who = ", ".join(targets)
                console.print(f"      {escape(who)}: {escape(show(message))}", soft_wrap=True)


def _finding_text(finding: Mapping[str, Any]) -> str:
    """The finding's own words: the pack prefixes each message with the policy's
    description, which is printed once above the findings."""
    message = str(finding["message"]).strip()
    description = str(finding.get("description") or "").strip()
    if description and message.startswith(description):
        message = message[len(description):].strip() or message
    return " ".join(message.split())


def render_plan(recording: Recording, path: CriticalPath, policy: Mapping[str, Any],
                console: Console, options: RenderOptions | None = None) -> None:
    options = options or RenderOptions()
    view = _PlanView(recording, options)
    custom = sum(1 for r in recording.resources if r.custom)
    components = sum(1 for r in recording.resources if not r.custom and r.parent is not None)
    console.print(
        f"[bold]Plan[/bold] {escape(recording.project)}/{escape(recording.stack)} "
        f"({recording.region}): "
        f"{custom} resources to create in {components} components"
    )
    console.print("[dim]<name.id>, <name.arn>, <account-id>: known after deploy[/dim]")
    for note in options.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
    for secret in options.secrets:
        console.print(f"[yellow]note:[/yellow] {escape(secret)} = \\[secret] (secure: in the stack "
                      "file, not decrypted offline)", soft_wrap=True)
    for warning in recording.warnings:
        console.print(f"[bold yellow]warning:[/bold yellow] {escape(warning)}", soft_wrap=True)
    console.print(view.tree())
    console.print(counts_table(recording))
    console.print(critical_path_table(path))
    if recording.outputs:
        outputs = Table(title="Stack outputs", title_justify="left")
        outputs.add_column("Output")
        outputs.add_column("Value", overflow="fold")
        for key, value in sorted(recording.outputs.items()):
            outputs.add_row(escape(key), escape(view.show(_format_output(value, options.full))))
        console.print(outputs)
    render_policy(policy, console, options.placeholders, options.full)


def _format_output(value: Any, full: bool = True) -> str:
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: natural_key(str(kv[0])))
        text = ", ".join(f"{k}={_format_output(v)}" for k, v in
                         (items if full else items[:OUTPUT_ENTRY_LIMIT]))
        hidden = len(items) - OUTPUT_ENTRY_LIMIT
        return text + (f", ... ({hidden} more; --full or --json)" if not full and hidden > 0 else "")
    if isinstance(value, list):
        shown = value if full else value[:OUTPUT_ENTRY_LIMIT]
        text = ", ".join(_format_output(v) for v in shown)
        hidden = len(value) - len(shown)
        return text + (f", ... ({hidden} more; --full or --json)" if hidden > 0 else "")
    return "null" if value is None else str(value)
