"""Dependency graph of a plan for reviewers: Mermaid (``.mmd``), Graphviz (``.dot``) or SVG.

Nodes are the custom resources, grouped in their component (Mermaid subgraph, Graphviz
cluster); an edge ``a --> b`` means ``b`` depends on ``a`` (``a`` is created first). Edges on
the critical path are drawn bold. ``.svg`` is laid out here (columns by dependency depth),
so no Graphviz install is needed; render the ``.dot`` with ``dot -Tsvg`` for a nicer one.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from pathlib import Path

from fleetctl.plan.mockrun import RecordedResource, Recording

GRAPH_SUFFIXES = (".mmd", ".dot", ".svg")


class GraphFormatError(ValueError):
    """The graph file name has no supported suffix."""


class _Graph:
    def __init__(self, recording: Recording, critical_urns: Sequence[str]) -> None:
        self.resources = [r for r in recording.resources if r.parent is not None]
        self.ids = {r.urn: f"n{i}" for i, r in enumerate(self.resources)}
        known = set(self.ids)
        self.edges: list[tuple[str, str]] = []
        for r in self.resources:
            for dep in sorted(set(r.dependencies) | _property_deps(r)):
                if dep in known and dep != r.urn:
                    self.edges.append((dep, r.urn))
        chain = list(critical_urns)
        self.critical = set(itertools.pairwise(chain))
        self.critical_nodes = set(chain)
        self.stack_urn = recording.stack_urn
        self.children: dict[str | None, list[RecordedResource]] = {}
        for r in self.resources:
            self.children.setdefault(r.parent, []).append(r)

    def label(self, r: RecordedResource) -> str:
        # Types spelled as Pulumi spells them, as everywhere in fleetctl's output.
        return f"{r.name}\n{r.type}"


def _property_deps(r: RecordedResource) -> set[str]:
    return {urn for urns in r.property_dependencies.values() for urn in urns}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(recording: Recording, critical_urns: Sequence[str] = ()) -> str:
    g = _Graph(recording, critical_urns)
    lines = ["flowchart LR"]

    def emit(parent: str | None, indent: str) -> None:
        for r in g.children.get(parent, []):
            node_id = g.ids[r.urn]
            if r.custom:
                lines.append(f'{indent}{node_id}["{_mermaid_text(g.label(r))}"]')
            else:
                lines.append(f'{indent}subgraph {node_id}["{_mermaid_text(g.label(r))}"]')
                emit(r.urn, indent + "  ")
                lines.append(f"{indent}end")

    emit(g.stack_urn, "  ")
    for src, dst in g.edges:
        arrow = "==>" if (src, dst) in g.critical else "-->"
        lines.append(f"  {g.ids[src]} {arrow} {g.ids[dst]}")
    critical = [g.ids[u] for u in g.critical_nodes if u in g.ids]
    if critical:
        lines.append("  classDef critical stroke:#c0392b,stroke-width:3px")
        lines.append(f"  class {','.join(sorted(critical))} critical")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(recording: Recording, critical_urns: Sequence[str] = ()) -> str:
    g = _Graph(recording, critical_urns)
    lines = [
        f'digraph "{_dot_text(recording.project + "-" + recording.stack)}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
    ]

    def emit(parent: str | None, indent: str) -> None:
        for r in g.children.get(parent, []):
            node_id = g.ids[r.urn]
            if r.custom:
                extra = ', color="#c0392b", penwidth=2' if r.urn in g.critical_nodes else ""
                lines.append(f'{indent}{node_id} [label="{_dot_text(g.label(r))}"{extra}];')
            else:
                lines.append(f"{indent}subgraph cluster_{node_id} {{")
                lines.append(f'{indent}  label="{_dot_text(g.label(r))}"; style="dashed";')
                # Components can be depended on: an invisible anchor node stands for them.
                lines.append(f'{indent}  {node_id} [label="", shape=point, style=invis];')
                emit(r.urn, indent + "  ")
                lines.append(f"{indent}}}")

    emit(g.stack_urn, "  ")
    for src, dst in g.edges:
        extra = ' [color="#c0392b", penwidth=2]' if (src, dst) in g.critical else ""
        lines.append(f"  {g.ids[src]} -> {g.ids[dst]}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(recording: Recording, critical_urns: Sequence[str] = ()) -> str:
    """A self-contained SVG: one column per dependency depth, one box per custom resource."""
    g = _Graph(recording, critical_urns)
    custom = [r for r in g.resources if r.custom]
    deps: dict[str, list[str]] = {r.urn: [] for r in custom}
    for src, dst in g.edges:
        if src in deps and dst in deps:
            deps[dst].append(src)
    depth: dict[str, int] = {}
    for r in custom:  # registration order is a topological order (deps register first)
        depth[r.urn] = 1 + max((depth.get(d, 0) for d in deps[r.urn]), default=-1)
    columns: dict[int, list[RecordedResource]] = {}
    for r in custom:
        columns.setdefault(depth[r.urn], []).append(r)
    # Wide enough for the longest type token at 11 px Helvetica (about 6.5 px a character).
    longest = max((len(t) for r in custom for t in (r.name, r.type)), default=20)
    box_w, box_h, gap_x, gap_y, margin = max(230, int(longest * 6.5) + 16), 40, 70, 14, 20
    pos: dict[str, tuple[int, int]] = {}
    for col, members in columns.items():
        for row, r in enumerate(members):
            pos[r.urn] = (margin + col * (box_w + gap_x), margin + row * (box_h + gap_y))
    width = margin * 2 + (max(columns, default=0) + 1) * (box_w + gap_x)
    height = margin * 2 + max((len(m) for m in columns.values()), default=1) * (box_h + gap_y)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" "
        "markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>",
        f"<title>{html.escape(recording.project)} {html.escape(recording.stack)}</title>",
    ]
    for src, dst in g.edges:
        if src not in pos or dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        hot = (src, dst) in g.critical
        out.append(
            f'<line x1="{x1 + box_w}" y1="{y1 + box_h // 2}" x2="{x2}" y2="{y2 + box_h // 2}" '
            f'stroke="{"#c0392b" if hot else "#999"}" stroke-width="{2 if hot else 1}" '
            f'marker-end="url(#arrow)"/>'
        )
    for r in custom:
        x, y = pos[r.urn]
        hot = r.urn in g.critical_nodes
        out.append(
            f'<g><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="#fff" '
            f'stroke="{"#c0392b" if hot else "#333"}" stroke-width="{2 if hot else 1}"/>'
            f'<text x="{x + 8}" y="{y + 16}" font-weight="bold">{html.escape(r.name)}</text>'
            f'<text x="{x + 8}" y="{y + 31}" fill="#555">{html.escape(r.type)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_graph(path: Path, recording: Recording, critical_urns: Sequence[str] = ()) -> None:
    suffix = path.suffix.lower()
    if suffix == ".mmd":
        text = to_mermaid(recording, critical_urns)
    elif suffix == ".dot":
        text = to_dot(recording, critical_urns)
    elif suffix == ".svg":
        text = to_svg(recording, critical_urns)
    else:
        raise GraphFormatError(
            f"--graph {path}: unknown format '{suffix or path.name}'; use {', '.join(GRAPH_SUFFIXES)}"
        )
    path.write_text(text)
