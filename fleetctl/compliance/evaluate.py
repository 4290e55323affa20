"""The evaluator: rules x ``AWS:Application`` inventory -> one compliance item per rule per node.

Pure (no I/O, no clock): the CLI and the Lambda function call it the same way.

- **required**: COMPLIANT when some installed package whose name matches the rule satisfies
  its constraint (any version when it has none); NON_COMPLIANT when none is installed or none
  of the installed versions satisfies it.
- **forbidden**: NON_COMPLIANT when a matching package is installed (within the constraint,
  when there is one: ``name: openssl, versions: <1.1.1`` forbids old OpenSSL only); else
  COMPLIANT.
- A version the node's package manager ordering cannot read is never taken as satisfying a
  required rule, and is taken as within a forbidden rule's constraint: the evaluator fails
  closed, and ``Details`` says which version it could not compare.
- **platforms**: a rule limited to platforms the node is not on is still one item, COMPLIANT
  with ``Details.Result`` "not applicable". Every rule gives every node an item because the
  upload is ``UploadType`` COMPLETE (it replaces all of the node's items of the type): the
  item set stays the same from run to run and the Compliance page counts the node as meeting
  the policy, which it does. A node whose platform is unknown is judged by every rule.
- **no inventory** (``applications`` None): every item NON_COMPLIANT with the reason;
  ``has_inventory`` False. Such a node is never compliant.

``Details`` (PutComplianceItems ComplianceItemEntry Details: keys 1-64 characters, values at
most 4,096) carries ``Result`` (what was decided and why), ``Found`` (the matching packages
and versions, ``name version`` joined by ``, ``; cut to fit with the number left out),
``Constraint`` and ``Ordering`` (rpm, deb or dotted) when they apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fleetctl.compliance.model import InstanceSoftware, InstanceVerdict, ItemResult, Rule, Status
from fleetctl.compliance.rules import Constraint, default_title, name_matches, parse_constraint, satisfies
from fleetctl.compliance.versions import NotComparable, Scheme, compare, display_version, scheme_for

DETAIL_VALUE_MAX = 4096
NO_INVENTORY = (
    "no AWS:Application inventory for this node yet (the inventory association has not "
    "reported it): not judged, never compliant"
)


@dataclass(frozen=True)
class _Match:
    name: str
    version: str
    scheme: Scheme
    within: bool | None  # None: the version could not be compared
    problem: str | None = None

    def describe(self) -> str:
        return f"{self.name} {self.version}"


def _within(
    constraint: Constraint | None, scheme: Scheme, entry: Mapping[str, str]
) -> tuple[bool | None, str | None]:
    if constraint is None:
        return True, None
    try:
        return all(
            satisfies(compare(scheme, entry, clause.version), clause.operator)
            for clause in constraint.clauses
        ), None
    except NotComparable as exc:
        return None, str(exc)


def _matches(rule: Rule, node: InstanceSoftware) -> list[_Match]:
    constraint = parse_constraint(rule.versions) if rule.versions else None
    found = []
    for entry in node.applications or ():
        name = entry.get("Name") or ""
        if not name_matches(rule.name, name):
            continue
        scheme = scheme_for(entry, node.platform_type)
        within, problem = _within(constraint, scheme, entry)
        found.append(_Match(name, display_version(scheme, entry), scheme, within, problem))
    # Sorted and without repeats (an rpm installed for two architectures is one "name version"):
    # the items do not depend on the order GetInventory returns entries in, so their content
    # hash changes only when the software does.
    return sorted(set(found), key=lambda m: (m.name, m.version, m.scheme))


def _joined(values: Sequence[str], limit: int = DETAIL_VALUE_MAX) -> str:
    """``a, b, c`` cut to ``limit`` characters, saying how many were left out."""
    text = ", ".join(values)
    if len(text) <= limit:
        return text
    for keep in range(len(values) - 1, 0, -1):
        shown = ", ".join(values[:keep]) + f", ... ({len(values) - keep} more)"
        if len(shown) <= limit:
            return shown
    return f"{values[0][: limit - 20]}... ({len(values) - 1} more)"[:limit]


def _details(rule: Rule, result: str, found: list[_Match]) -> dict[str, str]:
    details = {"Result": result[:DETAIL_VALUE_MAX]}
    if found:
        details["Found"] = _joined([match.describe() for match in found])
        details["Ordering"] = ",".join(sorted({match.scheme for match in found}))
    if rule.versions:
        details["Constraint"] = rule.versions
    return details


def _judge(rule: Rule, found: list[_Match]) -> tuple[Status, str]:
    unreadable = [m for m in found if m.within is None]
    note = ""
    if unreadable:
        note = "; not comparable: " + "; ".join(f"{m.describe()} ({m.problem})" for m in unreadable)
    wanted = f"{rule.name} {rule.versions}" if rule.versions else rule.name
    if rule.kind == "required":
        if not found:
            return "NON_COMPLIANT", f"{rule.name} is not installed"
        good = [m for m in found if m.within]
        if good:
            return "COMPLIANT", f"installed: {good[0].describe()} satisfies {wanted}"
        return "NON_COMPLIANT", f"no installed version satisfies {wanted}{note}"
    bad = [m for m in found if m.within is not False]
    if bad:
        return "NON_COMPLIANT", f"forbidden {wanted} is installed: {bad[0].describe()}{note}"
    if found:
        return "COMPLIANT", f"installed versions are outside the forbidden {rule.versions}"
    return "COMPLIANT", f"{rule.name} is not installed"


def _applies(rule: Rule, node: InstanceSoftware) -> bool:
    return not rule.platforms or node.platform_type is None or node.platform_type in rule.platforms


def evaluate_instance(rules: Sequence[Rule], node: InstanceSoftware) -> InstanceVerdict:
    """Every rule's item for one node, in rule order."""
    items = []
    for rule in rules:
        title = rule.title or default_title(rule)
        if node.applications is None:
            items.append(ItemResult(rule.id, title, rule.severity, "NON_COMPLIANT", {"Result": NO_INVENTORY}))
            continue
        if not _applies(rule, node):
            result = (f"not applicable: the rule applies to {', '.join(rule.platforms)}; "
                      f"this node is {node.platform_type}")
            items.append(ItemResult(rule.id, title, rule.severity, "COMPLIANT", {"Result": result}))
            continue
        found = _matches(rule, node)
        status, result = _judge(rule, found)
        items.append(ItemResult(rule.id, title, rule.severity, status, _details(rule, result, found)))
    return InstanceVerdict(node.instance_id, tuple(items), has_inventory=node.applications is not None)


def evaluate(rules: Sequence[Rule], instances: Iterable[InstanceSoftware]) -> list[InstanceVerdict]:
    """One verdict per node, in the order given; each holds one item per rule."""
    return [evaluate_instance(rules, node) for node in instances]
